// The kiosk's own routes: who can sign in, PIN sign-in (doctor and admin), token
// renewal, the day view, and consultation notes after the call.
#pragma once

#include "appliance/http/route_deps.hpp"
#include "appliance/http/router.hpp"

namespace consult::http {

void add_kiosk_routes(Router& router, const KioskDeps& deps);
// Only the routes used before anyone is signed in (what add_kiosk_routes also adds).
void add_kiosk_sign_in_routes(Router& router, const KioskDeps& deps);

}  // namespace consult::http
