#include "call_fixture.hpp"

#include "hwconfig/probe.hpp"

#include <cstdio>
#include <cstdlib>

namespace consult::test {

media::CallSettings CallFixture::settings(const char* encoder) {
    media::CallSettings s;
    s.encoder = hw::find_encoder(encoder);
    s.camera = {true, "test pattern", "", std::nullopt, "test"};
    s.microphone = {true, "test tone", "", std::nullopt, "test"};
    s.speaker = {true, "none", "", std::nullopt, "test"};
    s.width = 640;
    s.height = 360;
    s.fps = 30;
    s.stats_interval_ms = 500;
    s.dot_dir = ::testing::TempDir();
    return s;
}

void CallFixture::start(const media::CallSettings& s) {
    auto c = media::Call::create(s, *this);
    ASSERT_TRUE(c.has_value()) << c.error().describe();
    call = std::move(*c);
}

RemotePeer& CallFixture::connect(const std::string& id, hw::Codec codec, bool adapt, bool split,
                                 std::optional<std::string> forward_from) {
    auto remote = std::make_unique<RemotePeer>(codec, split ? "10.99.0.2" : "");
    RemotePeer& r = *remote;
    remotes[id] = std::move(remote);
    r.on_answer = [this, id](const std::string& sdp) {
        // Called on the remote's thread: hand it to the main loop like a socket would.
        auto* job = new std::pair<CallFixture*, std::pair<std::string, std::string>>(this, {id, sdp});
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::pair<CallFixture*, std::pair<std::string, std::string>>> j(
                static_cast<std::pair<CallFixture*, std::pair<std::string, std::string>>*>(p));
            CallFixture* f = j->first;
            if (f->call) {
                const std::string sdp = f->edit_answer ? f->edit_answer(j->second.second) : j->second.second;
                auto r = f->call->set_remote_description(j->second.first, media::SdpType::Answer, sdp);
                if (!r && f->edit_answer) f->answer_errors.push_back(r.error());
                else EXPECT_TRUE(r.has_value()) << r.error();
            }
            return G_SOURCE_REMOVE;
        }, job);
    };
    r.on_candidate = [this, id](unsigned mline, const std::string& c) {
        auto* job = new std::tuple<CallFixture*, std::string, unsigned, std::string>(this, id, mline, c);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::tuple<CallFixture*, std::string, unsigned, std::string>> j(
                static_cast<std::tuple<CallFixture*, std::string, unsigned, std::string>*>(p));
            if (std::get<0>(*j)->call) std::get<0>(*j)->call->add_remote_candidate(std::get<1>(*j), std::get<2>(*j), std::get<3>(*j));
            return G_SOURCE_REMOVE;
        }, job);
    };
    media::PeerOptions o;
    o.id = id;
    o.adapt_bitrate = adapt;
    if (split) o.local_addresses = {"10.99.0.1"};
    o.forward_from = std::move(forward_from);
    auto added = call->add_peer(o);
    EXPECT_TRUE(added.has_value()) << (added ? "" : added.error().describe());
    return r;
}

void CallFixture::local_description(const std::string& peer, media::SdpType type, const std::string& sdp) {
    if (type == media::SdpType::Offer && remotes.count(peer)) {
        ++offers[peer];
        last_offer[peer] = sdp;
        remotes[peer]->set_offer(sdp);
    }
}

void CallFixture::local_candidate(const std::string& peer, unsigned mline, const std::string& c) {
    if (remotes.count(peer)) remotes[peer]->add_candidate(mline, c);
}

void CallFixture::event(const std::string& peer, media::MediaEvent e, const std::string& detail) {
    std::fprintf(stderr, "event %s %s %s\n", peer.c_str(), media::event_name(e), detail.c_str());
    events.emplace_back(peer, e);
    last_detail = detail;
}

void CallFixture::stats(const std::string& peer, const media::PeerStats& s) {
    if (std::getenv("CONSULT_TEST_VERBOSE"))
        std::fprintf(stderr, "stats %s send %u kbps recv %u kbps rtt %.1f loss %.2f decoded %llu target %u\n", peer.c_str(),
                     s.send_kbps, s.receive_kbps, s.rtt_ms, s.fraction_lost, (unsigned long long)s.frames_decoded, s.target_kbps);
    last_stats[peer] = s;
}

void CallFixture::peer_state(const std::string& peer, const std::string& state) {
    std::fprintf(stderr, "peer %s %s\n", peer.c_str(), state.c_str());
}

bool CallFixture::saw(media::MediaEvent e) const {
    for (const auto& [p, ev] : events)
        if (ev == e) return true;
    return false;
}

bool CallFixture::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(2000);
    }
    return true;
}

void CallFixture::run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
}

void CallFixture::TearDown() {
    call.reset();
    remotes.clear();
    // Let posted callbacks of the dead call drain.
    while (g_main_context_iteration(nullptr, FALSE)) {}
}

}  // namespace consult::test
