// The Call's side of recording: which of its streams are recorded, and what the
// recorder's outcome means for the call (nothing but an event: the call goes on).
#include "pipelines/call.hpp"

#include "encoder_branch.hpp"
#include "recorder.hpp"

#include <cstring>

namespace consult::media {

namespace {

TrackFormat video_format(hw::Codec codec) { return codec == hw::Codec::H264 ? TrackFormat::H264 : TrackFormat::VP8; }

// What a person is told when the recording stopped on an error: a full disk plainly,
// other write errors with the system's reason (the end of the debug text, "File too large").
std::string recording_failure(const GError* err, const char* debug) {
    if (err && err->domain == GST_RESOURCE_ERROR && err->code == GST_RESOURCE_ERROR_NO_SPACE_LEFT)
        return "the disk is full";
    std::string why = err ? err->message : "unknown error";
    if (const char* tail = debug ? std::strrchr(debug, ':') : nullptr) {
        why = tail + 1;
        why.erase(0, why.find_first_not_of(' '));
    }
    if (err && err->domain == GST_RESOURCE_ERROR) return "the recording could not be written to the disk (" + why + ")";
    return "the recording stopped on an error (" + why + ")";
}

}  // namespace

expected<std::vector<RecorderTrack>, BuildError> Call::recording_tracks(const RecordingOptions& options) {
    std::vector<RecorderTrack> tracks;
    // The room camera as the call encodes it: the main codec's branch, else whichever runs.
    auto branch = room_.branches.find(settings_.encoder->codec);
    if (branch == room_.branches.end()) branch = room_.branches.begin();
    if (branch != room_.branches.end()) {
        const hw::Codec codec = branch->first;
        tracks.push_back({"room-video", branch->second->tee(), video_format(codec), "", [this, codec] {
            if (auto it = room_.branches.find(codec); it != room_.branches.end()) it->second->force_keyframe();
        }});
    }
    if (audio_tee_) tracks.push_back({"room-audio", audio_tee_, TrackFormat::Opus, "", nullptr});
    if (options.include_patient && options.patient) {
        const std::string& id = *options.patient;
        if (!peers_.count(id)) return unexpected(BuildError{id, "no such peer in the call"});
        GstBin* bin = GST_BIN(pipeline_.get());
        if (auto v = incoming_video_.find(id); v != incoming_video_.end()) {
            GRef<GstElement> tee = adopt(gst_bin_get_by_name(bin, v->second.first.c_str()));
            if (tee) tracks.push_back({"patient-video", tee.get(), video_format(v->second.second), id, nullptr});
        }
        if (auto a = incoming_audio_.find(id); a != incoming_audio_.end()) {
            GRef<GstElement> tee = adopt(gst_bin_get_by_name(bin, a->second.c_str()));
            if (tee) tracks.push_back({"patient-audio", tee.get(), TrackFormat::Opus, id, nullptr});
        }
    }
    if (tracks.empty()) return unexpected(BuildError{"recording", "there is nothing to record"});
    return tracks;
}

expected<void, BuildError> Call::start_recording(const RecordingOptions& options) {
    if (recorder_) return unexpected(BuildError{"recording", "a recording is already running"});
    auto tracks = recording_tracks(options);
    if (!tracks) return unexpected(tracks.error());
    RecorderEvents events;
    std::weak_ptr<bool> alive = alive_;
    events.started = [this, alive](const std::string& file) {
        if (alive.lock()) listener_.event("", MediaEvent::RecordingStarted, file);
    };
    events.stopped = [this, alive](const std::string& file) {
        if (!alive.lock()) return;
        recording_ended();
        listener_.event("", MediaEvent::RecordingStopped, file);
    };
    events.failed = [this, alive](const std::string& why) {
        if (!alive.lock()) return;
        recording_ended();
        listener_.event("", MediaEvent::RecordingFailed, why);
    };
    auto recorder = Recorder::start(GST_BIN(pipeline_.get()), options.file, std::move(*tracks), std::move(events));
    if (!recorder) return unexpected(recorder.error());
    recorder_ = std::move(*recorder);
    recorded_file_ = options.file;
    // The recorder takes the room camera's encoder too: it keeps running while it records.
    const hw::Codec codec = room_.branches.count(settings_.encoder->codec) ? settings_.encoder->codec
                                                                           : room_.branches.begin()->first;
    if (auto it = room_.branches.find(codec); it != room_.branches.end()) {
        ++it->second->users;
        recorded_codec_ = codec;
    }
    return {};
}

void Call::stop_recording() {
    if (recorder_) recorder_->stop();
}

void Call::recording_ended() {
    recorder_.reset();
    if (auto codec = std::exchange(recorded_codec_, std::nullopt)) release_branch(room_, *codec);
}

std::uint64_t Call::recorded_bytes() const {
    if (recorder_) return recorder_->bytes();
    std::error_code ec;
    const auto size = recorded_file_.empty() ? 0 : std::filesystem::file_size(recorded_file_, ec);
    return ec ? 0 : size;
}

void Call::on_incoming_audio(const std::string& peer, const std::string& tee) {
    if (!peers_.count(peer)) return;
    incoming_audio_[peer] = tee;
    listener_.event(peer, MediaEvent::TrackArrived, "audio");
}

bool Call::recording_misses(const std::string& peer) const {
    if (!recorder_) return false;
    return (incoming_video_.count(peer) && !recorder_->records(peer, true)) ||
           (incoming_audio_.count(peer) && !recorder_->records(peer, false));
}

void Call::on_recording_error(GstMessage* msg) {
    // An earlier recorder's late errors are moot: its elements are already gone.
    if (!recorder_ || !recorder_->owns(GST_MESSAGE_SRC(msg))) return;
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg, &err, &debug);
    GErrorPtr owned(err);
    GCharPtr owned_debug(debug);
    recorder_->fail(recording_failure(err, debug));
}

// The call ends while recording: the file is finished (EOS), and only then does the
// pipeline stop, on a worker thread, or after the recorder's timeout.
void Call::finish_recording_for_teardown() {
    GRef<GstElement> pipeline = pipeline_;
    recorder_->finish_with([pipeline](std::shared_ptr<void> keep_alive) { retire({pipeline}, std::move(keep_alive)); });
    recorder_.reset();
}

}  // namespace consult::media
