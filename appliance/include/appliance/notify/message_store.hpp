// What the appliance sent a patient (invite, reminder, "the doctor is ready", the
// summary after the call), by which channel, and what became of it. One row per
// session, purpose and channel: the unique key is what keeps a message from going
// out twice.
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace consult::notify {

enum class Purpose { Invite, Reminder, Ready, Summary };
enum class Channel { Sms, Email };

std::string_view purpose_name(Purpose p);
std::string_view channel_name(Channel c);
std::optional<Purpose> parse_purpose(std::string_view s);

struct MessageRow {
    std::string id, session_id, patient_id, purpose, channel, status;
    std::optional<std::string> provider_sid, error_message;
    std::optional<int> error_code;
    int attempts = 0;
    std::string created_at, updated_at;
};

nlohmann::json to_json(const MessageRow& m);

// A status callback's effect on the stored message.
struct StatusUpdate {
    MessageRow message;     // after the update
    bool changed = false;   // false for a duplicate or a status that would move it back
};

class MessageStore {
public:
    explicit MessageStore(store::Database& db) : db_(db) {}

    // A new 'pending' row, or nothing when this session already has one for this
    // purpose and channel (whatever its state).
    std::optional<MessageRow> reserve(const std::string& session_id, const std::string& patient_id, Purpose purpose,
                                      Channel channel);
    // Twilio accepted it (201) after `attempts` tries.
    void accepted(const std::string& id, const std::string& provider_sid, const std::string& status, int attempts);
    // The SMTP server took the email.
    void emailed(const std::string& id, int attempts);
    // A person asked to send a failed message again: back to 'pending', the old SID and
    // error dropped. False unless the row had failed.
    bool retry_failed(const std::string& id);
    // No way through: Twilio refused it, retries ran out, or the SMTP server said no.
    void failed(const std::string& id, const std::string& status, std::optional<int> code,
                const std::string& message, int attempts);
    // A status callback for a provider SID; nothing when the SID is not ours.
    std::optional<StatusUpdate> apply_status(const std::string& provider_sid, const std::string& status,
                                             std::optional<int> error_code, const std::string& error_message);

    std::optional<MessageRow> find(const std::string& id);
    std::vector<MessageRow> for_session(const std::string& session_id);
    // Rows still 'pending' (never answered, e.g. the daemon stopped mid-send).
    std::vector<MessageRow> pending();

    // A patient who replied STOP gets email from now on.
    void opt_out(const std::string& patient_id, int error_code);
    bool opted_out(const std::string& patient_id);

private:
    std::optional<MessageRow> select_one(const char* where, const std::string& value);
    store::Database& db_;
};

}  // namespace consult::notify
