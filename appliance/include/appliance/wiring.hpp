// Where the daemon's parts (ApplianceContext) are handed out: each group of routes gets
// the narrow set it uses (http/route_deps.hpp) and nothing else. The daemon and the
// route tests wire the same way.
#pragma once

#include "appliance/context.hpp"
#include "appliance/http/route_deps.hpp"

namespace consult::wiring {

http::Access access(ApplianceContext& ctx);
http::SystemDeps system_routes(ApplianceContext& ctx);
http::SetupDeps setup_routes(ApplianceContext& ctx, cloud::CloudSync& sync);
http::SessionDeps session_routes(ApplianceContext& ctx);
http::ScheduleDeps schedule_routes(ApplianceContext& ctx);
http::RecordingDeps recording_routes(ApplianceContext& ctx);
http::KioskDeps kiosk_routes(ApplianceContext& ctx);
http::DeviceDeps device_routes(ApplianceContext& ctx);
http::TwilioDeps twilio_routes(ApplianceContext& ctx);

}  // namespace consult::wiring
