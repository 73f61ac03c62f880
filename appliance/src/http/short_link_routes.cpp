// /j/<code>: the short invite link a receptionist can read out, and the one the QR code
// carries. A good code for a consultation still open opens the patient's page with a
// fresh token; anything else gets a plain page that says what to do. Tried at most five
// times a minute from one address: 40 bits are not guessed at that pace.
#include "appliance/domain/session_lifecycle.hpp"
#include "appliance/domain/short_code.hpp"
#include "appliance/http/rate_limit.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/log.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/store/short_link_store.hpp"

#include <memory>

namespace consult::http {

namespace {

constexpr int kTriesPerMinute = 5;

Response page(int status, const std::string& title, const std::string& text) {
    Response r = Response::text(status, "text/html; charset=utf-8",
                                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                                "<title>" + title + "</title><style>body{font:1.25rem/1.5 system-ui,sans-serif;"
                                "margin:2rem auto;max-width:32rem;padding:0 1rem}</style></head><body><h1>" +
                                    title + "</h1><p>" + text + "</p></body></html>");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

// A person's browser gets a page that says what to do; anything else the API's error.
bool wants_page(const Request& req) { return req.header("accept").value_or("").find("text/html") != std::string::npos; }

Response not_valid(const Request& req) {
    if (!wants_page(req)) throw ApiError(404, "link_not_valid", "no open consultation has this code");
    return page(404, "This link does not open a consultation",
                "The link is not complete, or its consultation has ended. Please check the link in your "
                "message, or call the clinic for a new one.");
}

}  // namespace

void add_short_link_routes(Router& router, const SessionDeps& deps) {
    auto limiter = std::make_shared<RateLimiter>(kTriesPerMinute, kTriesPerMinute);
    router.add("GET", "/j/{code}", [deps, limiter](const Request& req) {
        if (int wait = limiter->retry_after(req.client_address); wait > 0) {
            if (!wants_page(req))
                throw ApiError(429, "rate_limited", "too many links tried; try again in " + std::to_string(wait) + " s")
                    .with_header("Retry-After", std::to_string(wait));
            Response r = page(429, "Please wait a moment",
                              "Too many links were tried from here. Try again in " + std::to_string(wait) + " seconds.");
            r.headers.emplace_back("Retry-After", std::to_string(wait));
            return r;
        }
        auto code = domain::normalize_short_code(req.params.at("code"));
        if (!code) return not_valid(req);
        auto session_id = store::ShortLinkStore(deps.db).session_for(*code);
        auto s = session_id ? store::SessionStore(deps.db).find(*session_id) : std::nullopt;
        if (!s) return not_valid(req);
        auto status = domain::parse_session_status(s->status);
        if (!status || domain::is_closed(*status)) return not_valid(req);
        auto t = deps.tokens.issue(s->patient_id, tokens::Role::Patient, s->id, deps.sessions.token_ttl_seconds,
                                   tokens::unix_now());
        if (!t) {
            log::error("short link: cannot issue a patient token: " + t.error(), {{"SESSION_ID", s->id}});
            throw ApiError(503, "unavailable", "the appliance could not open the consultation just now");
        }
        // Relative to this address: the patient stays on the host (and path prefix) they came by.
        Response r = Response::text(303, "text/plain; charset=utf-8", "");
        r.headers.emplace_back("Location", "../v/" + s->room_name + "#t=" + t->token);
        r.headers.emplace_back("Cache-Control", "no-store");
        r.headers.emplace_back("Referrer-Policy", "no-referrer");
        return r;
    });
}

}  // namespace consult::http
