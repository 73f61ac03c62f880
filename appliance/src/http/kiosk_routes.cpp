// /api/kiosk/...: sign-in with a PIN on the box's own touch screen. Only the box
// itself (loopback) may list doctors or try PINs; the PIN's scrypt hash is checked
// off the main loop and every attempt is written to the audit log (never the PIN).
#include "appliance/http/kiosk_routes.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/http/auth.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/off_loop.hpp"
#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/kiosk/sign_in_guard.hpp"
#include "appliance/log.hpp"
#include "appliance/store/day_view.hpp"
#include "appliance/store/pin_store.hpp"
#include "appliance/store/session_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

namespace consult::http {

namespace {

using tokens::Role;
constexpr const char* kAdminIdentity = "kiosk-admin";

void require_loopback(const Request& req) {
    if (!from_loopback(req))
        throw ApiError(403, "kiosk_only", "kiosk sign-in works only on the appliance's own screen");
}

struct Guards {
    kiosk::SignInGuard subject{5, 300};    // per doctor, and for the admin PIN
    kiosk::SignInGuard address{20, 300};   // per client address: several doctors share the kiosk
};

struct Attempt {
    std::string subject;                   // doctor id or "admin"
    std::string identity;                  // the token's identity and the audit actor
    Role role;
    std::string address;
};

Response issue_kiosk_token(const KioskDeps& deps, const std::string& identity, Role role) {
    auto t = deps.tokens.issue(identity, role, std::nullopt, deps.kiosk.token_ttl_seconds, tokens::unix_now());
    if (!t) throw ApiError(500, "internal_error", t.error());
    const std::int64_t ttl = t->claims.expires_at - t->claims.issued_at;
    return Response::json(200, {{"token", t->token}, {"role", tokens::role_name(role)}, {"identity", identity},
                                {"expires_at", domain::iso_utc(std::time_t(t->claims.expires_at))},
                                {"ttl_seconds", ttl}, {"idle_seconds", deps.kiosk.idle_seconds}});
}

void audit_attempt(const KioskDeps& deps, const Attempt& a, const std::string& result, nlohmann::json extra = {}) {
    nlohmann::json detail{{"result", result}};
    if (extra.is_object()) detail.update(extra);
    store::write_audit(deps.db, {a.identity, std::string(tokens::role_name(a.role)), "kiosk.sign_in", std::nullopt,
                                a.address, detail});
    deps.metrics.count("consult_kiosk_sign_ins_total", {{"result", result}});
}

// The part after the KDF, back on the main loop.
Response finish(const KioskDeps& deps, Guards& g, const Attempt& a, bool match, double kdf_ms) {
    const std::int64_t now = tokens::unix_now();
    const std::string subject_key = "subject:" + a.subject, address_key = "address:" + a.address;
    if (match) {
        g.subject.succeeded(subject_key);
        audit_attempt(deps, a, "ok", {{"kdf_ms", kdf_ms}});
        log::info("kiosk sign-in", {{"ROLE", std::string(tokens::role_name(a.role))}});
        return issue_kiosk_token(deps, a.identity, a.role);
    }
    const bool locked = g.subject.failed(subject_key, now) | g.address.failed(address_key, now);
    const int left = std::max(0, g.subject.max_failures() - g.subject.failures(subject_key));
    audit_attempt(deps, a, locked ? "wrong_pin_locked" : "wrong_pin", {{"kdf_ms", kdf_ms}});
    if (locked) {
        log::warning("kiosk sign-in locked after repeated wrong PINs", {{"ROLE", std::string(tokens::role_name(a.role))}});
        return error_response(429, "locked_out", "Too many wrong PINs. Try again in 5 minutes.");
    }
    return error_response(401, "wrong_pin", "Wrong PIN. " + std::to_string(left) +
                                                (left == 1 ? " try left" : " tries left") + " before a 5-minute lock.");
}

Response sign_in(const KioskDeps& deps, std::shared_ptr<Guards> guards, Attempt a, const std::string& pin) {
    Guards& g = *guards;
    const std::int64_t now = tokens::unix_now();
    const std::int64_t wait = std::max(g.subject.locked_for("subject:" + a.subject, now),
                                       g.address.locked_for("address:" + a.address, now));
    if (wait > 0) {
        audit_attempt(deps, a, "locked");
        throw ApiError(429, "locked_out", "Too many wrong PINs. Try again in " + std::to_string((wait + 59) / 60) +
                                              (wait > 60 ? " minutes." : " minute."))
            .with_header("Retry-After", std::to_string(wait));
    }
    auto stored = store::PinStore(deps.db).hash_of(a.subject);
    if (!stored) {
        audit_attempt(deps, a, "no_pin");
        throw ApiError(409, "pin_not_set", a.role == Role::Admin
            ? "No admin PIN is set on this appliance. Clinic IT sets it with: consultctl set-pin --admin"
            : "No PIN is set for this doctor. Clinic IT sets it with: consultctl set-pin --doctor <id>");
    }
    return Response::later([deps, guards, a = std::move(a), pin, hash = *stored](std::function<void(Response)> reply) {
        const auto started = std::chrono::steady_clock::now();
        run_off_loop([pin, hash] { return kiosk::verify_pin(pin, hash); },
                            [deps, guards, a, started, reply](bool match) {
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
            try {
                reply(finish(deps, *guards, a, match, std::round(ms * 10) / 10));
            } catch (const std::exception& e) {
                log::error(std::string("kiosk sign-in failed: ") + e.what());
                reply(error_response(500, "internal_error", "something went wrong inside the appliance"));
            }
        });
    });
}

std::string pin_of(const nlohmann::json& body) {
    // Digits only, but the length check is the KDF's: a malformed PIN is just a wrong one.
    return require_string(body, "pin", 64);
}

Response put_notes(const KioskDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    store::SessionStore sessions(deps.db);
    auto s = sessions.find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    require_session_access(deps, c, *s, false);
    auto body = req.json_body();
    if (!body.contains("notes")) throw ApiError(400, "missing_field", "notes is required", "notes");
    const auto notes = optional_string(body, "notes", 20000).value_or("");
    if (s->status != "completed")
        throw ApiError(409, "invalid_transition", "notes are written once the consultation is completed (it is " +
                                                      s->status + ")");
    auto after = sessions.set_notes(s->id, notes);
    audit(deps, c, "session.notes", s->id, {{"length", notes.size()}});
    return Response::json(200, store::to_json(after));
}

}  // namespace

void add_kiosk_sign_in_routes(Router& r, const KioskDeps& deps) {
    auto guards = std::make_shared<Guards>();
    r.add("GET", "/api/kiosk/doctors", [deps](const Request& req) {
        // The names to pick from: on the box itself without a token (nobody is signed in yet).
        if (!from_loopback(req)) {
            if (!req.header("authorization"))
                throw ApiError(403, "kiosk_only", "the doctor list is shown only on the appliance's own screen");
            authenticate(deps, req, {Role::Doctor, Role::Admin});
        }
        store::PinStore pins(deps.db);
        nlohmann::json list = nlohmann::json::array();
        for (const auto& d : pins.doctors())
            list.push_back({{"id", d.id}, {"full_name", d.full_name}, {"has_pin", d.has_pin}});
        return Response::json(200, {{"doctors", list}, {"admin_pin_set", pins.hash_of(store::PinStore::kAdmin).has_value()},
                                    {"idle_seconds", deps.kiosk.idle_seconds},
                                    {"token_ttl_seconds", deps.kiosk.token_ttl_seconds}});
    });
    r.add("POST", "/api/kiosk/sign-in", [deps, guards](const Request& req) {
        require_loopback(req);
        auto body = req.json_body();
        const auto doctor = require_uuid(body, "doctor_id");
        const auto pin = pin_of(body);
        if (!store::PinStore(deps.db).doctor_exists(doctor))
            throw ApiError(422, "doctor_not_found", "no active doctor with this id", "doctor_id");
        return sign_in(deps, guards, {doctor, doctor, Role::Doctor, req.client_address}, pin);
    });
    r.add("POST", "/api/kiosk/admin-sign-in", [deps, guards](const Request& req) {
        // {"scope": "reports"}: a token that reads the reports only, which a manager's
        // browser on the LAN may ask for too (/admin/reports), under the same lockouts.
        auto body = req.json_body();
        const bool reports_only = body.contains("scope");
        if (reports_only) require_enum(body, "scope", {"reports"});
        else require_loopback(req);
        return sign_in(deps, guards, {store::PinStore::kAdmin, reports_only ? kReportsViewer : kAdminIdentity,
                                      Role::Admin, req.client_address}, pin_of(body));
    });
}

void add_kiosk_routes(Router& r, const KioskDeps& deps) {
    add_kiosk_sign_in_routes(r, deps);
    r.add("POST", "/api/kiosk/renew", [deps](const Request& req) {
        require_loopback(req);
        Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
        return issue_kiosk_token(deps, c.claims.identity, c.claims.role);
    });
    r.add("POST", "/api/kiosk/sign-out", [deps](const Request& req) {
        Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin}, Scope::ReportsToo);
        std::optional<std::string> why;
        if (!req.body.empty()) why = optional_string(req.json_body(), "reason", 40);
        // The token stops working now, not when it expires.
        store::save_revoked_token(deps.db, c.claims.jti, c.claims.expires_at);
        deps.tokens.revoke(c.claims.jti, c.claims.expires_at, tokens::unix_now());
        deps.rooms.sign_out(c.claims);
        audit(deps, c, "kiosk.sign_out", std::nullopt, {{"reason", why.value_or("tapped")}});
        return Response{204, "application/json", "", {}, {}};
    });
    r.add("GET", "/api/kiosk/day", [deps](const Request& req) {
        Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
        auto doctor = query_uuid(req, "doctor_id");
        if (c.is(Role::Doctor)) {
            if (doctor && *doctor != c.claims.identity)
                throw ApiError(403, "forbidden", "a doctor sees only their own day");
            doctor = c.claims.identity;
        }
        if (!doctor) throw ApiError(400, "missing_field", "doctor_id is required", "doctor_id");
        const auto date = query_date(req, "date").value_or(domain::local_date(domain::now_seconds()));
        const auto from = domain::iso_utc(domain::local_instant(date, 0));
        const auto to = domain::iso_utc(domain::local_instant(date, 24 * 60));
        auto day = store::doctor_day(deps.db, *doctor, from, to);
        audit(deps, c, "kiosk.day", std::nullopt, {{"count", day.size()}});
        return Response::json(200, {{"date", domain::format_date(date)}, {"appointments", day}});
    });
    r.add("PUT", "/api/video-consultations/sessions/{id}/notes", [deps](const Request& req) { return put_notes(deps, req); });
}

}  // namespace consult::http
