// What happens in a consultation's room, published as events: the store, metrics,
// the log and (later) the cloud outbox and the outbound status callbacks subscribe,
// so the room itself knows none of them. Names follow Twilio Video's room status
// callbacks, which clinic backends already understand.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace consult::room {

enum class EventKind {
    RoomCreated,
    ParticipantConnected,
    ParticipantDisconnected,
    TrackAdded,
    TrackRemoved,
    TrackEnabled,
    TrackDisabled,
    RecordingStarted,
    RecordingCompleted,
    RecordingFailed,
    RoomEnded,
};
// "room-created", "participant-connected", … (StatusCallbackEvent's values).
const char* event_name(EventKind k);

struct Event {
    EventKind kind;
    std::string session_id;
    std::string role;             // doctor | patient, for participant and track events
    std::string participant_id;   // the participant row
    std::string identity;         // the doctor's or patient's id
    std::string track;            // audio | video | content, for track events
    std::string detail;           // e.g. why a room ended
    std::int64_t at_ms = 0;       // Unix time, milliseconds
    std::string recording_sid;    // recording events: RT…
    int part = 0;                 // recording events: the part (1, 2, …) started or ended
    std::string failed_operation; // recording-failed: RecordingUpload (else told by `part`)
};

class Events {
public:
    using Listener = std::function<void(const Event&)>;
    void subscribe(Listener l) { listeners_.push_back(std::move(l)); }
    // Every listener hears the event; one that throws is reported and the others still hear it.
    void publish(Event e) const;

private:
    std::vector<Listener> listeners_;
};

}  // namespace consult::room
