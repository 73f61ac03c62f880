// Route groups; each adds its routes to the router and borrows the context.
#pragma once

#include "appliance/context.hpp"
#include "appliance/http/router.hpp"

namespace consult::http {

void add_system_routes(Router& router, ApplianceContext& ctx);
void add_static_routes(Router& router);
void add_session_routes(Router& router, ApplianceContext& ctx);
void add_schedule_routes(Router& router, ApplianceContext& ctx);
void add_device_routes(Router& router, ApplianceContext& ctx);           // camera/mic/speaker choice, preview
void add_twilio_routes(Router& router, ApplianceContext& ctx);           // need a token
void add_twilio_webhook_routes(Router& router, ApplianceContext& ctx);   // signed by Twilio instead

}  // namespace consult::http
