// The status callbacks queue (migration 11): each callback for the clinic's backend is a
// row from the moment its event happens until it is delivered, refused (4xx, never
// retried) or given up; the sender takes them in the order of their Timestamp.
#pragma once

#include "appliance/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace consult::store {

using CallbackParams = std::vector<std::pair<std::string, std::string>>;

struct QueuedCallback {
    std::int64_t id = 0;
    std::string target;              // room | recording
    std::string url, session_id, event, event_at;
    CallbackParams params;           // in the order they were built; signed sorted
    int attempts = 0;
    std::optional<std::string> next_attempt_at;
};

// What a callback says of a participant (migration 11's SIDs).
struct CallbackParticipant {
    std::string sid, user_id, joined_at;
};

struct CallbackCounts {
    std::int64_t pending = 0, delivered = 0, refused = 0, failed = 0;
};

class CallbackStore {
public:
    explicit CallbackStore(Database& db) : db_(db) {}

    // Queued with the next SequenceNumber of its session and target (0, 1, …), which it
    // is given as the parameter "SequenceNumber".
    std::int64_t enqueue(const std::string& target, const std::string& url, const std::string& session_id,
                         const std::string& event, const std::string& event_at, CallbackParams params);
    // The oldest undelivered callback for `target` (by its event's time), due or not.
    std::optional<QueuedCallback> head(const std::string& target);
    void delivered(std::int64_t id, int status);
    void refused(std::int64_t id, int status, const std::string& why);      // 4xx: a person looks
    void retry(std::int64_t id, int status, const std::string& why, const std::string& next_attempt_at);
    void give_up(std::int64_t id, int status, const std::string& why);
    CallbackCounts counts();
    std::optional<std::string> room_sid(const std::string& session_id);
    std::optional<CallbackParticipant> participant(const std::string& participant_id);
    std::optional<CallbackParticipant> latest_doctor(const std::string& session_id);   // who a recording is by

    // Delivered rows older than `before` go (the others stay for a person to see).
    int prune_delivered(const std::string& before);

private:
    Database& db_;
};

}  // namespace consult::store
