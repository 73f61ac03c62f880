// GET /api/system/fleet-status (admin): the box's fleet report as it would go to the cloud
// now (consult_device_status), and whether the last one is still waiting to go.
#include "appliance/http/routes.hpp"

#include "appliance/http/auth.hpp"

namespace consult::http {

void add_fleet_status_route(Router& router, const Access& access, std::function<nlohmann::json()> report) {
    router.add("GET", "/api/system/fleet-status", [access, report](const Request& req) {
        authenticate(access, req, {tokens::Role::Admin});
        return Response::json(200, report());
    });
}

}  // namespace consult::http
