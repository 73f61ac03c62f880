#include "appliance/store/callback_store.hpp"

#include <nlohmann/json.hpp>

namespace consult::store {

namespace {

std::string params_json(const CallbackParams& params) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& [name, value] : params) a.push_back({name, value});
    return a.dump();
}

CallbackParams parse_params(const std::string& text) {
    CallbackParams out;
    const auto a = nlohmann::json::parse(text, nullptr, false);
    if (!a.is_array()) return out;
    for (const auto& p : a)
        if (p.is_array() && p.size() == 2 && p[0].is_string() && p[1].is_string())
            out.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
    return out;
}

}  // namespace

std::int64_t CallbackStore::enqueue(const std::string& target, const std::string& url, const std::string& session_id,
                                    const std::string& event, const std::string& event_at, CallbackParams params) {
    Transaction tx(db_);
    auto seq = db_.prepare("SELECT coalesce(max(sequence) + 1, 0) FROM status_callbacks WHERE session_id = ?1 AND target = ?2");
    seq.bind(1, std::string_view(session_id)).bind(2, std::string_view(target));
    seq.step();
    const std::int64_t sequence = seq.integer(0);
    params.emplace_back("SequenceNumber", std::to_string(sequence));
    auto st = db_.prepare("INSERT INTO status_callbacks(target, url, session_id, event, params, event_at, sequence) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(1, std::string_view(target)).bind(2, std::string_view(url)).bind(3, std::string_view(session_id))
        .bind(4, std::string_view(event)).bind(5, std::string_view(params_json(params)))
        .bind(6, std::string_view(event_at)).bind(7, sequence).run();
    tx.commit();
    return sequence;
}

std::optional<QueuedCallback> CallbackStore::head(const std::string& target) {
    auto st = db_.prepare("SELECT id, target, url, session_id, event, event_at, params, attempts, next_attempt_at "
                          "FROM status_callbacks WHERE target = ?1 AND state = 'pending' ORDER BY event_at, id LIMIT 1");
    st.bind(1, std::string_view(target));
    if (!st.step()) return std::nullopt;
    QueuedCallback c;
    c.id = st.integer(0);
    c.target = st.text(1);
    c.url = st.text(2);
    c.session_id = st.text(3);
    c.event = st.text(4);
    c.event_at = st.text(5);
    c.params = parse_params(st.text(6));
    c.attempts = int(st.integer(7));
    c.next_attempt_at = st.optional_text(8);
    return c;
}

void CallbackStore::delivered(std::int64_t id, int status) {
    db_.prepare("UPDATE status_callbacks SET state = 'delivered', attempts = attempts + 1, last_status = ?2, "
                "last_error = NULL, next_attempt_at = NULL, done_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?1")
        .bind(1, id).bind(2, status).run();
}

void CallbackStore::refused(std::int64_t id, int status, const std::string& why) {
    db_.prepare("UPDATE status_callbacks SET state = 'refused', attempts = attempts + 1, last_status = ?2, "
                "last_error = ?3, next_attempt_at = NULL, done_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?1")
        .bind(1, id).bind(2, status).bind(3, std::string_view(why)).run();
}

void CallbackStore::retry(std::int64_t id, int status, const std::string& why, const std::string& next_attempt_at) {
    db_.prepare("UPDATE status_callbacks SET attempts = attempts + 1, last_status = ?2, last_error = ?3, "
                "next_attempt_at = ?4 WHERE id = ?1")
        .bind(1, id).bind(2, status).bind(3, std::string_view(why)).bind(4, std::string_view(next_attempt_at)).run();
}

void CallbackStore::give_up(std::int64_t id, int status, const std::string& why) {
    db_.prepare("UPDATE status_callbacks SET state = 'failed', attempts = attempts + 1, last_status = ?2, "
                "last_error = ?3, next_attempt_at = NULL, done_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?1")
        .bind(1, id).bind(2, status).bind(3, std::string_view(why)).run();
}

std::optional<std::string> CallbackStore::room_sid(const std::string& session_id) {
    auto st = db_.prepare("SELECT twilio_room_sid FROM video_consultation_sessions WHERE id = ?1");
    st.bind(1, std::string_view(session_id));
    if (!st.step()) return std::nullopt;
    return st.text(0);
}

std::optional<CallbackParticipant> CallbackStore::participant(const std::string& participant_id) {
    auto st = db_.prepare("SELECT participant_sid, user_id, joined_at FROM video_consultation_participants WHERE id = ?1");
    st.bind(1, std::string_view(participant_id));
    if (!st.step()) return std::nullopt;
    return CallbackParticipant{st.text(0), st.text(1), st.text(2)};
}

std::optional<CallbackParticipant> CallbackStore::latest_doctor(const std::string& session_id) {
    auto st = db_.prepare("SELECT participant_sid, user_id, joined_at FROM video_consultation_participants "
                          "WHERE session_id = ?1 AND user_type = 'doctor' ORDER BY joined_at DESC LIMIT 1");
    st.bind(1, std::string_view(session_id));
    if (!st.step()) return std::nullopt;
    return CallbackParticipant{st.text(0), st.text(1), st.text(2)};
}

CallbackCounts CallbackStore::counts() {
    auto st = db_.prepare("SELECT state, count(*) FROM status_callbacks GROUP BY state");
    CallbackCounts c;
    while (st.step()) {
        const std::string state = st.text(0);
        const std::int64_t n = st.integer(1);
        if (state == "pending") c.pending = n;
        else if (state == "delivered") c.delivered = n;
        else if (state == "refused") c.refused = n;
        else if (state == "failed") c.failed = n;
    }
    return c;
}

int CallbackStore::prune_delivered(const std::string& before) {
    auto st = db_.prepare("DELETE FROM status_callbacks WHERE state = 'delivered' AND done_at < ?1");
    st.bind(1, std::string_view(before)).run();
    return db_.changes();
}

}  // namespace consult::store
