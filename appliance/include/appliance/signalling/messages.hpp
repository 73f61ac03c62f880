// The messages a page may send (docs/signalling.md), each read once into a typed
// struct with every field checked; handlers never look at JSON. A message of the
// wrong shape is a ProtocolError (close 4400) here, before any handler runs.
#pragma once

#include "appliance/signalling/protocol.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace consult::signalling::msg {

struct Hello {
    std::string token;
    std::optional<std::string> session;   // doctors: the consultation this screen opens
    std::string device;                   // patients: the browser's own id ("" when none)
};
struct Ping {};
struct Precheck {
    std::string camera, microphone, speaker, browser;
};
struct Answer {
    std::string sdp;
};
struct Ice {
    std::string candidate;   // "" ends gathering
    unsigned mline = 0;
};
struct Chat {
    std::string text;
    std::optional<std::string> session;
};
struct Media {
    bool audio = true, video = true;
};
struct ReconnectMedia {};
struct Leave {};
struct Admit {
    std::optional<std::string> session, screen;   // `screen`: which waiting screen (default: the newest)
};
struct Decline {
    std::optional<std::string> session, screen, reason;
};
struct End {
    std::optional<std::string> session, reason;
};
struct View {
    std::optional<std::string> session;
};
struct Share {
    bool on = false;
    std::optional<std::string> session;
};

struct Record {
    bool on = false;
    std::optional<std::string> session;
};
struct Consent {
    bool given = false;   // the answer to the doctor's request, or (false) a withdrawal at any time
};
struct FirstFrame {};     // the page showed the other side's first picture since it was let in

using Any = std::variant<Hello, Ping, Precheck, Answer, Ice, Chat, Media, ReconnectMedia, Leave, Admit, Decline, End,
                         View, Share, Record, Consent, FirstFrame>;

// The `type` a message has on the wire.
const char* type_name(const Any& m);

// Parses one text frame (size, JSON, type and every field).
expected<Any, ProtocolError> parse(std::string_view text);

// Messages only a doctor's screen may send.
bool doctor_only(const Any& m);
// Messages only a patient's screen may send.
bool patient_only(const Any& m);

}  // namespace consult::signalling::msg
