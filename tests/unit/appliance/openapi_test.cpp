// appliance/openapi.json against the routes consultd really serves: the same
// (method, path) pairs in both, the same path parameter names, bearer security on
// every API operation, and the shared error schema on every 4xx response.
#include "appliance/version.hpp"
#include "appliance/wiring.hpp"
#include "appliance/http/cloud_routes.hpp"
#include "appliance/http/kiosk_routes.hpp"
#include "appliance/http/report_routes.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/store/migrations.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace consult {
namespace {

using nlohmann::json;
using Operation = std::pair<std::string, std::string>;  // (METHOD, OpenAPI path)

constexpr const char* kErrorSchema = "#/components/schemas/Error";
const char* const kHttpMethods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

// The router's tail placeholder {*} is written {path} in the description.
std::string openapi_path(const std::string& pattern) {
    std::string out;
    size_t i = 0;
    while (i < pattern.size()) {
        size_t j = pattern.find('/', i + 1);
        if (j == std::string::npos) j = pattern.size();
        std::string seg = pattern.substr(i, j - i);
        out += seg == "/{*}" ? "/{path}" : seg;
        i = j;
    }
    return out;
}

std::set<std::string> template_names(const std::string& path) {
    std::set<std::string> names;
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
        size_t close = path.find('}', open);
        if (close == std::string::npos) break;
        names.insert(path.substr(open + 1, close - open - 1));
    }
    return names;
}

std::string upper(std::string s) {
    for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string describe(const std::set<Operation>& ops) {
    std::string out;
    for (const auto& [method, path] : ops) out += "\n    " + method + " " + path;
    return out.empty() ? "\n    (none)" : out;
}

std::set<Operation> operations_of(const http::Router& router) {
    std::set<Operation> out;
    for (const auto& r : router.routes())
        if (r.method != "HEAD") out.emplace(r.method, openapi_path(r.pattern));
    return out;
}

class OpenApi : public ::testing::Test {
protected:
    void SetUp() override {
        ctx_.reset(new ApplianceContext{Config{}, dir_.path(), store::Database::open(dir_ / "consult.db"), Metrics(),
                                        tokens::TokenService(std::string(32, 'k')), std::nullopt, false});
        store::migrate(ctx_->db);
        http::add_system_routes(router_, wiring::system_routes(*ctx_));
        cloud_ = std::make_unique<cloud::CloudSync>(ctx_->db, dir_.path(), cloud::SyncSettings{});
        http::add_setup_routes(router_, wiring::setup_routes(*ctx_, *cloud_));
        http::add_static_routes(router_);
        http::add_session_routes(router_, wiring::session_routes(*ctx_));
        http::add_short_link_routes(router_, wiring::session_routes(*ctx_));
        http::add_summary_routes(router_, wiring::session_routes(*ctx_));
        http::add_schedule_routes(router_, wiring::schedule_routes(*ctx_));
        http::add_recording_routes(router_, wiring::recording_routes(*ctx_));
        http::add_twilio_routes(router_, wiring::twilio_routes(*ctx_));
        http::add_twilio_webhook_routes(router_, wiring::twilio_routes(*ctx_));
        http::add_kiosk_routes(router_, wiring::kiosk_routes(*ctx_));
        http::add_report_routes(router_, wiring::access(*ctx_));
        http::add_device_routes(router_, wiring::device_routes(*ctx_));
        http::add_recovery_key_routes(router_, wiring::device_routes(*ctx_));
        http::add_update_stick_routes(router_, wiring::device_routes(*ctx_));
        http::add_cloud_routes(router_, wiring::access(*ctx_), *cloud_);
        http::add_activity_route(router_, wiring::system_routes(*ctx_));
        http::add_fleet_status_route(router_, wiring::access(*ctx_), [] { return json::object(); });

        // System routes and static pages are the ones served without a token.
        http::Router open;
        http::add_system_routes(open, wiring::system_routes(*ctx_));
        http::add_setup_routes(open, wiring::setup_routes(*ctx_, *cloud_));
        http::add_static_routes(open);
        http::add_short_link_routes(open, wiring::session_routes(*ctx_));
        http::add_twilio_webhook_routes(open, wiring::twilio_routes(*ctx_));
        http::add_kiosk_sign_in_routes(open, wiring::kiosk_routes(*ctx_));
        http::add_public_cloud_routes(open, *cloud_);
        public_ = operations_of(open);
        // A recording's media is opened by a <video> element: its short-lived ticket
        // replaces the bearer token (recording_routes.cpp).
        public_.emplace("GET", "/api/video-consultations/sessions/{id}/recording/media");
        // The summary's page asks for the invite's code instead (summary_routes.cpp).
        public_.emplace("GET", "/s/{ref}");
        public_.emplace("POST", "/s/{ref}");

        std::ifstream in(CONSULT_SOURCE_DIR "/appliance/openapi.json");
        ASSERT_TRUE(in) << "cannot read " CONSULT_SOURCE_DIR "/appliance/openapi.json";
        std::stringstream text;
        text << in.rdbuf();
        doc_ = json::parse(text.str(), nullptr, false);
        ASSERT_FALSE(doc_.is_discarded()) << "appliance/openapi.json is not valid JSON";
        ASSERT_TRUE(doc_.contains("paths") && doc_["paths"].is_object()) << "openapi.json has no paths object";
    }

    // Every operation object in the description, by (METHOD, path); HEAD is implied by GET.
    std::vector<std::pair<Operation, const json*>> described() const {
        std::vector<std::pair<Operation, const json*>> out;
        for (const auto& [path, item] : doc_["paths"].items())
            for (const char* m : kHttpMethods)
                if (std::string(m) != "head" && item.contains(m)) out.push_back({{upper(m), path}, &item[m]});
        return out;
    }

    // Follows a local "$ref" ("#/components/..."); anything else is returned as is.
    const json& resolve(const json& j) const {
        if (j.is_object() && j.contains("$ref") && j["$ref"].is_string()) {
            const auto ref = j["$ref"].get<std::string>();
            if (ref.rfind("#/", 0) == 0) {
                json::json_pointer ptr(ref.substr(1));
                if (doc_.contains(ptr)) return doc_.at(ptr);
            }
        }
        return j;
    }

    test::TempDir dir_;
    std::unique_ptr<ApplianceContext> ctx_;
    http::Router router_;
    std::set<Operation> public_;
    json doc_;
    std::unique_ptr<cloud::CloudSync> cloud_;   // off: no url
};

TEST_F(OpenApi, DescribesExactlyTheRoutesTheServerHas) {
    const std::set<Operation> served = operations_of(router_);
    ASSERT_FALSE(served.empty());
    std::set<Operation> documented;
    for (const auto& [op, _] : described()) documented.insert(op);

    std::set<Operation> undocumented, phantom;
    for (const auto& op : served)
        if (!documented.count(op)) undocumented.insert(op);
    for (const auto& op : documented)
        if (!served.count(op)) phantom.insert(op);
    EXPECT_TRUE(undocumented.empty() && phantom.empty())
        << "appliance/openapi.json and the router disagree.\n  served but not described:" << describe(undocumented)
        << "\n  described but not served:" << describe(phantom);
}

TEST_F(OpenApi, PathParametersAreDeclaredWithTheRoutesNames) {
    for (const auto& [op, operation] : described()) {
        // Named copies, not structured bindings: clang 14 (the sanitized build) cannot capture those.
        const std::string& method = op.first;
        const std::string& path = op.second;
        std::set<std::string> declared;
        auto collect = [&](const json& owner) {
            if (!owner.contains("parameters")) return;
            for (const auto& p : owner["parameters"]) {
                const json& param = resolve(p);
                if (param.value("in", "") == "path") {
                    declared.insert(param.value("name", ""));
                    EXPECT_TRUE(param.value("required", false)) << method << " " << path << ": path parameter "
                                                                << param.value("name", "") << " must be required";
                }
            }
        };
        collect(doc_["paths"][path]);
        collect(*operation);
        EXPECT_EQ(declared, template_names(path)) << method << " " << path
                                                  << ": declared path parameters differ from the path template";
    }
}

TEST_F(OpenApi, EveryApiOperationNeedsABearerToken) {
    ASSERT_TRUE(doc_.contains(json::json_pointer("/components/securitySchemes/bearerAuth")));
    const json& scheme = doc_["components"]["securitySchemes"]["bearerAuth"];
    EXPECT_EQ(scheme.value("type", ""), "http");
    EXPECT_EQ(scheme.value("scheme", ""), "bearer");
    EXPECT_EQ(scheme.value("bearerFormat", ""), "JWT");

    const json top = doc_.value("security", json::array());
    for (const auto& [op, operation] : described()) {
        const auto& [method, path] = op;
        const json& security = operation->contains("security") ? (*operation)["security"] : top;
        ASSERT_TRUE(security.is_array()) << method << " " << path << ": security must be an array";
        bool bearer = false;
        for (const auto& requirement : security) bearer |= requirement.contains("bearerAuth");
        if (public_.count(op)) {
            EXPECT_TRUE(security.empty()) << method << " " << path << " is served without a token; "
                                          << "its security must be empty";
        } else {
            EXPECT_TRUE(bearer) << method << " " << path << " needs a token but declares no bearerAuth security";
        }
    }
}

TEST_F(OpenApi, EveryClientErrorUsesTheSharedErrorSchema) {
    ASSERT_TRUE(doc_.contains(json::json_pointer("/components/schemas/Error/properties/error/properties")));
    const json& fields = doc_["components"]["schemas"]["Error"]["properties"]["error"]["properties"];
    for (const char* f : {"code", "message", "field"}) EXPECT_TRUE(fields.contains(f)) << "Error lacks " << f;

    int checked = 0;
    for (const auto& [op, operation] : described()) {
        const auto& [method, path] = op;
        ASSERT_TRUE(operation->contains("responses")) << method << " " << path << " has no responses";
        for (const auto& [status, r] : (*operation)["responses"].items()) {
            if (status.empty() || status[0] != '4') continue;
            const json& response = resolve(r);
            const auto schema = json::json_pointer("/content/application~1json/schema/$ref");
            const bool shared = response.contains(schema) && response.at(schema) == kErrorSchema;
            EXPECT_TRUE(shared) << method << " " << path << " " << status << ": a 4xx response must be "
                                << "application/json with schema " << kErrorSchema;
            ++checked;
        }
    }
    EXPECT_GT(checked, 0);
}

TEST_F(OpenApi, VersionIsTheProjectVersion) {
    EXPECT_EQ(doc_.value("openapi", ""), "3.0.3");
    ASSERT_TRUE(doc_.contains(json::json_pointer("/info/version")));
    EXPECT_EQ(doc_["info"]["version"], version());
}

}  // namespace
}  // namespace consult
