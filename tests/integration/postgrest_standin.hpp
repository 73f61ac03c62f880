// The PostgREST stand-in (tests/standins/postgrest_standin.py) as a child process for
// integration tests: started on a free loopback port, controlled over /_control, killed
// when the object goes away. Every wait has a hard limit.
#pragma once

#include "python_standin.hpp"

namespace consult::test {

class PostgrestStandin : public PythonStandin {
public:
    static constexpr const char* kApiKey = "test-project-anon-key";

    PostgrestStandin()
        : PythonStandin("postgrest_standin.py", {"--api-key", kApiKey, "--jwt-secret", "stand-in-jwt-secret-for-tests"}) {}

    nlohmann::json stats() const { return get("/_control/stats"); }
    nlohmann::json rows(const std::string& table) const { return get("/_control/rows?table=" + table); }
    void fault(const std::string& mode, int count = -1, nlohmann::json extra = nlohmann::json::object()) const {
        extra["mode"] = mode;
        extra["count"] = count;
        control("fault", extra);
    }
    std::string token(const std::string& clinic_id) const {
        return control("token", {{"clinic_id", clinic_id}})["token"].get<std::string>();
    }
    // 0006: publish a release (version, bundle_url, sha256, size_bytes; channel, rollout_percent,
    // withdrawn optional) and read the status rows devices have upserted.
    void publish_release(const nlohmann::json& release) const { control("release", release); }
    nlohmann::json device_status() const { return rows("consult_device_status"); }
};

}  // namespace consult::test
