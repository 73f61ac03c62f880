#include "appliance/store/message_records.hpp"

namespace consult::store {

namespace {

constexpr const char* kSelect =
    "SELECT id, session_id, patient_id, purpose, channel, status, provider_sid, error_code, error_message, "
    "attempts, created_at, updated_at, about FROM outbound_messages ";

MessageRow read_row(const Statement& st) {
    MessageRow m;
    m.id = st.text(0);
    m.session_id = st.text(1);
    m.patient_id = st.text(2);
    m.purpose = st.text(3);
    m.channel = st.text(4);
    m.status = st.text(5);
    m.provider_sid = st.optional_text(6);
    if (!st.is_null(7)) m.error_code = int(st.integer(7));
    m.error_message = st.optional_text(8);
    m.attempts = int(st.integer(9));
    m.created_at = st.text(10);
    m.updated_at = st.text(11);
    m.about = st.text(12);
    return m;
}

std::vector<MessageRow> read_rows(Statement& st) {
    std::vector<MessageRow> out;
    while (st.step()) out.push_back(read_row(st));
    return out;
}

}  // namespace

std::optional<MessageRow> MessageRecords::select_one(const char* where, const std::string& value) {
    auto st = db_.prepare(std::string(kSelect) + where);
    st.bind(1, std::string_view(value));
    if (!st.step()) return std::nullopt;
    return read_row(st);
}

std::optional<MessageRow> MessageRecords::reserve(const std::string& session_id, const std::string& patient_id,
                                                  std::string_view purpose, std::string_view channel,
                                                  std::string_view about) {
    const std::string id = new_uuid(), now = now_iso();
    db_.prepare("INSERT INTO outbound_messages(id, session_id, patient_id, purpose, channel, about, status, created_at, "
                "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?7, 'pending', ?6, ?6) "
                "ON CONFLICT(session_id, purpose, channel, about) DO NOTHING")
        .bind(1, std::string_view(id)).bind(2, std::string_view(session_id)).bind(3, std::string_view(patient_id))
        .bind(4, purpose).bind(5, channel).bind(6, std::string_view(now)).bind(7, about)
        .run();
    if (db_.changes() == 0) return std::nullopt;
    return find(id);
}

void MessageRecords::accepted(const std::string& id, const std::string& provider_sid, const std::string& status,
                              int attempts) {
    db_.prepare("UPDATE outbound_messages SET provider_sid = ?2, status = ?3, attempts = ?4, updated_at = ?5 "
                "WHERE id = ?1 AND status = 'pending'")
        .bind(1, std::string_view(id)).bind(2, std::string_view(provider_sid)).bind(3, std::string_view(status))
        .bind(4, attempts).bind(5, std::string_view(now_iso()))
        .run();
}

void MessageRecords::emailed(const std::string& id, int attempts) {
    db_.prepare("UPDATE outbound_messages SET status = 'sent', attempts = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(1, std::string_view(id)).bind(2, attempts).bind(3, std::string_view(now_iso()))
        .run();
}

bool MessageRecords::retry_failed(const std::string& id) {
    db_.prepare("UPDATE outbound_messages SET status = 'pending', provider_sid = NULL, error_code = NULL, "
                "error_message = NULL, updated_at = ?2 "
                "WHERE id = ?1 AND status IN ('failed', 'undelivered', 'rejected', 'canceled')")
        .bind(1, std::string_view(id)).bind(2, std::string_view(now_iso()))
        .run();
    return db_.changes() == 1;
}

void MessageRecords::failed(const std::string& id, const std::string& status, std::optional<int> code,
                            const std::string& message, int attempts) {
    auto st = db_.prepare("UPDATE outbound_messages SET status = ?2, error_code = ?3, error_message = ?4, "
                          "attempts = ?5, updated_at = ?6 WHERE id = ?1");
    st.bind(1, std::string_view(id)).bind(2, std::string_view(status));
    if (code) st.bind(3, *code);
    else st.bind(3, nullptr);
    st.bind(4, std::string_view(message)).bind(5, attempts).bind(6, std::string_view(now_iso()));
    st.run();
}

std::optional<StatusUpdate> MessageRecords::apply_status(
    const std::string& provider_sid, const std::string& status, std::optional<int> error_code,
    const std::string& error_message, const std::function<bool(const std::string& from)>& moves_forward) {
    Transaction tx(db_);
    auto before = select_one("WHERE provider_sid = ?1", provider_sid);
    if (!before) return std::nullopt;
    StatusUpdate out{*before, false};
    if (moves_forward(before->status)) {
        auto st = db_.prepare("UPDATE outbound_messages SET status = ?2, error_code = COALESCE(?3, error_code), "
                              "error_message = COALESCE(?4, error_message), updated_at = ?5 WHERE id = ?1");
        st.bind(1, std::string_view(before->id)).bind(2, std::string_view(status));
        if (error_code) st.bind(3, *error_code);
        else st.bind(3, nullptr);
        st.bind(4, error_message.empty() ? std::optional<std::string>() : std::optional(error_message));
        st.bind(5, std::string_view(now_iso()));
        st.run();
        out.message = *find(before->id);
        out.changed = true;
    }
    tx.commit();
    return out;
}

std::optional<MessageRow> MessageRecords::find(const std::string& id) { return select_one("WHERE id = ?1", id); }

std::vector<MessageRow> MessageRecords::for_session(const std::string& session_id) {
    auto st = db_.prepare(std::string(kSelect) + "WHERE session_id = ?1 ORDER BY created_at, rowid");
    st.bind(1, std::string_view(session_id));
    return read_rows(st);
}

std::vector<MessageRow> MessageRecords::pending() {
    auto st = db_.prepare(std::string(kSelect) + "WHERE status = 'pending' ORDER BY created_at LIMIT 500");
    return read_rows(st);
}

void MessageRecords::opt_out(const std::string& patient_id, int error_code) {
    db_.prepare("INSERT INTO patient_sms_opt_outs(patient_id, error_code, at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT(patient_id) DO NOTHING")
        .bind(1, std::string_view(patient_id)).bind(2, error_code).bind(3, std::string_view(now_iso()))
        .run();
}

bool MessageRecords::opted_out(const std::string& patient_id) {
    auto st = db_.prepare("SELECT 1 FROM patient_sms_opt_outs WHERE patient_id = ?1");
    st.bind(1, std::string_view(patient_id));
    return st.step();
}

std::vector<std::pair<std::string, std::int64_t>> MessageRecords::counts_since(const std::string& since) {
    auto st = db_.prepare("SELECT channel || ' ' || status, count(*) FROM outbound_messages "
                          "WHERE created_at >= ?1 GROUP BY 1 ORDER BY 1");
    st.bind(1, std::string_view(since));
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (st.step()) out.emplace_back(st.text(0), st.integer(1));
    return out;
}

std::optional<FailedMessage> MessageRecords::last_failure() {
    auto st = db_.prepare("SELECT channel, purpose, error_code, updated_at FROM outbound_messages "
                          "WHERE status IN ('failed', 'undelivered', 'rejected') ORDER BY updated_at DESC LIMIT 1");
    if (!st.step()) return std::nullopt;
    FailedMessage f{st.text(0), st.text(1), std::nullopt, st.text(3)};
    if (!st.is_null(2)) f.error_code = int(st.integer(2));
    return f;
}

}  // namespace consult::store
