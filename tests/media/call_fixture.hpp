// A call with one or more RemotePeers wired through an in-process signalling stub,
// and a main loop that runs until a condition holds or a hard deadline passes.
#pragma once

#include "pipelines/call.hpp"
#include "remote_peer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace consult::test {

class CallFixture : public ::testing::Test, public media::CallListener {
protected:
    void TearDown() override;

    media::CallSettings settings(const char* encoder);
    void start(const media::CallSettings& s);
    // `split`: the call's peer uses only 10.99.0.1 and the remote only 10.99.0.2,
    // so traffic towards the remote can be told apart (and dropped) by address.
    RemotePeer& connect(const std::string& id, hw::Codec codec, bool adapt = false, bool split = false,
                        std::optional<std::string> forward_from = std::nullopt);
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit);
    void run_for(std::chrono::milliseconds d);
    bool saw(media::MediaEvent e) const;

    // CallListener
    void local_description(const std::string& peer, media::SdpType type, const std::string& sdp) override;
    void local_candidate(const std::string& peer, unsigned mline, const std::string& c) override;
    void stats(const std::string& peer, const media::PeerStats& s) override;
    void peer_state(const std::string& peer, const std::string& state) override;
    void event(const std::string& peer, media::MediaEvent e, const std::string& detail) override;

    std::unique_ptr<media::Call> call;
    std::map<std::string, std::unique_ptr<RemotePeer>> remotes;
    std::map<std::string, media::PeerStats> last_stats;
    std::vector<std::pair<std::string, media::MediaEvent>> events;
    std::string last_detail;
    std::map<std::string, int> offers;
    std::map<std::string, std::string> last_offer;
    // What a browser might do to its answer before sending it (reject a section…);
    // refusals by the call land in answer_errors instead of failing the test.
    std::function<std::string(const std::string&)> edit_answer;
    std::vector<std::string> answer_errors;
};

}  // namespace consult::test
