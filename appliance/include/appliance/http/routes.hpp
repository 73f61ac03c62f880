// Route groups; each adds its routes to the router, given the parts it uses (route_deps.hpp).
#pragma once

#include "appliance/http/route_deps.hpp"
#include "appliance/http/router.hpp"

namespace consult::http {

void add_system_routes(Router& router, const SystemDeps& deps);
void add_activity_route(Router& router, const SystemDeps& deps);     // admin: is anyone in a consultation?
// Admin: the box's fleet health report (fleet/status_reporter.hpp), as `report` builds it.
void add_fleet_status_route(Router& router, const Access& access, std::function<nlohmann::json()> report);
void add_setup_routes(Router& router, const SetupDeps& deps);             // the first-start screen, no admin PIN yet
void add_static_routes(Router& router);
void add_session_routes(Router& router, const SessionDeps& deps);
void add_short_link_routes(Router& router, const SessionDeps& deps);    // /j/<code>
void add_summary_routes(Router& router, const SessionDeps& deps);       // …/summary, /s/<ref>
void add_schedule_routes(Router& router, const ScheduleDeps& deps);
void add_recording_routes(Router& router, const RecordingDeps& deps);
void add_device_routes(Router& router, const DeviceDeps& deps);           // camera/mic/speaker choice, preview
void add_recovery_key_routes(Router& router, const DeviceDeps& deps);     // the data partition's recovery key, once
void add_update_stick_routes(Router& router, const DeviceDeps& deps);     // an update from a USB stick, asked of root
void add_twilio_routes(Router& router, const TwilioDeps& deps);           // need a token
void add_twilio_webhook_routes(Router& router, const TwilioDeps& deps);   // signed by Twilio instead

}  // namespace consult::http
