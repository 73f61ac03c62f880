#include "appliance/cloud/pairing_code.hpp"

#include "appliance/cloud/postgrest.hpp"
#include "appliance/provision.hpp"
#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace consult::cloud {

namespace {

constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr std::size_t kCodeLength = 10;

bool device_id_ok(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (unsigned char c : id)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

}  // namespace

std::optional<std::string> normalize_pairing_code(std::string_view typed) {
    if (typed.size() > 32) return std::nullopt;
    std::string code;
    for (unsigned char c : typed) {
        if (c == '-' || c == ' ') continue;
        const char up = char(std::toupper(c));
        if (kAlphabet.find(up) == std::string_view::npos) return std::nullopt;
        code += up;
    }
    if (code.size() != kCodeLength) return std::nullopt;
    return code;
}

net::HttpRequest claim_request(const std::string& project_url, const std::string& anon_key, const std::string& code) {
    // An unpaired box has no token of its own: the anon key is both the apikey and the bearer.
    const Endpoint anon{project_url, anon_key, anon_key, std::chrono::milliseconds(15000)};
    return rpc_request(anon, "consult_claim_pairing_code", nlohmann::json{{"code", code}});
}

std::variant<Claimed, ClaimRefused> parse_claim_reply(const net::HttpResponse& r) {
    using Why = ClaimRefused::Why;
    if (r.transport_failed()) return ClaimRefused{Why::Unreachable, r.error};
    if (r.status == 401 || r.status == 403) return ClaimRefused{Why::KeyRefused, "HTTP " + std::to_string(r.status)};
    if (r.status != 200) return ClaimRefused{Why::Unreachable, "HTTP " + std::to_string(r.status)};
    if (r.body.size() > 64 * 1024) return ClaimRefused{Why::BadAnswer, "an answer of " + std::to_string(r.body.size()) + " bytes"};
    const auto rows = nlohmann::json::parse(r.body, nullptr, false);
    if (rows.is_discarded() || !rows.is_array()) return ClaimRefused{Why::BadAnswer, "not a JSON array"};
    if (rows.empty()) return ClaimRefused{Why::WrongCode, "no row"};
    if (rows.size() != 1 || !rows[0].is_object()) return ClaimRefused{Why::BadAnswer, "not one row"};
    const auto& row = rows[0];
    auto text = [&](const char* key) {
        const auto it = row.find(key);
        return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Claimed c{text("clinic_id"), text("device_id"), text("device_token")};
    if (!store::is_uuid(c.clinic_id)) return ClaimRefused{Why::BadAnswer, "clinic_id is not a UUID"};
    if (!device_id_ok(c.device_id)) return ClaimRefused{Why::BadAnswer, "device_id is not a device id"};
    if (!provision::jwt_shaped(c.device_token)) return ClaimRefused{Why::BadAnswer, "device_token is not a JWT"};
    return c;
}

}  // namespace consult::cloud
