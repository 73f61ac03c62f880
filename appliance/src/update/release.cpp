#include "appliance/update/release.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace consult::update {

namespace {

constexpr std::size_t kMaxAnswerBytes = 64 * 1024;   // one row is a few hundred bytes
constexpr std::size_t kMaxUrlLength = 2048;

bool all_of(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }
bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool lower_alnum_or_dash(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool version_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '+' ||
           c == '~' || c == '-';
}
bool printable_ascii(char c) { return c > ' ' && c < 0x7f; }

// ^[a-z][a-z0-9-]{0,31}$, as 0006 checks it.
bool is_channel(std::string_view s) {
    return !s.empty() && s.size() <= 32 && s[0] >= 'a' && s[0] <= 'z' && all_of(s, lower_alnum_or_dash);
}

// "host", "host:port" or "[v6]:port" → the host; empty when the authority is malformed.
std::string_view host_of(std::string_view authority) {
    std::size_t host_end = std::min(authority.find(':'), authority.size());
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return {};
        host_end = close + 1;
    }
    const std::string_view port = authority.substr(host_end);
    if (!port.empty() && (port.size() < 2 || port.size() > 6 || port[0] != ':' || !all_of(port.substr(1), digit)))
        return {};
    return authority.substr(0, host_end);
}

std::optional<std::string> text_field(const nlohmann::json& row, const char* key) {
    const auto it = row.find(key);
    if (it == row.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

// A JSON whole number from 1 to 4 GiB; not a float, a string or a negative number.
std::optional<std::uint64_t> size_field(const nlohmann::json& row) {
    const auto it = row.find("size_bytes");
    if (it == row.end() || !it->is_number_unsigned()) return std::nullopt;
    const auto n = it->get<std::uint64_t>();
    if (n < 1 || n > kMaxBundleBytes) return std::nullopt;
    return n;
}

ReleaseRefused bad(std::string why) { return {ReleaseRefused::Why::BadAnswer, std::move(why)}; }

// The one row, every field checked; the detail names the field, never echoes its value.
ReleaseReply read_row(const nlohmann::json& row, bool allow_loopback_http) {
    const auto version = text_field(row, "version"), url = text_field(row, "bundle_url");
    const auto sha256 = text_field(row, "sha256"), channel = text_field(row, "channel");
    const auto size = size_field(row);
    if (!version || !is_release_version(*version)) return bad("version is not a release version");
    if (!url) return bad("bundle_url is not text");
    if (auto why = bundle_url_problem(*url, allow_loopback_http)) return bad("bundle_url is " + *why);
    if (!sha256 || !is_sha256_hex(*sha256)) return bad("sha256 is not 64 lower-case hex digits");
    if (!size) return bad("size_bytes is not a whole number from 1 to 4 GiB");
    if (!channel || !is_channel(*channel)) return bad("channel is not a channel name");
    return Release{*version, *url, *sha256, *size, *channel};
}

}  // namespace

bool is_release_version(std::string_view v) { return !v.empty() && v.size() <= 64 && all_of(v, version_char); }

bool is_sha256_hex(std::string_view s) { return s.size() == 64 && all_of(s, lower_hex); }

std::optional<std::string> bundle_url_problem(std::string_view url, bool allow_loopback_http) {
    if (url.size() > kMaxUrlLength) return "longer than 2048 characters";
    if (!all_of(url, printable_ascii)) return "holding a space, control or non-ASCII byte";
    const bool https = url.starts_with("https://"), http = url.starts_with("http://");
    if (!https && !http) return "not an https:// URL";
    const std::string_view rest = url.substr(https ? 8 : 7);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) return "carrying credentials (userinfo)";
    const std::string_view host = host_of(authority);
    if (host.empty()) return "without a host (or with a bad port)";
    const bool loopback = host == "127.0.0.1" || host == "localhost";
    if (http && !(allow_loopback_http && loopback)) return "not an https:// URL";
    return std::nullopt;
}

net::HttpRequest release_request(const cloud::Endpoint& cloud) {
    return cloud::rpc_request(cloud, "consult_release_for_device", nlohmann::json::object());
}

ReleaseReply parse_release_reply(const net::HttpResponse& r, bool allow_loopback_http) {
    using Why = ReleaseRefused::Why;
    if (r.transport_failed()) return ReleaseRefused{Why::Unreachable, r.error};
    const std::string status = "HTTP " + std::to_string(r.status);
    if (r.status == 401 || r.status == 403) return ReleaseRefused{Why::KeyRefused, status};
    if (r.status != 200) return ReleaseRefused{Why::Unreachable, status};
    if (r.body.size() > kMaxAnswerBytes) return bad("an answer of " + std::to_string(r.body.size()) + " bytes");
    const auto rows = nlohmann::json::parse(r.body, nullptr, false);
    if (rows.is_discarded() || !rows.is_array()) return bad("not a JSON array");
    if (rows.empty()) return NoRelease{};
    if (rows.size() != 1) return bad(std::to_string(rows.size()) + " rows where the function returns at most one");
    if (!rows[0].is_object()) return bad("the row is not an object");
    return read_row(rows[0], allow_loopback_http);
}

}  // namespace consult::update
