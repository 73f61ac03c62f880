// /api/kiosk/setup: the first-start screen of a box that clinic IT gave no provisioning
// file. Until an admin PIN exists the kiosk shows it instead of the sign-in: set the
// admin PIN, choose the time zone, see the network. Only on the box's own screen
// (loopback), and only while no admin PIN is set: afterwards the same settings need the
// admin PIN (or a provisioning file), so nobody can set the box up a second time.
//
//   GET  /api/kiosk/setup  {needed, time_zone, time_zones[], network{online, addresses[]}}
//   POST /api/kiosk/setup  {admin_pin, time_zone}: 200 {needed: false}; 409 setup_done;
//                          422 invalid_pin | invalid_time_zone
// The zone goes to <state>/system.conf, which consult-system-settings applies as root
// (at once on the image, through consult-system-settings.path; at every boot anyway).
#include "appliance/http/routes.hpp"

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

}  // namespace

void add_setup_routes(Router& r, const SystemDeps& deps) {
    r.add("GET", "/api/kiosk/setup", [deps](const Request& req) {
        if (!from_loopback(req)) throw ApiError(403, "kiosk_only", "setup is shown only on the appliance's own screen");
        auto nets = addresses();
        const bool online = !nets.empty();
        return Response::json(200, {{"needed", needed(deps.db)},
                                    {"time_zone", provision::system_settings(deps.state_dir).time_zone.value_or("UTC")},
                                    {"time_zones", time_zones()},
                                    {"network", {{"online", online}, {"addresses", std::move(nets)}}}});
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
                try {
                    reply(finish_setup(deps, zone, *hash, client));
                } catch (const ApiError& e) {
                    reply(error_response(e.status(), e.code(), e.what(), e.field()));
                } catch (const std::exception& e) {
                    log::error(std::string("setup failed: ") + e.what());
                    reply(error_response(500, "internal_error", "something went wrong inside the appliance"));
                }
            });
        });
    });
}

}  // namespace consult::http
