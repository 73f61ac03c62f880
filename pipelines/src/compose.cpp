#include "pipelines/compose.hpp"

#include "compose_loop.hpp"
#include "compose_output.hpp"
#include "compose_output_file.hpp"
#include "compose_reader.hpp"
#include "compose_scan.hpp"
#include "compose_writer.hpp"
#include "hwconfig/encoder_table.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace consult::media {

using namespace composition;

namespace {

// Carries one of a part's outputs (canvas video or mixed audio) into the writer, moved
// along the output timeline by the length of the parts before it.
struct Lane {
    GstElement* into = nullptr;                  // the writer's appsrc
    std::atomic<GstClockTime> offset{0};
    std::atomic<std::uint64_t> reached{0};       // output time pushed so far (ns)
};

GstFlowReturn forward(GstAppSink* sink, gpointer p) {
    auto* lane = static_cast<Lane*>(p);
    GstSample* sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_EOS;
    GstBuffer* in = gst_sample_get_buffer(sample);
    const GstClockTime rt = in ? gst_segment_to_running_time(gst_sample_get_segment(sample), GST_FORMAT_TIME, GST_BUFFER_PTS(in))
                               : GST_CLOCK_TIME_NONE;
    GstBuffer* out = GST_CLOCK_TIME_IS_VALID(rt) ? gst_buffer_copy(in) : nullptr;   // shares the memory
    gst_sample_unref(sample);
    if (!out) return GST_FLOW_OK;
    GST_BUFFER_PTS(out) = lane->offset.load() + rt;
    GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
    const GstClockTime end = GST_BUFFER_PTS(out) + (GST_BUFFER_DURATION_IS_VALID(out) ? GST_BUFFER_DURATION(out) : 0);
    const GstFlowReturn ret = gst_app_src_push_buffer(GST_APP_SRC(lane->into), out);   // blocks while the writer is full
    lane->reached.store(std::max<std::uint64_t>(lane->reached.load(), end));
    return ret;
}

void connect(GstElement* appsink, Lane& lane) {
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = forward;
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, &lane, nullptr);
}

std::string part_label(std::size_t i, const std::string& path) {
    return "part " + std::to_string(i + 1) + " (" + std::filesystem::path(path).filename().string() + ")";
}

std::string seconds_text(GstClockTime t) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", double(t) / GST_SECOND);
    return text;
}

bool cancelled(const ComposeJob& job) { return job.cancel && job.cancel->load(); }

// Every part that can be read, with notes for the rest; none is an error.
expected<std::vector<PartInfo>, std::string> scan_parts(const ComposeJob& job, ComposeLoop& loop,
                                                        std::vector<std::string>& notes) {
    std::vector<PartInfo> parts;
    std::vector<std::string> refused;
    for (std::size_t i = 0; i < job.parts.size(); ++i) {
        const std::string label = part_label(i, job.parts[i]);
        auto info = scan_part(job.parts[i], loop);
        if (cancelled(job)) return unexpected(std::string("cancelled"));
        if (!info) {
            refused.push_back(label + ": " + info.error());
            notes.push_back(label + " left out: " + info.error());
            continue;
        }
        for (const auto& n : info->notes) notes.push_back(label + ": " + n);
        parts.push_back(std::move(*info));
    }
    if (parts.empty()) {
        std::string why = "no part can be composed";
        for (const auto& r : refused) why += "; " + r;
        return unexpected(why);
    }
    return parts;
}

class Composition {
public:
    Composition(const ComposeJob& job, ProgressFn progress, ComposeLoop& loop, std::vector<std::string>& notes)
        : job_(job), progress_(std::move(progress)), loop_(loop), notes_(notes) {}

    expected<ComposeResult, std::string> run(const OutputProfile& profile, const std::vector<PartInfo>& parts) {
        auto file = OutputFile::create(job_.output);
        if (!file) return unexpected(file.error());
        file_ = std::move(*file);
        const Canvas canvas = canvas_for(job_.layout);
        auto writer = build_writer(profile, canvas, video_kbps(canvas.width, canvas.height), *file_);
        if (!writer) return unexpected(writer.error());
        writer_ = writer->pipeline;
        video_.into = writer->video_in;
        audio_.into = writer->audio_in;
        for (const PartInfo& p : parts) total_ += part_length(p.duration);

        if (gst_element_set_state(writer_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
            return fail("output: the encoder would not start");
        GstClockTime offset = 0;
        std::vector<std::string> cut;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const GstClockTime length = part_length(parts[i].duration);
            auto ran = compose_part(parts[i], canvas, offset, length, part_label(i, parts[i].path), cut);
            if (!ran) return fail(ran.error());
            offset += *ran;
        }
        if (offset == 0) {
            std::string why = "no part can be composed";
            for (const auto& c : cut) why += "; " + c;
            return fail(why);
        }
        gst_app_src_end_of_stream(GST_APP_SRC(video_.into));
        gst_app_src_end_of_stream(GST_APP_SRC(audio_.into));
        auto finished = loop_.run_until_eos({writer_.get(), "output"}, {}, marker(), tick());
        if (!finished) return fail(finished.error());
        gst_element_set_state(writer_.get(), GST_STATE_NULL);
        if (auto published = file_->publish(); !published) return unexpected(published.error());
        if (progress_) progress_(1.0);

        ComposeResult r;
        r.output = job_.output;
        r.duration = std::chrono::milliseconds(offset / GST_MSECOND);
        r.size_bytes = file_->size();
        r.container = profile.container;
        r.video_codec = profile.video.codec;
        r.audio_codec = profile.audio.codec;
        r.video_encoder = profile.video.factory;
        return r;
    }

    ~Composition() {
        // The writer first: a reader's thread blocked pushing into it is let go.
        if (writer_) gst_element_set_state(writer_.get(), GST_STATE_NULL);
    }

private:
    // Composes one part onto the output from `offset`; answers how long it lasted there.
    // A part that fails while it is read (a track its decoder refuses, data damaged past
    // what the scan reads) ends where it failed, with a note: what came before stays, and
    // the parts after it follow on. Only the output's failure, a stall or a cancel fails
    // the whole composition.
    expected<GstClockTime, std::string> compose_part(const PartInfo& part, const Canvas& canvas, GstClockTime offset,
                                                     GstClockTime length, const std::string& label,
                                                     std::vector<std::string>& cut) {
        auto reader = build_reader(part, canvas, length);
        if (!reader) return unexpected(label + ": " + reader.error());
        video_.offset = offset;
        audio_.offset = offset;
        connect(reader->video_out, video_);
        connect(reader->audio_out, audio_);
        expected<void, std::string> ran;
        if (gst_element_set_state(reader->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
            ran = unexpected(label + ": would not start");
        else
            ran = loop_.run_until_eos({reader->pipeline.get(), label}, {{writer_.get(), "output"}}, marker(), tick());
        const bool part_failed = !ran && loop_.failed_pipeline() == reader->pipeline.get();
        if (!ran && !part_failed) gst_element_set_state(writer_.get(), GST_STATE_NULL);
        gst_element_set_state(reader->pipeline.get(), GST_STATE_NULL);   // its threads have stopped pushing
        if (ran) return length;
        if (!part_failed) return unexpected(ran.error());
        const std::uint64_t reached = std::max(video_.reached.load(), audio_.reached.load());
        const GstClockTime composed = reached > offset ? std::min<GstClockTime>(reached - offset, length) : 0;
        const std::string why = ran.error().substr(std::min(ran.error().size(), label.size() + 2));
        cut.push_back(label + ": " + why);
        notes_.push_back(composed == 0 ? label + " left out: " + why
                                       : label + " cut at " + seconds_text(composed) + " s of " + seconds_text(length) + ": " + why);
        return composed;
    }

    unexpected<std::string> fail(std::string why) {
        gst_element_set_state(writer_.get(), GST_STATE_NULL);
        return unexpected(std::move(why));
    }

    // Progress for the watchdog: output time pushed, or bytes written (mp4mux's faststart
    // copies the whole file after the last frame).
    std::function<std::uint64_t()> marker() {
        return [this] { return video_.reached.load() + audio_.reached.load() + file_->size(); };
    }

    std::function<void()> tick() {
        return [this] {
            if (!progress_ || total_ == 0) return;
            const double done = double(std::min(video_.reached.load(), audio_.reached.load())) / double(total_);
            progress_(std::clamp(done, 0.0, 0.999));
        };
    }

    const ComposeJob& job_;
    ProgressFn progress_;
    ComposeLoop& loop_;
    std::vector<std::string>& notes_;
    std::unique_ptr<OutputFile> file_;
    GRef<GstElement> writer_;
    Lane video_, audio_;
    GstClockTime total_ = 0;
};

}  // namespace

std::optional<ComposeLayout> parse_layout(std::string_view name) {
    if (name == "side-by-side") return ComposeLayout::SideBySide;
    if (name == "pip" || name == "picture-in-picture") return ComposeLayout::PictureInPicture;
    return std::nullopt;
}

std::optional<ComposeContainer> parse_container(std::string_view name) {
    if (name == "auto") return ComposeContainer::Auto;
    if (name == "mp4") return ComposeContainer::Mp4;
    if (name == "webm") return ComposeContainer::WebM;
    return std::nullopt;
}

expected<PartSummary, std::string> describe_part(const std::string& path) {
    ComposeLoop loop(std::chrono::seconds(30), nullptr);
    auto info = scan_part(path, loop);
    if (!info) return unexpected(info.error());
    PartSummary out;
    for (Role r : kRoles)
        if (const auto& t = info->track(r))
            out.tracks.push_back({role_title(r), std::chrono::milliseconds(t->end / GST_MSECOND)});
    out.notes = std::move(info->notes);
    return out;
}

expected<ComposeResult, std::string> compose(const ComposeJob& job, ProgressFn progress) {
    if (job.parts.empty()) return unexpected(std::string("no parts to compose"));
    if (job.output.empty()) return unexpected(std::string("no output path"));
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(job.output, ec)))
        return unexpected("output " + job.output + " exists already");
    auto profile = choose_output(job.encoder, job.container, hw::registry_has);
    if (!profile) return unexpected(profile.error());
    if (progress) progress(0.0);

    ComposeLoop loop(job.stall_timeout, job.cancel);
    std::vector<std::string> notes = profile->notes;
    auto parts = scan_parts(job, loop, notes);
    if (!parts) return unexpected(parts.error());
    Composition composition(job, std::move(progress), loop, notes);
    auto result = composition.run(*profile, *parts);
    if (result) result->notes = std::move(notes);
    return result;
}

}  // namespace consult::media
