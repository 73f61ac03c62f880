#include "appliance/store/outbox_store.hpp"

#include "appliance/store/records.hpp"

namespace consult::store {

std::vector<OutboxEntry> OutboxStore::pending(int limit) {
    auto st = db_.prepare("SELECT seq, table_name, row_id, payload, attempts FROM outbox WHERE parked = 0 "
                          "ORDER BY seq LIMIT ?1");
    st.bind(1, limit);
    std::vector<OutboxEntry> out;
    while (st.step()) {
        OutboxEntry e{st.integer(0), st.text(1), st.text(2), nlohmann::json::parse(st.text(3), nullptr, false),
                      int(st.integer(4))};
        out.push_back(std::move(e));
    }
    return out;
}

void OutboxStore::replace(const std::string& table, const std::string& row_id, const nlohmann::json& payload) {
    Transaction tx(db_);
    db_.prepare("DELETE FROM outbox WHERE table_name = ?1 AND row_id = ?2")
        .bind(1, std::string_view(table)).bind(2, std::string_view(row_id)).run();
    enqueue_outbox(db_, table, row_id, payload);
    tx.commit();
}

void OutboxStore::delivered(const std::vector<std::int64_t>& seqs) {
    Transaction tx(db_);
    auto st = db_.prepare("DELETE FROM outbox WHERE seq = ?1");
    for (auto s : seqs) {
        st.reset();
        st.bind(1, s).run();
    }
    tx.commit();
}

void OutboxStore::failed(const std::vector<std::int64_t>& seqs, const std::string& error, const std::string& next) {
    Transaction tx(db_);
    auto st = db_.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?1, next_attempt_at = ?2 WHERE seq = ?3");
    for (auto s : seqs) {
        st.reset();
        st.bind(1, std::string_view(error)).bind(2, std::string_view(next)).bind(3, s).run();
    }
    tx.commit();
}

void OutboxStore::park(std::int64_t seq, const std::string& error) {
    db_.prepare("UPDATE outbox SET parked = 1, attempts = attempts + 1, last_error = ?1, next_attempt_at = NULL "
                "WHERE seq = ?2")
        .bind(1, std::string_view(error)).bind(2, seq).run();
}

std::int64_t OutboxStore::depth() {
    auto st = db_.prepare("SELECT count(*) FROM outbox WHERE parked = 0");
    st.step();
    return st.integer(0);
}

std::int64_t OutboxStore::parked() {
    auto st = db_.prepare("SELECT count(*) FROM outbox WHERE parked = 1");
    st.step();
    return st.integer(0);
}

bool OutboxStore::has_pending(const std::string& table, const std::string& row_id) {
    auto st = db_.prepare("SELECT 1 FROM outbox WHERE parked = 0 AND table_name = ?1 AND row_id = ?2 LIMIT 1");
    st.bind(1, std::string_view(table)).bind(2, std::string_view(row_id));
    return st.step();
}

std::set<std::string> OutboxStore::unpushed_rows(const std::string& table) {
    auto st = db_.prepare("SELECT DISTINCT row_id FROM outbox WHERE parked = 0 AND table_name = ?1");
    st.bind(1, std::string_view(table));
    std::set<std::string> out;
    while (st.step()) out.insert(st.text(0));
    return out;
}

}  // namespace consult::store
