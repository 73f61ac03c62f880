// /api/system/devices and /api/system/camera/preview.jpg: the kiosk's Settings screen
// picks the camera, content camera, microphone and speaker among what the probe found,
// and shows a still of a camera. The choice is kept in <state-dir>/devices.conf (read
// by load_config after the drop-ins) and applies from the next call on.
// /api/system/recording: the clinic's recording settings, kept in the same file and
// applied at once (the next question a patient is asked says them).
#include "appliance/http/routes.hpp"

#include "appliance/http/auth.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/hw_report.hpp"
#include "appliance/off_loop.hpp"
#include "appliance/log.hpp"
#include "pipelines/camera_source.hpp"

#include <glib.h>

#include "hwconfig/expected.hpp"
#include <filesystem>
#include <memory>
#include <set>

namespace consult::http {

namespace {

using tokens::Role;
constexpr std::chrono::milliseconds kPreviewTimeout{3000};

const hw::ProbeResult& probed(const DeviceDeps& deps) {
    if (!deps.probe)
        throw ApiError(503, "probing", "the appliance is still looking at its cameras and microphones; try again shortly")
            .with_header("Retry-After", "2");
    return *deps.probe;
}

nlohmann::json devices_json(const DeviceDeps& deps) {
    const auto all = probe_to_json(*deps.probe);
    const auto& m = deps.media;
    nlohmann::json j{{"devices", all["devices"]}};
    for (const char* k : {"camera", "content_camera", "microphone", "speaker"}) j[k] = all[k];
    j["configured"] = {{"camera", m.camera}, {"content_camera", m.content_camera},
                       {"microphone", m.microphone}, {"speaker", m.speaker}};
    j["call_running"] = deps.rooms.running();
    return j;
}

// The device the value names (name or path), or null.
const hw::Device* listed(const std::vector<hw::Device>& list, const std::string& v) {
    for (const auto& d : list)
        if (v == d.name || v == d.path) return &d;
    return nullptr;
}

std::string checked(const nlohmann::json& body, const char* field, const std::vector<hw::Device>& list,
                    bool none_ok, const char* what) {
    const std::string v = require_string(body, field, 300);
    if (v == "auto" || v == "test" || (none_ok && v == "none") || listed(list, v)) return v;
    throw ApiError(422, "unknown_device", std::string(field) + " must be auto, test" + (none_ok ? ", none" : "") +
                                              " or one of the " + what + " the appliance found", field);
}

// <state-dir>/devices.conf: the four [media] keys and the [recording] settings, 0600,
// replaced atomically.
expected<void, std::string> save(const std::filesystem::path& state_dir, const Config::Media& m,
                                 const Config::Recording& rec) {
    GKeyFilePtr kf(g_key_file_new());
    g_key_file_set_comment(kf.get(), nullptr, nullptr,
                           " Written by consultd from the kiosk's Settings screen; read after consultd.conf and\n"
                           " its drop-ins (a --set option still wins). Keys as in consultd.conf [media].", nullptr);
    g_key_file_set_string(kf.get(), "media", "camera", m.camera.c_str());
    g_key_file_set_string(kf.get(), "media", "content_camera", m.content_camera.c_str());
    g_key_file_set_string(kf.get(), "media", "microphone", m.microphone.c_str());
    g_key_file_set_string(kf.get(), "media", "speaker", m.speaker.c_str());
    g_key_file_set_string(kf.get(), "recording", "enabled", rec.enabled ? "true" : "false");
    g_key_file_set_integer(kf.get(), "recording", "retention_days", rec.retention_days);
    g_key_file_set_string(kf.get(), "recording", "on_withdrawal", rec.on_withdrawal.c_str());
    g_key_file_set_string(kf.get(), "recording", "include_patient", rec.include_patient ? "true" : "false");
    gsize len = 0;
    GCharPtr data(g_key_file_to_data(kf.get(), &len, nullptr));
    const auto path = state_dir / "devices.conf";
    GErrorOut err;
    // CONSISTENT: a temporary file renamed over the old one; DURABLE: fsync'd first.
    if (!g_file_set_contents_full(path.c_str(), data.get(), gssize(len),
                                  GFileSetContentsFlags(G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE),
                                  0600, err.out()))
        return unexpected(std::string(err.message()));
    return {};
}

Response put_devices(const DeviceDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    const auto& p = probed(deps);
    auto body = req.json_body();
    for (const auto& [k, v] : body.items())
        if (k != "camera" && k != "content_camera" && k != "microphone" && k != "speaker")
            throw ApiError(422, "unknown_field", k + " is not a device setting", k);
    if (body.empty())
        throw ApiError(422, "missing_field", "give at least one of camera, content_camera, microphone, speaker", "camera");
    Config::Media m = deps.media;
    if (body.contains("camera")) m.camera = checked(body, "camera", p.cameras, false, "cameras");
    if (body.contains("content_camera"))
        m.content_camera = checked(body, "content_camera", p.cameras, true, "cameras");
    if (body.contains("microphone")) m.microphone = checked(body, "microphone", p.microphones, false, "microphones");
    if (body.contains("speaker")) m.speaker = checked(body, "speaker", p.speakers, true, "speakers");
    const auto* cam = listed(p.cameras, m.camera);
    if (cam && cam == listed(p.cameras, m.content_camera))
        throw ApiError(422, "same_camera", "the content camera must be another camera than the room camera",
                       "content_camera");

    nlohmann::json changed = nlohmann::json::object();
    const auto& was = deps.media;
    auto note = [&](const char* k, const std::string& a, const std::string& b) {
        if (a != b) changed[k] = {{"from", a}, {"to", b}};
    };
    note("camera", was.camera, m.camera);
    note("content_camera", was.content_camera, m.content_camera);
    note("microphone", was.microphone, m.microphone);
    note("speaker", was.speaker, m.speaker);
    if (auto saved = save(deps.state_dir, m, deps.recording); !saved) {
        log::error("cannot save the device choice: " + saved.error());
        throw ApiError(500, "cannot_save", "the device choice could not be saved on the appliance");
    }
    deps.media = m;
    hw::choose_sources(*deps.probe, probe_settings(m));   // lists as probed; no encoder re-test
    audit(deps, c, "devices.change", std::nullopt, {{"changed", changed}});
    log::info("device choice changed", {{"CAMERA", deps.probe->camera.name}, {"MICROPHONE", deps.probe->microphone.name}});

    auto j = devices_json(deps);
    j["applies_to"] = "next call";
    j["message"] = j["call_running"].get<bool>()
        ? "Saved. The call in progress keeps its devices; the next call uses the new ones."
        : "Saved. The next call uses these devices.";
    return Response::json(200, j);
}

nlohmann::json recording_json(const Config::Recording& r) {
    return {{"enabled", r.enabled}, {"retention_days", r.retention_days}, {"on_withdrawal", r.on_withdrawal},
            {"include_patient", r.include_patient}, {"min_free_minutes", r.min_free_minutes}};
}

Response put_recording(const DeviceDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    auto body = req.json_body();
    if (body.empty())
        throw ApiError(422, "missing_field", "give at least one of enabled, retention_days, on_withdrawal, include_patient",
                       "enabled");
    Config::Recording r = deps.recording;
    for (const auto& [k, v] : body.items()) {
        if (k == "enabled" || k == "include_patient") {
            if (!v.is_boolean()) throw ApiError(400, "invalid_type", k + " must be true or false", k);
            (k == "enabled" ? r.enabled : r.include_patient) = v.get<bool>();
        } else if (k == "retention_days") {
            if (!v.is_number_integer()) throw ApiError(400, "invalid_type", "retention_days must be a whole number", k);
            const auto days = v.get<long long>();
            if (days < 1 || days > 3650) throw ApiError(422, "invalid_value", "retention_days must be 1-3650", k);
            r.retention_days = int(days);
        } else if (k == "on_withdrawal") {
            if (!v.is_string() || (v != "keep" && v != "delete"))
                throw ApiError(422, "invalid_enum", "on_withdrawal must be keep or delete", k);
            r.on_withdrawal = v.get<std::string>();
        } else {
            throw ApiError(422, "unknown_field", k + " is not a recording setting", k);
        }
    }
    if (auto saved = save(deps.state_dir, deps.media, r); !saved) {
        log::error("cannot save the recording settings: " + saved.error());
        throw ApiError(500, "cannot_save", "the recording settings could not be saved on the appliance");
    }
    audit(deps, c, "recording.settings", std::nullopt, {{"from", recording_json(deps.recording)}, {"to", recording_json(r)}});
    deps.recording = r;
    auto j = recording_json(r);
    j["message"] = "Saved. A patient asked from now on is told these settings; retention applies within the hour.";
    return Response::json(200, j);
}

Response preview(const DeviceDeps& deps, const Request& req, const std::shared_ptr<std::set<std::string>>& busy) {
    authenticate(deps, req, {Role::Admin});
    const auto& p = probed(deps);
    const std::string which = query_enum(req, "which", {"camera", "content"}).value_or("camera");
    const hw::SourceChoice source = which == "content" ? p.content : p.camera;
    if (which == "content" && source.test_source && source.name == "none")
        throw ApiError(404, "no_content_camera", "no content camera is chosen");
    // A V4L2 device opens once: a running call owns it.
    if (deps.rooms.running())
        throw ApiError(409, "camera_in_use", "the camera is in use by a call; the preview comes back after it");
    if (busy->count(which))
        throw ApiError(503, "preview_busy", "a preview of this camera is being made; ask again shortly")
            .with_header("Retry-After", "1");
    busy->insert(which);
    return Response::later([busy, which, source](std::function<void(Response)> reply) {
        // One 320x180 JPEG from the source a call would open, or the reason there is none.
        auto still = std::make_shared<expected<std::string, std::string>>(unexpected(std::string()));
        run_off_loop([still, source, content = which == "content"] {
            *still = media::grab_still(source, content ? media::kContentTestPattern : media::kRoomTestPattern, 320, 180,
                                       kPreviewTimeout);
            return still->has_value();
        }, [busy, which, still, reply](bool ok) {
            busy->erase(which);
            if (!ok) {
                log::warning("camera preview failed: " + still->error(), {{"WHICH", which}});
                reply(error_response(503, "preview_failed", still->error()));
                return;
            }
            auto r = Response::text(200, "image/jpeg", std::move(**still));
            r.headers.emplace_back("Cache-Control", "no-store");
            reply(std::move(r));
        });
    });
}

}  // namespace

void add_device_routes(Router& r, const DeviceDeps& deps) {
    r.add("GET", "/api/system/devices", [deps](const Request& req) {
        authenticate(deps, req, {Role::Admin});
        probed(deps);
        return Response::json(200, devices_json(deps));
    });
    r.add("PUT", "/api/system/devices", [deps](const Request& req) { return put_devices(deps, req); });
    r.add("GET", "/api/system/recording", [deps](const Request& req) {
        authenticate(deps, req, {Role::Admin});
        return Response::json(200, recording_json(deps.recording));
    });
    r.add("PUT", "/api/system/recording", [deps](const Request& req) { return put_recording(deps, req); });
    auto busy = std::make_shared<std::set<std::string>>();
    r.add("GET", "/api/system/camera/preview.jpg", [deps, busy](const Request& req) { return preview(deps, req, busy); });
}

}  // namespace consult::http
