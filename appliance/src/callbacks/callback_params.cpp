#include "appliance/callbacks/callback_params.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/twilio/signature.hpp"


namespace consult::callbacks {

namespace {

using room::EventKind;

// The room's own kind, as Twilio names it: every call goes through the appliance.
constexpr const char* kRoomType = "group";

bool is_participant_event(EventKind k) {
    return k == EventKind::ParticipantConnected || k == EventKind::ParticipantDisconnected || is_track_event(k);
}

}  // namespace

bool is_track_event(EventKind k) {
    return k == EventKind::TrackAdded || k == EventKind::TrackRemoved || k == EventKind::TrackEnabled ||
           k == EventKind::TrackDisabled;
}

bool is_recording_event(EventKind k) {
    return k == EventKind::RecordingStarted || k == EventKind::RecordingCompleted || k == EventKind::RecordingFailed;
}

std::string timestamp(std::int64_t at_ms) {
    return domain::iso_utc(std::time_t(at_ms / 1000), int(at_ms % 1000));
}

std::string track_sid(const std::string& participant_sid, const std::string& track) {
    return "MT" + twilio::body_sha256_hex(participant_sid + "/" + track).substr(0, 32);
}

Params room_params(const room::Event& e, const RoomFacts& room, const std::optional<ParticipantFacts>& who) {
    Params p{{"AccountSid", room.account_sid},
             {"RoomName", room.room_name},
             {"RoomSid", room.room_sid},
             {"RoomStatus", e.kind == EventKind::RoomEnded ? "completed" : "in-progress"},
             {"RoomType", kRoomType},
             {"StatusCallbackEvent", room::event_name(e.kind)},
             {"Timestamp", timestamp(e.at_ms)}};
    if (e.kind == EventKind::RoomEnded && room.room_duration_s)
        p.emplace_back("RoomDuration", std::to_string(*room.room_duration_s));
    if (is_participant_event(e.kind) && who) {
        p.emplace_back("ParticipantSid", who->sid);
        p.emplace_back("ParticipantIdentity", who->identity);
        p.emplace_back("ParticipantStatus", e.kind == EventKind::ParticipantDisconnected ? "disconnected" : "connected");
        if (e.kind == EventKind::ParticipantDisconnected && who->duration_s)
            p.emplace_back("ParticipantDuration", std::to_string(*who->duration_s));
    }
    if (is_track_event(e.kind) && who) {
        p.emplace_back("TrackSid", track_sid(who->sid, e.track));
        p.emplace_back("TrackKind", e.track == "audio" ? "audio" : "video");   // the shared screen is a video track
    }
    return p;
}

Params recording_params(const room::Event& e, const RoomFacts& room, const RecordingFacts& rec,
                        const std::optional<ParticipantFacts>& who) {
    // One recording holds the whole call (both pictures and voices) in Matroska: named as
    // Twilio names a video track's recording, with the room's video as its source.
    Params p{{"AccountSid", room.account_sid},
             {"RecordingSid", rec.recording_sid},
             {"Timestamp", timestamp(e.at_ms)},
             {"StatusCallbackEvent", room::event_name(e.kind)},
             {"RoomSid", room.room_sid},
             {"RoomName", room.room_name},
             {"RoomType", kRoomType},
             {"ParticipantSid", who ? who->sid : ""},
             {"SourceSid", who ? track_sid(who->sid, "video") : ""},
             {"RecordingUri", rec.recording_uri},
             {"Container", "mkv"},
             {"Codec", rec.codec},
             {"ParticipantIdentity", who ? who->identity : ""},
             {"TrackName", "consultation"},
             {"OffsetFromTwilioVideoEpoch", std::to_string(rec.offset_ms)},
             {"Type", "video"}};
    if (e.kind == EventKind::RecordingCompleted) {
        p.emplace_back("MediaUri", rec.media_uri);
        p.emplace_back("Duration", std::to_string(rec.duration_s.value_or(0)));
        p.emplace_back("Size", std::to_string(rec.size_bytes.value_or(0)));
        p.emplace_back("MediaExternalLocation", "");
    }
    if (e.kind == EventKind::RecordingFailed)
        p.emplace_back("FailedOperation", rec.failed_operation);
    return p;
}

}  // namespace consult::callbacks
