// Two webrtcbin peers through an in-process signalling stub, inside a private
// network namespace (see run_in_netns.sh). Every wait has a deadline.
#include "call_fixture.hpp"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>

namespace consult::test {
namespace {

using namespace std::chrono_literals;

// What a browser writes for a section it will not take: port 0, no transport
// attributes, out of the BUNDLE group, keeping its mid and the formats it saw.
std::string reject_section(const std::string& sdp, const std::string& media) {
    std::string out, mid;
    bool in_target = false;
    std::size_t start = 0;
    std::vector<std::string> lines;
    while (start < sdp.size()) {
        std::size_t end = sdp.find("\r\n", start);
        if (end == std::string::npos) end = sdp.size();
        lines.push_back(sdp.substr(start, end - start));
        start = end + 2;
    }
    for (auto& line : lines) {
        if (line.rfind("m=", 0) == 0) {
            in_target = line.rfind("m=" + media + " ", 0) == 0;
            if (in_target) {
                const std::size_t proto = line.find(' ', 2 + media.size() + 1);
                line = "m=" + media + " 0" + line.substr(proto);
            }
        } else if (in_target) {
            if (line.rfind("a=mid:", 0) == 0) mid = line.substr(6);
            const bool keep = line.rfind("c=", 0) == 0 || line.rfind("a=mid:", 0) == 0 || line.rfind("a=rtpmap:", 0) == 0;
            if (!keep) continue;
        }
        out += line + "\r\n";
    }
    if (!mid.empty()) {
        const std::string tag = "a=group:BUNDLE";
        std::size_t g = out.find(tag);
        if (g != std::string::npos) {
            const std::size_t eol = out.find("\r\n", g);
            std::string group = out.substr(g, eol - g);
            const std::size_t at = group.find(" " + mid);
            if (at != std::string::npos) group.erase(at, mid.size() + 1);
            out.replace(g, eol - g, group);
        }
    }
    return out;
}

TEST_F(CallFixture, TheOfferFollowsJsepAndTheCodecRfcs) {
    auto s = settings("x264enc");
    s.fallbacks = {hw::find_encoder("vp8enc")};
    start(s);
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return !last_offer["patient"].empty(); }, 10s));
    const std::string& offer = last_offer["patient"];
    EXPECT_NE(offer.find("a=setup:actpass"), std::string::npos) << offer;
    EXPECT_EQ(offer.find("a=setup:active"), std::string::npos) << offer;
    EXPECT_NE(offer.find("a=rtpmap:111 OPUS/48000/2"), std::string::npos) << offer;
    // max-bundle: the video section rides the audio's transport (port 0, bundle-only).
    EXPECT_NE(offer.find("m=video 0 UDP/TLS/RTP/SAVPF 96 97"), std::string::npos) << "H.264 first, VP8 beside it: " << offer;
    EXPECT_NE(offer.find("a=bundle-only"), std::string::npos) << offer;
    EXPECT_NE(offer.substr(offer.find("m=video")).find("a=ssrc:"), std::string::npos)
        << "the video's SSRC is announced before anything is linked: " << offer;
    EXPECT_NE(offer.find("a=rtpmap:97 VP8/90000"), std::string::npos) << offer;
    EXPECT_NE(offer.find("packetization-mode=1"), std::string::npos) << offer;
    EXPECT_NE(offer.find("profile-level-id=42e01f"), std::string::npos) << offer;
    EXPECT_NE(offer.find("a=group:BUNDLE audio0 video1"), std::string::npos) << "audio tags the bundle: " << offer;
    EXPECT_EQ(offer.find("sprop-parameter-sets"), std::string::npos) << offer;
    ASSERT_TRUE(run_until([&] { return r.video_frames > 10 && r.audio_buffers > 10; }, 20s));
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_H264_enc"}) << "VP8 is encoded only while a peer takes it";
}

TEST_F(CallFixture, AVp8OnlyBrowserGetsTheFallbackEncodedOnceForAllWhoNeedIt) {
    auto s = settings("x264enc");
    s.fallbacks = {hw::find_encoder("vp8enc")};
    start(s);
    RemotePeer& h = connect("doctor", hw::Codec::H264);
    RemotePeer& a = connect("patient", hw::Codec::VP8);
    RemotePeer& b = connect("relative", hw::Codec::VP8);
    ASSERT_TRUE(run_until([&] { return h.video_frames > 20 && a.video_frames > 20 && b.video_frames > 20; }, 25s))
        << h.video_frames << " / " << a.video_frames << " / " << b.video_frames;
    ASSERT_TRUE(run_until([&] { return a.audio_buffers > 20 && b.audio_buffers > 20; }, 10s));
    auto running = call->running_encoders();
    std::sort(running.begin(), running.end());
    EXPECT_EQ(running, (std::vector<std::string>{"venc_H264_enc", "venc_VP8_enc"})) << "one VP8 encoder for both";
    call->remove_peer("patient");
    const unsigned at = b.video_frames;
    ASSERT_TRUE(run_until([&] { return b.video_frames > at + 20; }, 10s)) << "the other VP8 viewer lost its video";
    call->remove_peer("relative");
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_H264_enc"}) << "VP8 stops with its last viewer";
    const unsigned hat = h.video_frames;
    EXPECT_TRUE(run_until([&] { return h.video_frames > hat + 20; }, 10s));
}

// A VP8-only browser first in the call: the H.264 encoder nobody takes stops, and the
// next screen is offered VP8 first, so a browser that takes either (the kiosk's)
// shares the one encoder.
TEST_F(CallFixture, AfterAVp8OnlyBrowserTheNextScreenIsOfferedTheEncoderAlreadyRunning) {
    auto s = settings("x264enc");
    s.fallbacks = {hw::find_encoder("vp8enc")};
    start(s);
    RemotePeer& patient = connect("patient", hw::Codec::VP8);
    ASSERT_TRUE(run_until([&] { return patient.video_frames > 10; }, 25s));
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_VP8_enc"}) << "no H.264 encoder for nobody";
    RemotePeer& doctor = connect("doctor", hw::Codec::VP8);
    ASSERT_TRUE(run_until([&] { return !last_offer["doctor"].empty(); }, 10s));
    EXPECT_NE(last_offer["doctor"].find("m=video 0 UDP/TLS/RTP/SAVPF 97 96"), std::string::npos)
        << "VP8 first, H.264 beside it: " << last_offer["doctor"];
    ASSERT_TRUE(run_until([&] { return doctor.video_frames > 10; }, 25s));
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_VP8_enc"}) << "one encoder for both";
    // Everyone gone: one encoder is kept warm for whoever comes next.
    call->remove_peer("patient");
    call->remove_peer("doctor");
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_VP8_enc"});
    // A screen taking H.264 then gets it, and VP8 stops.
    RemotePeer& next = connect("next", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return next.video_frames > 10; }, 25s));
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_H264_enc"});
}

// Software VP8 is the costly path (every Firefox without OpenH264): it is encoded at 540
// lines at most, and while only VP8 screens are in the call the camera itself gives that
// size (no scaler, a smaller picture); a screen taking H.264 brings the full size back.
TEST_F(CallFixture, TheVp8FallbackIsKeptAt540LinesWhileTheCameraStaysAtFullSize) {
    auto s = settings("x264enc");
    s.width = 1280;
    s.height = 720;
    s.fallbacks = {hw::find_encoder("vp8enc")};
    start(s);
    RemotePeer& vp8 = connect("patient", hw::Codec::VP8);
    ASSERT_TRUE(run_until([&] { return vp8.video_frames > 5; }, 25s));
    EXPECT_EQ(vp8.smallest_width, 960) << "960x540 from a 1280x720 camera";
    EXPECT_EQ(call->capture_height(), 720) << "the camera stays at full size (see Call::fit_capture)";
    RemotePeer& h264 = connect("kiosk", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return h264.video_frames > 5 && h264.last_width == 1280; }, 25s)) << h264.last_width;
    EXPECT_EQ(call->capture_height(), 720);
    const unsigned before = vp8.video_frames;
    ASSERT_TRUE(run_until([&] { return vp8.video_frames > before + 30; }, 10s)) << "VP8 goes on through the size change";
    EXPECT_EQ(vp8.last_width, 960);
    call->remove_peer("kiosk");
    run_for(1s);
    EXPECT_EQ(call->capture_height(), 720);
    const unsigned after = vp8.video_frames;
    ASSERT_TRUE(run_until([&] { return vp8.video_frames > after + 20; }, 10s)) << "VP8 goes on once H.264 is gone";
    EXPECT_EQ(vp8.last_width, 960);
}

TEST_F(CallFixture, AnAnswerRefusingVideoLeavesAnAudioCall) {
    auto s = settings("x264enc");
    s.content = {true, "test pattern", "", std::nullopt, "test"};
    start(s);
    edit_answer = [](const std::string& sdp) { return reject_section(sdp, "video"); };
    RemotePeer& r = connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return saw(media::MediaEvent::VideoRefused); }, 10s));
    ASSERT_TRUE(run_until([&] { return r.audio_buffers > 30; }, 20s)) << "audio must still flow";
    ASSERT_TRUE(run_until([&] { return last_stats["patient"].audio_buffers_decoded > 10; }, 10s)) << "both ways";
    EXPECT_EQ(r.video_frames, 0u);
    EXPECT_TRUE(answer_errors.empty()) << answer_errors.front();
    EXPECT_FALSE(saw(media::MediaEvent::PeerFailed));
    run_for(2s);
    EXPECT_EQ(offers["patient"], 1) << "no renegotiation loop";
    // The doctor shares the second camera: a browser that refused video is not offered it.
    ASSERT_TRUE(call->set_content_shared(true).has_value());
    run_for(2s);
    EXPECT_EQ(offers["patient"], 1);
    const unsigned audio = r.audio_buffers;
    EXPECT_TRUE(run_until([&] { return r.audio_buffers > audio + 20; }, 5s)) << "the call goes on";
}

TEST_F(CallFixture, AnAnswerRefusingEverythingEndsWithAReasonAndNoLoop) {
    start(settings("x264enc"));
    edit_answer = [](const std::string& sdp) { return reject_section(reject_section(sdp, "video"), "audio"); };
    connect("patient", hw::Codec::H264);
    ASSERT_TRUE(run_until([&] { return saw(media::MediaEvent::NothingUsable); }, 10s));
    EXPECT_NE(last_detail.find("cannot take part"), std::string::npos) << last_detail;
    EXPECT_TRUE(answer_errors.empty()) << "an outcome, not a refusal";
    EXPECT_FALSE(call->awaiting_answer("patient"));
    run_for(1s);
    EXPECT_EQ(offers["patient"], 1) << "no renegotiation loop";
    EXPECT_FALSE(saw(media::MediaEvent::RemoteDescriptionRefused));
}

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
    GRef<GstElement> pay = adopt(gst_bin_get_by_name(GST_BIN(call->pipeline()), "p_patient_v1_pay"));
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
    ASSERT_TRUE(run_until([&] { return patient.video_streams >= 2; }, 20s)) << "no second stream after " << offers["patient"] << " offers; the last:\n" << last_offer["patient"];
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
