// A message's delivery status as Twilio reports it, ordered so that a late or
// repeated status callback never moves a message backwards.
#pragma once

#include "appliance/twilio/signature.hpp"
#include "hwconfig/expected.hpp"

#include <string>
#include <string_view>

namespace consult::twilio {

// Higher is further along; -1 for a status this build does not know.
int status_rank(std::string_view status);

// True when `to` is a later state than `from` (unknown statuses never are).
bool moves_forward(std::string_view from, std::string_view to);

// The message will not reach the patient this way: try another channel.
bool is_failure(std::string_view status);

// What a message status callback says, read from its form fields (or, for a JSON
// body, its JSON: bounded in size and depth, every field read with its type).
struct StatusReport {
    std::string sid, status, error_code, error_message;
};
expected<StatusReport, std::string> read_status_callback(const SignedRequest& request);

// Twilio error 21610: the recipient replied STOP; SMS to them is refused until they opt in.
inline constexpr int kErrorOptedOut = 21610;

}  // namespace consult::twilio
