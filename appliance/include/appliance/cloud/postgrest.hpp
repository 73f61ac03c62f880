// PostgREST (Supabase's /rest/v1) request and response forms, as plain functions:
// keyset reads by (updated_at, id), upserts, auth headers, errors, Content-Range.
// No I/O here; the sync drives these through the HTTP client.
#pragma once

#include "appliance/net/http_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace consult::cloud {

struct Endpoint {
    std::string base_url;       // e.g. https://xyz.supabase.co (the /rest/v1 prefix is added here)
    std::string api_key;        // the project key: `apikey` header
    std::string device_token;   // the device's JWT: `Authorization: Bearer`
    std::chrono::milliseconds timeout{10000};
};

// Where an incremental read stopped: the last row's updated_at (as the server sent it) and id.
struct Cursor {
    std::string updated_at;     // empty: from the beginning
    std::string id;
    bool operator==(const Cursor&) const = default;
};

struct ReadQuery {
    std::string table;
    std::string select = "*";
    std::vector<std::pair<std::string, std::string>> filters;   // column, "op.value" (e.g. "eq.<uuid>")
    Cursor after;
    int page_size = 500;
};

// "<base>/rest/v1/<table>"
std::string table_url(const Endpoint& e, const std::string& table);

// GET ...?select=..&<filters>&or=(updated_at.gt."T",and(updated_at.eq."T",id.gt."ID"))
//        &order=updated_at.asc,id.asc&limit=N  with Range-Unit/Range 0-(N-1).
net::HttpRequest read_request(const Endpoint& e, const ReadQuery& q);

// The key a table's upserts merge on: device_id for the box's own status row, else id.
const char* conflict_column(const std::string& table);

// POST ...?on_conflict=<key>  Prefer: resolution=merge-duplicates, return=minimal; body: JSON array.
net::HttpRequest upsert_request(const Endpoint& e, const std::string& table, const nlohmann::json& rows);

// DELETE ...?id=in.(a,b)  Prefer: return=minimal (rows removed on the appliance, e.g. timings).
net::HttpRequest delete_request(const Endpoint& e, const std::string& table, const std::vector<std::string>& ids);

// POST "<base>/rest/v1/rpc/<function>" with `args` as its JSON body: a PostgREST function call.
net::HttpRequest rpc_request(const Endpoint& e, const std::string& function, const nlohmann::json& args);

// A small read that proves the key and token work (used by `consultctl pair`).
net::HttpRequest probe_request(const Endpoint& e, const std::string& clinic_id);

// "0-499/*", "*/*", "0-24/3573458" → first, last (absent for "*/*").
struct ContentRange {
    std::optional<long> first, last;
    std::optional<long> total;
};
std::optional<ContentRange> parse_content_range(const std::string& value);

// PostgREST's error body {code, details, hint, message}; tolerant of other shapes.
struct ServerError {
    long status = 0;
    std::string code, message, details, hint;
    std::string summary() const;   // "HTTP 409 23505: duplicate key ..." (no row contents)
};
ServerError parse_error(const net::HttpResponse& r);

// How a response to a push is handled.
enum class Outcome {
    Done,           // 2xx
    Retry,          // 5xx, 408, 429, timeout, transport failure
    Unauthorized,   // 401 / 403: stop pushing until re-paired
    Rejected,       // another 4xx: the row is refused as it is
};
Outcome classify(const net::HttpResponse& r);

// Retry-After as seconds or an HTTP date; nothing when absent or unreadable.
std::optional<std::chrono::seconds> retry_after(const net::HttpResponse& r, std::time_t now);

// Exponential backoff with full jitter: random in [base, min(cap, base * 2^attempt)].
std::chrono::milliseconds backoff(int attempt, double random01,
                                  std::chrono::milliseconds base = std::chrono::milliseconds(1000),
                                  std::chrono::milliseconds cap = std::chrono::milliseconds(300000));

}  // namespace consult::cloud
