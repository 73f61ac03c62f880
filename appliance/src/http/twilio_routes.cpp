// Twilio's delivery reports, the ICE servers for the patient page, and the "doctor
// is ready" message.
#include "appliance/http/auth.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/input/json_input.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/messaging.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/twilio/message_status.hpp"
#include "appliance/twilio/signature.hpp"

#include <charconv>

namespace consult::http {

namespace {

using tokens::Role;

notify::Messaging& messaging(const TwilioDeps& deps) {
    if (!deps.messaging) throw ApiError(503, "messaging_unavailable", "messaging is not running on this appliance");
    return *deps.messaging;
}

std::optional<int> parse_code(const std::string& s) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

bool is_form(const Request& req) {
    const std::string type = req.header("content-type").value_or("");
    return type.rfind("application/x-www-form-urlencoded", 0) == 0;
}

Response message_status(const TwilioDeps& deps, const Request& req) {
    auto signature = req.header("x-twilio-signature");
    if (!signature || signature->empty())
        throw ApiError(400, "signature_missing", "this endpoint takes only requests signed by Twilio");
    auto& m = messaging(deps);
    if (!m.webhook_token())
        throw ApiError(500, "webhook_not_configured", "the appliance has no twilio-auth-token to check signatures with");
    twilio::SignedRequest signed_request;
    std::string base = deps.public_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    signed_request.url = base + req.path + (req.raw_query.empty() ? "" : "?" + req.raw_query);
    signed_request.body_is_form = is_form(req);
    if (signed_request.body_is_form) signed_request.params = twilio::parse_form(req.body);
    else signed_request.body = req.body;
    if (!twilio::signature_valid(*m.webhook_token(), signed_request, *signature)) {
        deps.metrics.count("consult_twilio_webhook_refusals_total", {{"reason", "signature"}});
        log::warning("refused a Twilio callback with a bad signature", {{"CLIENT", req.client_address}});
        throw ApiError(403, "signature_invalid", "the X-Twilio-Signature does not match this request");
    }
    auto report = twilio::read_status_callback(signed_request);
    if (!report) throw ApiError(400, "invalid_callback", report.error());
    const bool ours = m.notifier().message_status(report->sid, report->status, parse_code(report->error_code), report->error_message);
    deps.metrics.count("consult_twilio_status_callbacks_total", {{"status", ours ? report->status : "unknown_sid"}});
    // Twilio only needs a 2xx; an unknown SID is acknowledged too, so it is not retried.
    return Response::json(200, {{"received", true}});
}

Response ice_servers(const TwilioDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Patient, Role::Admin});
    if (c.is(Role::Patient)) {
        // TURN credentials only while the patient's consultation is open.
        auto s = store::SessionStore(deps.db).find(c.claims.session_id.value_or(""));
        if (!s) throw ApiError(401, "session_ended", "this link is not for a consultation here");
        require_session_access(deps, c, *s, true);
    }
    auto list = messaging(deps).ice_servers().current(std::time(nullptr));
    return Response::json(200, twilio::to_json(list));
}

Response notify_ready(const TwilioDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = store::SessionStore(deps.db).find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    require_session_access(deps, c, *s, false);
    if (s->status != "scheduled" && s->status != "waiting")
        throw ApiError(409, "session_not_open", "the session is " + s->status + "; the patient is not told");
    auto state = messaging(deps).notifier().doctor_ready(s->id);
    audit(deps, c, "session.notify_ready", s->id, {{"channel", state.value("channel", "none")}});
    return Response::json(200, {{"ready", state}});
}

Response resend_invite(const TwilioDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = store::SessionStore(deps.db).find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    require_session_access(deps, c, *s, false);
    const auto channel = require_enum(req.json_body(), "channel", {"sms", "email"});
    try {
        auto state = messaging(deps).notifier().resend_invite(
            s->id, channel == "sms" ? notify::Channel::Sms : notify::Channel::Email);
        audit(deps, c, "session.invite_resend", s->id, {{"channel", channel}});
        return Response::json(200, {{"invite", state}});
    } catch (const notify::InviteRefused& e) {
        throw ApiError(e.code == "channel_unavailable" ? 422 : 409, e.code, e.what(),
                       e.code == "channel_unavailable" ? "channel" : "");
    }
}

Response session_messages(const TwilioDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = store::SessionStore(deps.db).find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    require_session_access(deps, c, *s, false);
    return Response::json(200, messaging(deps).notifier().session_messages(s->id));
}

}  // namespace

void add_twilio_webhook_routes(Router& r, const TwilioDeps& deps) {
    r.add("POST", "/api/webhooks/twilio/message-status", [deps](const Request& q) { return message_status(deps, q); });
}

void add_twilio_routes(Router& r, const TwilioDeps& deps) {
    const std::string sessions = "/api/video-consultations/sessions";
    r.add("GET", "/api/ice-servers", [deps](const Request& q) { return ice_servers(deps, q); });
    r.add("POST", sessions + "/{id}/notify-ready", [deps](const Request& q) { return notify_ready(deps, q); });
    r.add("POST", sessions + "/{id}/invite", [deps](const Request& q) { return resend_invite(deps, q); });
    r.add("GET", sessions + "/{id}/messages", [deps](const Request& q) { return session_messages(deps, q); });
}

}  // namespace consult::http
