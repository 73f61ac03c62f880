// /api/system/update/stick: an update from a USB stick, from the kiosk's Settings (admin).
// consultd only writes the request and reads root's result (appliance/update/stick.hpp);
// consult-update-stick.service, as root, mounts the stick read-only, checks the bundles and
// installs one through the same path as `consultctl update install`.
//
//   POST {action: "look"}                  202 {request}; 409 stick_busy while the last one runs
//   POST {action: "install", file: NAME}   202 {request}; 409 consultation_running
//   GET                                    {request, result, waiting_seconds}: result is null
//                                          until root answered this request
#include "appliance/http/routes.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/http/auth.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/log.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/update/stick.hpp"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdio>

namespace consult::http {

namespace {

using tokens::Role;
namespace fs = std::filesystem;

// How long a request may go unanswered before another is taken instead of refused: a look
// checks a few signatures, an install writes a whole slot.
constexpr long kLookSeconds = 5 * 60, kInstallSeconds = 60 * 60;

std::string new_id() {
    unsigned char raw[8];
    if (RAND_bytes(raw, sizeof raw) != 1) throw ApiError(503, "no_randomness", "try again");
    char hex[17];
    for (std::size_t i = 0; i < sizeof raw; ++i) std::snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return std::string(hex, 16);
}

struct Current {
    std::optional<update::StickRequest> request;
    std::optional<update::StickResult> result;   // root's answer to `request`, if any
    long waiting_seconds = 0;                     // since the request, while unanswered
};

// What the files say. A file that is not what its writer writes is logged and taken as none:
// the kiosk then sees an unanswered request, never a made-up answer.
Current current(const fs::path& dir) {
    Current c;
    auto parse = [](const fs::path& file, auto from_json) -> decltype(from_json(nlohmann::json())) {
        auto text = update::read_stick_file(file);
        if (!text) return unexpected(text.error());
        if (!*text) return unexpected(std::string());
        return from_json(nlohmann::json::parse(**text, nullptr, false));
    };
    auto request = parse(dir / "request", update::stick_request_from_json);
    if (!request) {
        if (!request.error().empty()) log::warning("the USB-stick request file is refused: " + request.error());
        return c;
    }
    c.request = *request;
    auto result = parse(dir / "result", update::stick_result_from_json);
    if (!result && !result.error().empty()) log::warning("the USB-stick result file is refused: " + result.error());
    if (result && result->id == c.request->id) {
        c.result = *result;
    } else if (auto at = domain::parse_iso(c.request->at)) {
        c.waiting_seconds = std::max<long>(0, long(std::time(nullptr) - *at));
    }
    return c;
}

nlohmann::json to_json(const Current& c) {
    return {{"request", c.request ? update::to_json(*c.request) : nlohmann::json(nullptr)},
            {"result", c.result ? update::to_json(*c.result) : nlohmann::json(nullptr)},
            {"waiting_seconds", c.waiting_seconds}};
}

bool still_running(const Current& c) {
    if (!c.request) return false;
    if (c.result) return !c.result->final();
    const long limit = c.request->action == update::StickRequest::Action::Look ? kLookSeconds : kInstallSeconds;
    return c.waiting_seconds < limit;
}

Response post(const DeviceDeps& deps, const Request& req) {
    const Caller caller = authenticate(deps, req, {Role::Admin});
    const auto body = req.json_body();
    const std::string action = require_string(body, "action", 16);
    update::StickRequest r;
    if (action == "look") {
        r.action = update::StickRequest::Action::Look;
    } else if (action == "install") {
        r.action = update::StickRequest::Action::Install;
        r.file = require_string(body, "file", 100);
        if (!update::valid_bundle_name(r.file))
            throw ApiError(422, "invalid_field", "file must be the name of a bundle (.raucb) the stick holds", "file");
        const bool busy = deps.rooms.running() || deps.rooms.occupied() > 0 ||
                          !store::SessionStore(deps.db).list({.status = "in-progress"}).empty();
        if (busy)
            throw ApiError(409, "consultation_running", "an update is not installed while a consultation is running: try again after it");
    } else {
        throw ApiError(422, "invalid_field", "action must be look or install", "action");
    }
    const fs::path dir = update::stick_dir(deps.state_dir);
    if (still_running(current(dir)))
        throw ApiError(409, "stick_busy", "the box is still working on the last USB-stick request: wait for it");
    std::error_code ec;
    fs::create_directories(dir, ec);
    struct stat st {};
    if (ec || ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw ApiError(500, "stick_unavailable", "the folder for USB-stick requests cannot be made");
    r.id = new_id();
    r.at = domain::now_iso();
    if (auto saved = update::write_whole_file(dir / "request", update::to_json(r).dump() + "\n", 0640); !saved)
        throw ApiError(500, "stick_unavailable", "the request could not be written: " + saved.error());
    audit(deps, caller, r.action == update::StickRequest::Action::Look ? "update.stick_look" : "update.stick_install",
          std::nullopt);
    if (r.action == update::StickRequest::Action::Install) log::info("an update from a USB stick was asked for: " + r.file);
    Current c;
    c.request = r;
    return Response::json(202, to_json(c));
}

}  // namespace

void add_update_stick_routes(Router& r, const DeviceDeps& deps) {
    r.add("GET", "/api/system/update/stick", [deps](const Request& req) {
        authenticate(deps, req, {Role::Admin});
        auto resp = Response::json(200, to_json(current(update::stick_dir(deps.state_dir))));
        resp.headers.emplace_back("Cache-Control", "no-store");
        return resp;
    });
    r.add("POST", "/api/system/update/stick", [deps](const Request& req) { return post(deps, req); });
}

}  // namespace consult::http
