#include "appliance/http/auth.hpp"

#include "appliance/domain/session_lifecycle.hpp"
#include "appliance/http/audit_scope.hpp"
#include "appliance/store/audit_batch.hpp"

#include <glib.h>

#include <algorithm>

namespace consult::http {

namespace {

[[noreturn]] void refuse(const Access& access, int status, const std::string& code, const std::string& msg) {
    access.metrics.count("consult_token_refusals_total", {{"reason", code}});
    throw ApiError(status, code, msg);
}

}  // namespace

Caller authenticate(const Access& access, const Request& req, std::initializer_list<tokens::Role> allowed,
                    Scope scope) {
    auto header = req.header("authorization");
    if (!header) refuse(access, 401, "unauthenticated", "this needs an Authorization: Bearer token");
    constexpr std::string_view prefix = "Bearer ";
    if (header->size() <= prefix.size() || !std::equal(prefix.begin(), prefix.end(), header->begin(),
                                                       [](char a, char b) { return g_ascii_tolower(a) == g_ascii_tolower(b); }))
        refuse(access, 401, "unauthenticated", "the Authorization header must be 'Bearer <token>'");
    auto claims = access.tokens.check(std::string_view(*header).substr(prefix.size()), tokens::unix_now());
    if (!claims) {
        const auto e = claims.error();
        refuse(access, 401, e == tokens::VerifyError::Expired ? "token_expired" : e == tokens::VerifyError::Revoked ? "token_revoked" : "invalid_token",
               std::string(tokens::describe(e)));
    }
    if (std::find(allowed.begin(), allowed.end(), claims->role) == allowed.end())
        refuse(access, 403, "forbidden", "a " + std::string(tokens::role_name(claims->role)) + " token cannot do this");
    if (claims->identity == kReportsViewer && scope != Scope::ReportsToo)
        refuse(access, 403, "forbidden", "this sign-in opens the reports only");
    return {*claims, req.client_address};
}

void require_session_access(const Access& access, const Caller& c, const store::SessionRow& s, bool patient_ok) {
    using tokens::Role;
    if (c.is(Role::Admin)) return;
    if (c.is(Role::Doctor)) {
        if (c.claims.identity == s.doctor_id) return;
        refuse(access, 403, "forbidden", "this is another doctor's session");
    }
    if (!patient_ok || c.claims.session_id != s.id || c.claims.identity != s.patient_id)
        refuse(access, 403, "forbidden", "this token is not for this session");
    auto status = domain::parse_session_status(s.status);
    if (status && domain::is_closed(*status))
        refuse(access, 401, "session_ended", "this consultation has ended; the link no longer works");
}

void audit(const Access& access, const Caller& c, const std::string& action,
           const std::optional<std::string>& session_id, nlohmann::json detail) {
    store::AuditEntry entry{c.claims.identity, c.role(), action, session_id, c.address, std::move(detail)};
    auto scope = AuditScope::current();
    if (!access.audits || !scope) {
        store::write_audit(access.db, entry);
        return;
    }
    // Committed with the others of this loop turn; the answer waits for it.
    scope->expect();
    access.audits->add(std::move(entry), [scope](bool committed) { scope->settled(committed); });
}

}  // namespace consult::http
