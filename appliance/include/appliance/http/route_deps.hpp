// What each group of HTTP routes uses of the daemon, and nothing more. The daemon wires
// them (appliance/wiring.hpp); a route cannot reach a part its group was not given.
#pragma once

#include "appliance/config.hpp"
#include "appliance/http/rate_limit.hpp"
#include "appliance/live_rooms.hpp"
#include "appliance/metrics.hpp"
#include "appliance/store/database.hpp"
#include "appliance/tokens/token_service.hpp"
#include "hwconfig/probe.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace consult {
namespace cloud { class CloudSync; }
namespace notify { class Messaging; }
namespace recording { class Recordings; }
namespace store { class AuditBatch; }
}  // namespace consult

namespace consult::http {

// Every group's common part: who is calling (token checks, refusals counted) and the
// store, where what they did is audited.
struct Access {
    tokens::TokenService& tokens;
    Metrics& metrics;
    store::Database& db;
    store::AuditBatch* audits = nullptr;   // group-committed (the daemon's); null: written at once
};

// /healthz, /metrics and /api/system/activity.
struct SystemDeps : Access {
    std::filesystem::path state_dir;
    const std::optional<hw::ProbeResult>& probe;                 // empty until the probe has run
    const std::vector<std::function<std::string()>>& metric_sources;   // extra Prometheus text
    const LiveRooms& rooms;                                      // whether anyone is in a consultation
};

// The first-start screen: SystemDeps, and pairing with the clinic cloud by a code from
// clinic IT when the box knows its project (url and anon key).
struct SetupDeps : SystemDeps {
    std::string cloud_url, anon_key;
    cloud::CloudSync& sync;
};

// Sessions, tokens, join, admit/end/cancel, the patient's link check.
struct SessionDeps : Access {
    const Config::Sessions& sessions;
    std::string public_base_url;
    RateLimiter& limiter;
    notify::Messaging* messaging;   // null when messaging does not run: invites are "not_sent"
    const LiveRooms& rooms;
};

// A session's recording: start/stop (through the live room), state, media, deletion, access log.
struct RecordingDeps : Access {
    recording::Recordings* recordings;   // null: recordings are not handled on this box
    const LiveRooms& rooms;
};

// Timings, availability, appointments, patients' notification choices.
struct ScheduleDeps : Access {
    notify::Messaging* messaging;   // null: a booking gets no session or confirmation
    std::string public_base_url;
    bool cloud_paired;              // patients' rows belong to the clinic system: not edited here
    std::string notify_default;     // [notify] channels: how a patient without a choice hears
};

// PIN sign-in, renewal, sign-out, the day view, notes.
struct KioskDeps : Access {
    const Config::Kiosk& kiosk;
    const LiveRooms& rooms;
};

// Camera, microphone and speaker choice, the Settings preview.
struct DeviceDeps : Access {
    Config::Media& media;                        // the choice in use; changed by PUT
    Config::Recording& recording;                // the clinic's recording settings; changed by PUT, at once
    std::optional<hw::ProbeResult>& probe;       // what the probe found; sources re-chosen by PUT
    std::filesystem::path state_dir;             // devices.conf
    const LiveRooms& rooms;
};

// TURN credentials, patient messages and Twilio's status callbacks.
struct TwilioDeps : Access {
    std::string public_base_url;    // what Twilio signed the callback's URL with
    notify::Messaging* messaging;   // null: 503 messaging_unavailable
};

}  // namespace consult::http
