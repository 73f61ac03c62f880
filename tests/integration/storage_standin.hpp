// The Supabase Storage stand-in (tests/standins/storage_standin.py) as a child process:
// the same API key and JWT secret as the PostgREST stand-in, so one pairing serves both.
#pragma once

#include "postgrest_standin.hpp"

namespace consult::test {

class StorageStandin : public PythonStandin {
public:
    static constexpr const char* kBucket = "consult-recordings";

    StorageStandin()
        : PythonStandin("storage_standin.py", {"--api-key", PostgrestStandin::kApiKey, "--jwt-secret",
                                               "stand-in-jwt-secret-for-tests"}) {}

    std::string api_url() const { return url() + "/storage/v1"; }
    void bucket(const std::string& id, std::optional<long> file_size_limit = std::nullopt) const {
        nlohmann::json b{{"id", id}};
        if (file_size_limit) b["file_size_limit"] = *file_size_limit;
        control("bucket", b);
    }
    void fault(const std::string& mode, int count = -1) const { control("fault", {{"mode", mode}, {"count", count}}); }
    // false: a project without cloud migration 0003 (devices read their objects, never delete them).
    void device_delete(bool allowed) const { control("policy", {{"device_delete", allowed}}); }
    nlohmann::json objects() const { return get("/_control/objects"); }
    nlohmann::json stats() const { return get("/_control/stats"); }
    std::string token(const std::string& clinic_id) const {
        return control("token", {{"clinic_id", clinic_id}})["token"].get<std::string>();
    }
};

}  // namespace consult::test
