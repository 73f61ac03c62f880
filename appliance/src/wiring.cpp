#include "appliance/wiring.hpp"

namespace consult::wiring {

http::Access access(ApplianceContext& ctx) { return {ctx.tokens, ctx.metrics, ctx.db, ctx.audits}; }

http::SystemDeps system_routes(ApplianceContext& ctx) {
    return {access(ctx), ctx.state_dir, ctx.probe, ctx.metric_sources, ctx.rooms};
}

http::SetupDeps setup_routes(ApplianceContext& ctx, cloud::CloudSync& sync) {
    return {system_routes(ctx), ctx.config.cloud.url, ctx.config.cloud.anon_key, sync};
}

http::SessionDeps session_routes(ApplianceContext& ctx) {
    return {access(ctx), ctx.config.sessions, ctx.config.public_base_url(), ctx.limiter, ctx.messaging.get(), ctx.rooms};
}

http::RecordingDeps recording_routes(ApplianceContext& ctx) { return {access(ctx), ctx.recordings.get(), ctx.rooms}; }

http::ScheduleDeps schedule_routes(ApplianceContext& ctx) {
    return {access(ctx), ctx.messaging.get(), ctx.config.public_base_url(), !ctx.config.cloud.url.empty(),
            ctx.config.notify.channels};
}

http::KioskDeps kiosk_routes(ApplianceContext& ctx) { return {access(ctx), ctx.config.kiosk, ctx.rooms}; }

http::DeviceDeps device_routes(ApplianceContext& ctx) {
    return {access(ctx), ctx.config.media, ctx.config.recording, ctx.probe, ctx.state_dir, ctx.rooms};
}

http::TwilioDeps twilio_routes(ApplianceContext& ctx) {
    return {access(ctx), ctx.config.public_base_url(), ctx.messaging.get()};
}

}  // namespace consult::wiring
