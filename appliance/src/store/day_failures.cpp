#include "appliance/store/day_failures.hpp"

namespace consult::store {

namespace {

long count(Database& db, const char* sql, const std::string& since) {
    auto st = db.prepare(sql);
    st.bind(1, std::string_view(since));
    return st.step() ? long(st.integer(0)) : 0;
}

}  // namespace

long failed_sms_since(Database& db, const std::string& since) {
    return count(db,
                 "SELECT count(*) FROM outbound_messages WHERE channel = 'sms' "
                 "AND status IN ('failed', 'undelivered', 'rejected', 'canceled') AND updated_at >= ?1",
                 since);
}

long refused_callbacks_since(Database& db, const std::string& since) {
    return count(db, "SELECT count(*) FROM status_callbacks WHERE state IN ('refused', 'failed') AND done_at >= ?1", since);
}

}  // namespace consult::store
