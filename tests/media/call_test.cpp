// Two webrtcbin peers through an in-process signalling stub, inside a private
// network namespace (see run_in_netns.sh). Every wait has a deadline.
#include "call_fixture.hpp"

#include <gst/video/video.h>

#include <atomic>

namespace consult::test {
namespace {

using namespace std::chrono_literals;

TEST_F(CallFixture, H264FlowsBothWays) {
    start(settings("x264enc"));
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 30 && r.audio_buffers > 30; }, 20s))
        << "remote decoded " << r.video_frames << " frames, " << r.audio_buffers << " audio buffers";
    ASSERT_TRUE(run_until([&] { return last_stats["patient"].frames_decoded > 15; }, 10s))
        << "the appliance decoded " << last_stats["patient"].frames_decoded << " frames from the remote";
    EXPECT_TRUE(saw(media::MediaEvent::PeerConnected));
    EXPECT_EQ(last_stats["patient"].width, 320);
}

TEST_F(CallFixture, Vp8FlowsBothWays) {
    start(settings("vp8enc"));
    RemotePeer& r = connect("patient", hw::Codec::VP8);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 30 && r.audio_buffers > 30; }, 20s));
    ASSERT_TRUE(run_until([&] { return last_stats["patient"].frames_decoded > 15; }, 10s));
}

TEST_F(CallFixture, APliBringsAKeyframeAndBurstsAreThrottled) {
    start(settings("x264enc"));
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 30; }, 20s));
    run_for(600ms);
    const unsigned before = r.keyframes_received, forwarded = call->keyframes_forwarded();
    r.request_keyframe();
    ASSERT_TRUE(run_until([&] { return r.keyframes_received > before; }, 3s)) << "no keyframe after a PLI";
    EXPECT_GT(call->keyframes_forwarded(), forwarded);
}

TEST_F(CallFixture, ABurstOfKeyframeRequestsReachesTheEncoderOncePerHalfSecond) {
    start(settings("x264enc"));
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 10; }, 20s));
    run_for(600ms);
    // What rtpbin does on each PLI: a force-key-unit event travelling upstream.
    GRef<GstElement> pay = adopt(gst_bin_get_by_name(GST_BIN(call->pipeline()), "p_patient_vpay"));
    ASSERT_TRUE(pay);
    GRef<GstPad> src = adopt(gst_element_get_static_pad(pay.get(), "src"));
    const unsigned forwarded = call->keyframes_forwarded();
    for (int i = 0; i < 10; ++i) {
        gst_pad_send_event(src.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
        run_for(20ms);
    }
    EXPECT_LE(call->keyframes_forwarded() - forwarded, 2u) << "ten requests in 200 ms, at most one per 500 ms";
    EXPECT_GE(call->keyframes_suppressed(), 8u);
}

// Link loss: a share of the packets our peer's ICE transport sends never leaves.
// This kernel has no netem (and nftables rules do not see the namespace's local
// traffic), so the loss is made at the last element before the socket instead.
struct LossyLink {
    std::atomic<int> percent{0};
    void attach(GstElement* webrtc) {
        GstIterator* it = gst_bin_iterate_recurse(GST_BIN(webrtc));
        GValue item = G_VALUE_INIT;
        int attached = 0;
        while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
            auto* el = GST_ELEMENT(g_value_get_object(&item));
            GstElementFactory* f = gst_element_get_factory(el);
            if (f && std::string(GST_OBJECT_NAME(f)) == "nicesink") {
                GRef<GstPad> sink = adopt(gst_element_get_static_pad(el, "sink"));
                gst_pad_add_probe(sink.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                                  [](GstPad*, GstPadProbeInfo*, gpointer p) {
                                      const int pct = static_cast<LossyLink*>(p)->percent;
                                      return pct > 0 && g_random_int_range(0, 100) < pct ? GST_PAD_PROBE_DROP
                                                                                          : GST_PAD_PROBE_OK;
                                  }, this, nullptr);
                ++attached;
            }
            g_value_reset(&item);
        }
        g_value_unset(&item);
        gst_iterator_free(it);
        ASSERT_GT(attached, 0) << "no nicesink in the peer's webrtcbin";
    }
};

// The remote (a webrtcbin) reports every ~5 s, so each step below waits a report or
// two; the controller's rules themselves are in tests/unit/pipelines/congestion_test.cpp.
TEST_F(CallFixture, BitrateFollowsLossGoesAudioOnlyBelowTheFloorAndRecovers) {
    auto s = settings("x264enc");
    s.bitrate = {150, 2500, 1200};
    start(s);
    RemotePeer& r = connect("patient", hw::Codec::H264, true);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 20; }, 20s));
    LossyLink link;
    GRef<GstElement> webrtc = adopt(gst_bin_get_by_name(GST_BIN(call->pipeline()), "p_patient_webrtc"));
    link.attach(webrtc.get());
    const unsigned start_kbps = call->video_bitrate();
    link.percent = 30;
    ASSERT_TRUE(run_until([&] { return call->video_bitrate() < start_kbps * 3 / 4; }, 20s))
        << "bitrate stayed at " << call->video_bitrate() << ", loss seen " << last_stats["patient"].fraction_lost;
    EXPECT_FALSE(saw(media::MediaEvent::AudioOnly)) << "30% loss steps the bitrate down before video stops";
    link.percent = 60;
    ASSERT_TRUE(run_until([&] { return saw(media::MediaEvent::AudioOnly); }, 20s))
        << "never went audio-only, target " << call->video_bitrate() << ", loss seen " << last_stats["patient"].fraction_lost;
    link.percent = 0;
    ASSERT_TRUE(run_until([&] { return saw(media::MediaEvent::VideoRestored); }, 25s))
        << "video never came back, loss seen " << last_stats["patient"].fraction_lost;
    EXPECT_LT(last_stats["patient"].fraction_lost, 0.02);
    const unsigned at = r.video_frames;
    EXPECT_TRUE(run_until([&] { return r.video_frames > at + 15; }, 10s)) << "no frames after video came back";
}

TEST_F(CallFixture, PeersComeAndGoWithoutDisturbingEachOther) {
    start(settings("x264enc"));
    RemotePeer& a = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return a.video_frames > 20; }, 20s));
    RemotePeer& b = connect("second", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return b.video_frames > 20; }, 20s)) << "a peer added mid-call gets video";
    call->remove_peer("second");
    const unsigned at = a.video_frames;
    ASSERT_TRUE(run_until([&] { return a.video_frames > at + 30; }, 10s)) << "removing a peer stalled the other";
    EXPECT_FALSE(call->has_peer("second"));
}

TEST_F(CallFixture, APeersVideoIsForwardedToAnotherAsItCame) {
    start(settings("x264enc"));
    RemotePeer& patient = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return patient.video_frames > 10; }, 20s));
    ASSERT_TRUE(run_until([&] { return last_stats["patient"].frames_decoded > 5; }, 10s));
    RemotePeer& kiosk = connect("kiosk", hw::Codec::H264, false, false, std::string("patient"));
    // The kiosk sees the room (self-view, 640 wide) and the patient (320 wide, as sent).
    ASSERT_TRUE(run_until([&] { return kiosk.video_streams >= 2 && kiosk.smallest_width == 320; }, 20s))
        << "kiosk has " << kiosk.video_streams << " video streams, smallest " << kiosk.smallest_width;
    EXPECT_GE(offers["kiosk"], 1);
    call->remove_peer("patient");
    const unsigned at = kiosk.video_frames;
    EXPECT_TRUE(run_until([&] { return kiosk.video_frames > at + 15; }, 10s)) << "the kiosk's self-view stalled";
}

// The kiosk usually opens before the patient is let in: its forwarded stream arrives by
// a second offer on the same connection.
TEST_F(CallFixture, AViewerThatCameFirstGetsTheSourceByRenegotiation) {
    start(settings("x264enc"));
    RemotePeer& kiosk = connect("kiosk", hw::Codec::H264, false, false, std::string("patient"));
    ASSERT_TRUE(run_until([&] { return kiosk.video_frames > 10; }, 20s)) << "no self-view";
    RemotePeer& patient = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return patient.video_frames > 10; }, 20s));
    ASSERT_TRUE(run_until([&] { return kiosk.video_streams >= 2 && kiosk.smallest_width == 320; }, 20s))
        << "kiosk has " << kiosk.video_streams << " video streams after " << offers["kiosk"] << " offers";
    EXPECT_GE(offers["kiosk"], 2) << "the forwarded stream came with a new offer";
}

// The doctor shares the intra-oral camera: a second video stream reaches the patient by
// renegotiation; stopping and sharing again only opens and closes a valve.
TEST_F(CallFixture, SharingTheContentCameraAddsASecondVideoStream) {
    auto s = settings("x264enc");
    s.content = {true, "test pattern", "", std::nullopt, "test"};
    start(s);
    RemotePeer& patient = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return patient.video_frames > 10; }, 20s));
    EXPECT_EQ(patient.video_streams, 1u);
    ASSERT_TRUE(call->content_available());
    auto shared = call->set_content_shared(true);
    ASSERT_TRUE(shared.has_value()) << shared.error().describe();
    ASSERT_TRUE(run_until([&] { return patient.video_streams >= 2; }, 20s)) << "no second stream after " << offers["patient"] << " offers";
    EXPECT_GE(offers["patient"], 2);
    const unsigned at = patient.video_frames;
    ASSERT_TRUE(run_until([&] { return patient.video_frames > at + 30; }, 10s));
    const unsigned offers_before = offers["patient"];
    ASSERT_TRUE(call->set_content_shared(false).has_value());
    ASSERT_TRUE(call->set_content_shared(true).has_value());
    EXPECT_EQ(offers["patient"], offers_before) << "sharing again renegotiated";
    // A screen that joins while sharing gets both streams from its first offer.
    RemotePeer& second = connect("second", hw::Codec::H264);
    EXPECT_TRUE(run_until([&] { return second.video_streams >= 2; }, 20s));
}

// The doctor's "camera off" shows a slate and keeps the camera running; back on, the
// room picture returns at once (the camera must not have stopped meanwhile).
TEST_F(CallFixture, CameraOffAndOnAgainKeepsTheCameraAlive) {
    start(settings("x264enc"));
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 10; }, 20s));
    call->set_camera_off(true);
    const unsigned off_at = r.video_frames;
    ASSERT_TRUE(run_until([&] { return r.video_frames > off_at + 30; }, 10s)) << "the slate must keep video flowing";
    call->set_camera_off(false);
    EXPECT_FALSE(call->camera_off());
    const unsigned on_at = r.video_frames;
    ASSERT_TRUE(run_until([&] { return r.video_frames > on_at + 30; }, 10s));
    GRef<GstElement> selector = adopt(gst_bin_get_by_name(GST_BIN(call->pipeline()), "vsel"));
    GstPad* active = nullptr;
    g_object_get(selector.get(), "active-pad", &active, nullptr);
    GRef<GstPad> owned = adopt(active);
    GRef<GstPad> peer = adopt(gst_pad_get_peer(active));
    GRef<GstElement> feeding = adopt(gst_pad_get_parent_element(peer.get()));
    EXPECT_EQ(std::string(GST_OBJECT_NAME(feeding.get())).rfind("cam", 0), 0u) << GST_OBJECT_NAME(feeding.get());
    EXPECT_FALSE(saw(media::MediaEvent::CameraLost)) << "the camera stopped while the slate was shown";
}

TEST_F(CallFixture, ThereIsNothingToShareWithoutASecondCamera) {
    start(settings("x264enc"));   // content: none
    EXPECT_FALSE(call->content_available());
    EXPECT_FALSE(call->set_content_shared(true).has_value());
}

TEST_F(CallFixture, ASourceThatFailsShowsTheSlateAndComesBack) {
    start(settings("x264enc"));
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return r.video_frames > 20; }, 20s));
    GRef<GstElement> src = adopt(gst_bin_get_by_name(GST_BIN(call->pipeline()), "cam0_src"));
    ASSERT_TRUE(src);
    GST_ELEMENT_ERROR(src.get(), RESOURCE, READ, ("camera unplugged (test)"), (nullptr));
    ASSERT_TRUE(run_until([&] { return saw(media::MediaEvent::CameraLost); }, 5s));
    const unsigned at = r.video_frames;
    ASSERT_TRUE(run_until([&] { return r.video_frames > at + 15; }, 10s)) << "video stopped instead of the slate";
    ASSERT_TRUE(run_until([&] { return saw(media::MediaEvent::CameraRestored); }, 10s));
    EXPECT_FALSE(call->showing_slate());
    const unsigned again = r.video_frames;
    EXPECT_TRUE(run_until([&] { return r.video_frames > again + 15; }, 10s));
}

}  // namespace
}  // namespace consult::test
