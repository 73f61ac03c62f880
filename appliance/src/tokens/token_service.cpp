#include "appliance/tokens/token_service.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>

namespace consult::tokens {

std::string_view role_name(Role r) {
    switch (r) {
    case Role::Doctor: return "doctor";
    case Role::Patient: return "patient";
    case Role::Admin: return "admin";
    }
    return "patient";
}

std::optional<Role> parse_role(std::string_view s) {
    if (s == "doctor") return Role::Doctor;
    if (s == "patient") return Role::Patient;
    if (s == "admin") return Role::Admin;
    return std::nullopt;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
}

TokenService::TokenService(std::string key, int max_ttl)
    : key_(std::move(key)), max_ttl_(std::clamp(max_ttl, 1, kMaxTtlSeconds)) {}

expected<Issued, std::string> TokenService::issue(const std::string& identity, Role role,
                                                       std::optional<std::string> session_id,
                                                       int ttl_seconds, std::int64_t now) const {
    if (identity.empty() || identity.size() > 200) return unexpected("identity must be 1-200 characters");
    if (role == Role::Patient && !session_id) return unexpected("a patient token needs a session");
    if (ttl_seconds <= 0) return unexpected("ttl must be positive");
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1) return unexpected("no randomness for a token id");

    Issued out;
    out.claims = {identity, role, std::move(session_id), now, now + std::min(ttl_seconds, max_ttl_),
                  base64url_encode(std::string_view(reinterpret_cast<const char*>(rnd), sizeof rnd))};
    nlohmann::json c{{"sub", identity},
                     {"role", role_name(role)},
                     {"iat", out.claims.issued_at},
                     {"exp", out.claims.expires_at},
                     {"jti", out.claims.jti}};
    if (out.claims.session_id) c["sid"] = *out.claims.session_id;
    out.token = sign(c, key_);
    return out;
}

expected<Claims, VerifyError> TokenService::check(std::string_view token, std::int64_t now) const {
    std::optional<Claims> known;
    {
        std::lock_guard hold(checked_->lock);
        if (auto it = checked_->claims.find(token); it != checked_->claims.end()) known = it->second;
    }
    if (!known) {
        auto fresh = check_uncached(token, now);
        if (!fresh) return fresh;
        known = *fresh;
        std::lock_guard hold(checked_->lock);
        if (checked_->claims.size() >= kCheckedTokens)
            std::erase_if(checked_->claims, [now](const auto& kv) { return kv.second.expires_at <= now; });
        if (checked_->claims.size() >= kCheckedTokens) checked_->claims.clear();
        checked_->claims.emplace(std::string(token), *known);
    }
    if (known->expires_at <= now) return unexpected(VerifyError::Expired);
    if (known->issued_at > now) return unexpected(VerifyError::NotYetValid);
    std::lock_guard hold(revoked_->lock);
    if (revoked_->until.count(known->jti)) return unexpected(VerifyError::Revoked);
    return *known;
}

expected<Claims, VerifyError> TokenService::check_uncached(std::string_view token, std::int64_t now) const {
    auto claims = verify(token, key_, now);
    if (!claims) return unexpected(claims.error());
    const auto& c = *claims;
    auto str = [&](const char* k) { return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : std::string(); };
    auto role = parse_role(str("role"));
    if (!role || str("sub").empty() || str("jti").empty()) return unexpected(VerifyError::Malformed);
    if (c.value("exp", std::int64_t{0}) - c.value("iat", std::int64_t{0}) > kMaxTtlSeconds)
        return unexpected(VerifyError::Malformed);
    Claims out{str("sub"), *role, std::nullopt, c.value("iat", std::int64_t{0}), c["exp"].get<std::int64_t>(), str("jti")};
    if (c.contains("sid")) out.session_id = str("sid");
    if (out.role == Role::Patient && (!out.session_id || out.session_id->empty()))
        return unexpected(VerifyError::Malformed);
    return out;
}

void TokenService::revoke(const std::string& jti, std::int64_t expires_at, std::int64_t now) {
    std::lock_guard hold(revoked_->lock);
    std::erase_if(revoked_->until, [now](const auto& kv) { return kv.second <= now; });   // expired anyway
    if (expires_at > now) revoked_->until[jti] = expires_at;
}

}  // namespace consult::tokens
