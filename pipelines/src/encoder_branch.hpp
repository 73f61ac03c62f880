// One encoder and what follows it: raw video in, encoded video out to a tee that
// peers' payloaders take from. The same builder makes the room camera's branch, the
// VP8 fallback's (only while a peer needs it) and the content camera's. Quirks of an
// encoder (its bitrate unit, a lower resolution ceiling) are fields of its table row.
#pragma once

#include "keyframe_gate.hpp"
#include "pipelines/builder.hpp"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace consult::media {

struct BranchSize {
    int width = 1280, height = 720;   // what the source delivers
};

class EncoderBranch {
public:
    // Builds "<prefix>queue … <prefix>tee" in `bin`, fed from `source` (a tee: a pad is
    // requested; any other element: linked), and brings it to the bin's state when `live`.
    static expected<std::unique_ptr<EncoderBranch>, BuildError> build(GstBin* bin, GstElement* source, const hw::EncoderRow& row,
                                                                      const std::string& prefix, BranchSize size,
                                                                      unsigned start_kbps, bool live);
    ~EncoderBranch() = default;

    const hw::EncoderRow& row() const { return row_; }
    hw::Codec codec() const { return row_.codec; }
    GstElement* tee() const { return tee_; }
    const std::string& prefix() const { return prefix_; }
    const KeyframeGate& gate() const { return *gate_; }

    void set_bitrate(unsigned kbps);
    // A keyframe now (a new viewer, a new link), past the gate's rate limit.
    void force_keyframe();
    // Removes every element of the branch (they stop on a worker thread).
    void remove(GstBin* bin);

    unsigned users = 0;   // peers sending from this branch

private:
    EncoderBranch(const hw::EncoderRow& row, std::string prefix) : row_(row), prefix_(std::move(prefix)) {}

    const hw::EncoderRow& row_;
    std::string prefix_;
    GstElement* encoder_ = nullptr;   // owned by the bin
    GstElement* tee_ = nullptr;
    std::shared_ptr<KeyframeGate> gate_ = std::make_shared<KeyframeGate>();
};

}  // namespace consult::media
