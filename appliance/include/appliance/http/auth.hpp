// Bearer tokens on every API route: who is calling, and may they.
#pragma once

#include "appliance/http/route_deps.hpp"
#include "appliance/http/types.hpp"
#include "appliance/store/records.hpp"

#include <initializer_list>

namespace consult::http {

struct Caller {
    tokens::Claims claims;
    std::string address;
    bool is(tokens::Role r) const { return claims.role == r; }
    std::string role() const { return std::string(tokens::role_name(claims.role)); }
};

// The identity of an admin token from a reports-only sign-in (the admin PIN from a
// manager's browser on the LAN): it opens the reports and nothing else.
inline constexpr const char* kReportsViewer = "reports-viewer";
enum class Scope { Full, ReportsToo };   // ReportsToo: a reports-only token is enough here

// 401 without a valid token, 403 when the token's role is not among `allowed` (or it is
// a reports-only token and `scope` is Full).
Caller authenticate(const Access& access, const Request& req, std::initializer_list<tokens::Role> allowed,
                    Scope scope = Scope::Full);

// 403 unless the caller may act on this session: its doctor, an admin, or (when
// `patient_ok`) the session's own patient. A patient token for an ended session is 401.
void require_session_access(const Access& access, const Caller& c, const store::SessionRow& s, bool patient_ok);

// Writes the audit row for an action by this caller.
void audit(const Access& access, const Caller& c, const std::string& action,
           const std::optional<std::string>& session_id, nlohmann::json detail = nullptr);

}  // namespace consult::http
