#include "appliance/http/cloud_routes.hpp"

#include "appliance/http/auth.hpp"

namespace consult::http {

void add_public_cloud_routes(Router& router, cloud::CloudSync& sync) {
    // No token: like /healthz, the kiosk must be able to say "re-pairing needed" before anyone signs in.
    // It carries no secret and no patient data.
    router.add("GET", "/api/system/cloud", [&sync](const Request&) { return Response::json(200, sync.status()); });
}

void add_cloud_routes(Router& router, const Access& access, cloud::CloudSync& sync) {
    add_public_cloud_routes(router, sync);
    router.add("POST", "/api/system/cloud/sync", [access, &sync](const Request& req) {
        Caller c = authenticate(access, req, {tokens::Role::Admin});
        audit(access, c, "cloud.sync", std::nullopt);
        sync.sync_now();
        return Response::json(202, sync.status());
    });
}

}  // namespace consult::http
