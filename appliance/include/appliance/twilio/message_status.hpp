// A message's delivery status as Twilio reports it, ordered so that a late or
// repeated status callback never moves a message backwards.
#pragma once

#include <string_view>

namespace consult::twilio {

// Higher is further along; -1 for a status this build does not know.
int status_rank(std::string_view status);

// True when `to` is a later state than `from` (unknown statuses never are).
bool moves_forward(std::string_view from, std::string_view to);

// The message will not reach the patient this way: try another channel.
bool is_failure(std::string_view status);

// Twilio error 21610: the recipient replied STOP; SMS to them is refused until they opt in.
inline constexpr int kErrorOptedOut = 21610;

}  // namespace consult::twilio
