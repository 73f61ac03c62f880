// A message to a patient: why it goes (the invite or confirmation, a reminder, "the
// doctor is ready", the note after the call, an update when the appointment moved, a
// cancellation, the doctor's summary for the patient), by which channel, and its stored row as the API shows it.
// The rows themselves: store/message_records.hpp.
#pragma once

#include "appliance/store/message_records.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace consult::notify {

enum class Purpose { Invite, Reminder, Ready, Summary, Update, Cancellation, VisitSummary };
enum class Channel { Sms, Email };

std::string_view purpose_name(Purpose p);
std::string_view channel_name(Channel c);
std::optional<Purpose> parse_purpose(std::string_view s);

using store::MessageRow;

nlohmann::json to_json(const MessageRow& m);

}  // namespace consult::notify
