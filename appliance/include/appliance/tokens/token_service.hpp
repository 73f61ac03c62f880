// The appliance's access tokens: who (identity), as what (role), for which session
// (patients), until when (at most an hour).
#pragma once

#include "appliance/tokens/jwt.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

namespace consult::tokens {

enum class Role { Doctor, Patient, Admin };
std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

struct Claims {
    std::string identity;
    Role role = Role::Patient;
    std::optional<std::string> session_id;
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
    std::string jti;
};

struct Issued {
    std::string token;
    Claims claims;
};

class TokenService {
public:
    static constexpr int kMaxTtlSeconds = 3600;

    // `max_ttl` is the configured ceiling (never above an hour).
    TokenService(std::string key, int max_ttl = kMaxTtlSeconds);

    // Refuses a patient token without a session, an empty identity, or ttl <= 0;
    // a ttl above the ceiling is cut to it.
    std::expected<Issued, std::string> issue(const std::string& identity, Role role,
                                             std::optional<std::string> session_id, int ttl_seconds,
                                             std::int64_t now) const;
    std::expected<Claims, VerifyError> check(std::string_view token, std::int64_t now) const;

private:
    std::string key_;
    int max_ttl_;
};

std::int64_t unix_now();

}  // namespace consult::tokens
