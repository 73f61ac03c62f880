#include "appliance/cloud/postgrest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace consult::cloud {

namespace {

using net::url_escape;

std::vector<std::pair<std::string, std::string>> auth_headers(const Endpoint& e) {
    return {{"apikey", e.api_key}, {"Authorization", "Bearer " + e.device_token}};
}

// A value inside or()/and() lists: quoted, since timestamps carry '.' and ':' (PostgREST's reserved characters).
std::string quoted(const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// The project's URL, given with or without its /rest/v1 (consultd.conf shows it with).
std::string trim_base(std::string base) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.ends_with("/rest/v1")) base.resize(base.size() - 8);
    return base;
}

// A POST of a JSON body with the endpoint's key and token.
net::HttpRequest json_post(const Endpoint& e, std::string url, const nlohmann::json& body) {
    net::HttpRequest r;
    r.method = "POST";
    r.url = std::move(url);
    r.headers = auth_headers(e);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump();
    r.timeout = e.timeout;
    return r;
}

}  // namespace

std::string table_url(const Endpoint& e, const std::string& table) {
    return trim_base(e.base_url) + "/rest/v1/" + url_escape(table);
}

net::HttpRequest read_request(const Endpoint& e, const ReadQuery& q) {
    std::string query = "select=" + url_escape(q.select);
    for (const auto& [col, cond] : q.filters) query += "&" + url_escape(col) + "=" + url_escape(cond);
    if (!q.after.updated_at.empty()) {
        const std::string t = quoted(q.after.updated_at), id = quoted(q.after.id);
        query += "&or=" + url_escape("(updated_at.gt." + t + ",and(updated_at.eq." + t + ",id.gt." + id + "))");
    }
    query += "&order=" + url_escape("updated_at.asc,id.asc") + "&limit=" + std::to_string(q.page_size);
    net::HttpRequest r;
    r.url = table_url(e, q.table) + "?" + query;
    r.headers = auth_headers(e);
    r.headers.emplace_back("Accept", "application/json");
    r.headers.emplace_back("Range-Unit", "items");
    r.headers.emplace_back("Range", "0-" + std::to_string(q.page_size - 1));
    r.timeout = e.timeout;
    return r;
}

const char* conflict_column(const std::string& table) {
    return table == "consult_device_status" ? "device_id" : "id";
}

net::HttpRequest upsert_request(const Endpoint& e, const std::string& table, const nlohmann::json& rows) {
    net::HttpRequest r = json_post(e, table_url(e, table) + "?on_conflict=" + conflict_column(table), rows);
    r.headers.emplace_back("Prefer", "resolution=merge-duplicates, return=minimal");
    return r;
}

net::HttpRequest delete_request(const Endpoint& e, const std::string& table, const std::vector<std::string>& ids) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + quoted(id);
    net::HttpRequest r;
    r.method = "DELETE";
    r.url = table_url(e, table) + "?id=" + url_escape("in.(" + list + ")");
    r.headers = auth_headers(e);
    r.headers.emplace_back("Prefer", "return=minimal");
    r.timeout = e.timeout;
    return r;
}

net::HttpRequest rpc_request(const Endpoint& e, const std::string& function, const nlohmann::json& args) {
    net::HttpRequest r = json_post(e, trim_base(e.base_url) + "/rest/v1/rpc/" + url_escape(function), args);
    r.headers.emplace_back("Accept", "application/json");
    return r;
}

net::HttpRequest probe_request(const Endpoint& e, const std::string& clinic_id) {
    net::HttpRequest r;
    r.url = table_url(e, "clinics") + "?select=id&id=" + url_escape("eq." + clinic_id) + "&limit=1";
    r.headers = auth_headers(e);
    r.headers.emplace_back("Accept", "application/json");
    r.timeout = e.timeout;
    return r;
}

std::optional<ContentRange> parse_content_range(const std::string& value) {
    const auto slash = value.find('/');
    if (slash == std::string::npos) return std::nullopt;
    ContentRange out;
    const std::string range = value.substr(0, slash), total = value.substr(slash + 1);
    if (total != "*") {
        char* end = nullptr;
        long t = std::strtol(total.c_str(), &end, 10);
        if (total.empty() || *end) return std::nullopt;
        out.total = t;
    }
    if (range == "*") return out;
    long a = 0, b = 0;
    char tail = 0;
    if (std::sscanf(range.c_str(), "%ld-%ld%c", &a, &b, &tail) != 2 || a < 0 || b < a) return std::nullopt;
    out.first = a;
    out.last = b;
    return out;
}

std::string ServerError::summary() const {
    std::string s = "HTTP " + std::to_string(status);
    if (!code.empty()) s += " " + code;
    if (!message.empty()) s += ": " + message.substr(0, 300);
    return s;
}

ServerError parse_error(const net::HttpResponse& r) {
    ServerError e;
    e.status = r.status;
    if (r.transport_failed()) {
        e.message = r.error;
        return e;
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    auto text = [&](const char* k) {
        return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    if (j.is_object()) {
        e.code = text("code");
        e.message = text("message");
        e.details = text("details");
        e.hint = text("hint");
        if (e.code.empty() && j.contains("code") && j["code"].is_number()) e.code = j["code"].dump();
        if (e.message.empty()) e.message = text("msg");
    } else {
        e.message = r.body.substr(0, 200);
    }
    return e;
}

Outcome classify(const net::HttpResponse& r) {
    if (r.transport_failed()) return Outcome::Retry;
    if (r.status >= 200 && r.status < 300) return Outcome::Done;
    if (r.status == 401 || r.status == 403) return Outcome::Unauthorized;
    if (r.status == 408 || r.status == 429 || r.status >= 500) return Outcome::Retry;
    return Outcome::Rejected;
}

std::optional<std::chrono::seconds> retry_after(const net::HttpResponse& r, std::time_t now) {
    auto v = r.header("retry-after");
    if (!v || v->empty()) return std::nullopt;
    if (std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
        long s = std::strtol(v->c_str(), nullptr, 10);
        return std::chrono::seconds(std::min(s, 24L * 3600));
    }
    std::tm tm{};   // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    char day[4] = {0}, mon[4] = {0};
    int d = 0, y = 0, hh = 0, mm = 0, ss = 0;
    if (std::sscanf(v->c_str(), "%3s, %d %3s %d %d:%d:%d GMT", day, &d, mon, &y, &hh, &mm, &ss) != 7)
        return std::nullopt;
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int m = -1;
    for (int i = 0; i < 12; ++i)
        if (std::string_view(mon) == kMonths[i]) m = i;
    if (m < 0) return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = m;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    const std::time_t at = timegm(&tm);
    return std::chrono::seconds(std::clamp<long>(long(at - now), 0, 24L * 3600));
}

std::chrono::milliseconds backoff(int attempt, double random01, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap) {
    const double upper = std::min(double(cap.count()), double(base.count()) * std::pow(2.0, std::clamp(attempt, 0, 30)));
    const double lo = double(base.count());
    return std::chrono::milliseconds(long(lo + (std::max(upper, lo) - lo) * std::clamp(random01, 0.0, 1.0)));
}

}  // namespace consult::cloud
