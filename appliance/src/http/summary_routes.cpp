// The doctor's summary of a consultation for the patient, and the page that shows it.
//   PUT /api/video-consultations/sessions/{id}/summary   {text, send?}: the doctor writes it
//       after the call (the private notes stay with the clinic) and may send it at once;
//   GET /s/<ref>, POST /s/<ref> (code=…): the page an SMS links to. It shows the summary
//       only after the patient types the code from their invite; five tries a minute per
//       address, and after ten wrong codes the page closes for good (the clinic sends it again
//       another way). Plain HTML, no script: it opens in any browser.
#include "appliance/domain/short_code.hpp"
#include "appliance/http/auth.hpp"
#include "appliance/http/rate_limit.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/message_text.hpp"
#include "appliance/notify/messaging.hpp"
#include "appliance/store/message_targets.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/store/short_link_store.hpp"
#include "appliance/store/visit_summary_store.hpp"
#include "appliance/twilio/signature.hpp"

#include <memory>

namespace consult::http {

namespace {

using tokens::Role;

constexpr int kTriesPerMinute = 5;
constexpr int kWrongCodesAllowed = 10;
constexpr size_t kMaxSummary = 4000;

std::string escape_html(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += ch;
        }
    }
    return out;
}

// A whole page; `body` is HTML already escaped. Large type, 48 px controls, no script.
Response page(int status, const std::string& title, const std::string& body) {
    Response r = Response::text(
        status, "text/html; charset=utf-8",
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + escape_html(title) +
            "</title><style>body{font:1.25rem/1.5 system-ui,sans-serif;margin:2rem auto;max-width:36rem;padding:0 1rem;"
            "color:#111;background:#fff}label{display:block;margin:1rem 0 .25rem}"
            "input,button{font:inherit;min-height:48px;box-sizing:border-box}input{width:100%;padding:.5rem}"
            "button{margin-top:1rem;min-width:48px;padding:.5rem 1.5rem;background:#0b57d0;color:#fff;border:0;"
            "border-radius:.5rem}.summary{white-space:pre-wrap;border-left:4px solid #0b57d0;padding-left:1rem}"
            ".problem{color:#a50e0e}</style></head><body><main><h1>" + escape_html(title) + "</h1>" + body +
            "</main></body></html>");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Robots-Tag", "noindex");
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    return r;
}

Response code_form(int status, const std::string& problem) {
    std::string body;
    if (!problem.empty()) body += "<p class=\"problem\" role=\"alert\">" + escape_html(problem) + "</p>";
    body += "<p>Your doctor wrote a summary of your video consultation. To see it, type the code from the "
            "message that invited you (8 letters and digits, e.g. K7QX 3MPA).</p>"
            "<form method=\"post\"><label for=\"code\">Code from your invite</label>"
            "<input id=\"code\" name=\"code\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" "
            "maxlength=\"20\" required><button type=\"submit\">Show the summary</button></form>";
    return page(status, "Your consultation summary", body);
}

// A person's browser gets pages; anything else the API's errors.
bool wants_page(const Request& req) { return req.header("accept").value_or("").find("text/html") != std::string::npos; }

Response gone(const Request& req) {
    if (!wants_page(req)) throw ApiError(404, "summary_not_found", "no such summary, or its page is closed");
    return page(404, "This summary cannot be shown",
                "<p>The link is not complete, or the page was closed after too many wrong codes. Please call the "
                "clinic: they can send the summary again.</p>");
}

Response save_summary(const SessionDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = store::SessionStore(deps.db).find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    require_session_access(deps, c, *s, false);
    auto body = req.json_body();
    const std::string text = require_string(body, "text", kMaxSummary);
    const bool send = optional_bool(body, "send", false);
    if (s->status != "completed")
        throw ApiError(409, "session_not_completed", "a summary is written after the call; the session is " + s->status);
    auto v = store::VisitSummaryStore(deps.db).save(s->id, text);
    audit(deps, c, send ? "summary.send" : "summary.save", s->id);
    nlohmann::json out{{"session_id", s->id}, {"text", v.text}, {"updated_at", v.updated_at},
                       {"page", deps.public_base_url + "/s/" + v.ref}, {"sent", nullptr}};
    if (send) {
        if (!deps.messaging) out["sent"] = {{"channel", "none"}, {"status", "not_sent"},
                                            {"reason", "messages to patients do not run on this appliance"}};
        else out["sent"] = deps.messaging->notifier().visit_summary(s->id);
    }
    return Response::json(200, out);
}

Response show(const SessionDeps& deps, const store::VisitSummary& v) {
    auto r = store::find_recipient(deps.db, v.session_id);
    const std::string when = r ? notify::format_when(domain::parse_iso(r->starts_at).value_or(0)) : "";
    std::string body = "<p>" + escape_html(r ? r->clinic_name : std::string("Your clinic")) + ", video consultation of " +
                       escape_html(when) + ".</p><div class=\"summary\">" + escape_html(v.text) +
                       "</div><p>If you have questions, contact the clinic the usual way.</p>";
    return page(200, "Your consultation summary", body);
}

}  // namespace

void add_summary_routes(Router& router, const SessionDeps& deps) {
    router.add("PUT", "/api/video-consultations/sessions/{id}/summary",
               [deps](const Request& req) { return save_summary(deps, req); });
    router.add("GET", "/s/{ref}", [deps](const Request& req) {
        auto v = store::VisitSummaryStore(deps.db).by_ref(req.params.at("ref"));
        if (!v || v->wrong_codes >= kWrongCodesAllowed) return gone(req);
        return code_form(200, "");
    });
    auto limiter = std::make_shared<RateLimiter>(kTriesPerMinute, kTriesPerMinute);
    router.add("POST", "/s/{ref}", [deps, limiter](const Request& req) {
        if (int wait = limiter->retry_after("summary@" + req.client_address); wait > 0) {
            if (!wants_page(req))
                throw ApiError(429, "rate_limited", "too many tries; try again in " + std::to_string(wait) + " s")
                    .with_header("Retry-After", std::to_string(wait));
            Response r = code_form(429, "Too many tries from here. Please wait " + std::to_string(wait) +
                                            " seconds and try again.");
            r.headers.emplace_back("Retry-After", std::to_string(wait));
            return r;
        }
        store::VisitSummaryStore summaries(deps.db);
        auto v = summaries.by_ref(req.params.at("ref"));
        if (!v || v->wrong_codes >= kWrongCodesAllowed) return gone(req);
        std::string typed;
        for (const auto& [name, value] : twilio::parse_form(req.body))
            if (name == "code") typed = value;
        const auto code = domain::normalize_short_code(typed);
        const auto expected = store::ShortLinkStore(deps.db).find_code(v->session_id);
        if (!code || !expected || *code != *expected) {
            summaries.wrong_code(v->ref);
            log::warning("summary page: a wrong code", {{"SESSION_ID", v->session_id}});
            if (v->wrong_codes + 1 >= kWrongCodesAllowed) return gone(req);
            if (!wants_page(req)) throw ApiError(403, "code_mismatch", "that is not the code from the invite");
            return code_form(403, "That code does not match. Please check the message that invited you.");
        }
        auto r = store::find_recipient(deps.db, v->session_id);
        Caller patient{{r ? r->patient_id : std::string("patient"), Role::Patient, v->session_id, 0, 0, {}},
                       req.client_address};
        audit(deps, patient, "summary.read", v->session_id);
        return show(deps, *v);
    });
}

}  // namespace consult::http
