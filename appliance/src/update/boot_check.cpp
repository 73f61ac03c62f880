#include "appliance/update/boot_check.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

namespace consult::update {

namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
    if (!j.contains(key)) return "missing";
    const auto& v = j[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
}

struct Answer {
    long status = 0;
    std::string content_type;
    std::string body;
    std::string error;
};

size_t collect(char* p, size_t size, size_t n, void* out) noexcept {   // called from C: nothing thrown
    auto* body = static_cast<std::string*>(out);
    if (body->size() + size * n > 1024 * 1024) return 0;  // a page, not a download: at most 1 MiB
    try { body->append(p, size * n); } catch (...) { return 0; }
    return size * n;
}

Answer get(const std::string& url) {
    Answer a;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) { a.error = "libcurl could not start"; return a; }
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &a.body);
    if (CURLcode rc = curl_easy_perform(curl.get()); rc != CURLE_OK) {
        a.error = std::string("no answer at ") + url + " (" + curl_easy_strerror(rc) + ")";
        return a;
    }
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &a.status);
    char* type = nullptr;
    if (curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) a.content_type = type;
    return a;
}

}  // namespace

std::optional<std::string> health_problem(long http_status, const std::string& body, const BootExpectation& expect) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return "/healthz answered " + std::to_string(http_status) + " with no JSON object";
    if (http_status != 200) return "/healthz answered " + std::to_string(http_status) + " (status " + text_of(j, "status") + ", store " + text_of(j, "db") + ")";
    const std::string version = text_of(j, "version");
    if (version != expect.version) return "consultd " + version + " answers, this slot is " + expect.version;
    const std::string db = text_of(j, "db");
    if (db != "ok" && db != "busy") return "the store is " + db;
    if (!j.contains("schema_version") || !j["schema_version"].is_number_integer() ||
        j["schema_version"].get<long long>() != expect.schema_version)
        return "the store's schema is " + text_of(j, "schema_version") + ", this slot needs " + std::to_string(expect.schema_version);
    const std::string encoder = text_of(j, "encoder");
    if (encoder == "probing") return "consultd is still probing its media devices";
    if (!j.contains("encoder") || !j["encoder"].is_string() || encoder.empty()) return "consultd has no video encoder";
    return std::nullopt;
}

std::optional<std::string> kiosk_problem(long http_status, const std::string& content_type, const std::string& body) {
    if (http_status != 200) return "/kiosk answered " + std::to_string(http_status);
    if (content_type.rfind("text/html", 0) != 0) return "/kiosk is not a page (" + (content_type.empty() ? std::string("no type") : content_type) + ")";
    if (body.find("<html") == std::string::npos && body.find("<!DOCTYPE") == std::string::npos &&
        body.find("<!doctype") == std::string::npos)
        return "/kiosk is not the kiosk's page";
    return std::nullopt;
}

int run_boot_check(const std::string& base_url, const BootExpectation& expect, std::chrono::seconds timeout,
                   std::chrono::seconds unanswered) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    std::optional<std::chrono::steady_clock::time_point> silent_since;  // no HTTP answer at all since
    std::string problem;
    for (;;) {
        Answer h = get(base_url + "/healthz");
        if (!h.error.empty()) {
            if (!silent_since) silent_since = std::chrono::steady_clock::now();
            if (std::chrono::steady_clock::now() - *silent_since >= unanswered) {
                const auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
                std::printf("boot-check: NOT healthy after %llds: consultd has not answered for %llds (%s)\n",
                            static_cast<long long>(waited.count()), static_cast<long long>(unanswered.count()), h.error.c_str());
                return 1;
            }
        } else {
            silent_since.reset();
        }
        std::optional<std::string> p = !h.error.empty() ? std::optional<std::string>(h.error) : health_problem(h.status, h.body, expect);
        if (!p) {
            Answer k = get(base_url + "/kiosk");
            p = !k.error.empty() ? std::optional<std::string>(k.error) : kiosk_problem(k.status, k.content_type, k.body);
        }
        if (!p) {
            std::printf("boot-check: healthy: consultd %s, schema %d, kiosk page served\n", expect.version.c_str(), expect.schema_version);
            return 0;
        }
        problem = *p;
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    std::printf("boot-check: NOT healthy after %llds: %s\n", static_cast<long long>(timeout.count()), problem.c_str());
    return 1;
}

}  // namespace consult::update
