// JWS compact serialisation with HS256 (RFC 7515/7519), the appliance's tokens.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include "hwconfig/expected.hpp"
#include <string>
#include <string_view>

namespace consult::tokens {

std::string base64url_encode(std::string_view bytes);
expected<std::string, std::string> base64url_decode(std::string_view text);

// HMAC-SHA256 of `signing_input` with `key`, base64url without padding.
std::string hs256_signature(std::string_view signing_input, std::string_view key);

// header.payload.signature with {"alg":"HS256","typ":"JWT"}.
std::string sign(const nlohmann::json& claims, std::string_view key);

enum class VerifyError { Malformed, BadAlgorithm, BadSignature, Expired, NotYetValid, Revoked };
std::string_view describe(VerifyError e);

// Checks structure, algorithm, signature (constant time) and exp/iat against `now`
// (seconds since the epoch). No leeway by default: the appliance issues and checks
// its own tokens on one clock; `leeway` is for a verifier on another clock.
expected<nlohmann::json, VerifyError> verify(std::string_view token, std::string_view key,
                                             std::int64_t now, std::int64_t leeway = 0);

}  // namespace consult::tokens
