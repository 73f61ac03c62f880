#include "appliance/room/room_events.hpp"

#include "hwconfig/c_boundary.hpp"

#include <chrono>

namespace consult::room {

const char* event_name(EventKind k) {
    switch (k) {
    case EventKind::RoomCreated: return "room-created";
    case EventKind::ParticipantConnected: return "participant-connected";
    case EventKind::ParticipantDisconnected: return "participant-disconnected";
    case EventKind::TrackAdded: return "track-added";
    case EventKind::TrackRemoved: return "track-removed";
    case EventKind::TrackEnabled: return "track-enabled";
    case EventKind::TrackDisabled: return "track-disabled";
    case EventKind::RecordingStarted: return "recording-started";
    case EventKind::RecordingCompleted: return "recording-completed";
    case EventKind::RecordingFailed: return "recording-failed";
    case EventKind::RoomEnded: return "room-ended";
    }
    return "unknown";
}

void Events::publish(Event e) const {
    if (e.at_ms == 0)
        e.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& l : listeners_) at_boundary("room event listener", [&] { l(e); });
}

}  // namespace consult::room
