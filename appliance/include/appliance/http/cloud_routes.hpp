// GET /api/system/cloud (what the kiosk and `consultctl status` show: sync on or off,
// last pull/push, outbox depth, parked rows, re-pairing needed) and
// POST /api/system/cloud/sync (admin: run a sync now).
#pragma once

#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/http/route_deps.hpp"
#include "appliance/http/router.hpp"

namespace consult::http {

void add_cloud_routes(Router& router, const Access& access, cloud::CloudSync& sync);
// Only the token-free GET (what add_cloud_routes also adds).
void add_public_cloud_routes(Router& router, cloud::CloudSync& sync);

}  // namespace consult::http
