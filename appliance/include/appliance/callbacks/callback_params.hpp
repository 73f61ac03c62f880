// The parameters of Twilio Video's status callbacks, built from a room event and what
// the store knows of its room, participant and recording. Names and values follow the
// published reference; the list this appliance sends is docs/status_callbacks.json, and
// the tests hold every callback to it. Pure functions: no store, no clock.
#pragma once

#include "appliance/room/room_events.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace consult::callbacks {

using Params = std::vector<std::pair<std::string, std::string>>;

struct RoomFacts {
    std::string account_sid;     // AC…
    std::string room_sid;        // RM…
    std::string room_name;
    std::optional<std::int64_t> room_duration_s;   // room-ended: from the room's start to its end
};

struct ParticipantFacts {
    std::string sid;             // PA…
    std::string identity;        // the doctor's or patient's id
    std::optional<std::int64_t> duration_s;        // participant-disconnected: time in the room
};

struct RecordingFacts {
    std::string recording_sid;   // RT…
    std::string recording_uri;   // where the clinic's backend reads the recording's state
    std::string media_uri;       // the composed file, once ready
    std::string codec = "H264";  // the room's video as it was recorded: H264 | VP8
    std::optional<std::int64_t> duration_s, size_bytes;   // recording-completed: the part's
    std::int64_t offset_ms = 0;  // the part's start after the room's start
    std::string failed_operation = "RecordingComplete";   // recording-failed: RecordingStart when no file began
};

// "2026-12-01T09:30:00.123Z" for a Unix time in milliseconds.
std::string timestamp(std::int64_t at_ms);

// MT + 32 hex: the same participant's same kind of track always has the same SID.
std::string track_sid(const std::string& participant_sid, const std::string& track);

// The room status callback for `e` (every event, recording ones too). SequenceNumber is
// added by the queue.
Params room_params(const room::Event& e, const RoomFacts& room, const std::optional<ParticipantFacts>& who);

// The recording status callback for a recording event; `who` is the doctor who started it.
Params recording_params(const room::Event& e, const RoomFacts& room, const RecordingFacts& rec,
                        const std::optional<ParticipantFacts>& who);

bool is_track_event(room::EventKind k);
bool is_recording_event(room::EventKind k);

}  // namespace consult::callbacks
