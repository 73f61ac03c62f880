// The appliance's access tokens: who (identity), as what (role), for which session
// (patients), until when (at most an hour).
#pragma once

#include "appliance/tokens/jwt.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include "hwconfig/expected.hpp"
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
    expected<Issued, std::string> issue(const std::string& identity, Role role,
                                             std::optional<std::string> session_id, int ttl_seconds,
                                             std::int64_t now) const;
    // Also refuses a revoked token (VerifyError::Revoked).
    expected<Claims, VerifyError> check(std::string_view token, std::int64_t now) const;

    // A token given up before its expiry (sign-out) is refused from now until then.
    // The daemon keeps the list in the store too and hands it back here at start.
    void revoke(const std::string& jti, std::int64_t expires_at, std::int64_t now);

private:
    struct Revoked {
        std::mutex lock;
        std::map<std::string, std::int64_t> until;   // jti → exp
    };
    // Tokens already checked, by their exact text: a screen presents the same token on
    // every request, and checking one (HMAC, two JSON parses) was a quarter of a read's
    // time. Expiry and revocation are still checked on every use.
    struct Checked {
        std::mutex lock;
        std::map<std::string, Claims, std::less<>> claims;
    };
    static constexpr std::size_t kCheckedTokens = 512;
    expected<Claims, VerifyError> check_uncached(std::string_view token, std::int64_t now) const;

    std::string key_;
    int max_ttl_;
    std::shared_ptr<Revoked> revoked_ = std::make_shared<Revoked>();
    std::shared_ptr<Checked> checked_ = std::make_shared<Checked>();
};

std::int64_t unix_now();

}  // namespace consult::tokens
