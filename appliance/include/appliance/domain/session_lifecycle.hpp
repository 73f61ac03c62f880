// The session state machine: scheduled → waiting → in-progress → completed, and
// cancelled from scheduled or waiting. Nothing else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace consult::domain {

enum class SessionStatus { Scheduled, Waiting, InProgress, Completed, Cancelled };

std::string_view to_string(SessionStatus s);
std::optional<SessionStatus> parse_session_status(std::string_view s);

// Why `from → to` is not allowed, or nothing when it is.
std::optional<std::string> refuse_transition(SessionStatus from, SessionStatus to);

// Completed and cancelled sessions admit nobody and accept no tokens.
bool is_closed(SessionStatus s);

}  // namespace consult::domain
