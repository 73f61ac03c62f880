#include "appliance/cloud/cloud_metrics.hpp"

#include "appliance/domain/time.hpp"

namespace consult::cloud {

std::string cloud_metrics(const nlohmann::json& status) {
    auto number = [&status](const char* key) -> std::string {
        const auto& v = status.value(key, nlohmann::json());
        return v.is_number() ? std::to_string(v.get<std::int64_t>()) : "";
    };
    auto flag = [&status](const char* key) { return status.value(key, false) ? "1" : "0"; };
    std::string o =
        "# HELP consult_cloud_sync_enabled 1 when the clinic's cloud is configured and paired.\n"
        "# TYPE consult_cloud_sync_enabled gauge\n"
        "consult_cloud_sync_enabled " + std::string(flag("enabled")) + "\n" +
        "# HELP consult_cloud_sync_repair_needed 1 when the cloud refused this box's rows until a person repairs it.\n"
        "# TYPE consult_cloud_sync_repair_needed gauge\n"
        "consult_cloud_sync_repair_needed " + flag("repair_needed") + "\n";
    const auto& pulled = status.value("last_pull_at", nlohmann::json());
    if (pulled.is_string())
        if (auto t = domain::parse_iso(pulled.get<std::string>()))
            o += "# HELP consult_cloud_sync_last_success_timestamp_seconds When the last sync with the cloud completed.\n"
                 "# TYPE consult_cloud_sync_last_success_timestamp_seconds gauge\n"
                 "consult_cloud_sync_last_success_timestamp_seconds " + std::to_string(*t) + "\n";
    if (const std::string depth = number("outbox_depth"); !depth.empty())
        o += "# HELP consult_cloud_outbox_depth Changes waiting to go up to the cloud.\n"
             "# TYPE consult_cloud_outbox_depth gauge\n"
             "consult_cloud_outbox_depth " + depth + "\n";
    if (const std::string parked = number("parked_rows"); !parked.empty())
        o += "# HELP consult_cloud_outbox_parked Changes the cloud refused, kept for a person.\n"
             "# TYPE consult_cloud_outbox_parked gauge\n"
             "consult_cloud_outbox_parked " + parked + "\n";
    return o;
}

}  // namespace consult::cloud
