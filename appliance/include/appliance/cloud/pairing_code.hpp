// Pairing a box by a code from clinic IT (cloud/migrations/0005_pairing_codes.sql): the
// code as typed, the claim sent to the project with its anon key only, and the cloud's
// answer checked like any other outside input before the box keeps anything of it.
#pragma once

#include "appliance/net/http_client.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace consult::cloud {

// 10 characters of 23456789ABCDEFGHJKLMNPQRSTUVWXYZ; what a person types may have any
// case, dashes and spaces. std::nullopt for anything else.
std::optional<std::string> normalize_pairing_code(std::string_view typed);

// POST <project>/rest/v1/rpc/consult_claim_pairing_code with the anon key.
net::HttpRequest claim_request(const std::string& project_url, const std::string& anon_key, const std::string& code);

struct Claimed {
    std::string clinic_id, device_id, device_token;
};
struct ClaimRefused {
    enum class Why { WrongCode, KeyRefused, Unreachable, BadAnswer } why;
    std::string detail;   // for the journal: status and what was wrong, never the token
};
std::variant<Claimed, ClaimRefused> parse_claim_reply(const net::HttpResponse& r);

}  // namespace consult::cloud
