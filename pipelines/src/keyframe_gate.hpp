// Lets a keyframe request through to the encoder at most every 500 ms: a burst of
// PLIs from a lossy link must not turn the stream into keyframes only.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace consult::media {

struct KeyframeGate {
    static constexpr gint64 kMinIntervalUs = 500 * 1000;

    std::mutex mu;
    gint64 last_us = 0;
    std::atomic<unsigned> forwarded{0};
    std::atomic<unsigned> suppressed{0};
    std::atomic<bool> let_next_through{false};   // a new peer's keyframe is never held back

    // Probe on the encoder's src pad for upstream events; its data is a
    // std::shared_ptr<KeyframeGate>* (the gate outlives whichever of branch and pad goes last).
    static GstPadProbeReturn probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
        GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (!ev || !gst_video_event_is_force_key_unit(ev)) return GST_PAD_PROBE_OK;
        KeyframeGate* gate = static_cast<std::shared_ptr<KeyframeGate>*>(data)->get();
        std::lock_guard lock(gate->mu);
        const gint64 now = g_get_monotonic_time();
        if (!gate->let_next_through.exchange(false) && gate->last_us && now - gate->last_us < kMinIntervalUs) {
            ++gate->suppressed;
            return GST_PAD_PROBE_DROP;
        }
        gate->last_us = now;
        ++gate->forwarded;
        return GST_PAD_PROBE_OK;
    }
};

}  // namespace consult::media
