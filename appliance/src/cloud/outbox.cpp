#include "appliance/cloud/outbox.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace consult::cloud {

namespace {

int table_rank(const std::string& table) {
    static const char* kOrder[] = {"clinics", "doctors", "patients", "appointments", "video_consultation_timings",
                                   "video_consultation_sessions", "video_consultation_participants",
                                   "recording_consents", "recordings", "recording_access", "consult_session_ratings"};
    for (int i = 0; i < int(std::size(kOrder)); ++i)
        if (table == kOrder[i]) return i;
    return int(std::size(kOrder));
}

bool is_delete(const nlohmann::json& p) { return p.is_object() && p.value("deleted", false) == true; }

std::string key_set(const nlohmann::json& p) {
    std::string keys;
    if (p.is_object())
        for (const auto& [k, v] : p.items()) keys += k + ',';
    return keys;
}

}  // namespace

std::vector<PushBatch> plan_batches(const std::vector<OutboxEntry>& entries, size_t max_rows) {
    // Group by (table rank, table, delete?, key set); a group keeps the first-seen order of rows.
    struct Group {
        PushBatch batch;
        std::map<std::string, size_t> index;   // row id → position in rows
        std::int64_t first_seq;
    };
    std::map<std::tuple<int, std::string, bool, std::string>, std::vector<Group>> groups;
    // A row that changes shape (a full row, then a partial one) goes in the group of its
    // first entry's shape only while shapes match; otherwise its later entries wait for the
    // next round, so a row's changes still arrive in order.
    std::set<std::string> deferred_rows;
    for (const auto& e : entries) {
        const std::string row_key = e.table + '\n' + e.row_id;
        if (deferred_rows.count(row_key)) continue;
        const bool del = is_delete(e.payload);
        auto key = std::make_tuple(table_rank(e.table), e.table, del, del ? std::string() : key_set(e.payload));
        // Is this row already in a group with another shape?
        bool clash = false;
        for (auto& [k, list] : groups) {
            if (k == key) continue;
            for (auto& g : list)
                if (g.index.count(e.row_id) && g.batch.table == e.table) clash = true;
        }
        if (clash) { deferred_rows.insert(row_key); continue; }
        auto& list = groups[key];
        Group* target = nullptr;
        for (auto& g : list)
            if (g.index.count(e.row_id)) target = &g;
        if (!target) {
            if (list.empty() || list.back().batch.rows.size() >= max_rows) {
                list.push_back(Group{PushBatch{e.table, del, nlohmann::json::array(), {}}, {}, e.seq});
            }
            target = &list.back();
        }
        auto& g = *target;
        g.batch.seqs.push_back(e.seq);
        nlohmann::json row = del ? nlohmann::json{{"id", e.row_id}} : e.payload;
        if (auto it = g.index.find(e.row_id); it != g.index.end()) {
            g.batch.rows[it->second] = std::move(row);   // newest state wins; upserts merge whole rows
        } else {
            g.index[e.row_id] = g.batch.rows.size();
            g.batch.rows.push_back(std::move(row));
        }
    }
    std::vector<PushBatch> out;
    for (auto& [k, list] : groups)
        for (auto& g : list) out.push_back(std::move(g.batch));
    return out;
}

}  // namespace consult::cloud
