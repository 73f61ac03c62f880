// The box's row of consult_device_status (cloud/migrations/0006 and 0007), built from what
// the box knows: plain data in, the row's JSON out, no I/O. Everything that comes from
// outside (the updater's state file, /proc, the device token, device names) is checked here
// and made to fit the table's checks, so the cloud never refuses the row for its contents;
// what cannot be known is sent as null (or 'unknown' with the reason).
#pragma once

#include "appliance/fleet/failure_window.hpp"
#include "appliance/update/state.hpp"
#include "hwconfig/expected.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace consult::fleet {

inline constexpr const char* kStatusTable = "consult_device_status";

// Failures of the last day: the window's counts and the two the store keeps for a day.
struct DayFailures {
    FailureCounts in_memory;            // session create, media, refused Twilio webhooks
    long sms = 0;                       // SMS that ended failed, undelivered or rejected
    long status_callbacks_refused = 0;  // status callbacks the clinic's backend refused or that were given up
};

struct ReportInputs {
    std::optional<std::string> device_id, clinic_id;   // from the device token and the sync; absent: not paired
    std::string version;                               // the image's, else consultd's
    std::optional<std::string> cmdline;                // /proc/cmdline; absent: unreadable
    std::optional<std::string> boot_id;                // this boot's id, checked
    // The updater's state file as load_state() read it; its error is the reason for 'unknown'.
    expected<update::UpdateState, std::string> update_state = update::UpdateState{};
    std::optional<std::string> encoder, camera;        // from the hardware probe
    std::string cloud_sync_state;
    std::int64_t uptime_seconds = 0;                   // consultd's
    std::optional<std::int64_t> box_uptime_seconds;    // the box's
    DayFailures failures;
    std::time_t now = 0;
};

nlohmann::json status_row(const ReportInputs& in);

// The device id the cloud knows this box by: the device token's device_id claim (the
// cloud checks the signature; here only the shape), or nothing.
std::optional<std::string> token_device_id(std::string_view jwt);

// Text made safe for a column: valid UTF-8, no control characters, at most `max_bytes`.
std::string column_text(std::string_view text, std::size_t max_bytes);

// A timestamp the cloud can read (YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM), a real date), or nothing.
std::optional<std::string> checked_timestamp(std::string_view text);

// One line of the cloud sync's state for the report, from CloudSync::status().
std::string sync_state_line(const nlohmann::json& cloud_status);

}  // namespace consult::fleet
