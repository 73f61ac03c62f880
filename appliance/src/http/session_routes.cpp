// /api/video-consultations/sessions...: create, read, list, tokens, join, admit, end, cancel;
// /api/patient/link: whether a patient's link still opens its consultation.
#include "appliance/http/auth.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/domain/errors.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/messaging.hpp"
#include "appliance/store/cloud_rows.hpp"
#include "appliance/store/rating_store.hpp"
#include "appliance/store/schedule_store.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/store/short_link_store.hpp"
#include "appliance/domain/short_code.hpp"
#include "appliance/net/public_url.hpp"

namespace consult::http {

namespace {

using tokens::Role;
using domain::SessionStatus;
constexpr const char* kBase = "/api/video-consultations/sessions";

store::SessionRow load_session(const SessionDeps& deps, const Request& req) {
    auto s = store::SessionStore(deps.db).find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    return *s;
}

void rate_limit(const SessionDeps& deps, const std::string& bucket) {
    if (int wait = deps.limiter.retry_after(bucket); wait > 0)
        throw ApiError(429, "rate_limited", "too many attempts; try again in " + std::to_string(wait) + " s")
            .with_header("Retry-After", std::to_string(wait));
}

// Signed-in callers are limited per identity; refused ones per address, in a bucket of
// their own, so a flood of anonymous requests cannot lock out a doctor at that address.
Caller authenticate_limited(const SessionDeps& deps, const Request& req, std::initializer_list<Role> roles) {
    std::optional<Caller> c;
    try {
        c = authenticate(deps, req, roles);
    } catch (const ApiError& e) {
        if (e.status() == 401 || e.status() == 403) rate_limit(deps, "refused@" + req.client_address);
        throw;
    }
    rate_limit(deps, std::string(tokens::role_name(c->claims.role)) + ":" + c->claims.identity);
    return *c;
}

tokens::Issued issue(const SessionDeps& deps, const std::string& identity, Role role, std::optional<std::string> session) {
    auto t = deps.tokens.issue(identity, role, std::move(session), deps.sessions.token_ttl_seconds,
                              tokens::unix_now());
    if (!t) throw ApiError(422, "invalid_value", t.error());
    return *t;
}

std::string expires_iso(const tokens::Issued& t) { return domain::iso_utc(std::time_t(t.claims.expires_at)); }

// SMS or email to the patient; a failure to send never fails the session itself.
nlohmann::json invite_patient(const SessionDeps& deps, const std::string& session_id, const std::string& link) {
    if (deps.messaging) {
        try {
            return deps.messaging->notifier().session_created(session_id, link);
        } catch (const std::exception& e) {
            log::error(std::string("invite failed: ") + e.what(), {{"SESSION_ID", session_id}});
        }
    }
    return {{"channel", "none"}, {"status", "not_sent"}, {"link", link}};
}

Response create_session(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto body = req.json_body();
    const auto appointment_id = require_uuid(body, "appointment_id");
    const int duration = require_int(body, "duration_minutes", 5, deps.sessions.max_minutes);
    auto appt = store::ScheduleStore(deps.db).appointment(appointment_id);
    try {
        if (!appt) throw ApiError(422, "appointment_not_found", "no appointment " + appointment_id, "appointment_id");
        if (c.is(Role::Doctor) && appt->doctor_id != c.claims.identity)
            throw ApiError(403, "forbidden", "this is another doctor's appointment");
        // A session prepared at booking (or by an earlier Start) is the one Start opens.
        store::SessionStore sessions(deps.db);
        const auto prepared = store::unstarted_sessions_of(deps.db, appointment_id);
        const bool existed = !prepared.empty();
        auto s = existed ? *sessions.find(prepared.front()) : sessions.create(appointment_id, duration, c.claims.identity);
        auto doctor = issue(deps, s.doctor_id, Role::Doctor, std::nullopt);
        auto patient = issue(deps, s.patient_id, Role::Patient, s.id);
        audit(deps, c, existed ? "session.open" : "session.create", s.id);
        const std::string invite_url = deps.public_base_url + "/v/" + s.room_name + "#t=" + patient.token;
        const std::string code = store::ShortLinkStore(deps.db).code_for(s.id);
        const std::string short_url = deps.public_base_url + "/j/" + code;
        nlohmann::json invite = invite_patient(deps, s.id, invite_url);
        if (invite.contains("link")) {   // shown on the kiosk: the QR code carries the short one
            invite["short_link"] = short_url;
            invite["code"] = domain::spoken_short_code(code);
        }
        if (auto warning = net::public_url_warning(deps.public_base_url)) invite["warning"] = *warning;
        return Response::json(existed ? 200 : 201, {{"session_id", s.id},
                                    {"prepared", existed},
                                    {"room_name", s.room_name},
                                    {"doctor_token", doctor.token},
                                    {"patient_invite_url", invite_url},
                                    {"patient_short_url", short_url},
                                    {"patient_code", domain::spoken_short_code(code)},
                                    {"expires_at", expires_iso(patient)},
                                    {"invite", invite},
                                    {"session", store::to_json(s)}});
    } catch (const ApiError& e) {
        deps.metrics.count("consult_session_create_failures_total", {{"reason", e.code()}});
        throw;
    } catch (const domain::DomainError& e) {
        deps.metrics.count("consult_session_create_failures_total", {{"reason", e.code()}});
        throw;
    }
}

Response get_session(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = load_session(deps, req);
    require_session_access(deps, c, s, false);
    audit(deps, c, "session.read", s.id);
    auto j = store::to_json(s);
    j["participants"] = nlohmann::json::array();
    for (const auto& p : store::SessionStore(deps.db).participants(s.id)) j["participants"].push_back(store::to_json(p));
    if (deps.messaging) j.update(deps.messaging->notifier().session_messages(s.id));   // invite state, messages sent
    return Response::json(200, j);
}

// The patient's page asks first whether its link still opens a consultation, before
// it asks for the camera: a dead link is said at once, with why.
Response patient_link(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate_limited(deps, req, {Role::Patient});
    auto s = store::SessionStore(deps.db).find(c.claims.session_id.value_or(""));
    if (!s || s->patient_id != c.claims.identity)
        throw ApiError(403, "forbidden", "this link does not open a consultation here");
    if (s->status == "cancelled")
        throw ApiError(410, "session_cancelled", "this consultation was cancelled");
    if (auto st = domain::parse_session_status(s->status); !st || domain::is_closed(*st))
        throw ApiError(410, "session_ended", "this consultation has ended");
    auto names = store::SessionStore(deps.db).names(*s);
    auto text = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return Response::json(200, {{"status", s->status}, {"starts_at", s->starts_at},
                                {"clinic", text(names.clinic)}, {"doctor", text(names.doctor)}});
}

Response list_sessions(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    store::SessionFilter f;
    f.doctor_id = query_uuid(req, "doctor_id");
    f.status = query_enum(req, "status", {"scheduled", "waiting", "in-progress", "completed", "cancelled"});
    if (auto d = query_date(req, "date")) {
        f.from_iso = domain::iso_utc(domain::local_instant(*d, 0));
        f.to_iso = domain::iso_utc(domain::local_instant(*d, 24 * 60));
    }
    if (c.is(Role::Doctor)) {
        if (f.doctor_id && *f.doctor_id != c.claims.identity)
            throw ApiError(403, "forbidden", "a doctor can list only their own sessions");
        f.doctor_id = c.claims.identity;
    }
    auto rows = store::SessionStore(deps.db).list(f);
    audit(deps, c, "session.list", std::nullopt, {{"count", rows.size()}});
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : rows) {
        out.push_back(store::to_json(s));
        if (deps.messaging) out.back()["invite"] = deps.messaging->notifier().invite_summary(s.id);   // SMS failed? shown in the list
    }
    return Response::json(200, {{"sessions", out}});
}

Response issue_token(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate_limited(deps, req, {Role::Doctor, Role::Admin});
    auto s = load_session(deps, req);
    require_session_access(deps, c, s, false);
    auto body = req.json_body();
    const auto user_id = require_uuid(body, "user_id");
    const auto user_type = require_enum(body, "user_type", {"doctor", "patient"});
    if (auto st = domain::parse_session_status(s.status); !st || domain::is_closed(*st))
        throw ApiError(409, "session_closed", "this consultation has ended");
    const bool patient = user_type == "patient";
    if (user_id != (patient ? s.patient_id : s.doctor_id))
        throw ApiError(422, "not_a_participant", "user_id is not this session's " + user_type, "user_id");
    auto t = issue(deps, user_id, patient ? Role::Patient : Role::Doctor, patient ? std::optional(s.id) : std::nullopt);
    audit(deps, c, "token.issue", s.id, {{"user_type", user_type}, {"jti", t.claims.jti}});
    return Response::json(200, {{"token", t.token}, {"expires_at", expires_iso(t)}});
}

Response join_session(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate_limited(deps, req, {Role::Doctor, Role::Patient});
    auto s = load_session(deps, req);
    require_session_access(deps, c, s, true);
    auto p = store::SessionStore(deps.db).join(s.id, c.claims.identity, c.role());
    audit(deps, c, "session.join", s.id);
    auto after = store::SessionStore(deps.db).find(s.id);
    return Response::json(200, {{"session", store::to_json(*after)}, {"participant", store::to_json(p)}});
}

Response change_status(const SessionDeps& deps, const Request& req, SessionStatus to, const char* action) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = load_session(deps, req);
    require_session_access(deps, c, s, false);
    std::optional<std::string> reason, notes;
    if (!req.body.empty()) {
        auto body = req.json_body();
        reason = optional_string(body, "reason", 500);
        notes = optional_string(body, "notes", 20000);
    }
    // Admitting into a call already running: whoever waits again (after leaving, too
    // late to rejoin, or on another device) is let in; the session stays as it is.
    if (to == SessionStatus::InProgress && s.status == "in-progress") {
        if (!deps.rooms.admit(s.id))
            throw ApiError(409, "nobody_waiting", "nobody is waiting to be let in");
        audit(deps, c, action, s.id);
        return Response::json(200, store::to_json(s));
    }
    auto after = store::SessionStore(deps.db).transition(s.id, to, c.claims.identity, reason, notes);
    audit(deps, c, action, s.id);
    deps.rooms.session_changed(after);
    return Response::json(200, store::to_json(after));
}

}  // namespace

// After the call, the patient rates it once (1-5, an optional comment). Their link's
// token no longer opens the session, but it still says whose consultation this was.
Response rate_session(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate_limited(deps, req, {Role::Patient});
    auto s = load_session(deps, req);
    if (c.claims.session_id != s.id || c.claims.identity != s.patient_id)
        throw ApiError(403, "forbidden", "this link is for another consultation");
    if (s.status != "completed") throw ApiError(409, "session_not_completed", "a consultation is rated after it has ended");
    auto body = req.json_body();
    const int score = require_int(body, "score", 1, 5);
    const auto comment = optional_string(body, "comment", 1000);
    if (!store::RatingStore(deps.db).add(s.id, s.patient_id, score, comment))
        throw ApiError(409, "already_rated", "this consultation has been rated already");
    deps.metrics.count("consult_patient_ratings_total", {{"score", std::to_string(score)}});
    audit(deps, c, "session.rated", s.id);
    return Response::json(201, {{"session_id", s.id}, {"score", score}});
}

void add_session_routes(Router& r, const SessionDeps& deps) {
    deps.metrics.set_help("consult_patient_ratings_total", "counter", "Patients' ratings of their consultations, by score (1-5).");
    const std::string base = kBase;
    auto bind = [deps](Response (*f)(const SessionDeps&, const Request&)) {
        return [deps, f](const Request& q) { return f(deps, q); };
    };
    r.add("POST", base, bind(create_session));
    r.add("GET", base, bind(list_sessions));
    r.add("GET", base + "/{id}", bind(get_session));
    r.add("POST", base + "/{id}/token", bind(issue_token));
    r.add("POST", base + "/{id}/join", bind(join_session));
    r.add("POST", base + "/{id}/admit", [deps](const Request& q) {
        return change_status(deps, q, SessionStatus::InProgress, "session.admit");
    });
    r.add("POST", base + "/{id}/end", [deps](const Request& q) {
        return change_status(deps, q, SessionStatus::Completed, "session.end");
    });
    r.add("POST", base + "/{id}/cancel", [deps](const Request& q) {
        return change_status(deps, q, SessionStatus::Cancelled, "session.cancel");
    });
    r.add("POST", base + "/{id}/rating", bind(rate_session));
    r.add("GET", "/api/patient/link", bind(patient_link));
}

}  // namespace consult::http
