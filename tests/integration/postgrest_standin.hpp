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
};

}  // namespace consult::test
