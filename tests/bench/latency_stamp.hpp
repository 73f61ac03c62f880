// Glass-to-glass latency without OCR: the sender writes the capture time into the
// frame as 32 black/white blocks of the luma plane; the receiver reads them back after
// decoding. Both ends run in one process, so they share the monotonic clock.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <optional>

namespace consult::bench {

constexpr int kBits = 32;
constexpr int kBlock = 16;   // pixels per side: survives a few hundred kbit/s of H.264

// Writes the low 32 bits of the monotonic clock (in ms) into an I420/NV12 frame.
inline void stamp(GstBuffer* buffer, const GstVideoInfo& info, std::uint32_t ms) {
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE)) return;
    auto* y = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    for (int bit = 0; bit < kBits; ++bit) {
        const std::uint8_t value = (ms >> bit) & 1 ? 235 : 16;
        for (int row = 0; row < kBlock; ++row)
            for (int col = 0; col < kBlock; ++col) y[row * stride + bit * kBlock + col] = value;
    }
    gst_video_frame_unmap(&frame);
}

// Reads the stamp back; nothing when the frame is too small or not mappable.
inline std::optional<std::uint32_t> read_stamp(GstBuffer* buffer, const GstVideoInfo& info) {
    if (GST_VIDEO_INFO_WIDTH(&info) < kBits * kBlock) return std::nullopt;
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ)) return std::nullopt;
    const auto* y = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    std::uint32_t ms = 0;
    for (int bit = 0; bit < kBits; ++bit) {
        int sum = 0;
        for (int row = 4; row < kBlock - 4; ++row)
            for (int col = 4; col < kBlock - 4; ++col) sum += y[row * stride + bit * kBlock + col];
        if (sum / ((kBlock - 8) * (kBlock - 8)) > 128) ms |= 1u << bit;
    }
    gst_video_frame_unmap(&frame);
    return ms;
}

}  // namespace consult::bench
