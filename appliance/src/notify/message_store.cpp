#include "appliance/notify/message_store.hpp"

#include "appliance/twilio/message_status.hpp"

#include <array>

namespace consult::notify {

namespace {

constexpr std::array<std::string_view, 4> kPurposes{"invite", "reminder", "ready", "summary"};

constexpr const char* kSelect =
    "SELECT id, session_id, patient_id, purpose, channel, status, provider_sid, error_code, error_message, "
    "attempts, created_at, updated_at FROM outbound_messages ";

MessageRow read_row(const store::Statement& st) {
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
    return m;
}

}  // namespace

std::string_view purpose_name(Purpose p) { return kPurposes[size_t(p)]; }
std::string_view channel_name(Channel c) { return c == Channel::Sms ? "sms" : "email"; }

std::optional<Purpose> parse_purpose(std::string_view s) {
    for (size_t i = 0; i < kPurposes.size(); ++i)
        if (kPurposes[i] == s) return Purpose(i);
    return std::nullopt;
}

nlohmann::json to_json(const MessageRow& m) {
    nlohmann::json j{{"id", m.id},           {"purpose", m.purpose},       {"channel", m.channel},
                     {"status", m.status},   {"attempts", m.attempts},     {"created_at", m.created_at},
                     {"updated_at", m.updated_at}};
    j["provider_sid"] = m.provider_sid ? nlohmann::json(*m.provider_sid) : nlohmann::json(nullptr);
    j["error"] = nullptr;
    if (m.error_code || m.error_message)
        j["error"] = {{"code", m.error_code ? nlohmann::json(*m.error_code) : nlohmann::json(nullptr)},
                      {"message", m.error_message.value_or("")}};
    return j;
}

std::optional<MessageRow> MessageStore::select_one(const char* where, const std::string& value) {
    auto st = db_.prepare(std::string(kSelect) + where);
    st.bind(1, std::string_view(value));
    if (!st.step()) return std::nullopt;
    return read_row(st);
}

std::optional<MessageRow> MessageStore::reserve(const std::string& session_id, const std::string& patient_id,
                                                Purpose purpose, Channel channel) {
    const std::string id = store::new_uuid(), now = store::now_iso();
    db_.prepare("INSERT INTO outbound_messages(id, session_id, patient_id, purpose, channel, status, created_at, "
                "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6) "
                "ON CONFLICT(session_id, purpose, channel) DO NOTHING")
        .bind(1, std::string_view(id)).bind(2, std::string_view(session_id)).bind(3, std::string_view(patient_id))
        .bind(4, purpose_name(purpose)).bind(5, channel_name(channel)).bind(6, std::string_view(now))
        .run();
    if (db_.changes() == 0) return std::nullopt;
    return find(id);
}

void MessageStore::accepted(const std::string& id, const std::string& provider_sid, const std::string& status,
                            int attempts) {
    db_.prepare("UPDATE outbound_messages SET provider_sid = ?2, status = ?3, attempts = ?4, updated_at = ?5 "
                "WHERE id = ?1 AND status = 'pending'")
        .bind(1, std::string_view(id)).bind(2, std::string_view(provider_sid))
        .bind(3, std::string_view(twilio::status_rank(status) > 0 ? status : std::string("queued")))
        .bind(4, attempts).bind(5, std::string_view(store::now_iso()))
        .run();
}

void MessageStore::emailed(const std::string& id, int attempts) {
    db_.prepare("UPDATE outbound_messages SET status = 'sent', attempts = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(1, std::string_view(id)).bind(2, attempts).bind(3, std::string_view(store::now_iso()))
        .run();
}

bool MessageStore::retry_failed(const std::string& id) {
    db_.prepare("UPDATE outbound_messages SET status = 'pending', provider_sid = NULL, error_code = NULL, "
                "error_message = NULL, updated_at = ?2 "
                "WHERE id = ?1 AND status IN ('failed', 'undelivered', 'rejected', 'canceled')")
        .bind(1, std::string_view(id)).bind(2, std::string_view(store::now_iso()))
        .run();
    return db_.changes() == 1;
}

void MessageStore::failed(const std::string& id, const std::string& status, std::optional<int> code,
                          const std::string& message, int attempts) {
    auto st = db_.prepare("UPDATE outbound_messages SET status = ?2, error_code = ?3, error_message = ?4, "
                          "attempts = ?5, updated_at = ?6 WHERE id = ?1");
    st.bind(1, std::string_view(id)).bind(2, std::string_view(status));
    if (code) st.bind(3, *code);
    else st.bind(3, nullptr);
    st.bind(4, std::string_view(message)).bind(5, attempts).bind(6, std::string_view(store::now_iso()));
    st.run();
}

std::optional<StatusUpdate> MessageStore::apply_status(const std::string& provider_sid, const std::string& status,
                                                       std::optional<int> error_code,
                                                       const std::string& error_message) {
    store::Transaction tx(db_);
    auto before = select_one("WHERE provider_sid = ?1", provider_sid);
    if (!before) return std::nullopt;
    StatusUpdate out{*before, false};
    if (twilio::moves_forward(before->status, status)) {
        auto st = db_.prepare("UPDATE outbound_messages SET status = ?2, error_code = COALESCE(?3, error_code), "
                              "error_message = COALESCE(?4, error_message), updated_at = ?5 WHERE id = ?1");
        st.bind(1, std::string_view(before->id)).bind(2, std::string_view(status));
        if (error_code) st.bind(3, *error_code);
        else st.bind(3, nullptr);
        st.bind(4, error_message.empty() ? std::optional<std::string>() : std::optional(error_message));
        st.bind(5, std::string_view(store::now_iso()));
        st.run();
        out.message = *find(before->id);
        out.changed = true;
    }
    tx.commit();
    return out;
}

std::optional<MessageRow> MessageStore::find(const std::string& id) { return select_one("WHERE id = ?1", id); }

std::vector<MessageRow> MessageStore::for_session(const std::string& session_id) {
    auto st = db_.prepare(std::string(kSelect) + "WHERE session_id = ?1 ORDER BY created_at, rowid");
    st.bind(1, std::string_view(session_id));
    std::vector<MessageRow> out;
    while (st.step()) out.push_back(read_row(st));
    return out;
}

std::vector<MessageRow> MessageStore::pending() {
    auto st = db_.prepare(std::string(kSelect) + "WHERE status = 'pending' ORDER BY created_at LIMIT 500");
    std::vector<MessageRow> out;
    while (st.step()) out.push_back(read_row(st));
    return out;
}

void MessageStore::opt_out(const std::string& patient_id, int error_code) {
    db_.prepare("INSERT INTO patient_sms_opt_outs(patient_id, error_code, at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT(patient_id) DO NOTHING")
        .bind(1, std::string_view(patient_id)).bind(2, error_code).bind(3, std::string_view(store::now_iso()))
        .run();
}

bool MessageStore::opted_out(const std::string& patient_id) {
    auto st = db_.prepare("SELECT 1 FROM patient_sms_opt_outs WHERE patient_id = ?1");
    st.bind(1, std::string_view(patient_id));
    return st.step();
}

}  // namespace consult::notify
