// Answers from a browser are checked here before webrtcbin sees them: webrtcbin
// asserts (and takes the daemon with it) on some malformed answers, e.g. a rejected
// section that still carries ICE and DTLS attributes. Every answer either passes with
// a summary of what it accepted, or is refused with a reason a person can read.
#pragma once

#include "hwconfig/expected.hpp"

#include <string>
#include <vector>

namespace consult::media {

struct AnswerSection {
    std::string media;     // audio | video
    std::string mid;
    bool accepted = false; // port 0 rejects it
    std::vector<std::string> payloads;   // the formats the answer kept (each one offered)
};

struct AnswerShape {
    std::vector<AnswerSection> sections;
    bool rejects_any() const;
};

// `offer` is what this side sent; `answer` what came back.
expected<AnswerShape, std::string> check_answer(const std::string& offer, const std::string& answer);

// The answer as webrtcbin can take it: each rejected section written one way (port 0,
// inactive, out of the BUNDLE group, carrying the bundle's ICE credentials, DTLS
// role and fingerprint, which webrtcbin 1.22 demands of every section), accepted ones as they came. The
// answer must have passed check_answer with `shape`.
std::string normalised_answer(const std::string& answer, const AnswerShape& shape);

}  // namespace consult::media
