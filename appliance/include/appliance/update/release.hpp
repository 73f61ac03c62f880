// Which release this box should run: the cloud's consult_release_for_device()
// (cloud/migrations/0006_fleet_updates.sql), asked with the device's own token. Its answer is
// outside input, checked field by field before the updater downloads anything it names.
#pragma once

#include "appliance/cloud/postgrest.hpp"
#include "appliance/net/http_client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace consult::update {

inline constexpr std::uint64_t kMaxBundleBytes = std::uint64_t(4) << 30;   // 0006's size_bytes limit, 4 GiB

struct Release {
    std::string version;      // ^[0-9A-Za-z.+~-]{1,64}$
    std::string bundle_url;   // https, a host, no credentials
    std::string sha256;       // 64 lower-case hex digits
    std::uint64_t size_bytes = 0;
    std::string channel;      // ^[a-z][a-z0-9-]{0,31}$
    bool operator==(const Release&) const = default;
};

struct NoRelease {};          // the cloud offers nothing (no release covers this box yet)

struct ReleaseRefused {
    enum class Why { Unreachable, KeyRefused, BadAnswer } why;
    std::string detail;       // one line for the journal: the status or the field that was wrong
};

using ReleaseReply = std::variant<NoRelease, Release, ReleaseRefused>;

// POST <cloud>/rest/v1/rpc/consult_release_for_device, body {}, with the device token as bearer.
net::HttpRequest release_request(const cloud::Endpoint& cloud);

// `allow_loopback_http`: tests only, as for bundle_url_problem.
ReleaseReply parse_release_reply(const net::HttpResponse& r, bool allow_loopback_http = false);

bool is_release_version(std::string_view version);
bool is_sha256_hex(std::string_view digest);   // 64 lower-case hex digits

// Why `url` may not be fetched for a bundle, or nothing when it may: https with a host, no
// userinfo, no whitespace, control or non-ASCII bytes, at most 2048 characters. With
// `allow_loopback_http` (tests only), http://127.0.0.1 and http://localhost pass too.
std::optional<std::string> bundle_url_problem(std::string_view url, bool allow_loopback_http = false);

}  // namespace consult::update
