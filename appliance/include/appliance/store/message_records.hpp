// The messages the appliance sent patients (outbound_messages) and the patients who
// opted out of SMS. One row per session, purpose, channel and the appointment time the
// message states (`about`): the unique key is what keeps a message from going out twice.
#pragma once

#include "appliance/store/database.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consult::store {

struct MessageRow {
    std::string id, session_id, patient_id, purpose, channel, status;
    std::optional<std::string> provider_sid, error_message;
    std::optional<int> error_code;
    int attempts = 0;
    std::string created_at, updated_at;
    std::string about;   // the appointment's start (ISO UTC) the message told the patient
};

// A status callback's effect on the stored message.
struct StatusUpdate {
    MessageRow message;     // after the update
    bool changed = false;   // false for a duplicate or a status that would move it back
};

// What `consultctl status` says of the latest message that did not get through.
struct FailedMessage {
    std::string channel, purpose;
    std::optional<int> error_code;
    std::string at;
};

class MessageRecords {
public:
    explicit MessageRecords(Database& db) : db_(db) {}

    // A new 'pending' row, or nothing when this session already has one for this
    // purpose, channel and appointment time (whatever its state).
    std::optional<MessageRow> reserve(const std::string& session_id, const std::string& patient_id,
                                      std::string_view purpose, std::string_view channel, std::string_view about);
    // The provider accepted it, with its first status, after `attempts` tries.
    void accepted(const std::string& id, const std::string& provider_sid, const std::string& status, int attempts);
    // The SMTP server took the email.
    void emailed(const std::string& id, int attempts);
    // A person asked to send a failed message again: back to 'pending', the old SID and
    // error dropped. False unless the row had failed.
    bool retry_failed(const std::string& id);
    // No way through: the provider refused it, retries ran out, or the SMTP server said no.
    void failed(const std::string& id, const std::string& status, std::optional<int> code,
                const std::string& message, int attempts);
    // A status callback for a provider SID, in one transaction: stored only when
    // `moves_forward(stored status)` says it is news; nothing when the SID is not ours.
    std::optional<StatusUpdate> apply_status(const std::string& provider_sid, const std::string& status,
                                             std::optional<int> error_code, const std::string& error_message,
                                             const std::function<bool(const std::string& from)>& moves_forward);

    std::optional<MessageRow> find(const std::string& id);
    std::vector<MessageRow> for_session(const std::string& session_id);
    // Rows still 'pending' (never answered, e.g. the daemon stopped mid-send).
    std::vector<MessageRow> pending();

    // A patient who replied STOP gets email from now on.
    void opt_out(const std::string& patient_id, int error_code);
    bool opted_out(const std::string& patient_id);

    // For `consultctl status`: "<channel> <status>" → how many, made since `since` (ISO time).
    std::vector<std::pair<std::string, std::int64_t>> counts_since(const std::string& since);
    // The latest message that failed, was undelivered or refused.
    std::optional<FailedMessage> last_failure();

private:
    std::optional<MessageRow> select_one(const char* where, const std::string& value);
    Database& db_;
};

}  // namespace consult::store
