#include "pipelines/call.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace consult::media {
namespace {

struct CountingListener : CallListener {
    int offers = 0;
    void local_description(const std::string&, SdpType type, const std::string& sdp) override {
        if (type == SdpType::Offer && sdp.find("m=video") != std::string::npos) ++offers;
    }
    void local_candidate(const std::string&, unsigned, const std::string&) override {}
};

CallSettings test_settings() {
    CallSettings s;
    s.encoder = hw::find_encoder("vp8enc");
    s.camera = {true, "test pattern", "", std::nullopt, "test"};
    s.microphone = {true, "test tone", "", std::nullopt, "test"};
    s.speaker = {true, "none", "", std::nullopt, "test"};
    s.width = 320;
    s.height = 240;
    return s;
}

template <typename Pred>
bool spin_until(Pred done, int ms) {
    const gint64 until = g_get_monotonic_time() + ms * 1000;
    while (!done()) {
        if (g_get_monotonic_time() > until) return false;
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(1000);
    }
    return true;
}

void spin(int ms) {
    const gint64 until = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < until) {
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(1000);
    }
}

// Elements of `bin` whose name starts with `prefix`.
int elements_named(GstElement* bin, const std::string& prefix) {
    int n = 0;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        const char* name = GST_OBJECT_NAME(g_value_get_object(&item));
        n += name && std::string(name).rfind(prefix, 0) == 0;
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return n;
}

TEST(CallLifecycle, TwentySetupsAndTeardownsWithPeersComingAndGoing) {
    CountingListener l;
    for (int i = 0; i < 20; ++i) {
        auto call = Call::create(test_settings(), l);
        ASSERT_TRUE(call.has_value()) << call.error().describe();
        ASSERT_TRUE((*call)->add_peer({"a"}).has_value());
        ASSERT_TRUE((*call)->add_peer({"b"}).has_value());
        ASSERT_TRUE(spin_until([&] { return l.offers >= 2 * (i + 1); }, 5000)) << "each new peer gets an offer with video";
        (*call)->remove_peer("a");
        // The peer's elements are out of the pipeline at once (they stop on a worker thread).
        EXPECT_EQ(elements_named((*call)->pipeline(), "p_a_"), 0) << "round " << i;
        EXPECT_GT(elements_named((*call)->pipeline(), "p_b_"), 0) << "round " << i;
        EXPECT_FALSE((*call)->has_peer("a"));
        EXPECT_TRUE((*call)->has_peer("b"));
    }
    EXPECT_TRUE(wait_for_retired(10000)) << "a removed peer never finished stopping";
}

TEST(CallLifecycle, RemovingAPeerDoesNotWaitForItsStreamingThreads) {
    CountingListener l;
    auto call = Call::create(test_settings(), l);
    ASSERT_TRUE(call.has_value());
    ASSERT_TRUE((*call)->add_peer({"a"}).has_value());
    ASSERT_TRUE(spin_until([&] { return l.offers >= 1; }, 5000));
    // Camera off and on, and the peer going, many times while its media never connects:
    // each call returns at once.
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        (*call)->set_camera_off(i % 2 == 0);
        spin(5);
    }
    (*call)->remove_peer("a");
    call->reset();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(ms, 5000) << "the main thread waited on the media";
    EXPECT_TRUE(wait_for_retired(10000));
}

TEST(CallLifecycle, RefusesToStartWithoutAnEncoderOrWithADuplicatePeer) {
    CountingListener l;
    auto s = test_settings();
    s.encoder = nullptr;
    EXPECT_FALSE(Call::create(s, l).has_value());
    auto call = Call::create(test_settings(), l);
    ASSERT_TRUE(call.has_value());
    ASSERT_TRUE((*call)->add_peer({"a"}).has_value());
    EXPECT_FALSE((*call)->add_peer({"a"}).has_value());
    EXPECT_FALSE((*call)->set_remote_description("nobody", SdpType::Answer, "v=0").has_value());
    EXPECT_FALSE((*call)->set_remote_description("a", SdpType::Answer, "not sdp").has_value());
}

}  // namespace
}  // namespace consult::media

namespace consult::media {
namespace {

// A microphone and speaker the probe found are opened through their own elements and
// properties (here stand-ins: audiotestsrc and fakesink), not through autoaudio*.
TEST(CallLifecycle, TheProbedMicrophoneAndSpeakerAreTheOnesOpened) {
    CountingListener l;
    CallSettings s = test_settings();
    s.microphone = {false, "Desk microphone", "alsa:hw:1", std::nullopt, "configured", "audiotestsrc",
                    {{"wave", "silence"}, {"is-live", "true"}}};
    s.speaker = {false, "Room speaker", "alsa:hw:1", std::nullopt, "configured", "fakesink", {{"sync", "false"}}};
    auto call = Call::create(s, l);
    ASSERT_TRUE(call.has_value()) << call.error().describe();
    GRef<GstElement> mic = adopt(gst_bin_get_by_name(GST_BIN((*call)->pipeline()), "mic_src"));
    ASSERT_TRUE(mic);
    EXPECT_STREQ(GST_OBJECT_NAME(gst_element_get_factory(mic.get())), "audiotestsrc");
    int wave = -1;
    g_object_get(mic.get(), "wave", &wave, nullptr);
    EXPECT_EQ(wave, 4);   // silence
    GRef<GstElement> speaker = adopt(gst_bin_get_by_name(GST_BIN((*call)->pipeline()), "speaker"));
    ASSERT_TRUE(speaker);
    EXPECT_STREQ(GST_OBJECT_NAME(gst_element_get_factory(speaker.get())), "fakesink");
}

}  // namespace
}  // namespace consult::media
