// /api/kiosk/setup: the first-start screen of a box that clinic IT gave no provisioning
// file. Until an admin PIN exists the kiosk shows it instead of the sign-in: set the
// admin PIN, choose the time zone, see the network. Only on the box's own screen
// (loopback), and only while no admin PIN is set: afterwards the same settings need the
// admin PIN (or a provisioning file), so nobody can set the box up a second time.
//
//   GET  /api/kiosk/setup  {needed, time_zone, time_zones[], network{online, addresses[]}}
//   POST /api/kiosk/setup  {admin_pin, time_zone}: 200 {needed: false}; 409 setup_done;
//                          422 invalid_pin | invalid_time_zone
//   POST /api/kiosk/setup/pair {code}: the clinic cloud's code from clinic IT, traded once
//                          for the box's clinic and device token (cloud/pairing_code.hpp):
//                          200 {paired, clinic_id, device_id}; 409 setup_done |
//                          pairing_unavailable | already_paired | pairing_in_progress;
//                          422 invalid_code | code_not_accepted; 502/503 from the cloud
// The zone goes to <state>/system.conf, which consult-system-settings applies as root
// (at once on the image, through consult-system-settings.path; at every boot anyway).
#include "appliance/http/routes.hpp"

#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/cloud/pairing_code.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/log.hpp"
#include "appliance/off_loop.hpp"
#include "appliance/provision.hpp"
#include "appliance/store/pin_store.hpp"
#include "appliance/store/records.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <fstream>
#include <set>

namespace consult::http {

namespace {

// The zones a clinic picks from: zone1970.tab's, plus UTC; empty when tzdata is missing
// (the screen then keeps the current zone).
std::vector<std::string> time_zones(const std::filesystem::path& zoneinfo = "/usr/share/zoneinfo") {
    std::set<std::string> zones{"UTC"};
    std::ifstream tab(zoneinfo / "zone1970.tab");
    for (std::string line; std::getline(tab, line) && zones.size() < 1000;) {
        if (line.empty() || line[0] == '#') continue;
        std::size_t a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
        if (b == std::string::npos) continue;
        const std::size_t c = line.find('\t', b + 1);
        std::string zone = line.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
        if (!provision::time_zone_problem(zone, zoneinfo)) zones.insert(std::move(zone));
    }
    if (zones.size() == 1 && provision::time_zone_problem("UTC", zoneinfo)) return {};
    return {zones.begin(), zones.end()};
}

// The box's addresses on its network interfaces (not loopback), for "network status".
nlohmann::json addresses() {
    nlohmann::json out = nlohmann::json::array();
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (ifaddrs* i = list; i && out.size() < 16; i = i->ifa_next) {
        if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
        char text[INET6_ADDRSTRLEN] = {};
        const int family = i->ifa_addr->sa_family;
        if (family == AF_INET)
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
        else if (family == AF_INET6)
            ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, text, sizeof text);
        else continue;
        out.push_back({{"interface", i->ifa_name}, {"address", text}});
    }
    ::freeifaddrs(list);
    return out;
}

// A deferred answer: what `finish` returns, or the error it throws, as the router would.
void answer_with(const std::function<void(Response)>& reply, const char* what, const std::function<Response()>& finish) {
    try {
        reply(finish());
    } catch (const ApiError& e) {
        reply(error_response(e.status(), e.code(), e.what(), e.field()));
    } catch (const std::exception& e) {
        log::error(std::string("setup: ") + what + " failed: " + e.what());
        reply(error_response(500, "internal_error", "something went wrong inside the appliance"));
    }
}

bool needed(store::Database& db) { return !store::PinStore(db).hash_of(store::PinStore::kAdmin).has_value(); }

// Back on the main loop with the PIN's hash: the zone first, so a box that cannot write
// it keeps no PIN and shows the screen again.
Response finish_setup(const SystemDeps& deps, const std::string& zone, const std::string& hash,
                      const std::string& client) {
    if (!needed(deps.db))
        throw ApiError(409, "setup_done", "this appliance is set up already; its settings need the admin PIN");
    provision::Provision p;
    p.system = provision::System{zone, std::nullopt};
    if (auto done = provision::apply(p, deps.state_dir); !done) {
        log::error("setup: the time zone could not be stored: " + done.error());
        throw ApiError(503, "setup_not_stored", "the settings could not be stored; try again");
    }
    store::PinStore(deps.db).set(store::PinStore::kAdmin, hash);
    store::write_audit(deps.db, {"kiosk-setup", "system", "kiosk.setup", std::nullopt, client, {{"time_zone", zone}}});
    log::info("set up on the kiosk: admin PIN set, time zone " + zone);
    return Response::json(200, {{"needed", false}, {"time_zone", zone}});
}

bool pairing_available(const SetupDeps& deps) { return !deps.cloud_url.empty() && !deps.anon_key.empty(); }

// The cloud's answer to a claim, back on the main loop: stored like a provisioning file's
// [cloud] (config and credentials, all or nothing), then sync starts for that clinic.
Response finish_pairing(const SetupDeps& deps, const net::HttpResponse& answer, const std::string& client) {
    using Why = cloud::ClaimRefused::Why;
    auto claimed = cloud::parse_claim_reply(answer);
    if (auto* no = std::get_if<cloud::ClaimRefused>(&claimed)) {
        log::warning("setup: pairing by code refused: " + no->detail);
        store::write_audit(deps.db, {"kiosk-setup", "system", "kiosk.setup.pair", std::nullopt, client,
                                     {{"result", "refused"}, {"detail", no->detail}}});
        switch (no->why) {
        case Why::WrongCode:
            throw ApiError(422, "code_not_accepted", "The clinic cloud did not accept this code: it is wrong, used or "
                                                     "expired. Ask clinic IT for a new one.", "code");
        case Why::KeyRefused:
            throw ApiError(502, "cloud_refused", "The clinic cloud refused this appliance's project key ([cloud] anon_key).");
        case Why::Unreachable:
            throw ApiError(503, "cloud_unreachable", "The clinic cloud could not be reached. Check the network and try again.");
        case Why::BadAnswer:
            break;
        }
        throw ApiError(502, "cloud_bad_answer", "The clinic cloud's answer was not a pairing. Ask clinic IT to check its setup.");
    }
    const auto& c = std::get<cloud::Claimed>(claimed);
    provision::Provision p;
    p.cloud = provision::Cloud{deps.cloud_url, c.clinic_id, deps.anon_key, c.device_token};
    if (auto done = provision::apply(p, deps.state_dir); !done) {
        log::error("setup: the pairing could not be stored: " + done.error());
        throw ApiError(503, "setup_not_stored", "The code was accepted but the pairing could not be stored; ask clinic "
                                                "IT for a new code.");
    }
    deps.sync.pair_with(deps.cloud_url, c.clinic_id);
    store::write_audit(deps.db, {"kiosk-setup", "system", "kiosk.setup.pair", std::nullopt, client,
                                 {{"result", "paired"}, {"clinic_id", c.clinic_id}, {"device_id", c.device_id}}});
    log::info("set up on the kiosk: paired with clinic " + c.clinic_id + " as device " + c.device_id);
    return Response::json(200, {{"paired", true}, {"clinic_id", c.clinic_id}, {"device_id", c.device_id}});
}

}  // namespace

void add_setup_routes(Router& r, const SetupDeps& deps) {
    r.add("GET", "/api/kiosk/setup", [deps](const Request& req) {
        if (!from_loopback(req)) throw ApiError(403, "kiosk_only", "setup is shown only on the appliance's own screen");
        auto nets = addresses();
        const bool online = !nets.empty();
        return Response::json(200, {{"needed", needed(deps.db)},
                                    {"time_zone", provision::system_settings(deps.state_dir).time_zone.value_or("UTC")},
                                    {"time_zones", time_zones()},
                                    {"network", {{"online", online}, {"addresses", std::move(nets)}}},
                                    {"pairing", {{"available", pairing_available(deps)}, {"paired", deps.sync.enabled()}}}});
    });
    auto client = std::make_shared<net::HttpClient>();
    auto claiming = std::make_shared<bool>(false);
    r.add("POST", "/api/kiosk/setup/pair", [deps, client, claiming](const Request& req) {
        if (!from_loopback(req)) throw ApiError(403, "kiosk_only", "pairing is done only on the appliance's own screen");
        if (!needed(deps.db))
            throw ApiError(409, "setup_done", "this appliance is set up already; pair it with consultctl pair");
        if (!pairing_available(deps))
            throw ApiError(409, "pairing_unavailable", "this appliance does not know its clinic's cloud project; pair it "
                                                       "with a provisioning file or consultctl pair");
        if (deps.sync.enabled()) throw ApiError(409, "already_paired", "this appliance is paired with its clinic cloud");
        const auto typed = require_string(req.json_body(), "code", 64);
        const auto code = cloud::normalize_pairing_code(typed);
        if (!code)
            throw ApiError(422, "invalid_code", "a pairing code is 10 letters and digits, as clinic IT gave it", "code");
        if (*claiming) throw ApiError(409, "pairing_in_progress", "a code is being checked with the clinic cloud");
        *claiming = true;
        return Response::later([deps, client, claiming, code = *code, from = req.client_address](std::function<void(Response)> reply) {
            client->send(cloud::claim_request(deps.cloud_url, deps.anon_key, code),
                         [deps, claiming, from, reply](net::HttpResponse answer) {
                *claiming = false;
                answer_with(reply, "pairing", [&] { return finish_pairing(deps, answer, from); });
            });
        });
    });
    r.add("POST", "/api/kiosk/setup", [deps](const Request& req) {
        if (!from_loopback(req)) throw ApiError(403, "kiosk_only", "setup is done only on the appliance's own screen");
        if (!needed(deps.db))
            throw ApiError(409, "setup_done", "this appliance is set up already; its settings need the admin PIN");
        const auto body = req.json_body();
        const auto pin = require_string(body, "admin_pin", 64);
        if (!kiosk::valid_pin(pin)) throw ApiError(422, "invalid_pin", "the admin PIN is 4 to 8 digits", "admin_pin");
        const auto zone = require_string(body, "time_zone", 64);
        if (auto why = provision::time_zone_problem(zone))
            throw ApiError(422, "invalid_time_zone", "not a time zone this appliance knows: " + *why, "time_zone");
        // The KDF runs on GLib's thread pool; the store is touched only back on the loop,
        // where a second screen's setup that finished first wins and this one is refused.
        return Response::later([deps, pin, zone, client = req.client_address](std::function<void(Response)> reply) {
            auto hash = std::make_shared<std::string>();
            run_off_loop([pin, hash] { *hash = kiosk::hash_pin(pin); return true; },
                         [deps, zone, client, hash, reply](bool) {
                answer_with(reply, "setup", [&] { return finish_setup(deps, zone, *hash, client); });
            });
        });
    });
}

}  // namespace consult::http
