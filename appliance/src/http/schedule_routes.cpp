// Timings, availability, appointments, and how each patient wants to hear from the clinic.
#include "appliance/domain/errors.hpp"
#include "appliance/domain/short_code.hpp"
#include "appliance/http/auth.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/messaging.hpp"
#include "appliance/store/schedule_store.hpp"
#include "appliance/store/short_link_store.hpp"

#include <glib.h>

namespace consult::http {

namespace {

using tokens::Role;

domain::Timing timing_from(const nlohmann::json& b, std::string id) {
    domain::Timing t;
    t.id = std::move(id);
    t.doctor_id = require_uuid(b, "doctor_id");
    t.day_of_week = require_int(b, "day_of_week", 0, 6);
    t.start_time = require_string(b, "start_time", 5);
    t.end_time = require_string(b, "end_time", 5);
    // The specification's name is duration_minutes; slot_duration_minutes, this API's
    // first name for it, is still taken. Both, differing, is a mistake worth saying.
    const auto named = optional_int(b, "duration_minutes", 5, 240);
    const auto alias = optional_int(b, "slot_duration_minutes", 5, 240);
    if (named && alias && *named != *alias)
        throw ApiError(422, "invalid_field", "duration_minutes and slot_duration_minutes disagree", "duration_minutes");
    if (!named && !alias) throw ApiError(400, "missing_field", "duration_minutes is required", "duration_minutes");
    t.slot_duration_minutes = named ? *named : *alias;
    t.is_active = optional_bool(b, "is_active", true);
    return t;
}

// Doctors see their own; admins anyone's (or everyone's).
std::optional<std::string> doctor_scope(const Caller& c, std::optional<std::string> asked) {
    if (!c.is(Role::Doctor)) return asked;
    if (asked && *asked != c.claims.identity) throw ApiError(403, "forbidden", "a doctor sees only their own schedule");
    return c.claims.identity;
}

Response list_timings(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto rows = store::ScheduleStore(deps.db).timings(doctor_scope(c, query_uuid(req, "doctor_id")));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : rows) out.push_back(store::to_json(t));
    return Response::json(200, {{"timings", out}});
}

Response create_timing(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    auto t = store::ScheduleStore(deps.db).create_timing(timing_from(req.json_body(), ""));
    audit(deps, c, "timing.create", std::nullopt, {{"timing_id", t.id}});
    return Response::json(201, store::to_json(t));
}

Response update_timing(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    const auto id = path_uuid(req, "id");   // the path is checked before the body
    auto t = store::ScheduleStore(deps.db).update_timing(timing_from(req.json_body(), id));
    audit(deps, c, "timing.update", std::nullopt, {{"timing_id", t.id}});
    return Response::json(200, store::to_json(t));
}

Response delete_timing(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    const auto id = path_uuid(req, "id");
    store::ScheduleStore(deps.db).delete_timing(id);
    audit(deps, c, "timing.delete", std::nullopt, {{"timing_id", id}});
    return Response::text(204, "application/json", "");
}

Response availability(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto doctor = query_uuid(req, "doctor_id");
    if (!doctor) throw ApiError(400, "missing_field", "doctor_id is required", "doctor_id");
    auto date = query_date(req, "date");
    if (!date) throw ApiError(400, "missing_field", "date is required", "date");
    doctor = doctor_scope(c, doctor);
    nlohmann::json slots = nlohmann::json::array();
    for (const auto& s : store::ScheduleStore(deps.db).availability(*doctor, *date))
        slots.push_back({{"starts_at", domain::iso_utc(s.start)}, {"duration_minutes", s.minutes}});
    return Response::json(200, {{"doctor_id", *doctor}, {"date", domain::format_date(*date)}, {"slots", slots}});
}

Response list_appointments(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    std::optional<std::string> from, to;
    if (auto d = query_date(req, "date")) {
        from = domain::iso_utc(domain::local_instant(*d, 0));
        to = domain::iso_utc(domain::local_instant(*d, 24 * 60));
    }
    auto rows = store::ScheduleStore(deps.db).appointments(from, to, doctor_scope(c, query_uuid(req, "doctor_id")));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : rows) out.push_back(store::to_json(a));
    return Response::json(200, {{"appointments", out}});
}

// A video appointment's session and confirmation, made as it is booked; a failure here
// leaves the booking standing and the appointment queued for the messaging clock.
nlohmann::json prepare(const ScheduleDeps& deps, const std::string& appointment_id) {
    if (!deps.messaging) return nullptr;
    try {
        auto outcome = deps.messaging->journey().process(appointment_id, std::time(nullptr));
        if (!outcome.session_id) return nullptr;
        const std::string code = store::ShortLinkStore(deps.db).code_for(*outcome.session_id);
        return {{"session_id", *outcome.session_id},
                {"patient_short_url", deps.public_base_url + "/j/" + code},
                {"patient_code", domain::spoken_short_code(code)},
                {"confirmation", deps.messaging->notifier().invite_summary(*outcome.session_id)}};
    } catch (const std::exception& e) {
        log::error(std::string("booking's session not prepared yet: ") + e.what(), {{"APPOINTMENT_ID", appointment_id}});
        return nullptr;
    }
}

Response book_appointment(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto b = req.json_body();
    store::NewAppointment a;
    a.doctor_id = require_uuid(b, "doctor_id");
    a.patient_id = require_uuid(b, "patient_id");
    a.starts_at = require_string(b, "starts_at", 40);
    a.duration_minutes = optional_int(b, "duration_minutes", 5, 240).value_or(30);
    a.consultation_type = require_enum(b, "consultation_type", {"in-person", "video", "hybrid"});
    a.reason = optional_string(b, "reason", 500);
    doctor_scope(c, a.doctor_id);
    auto row = store::ScheduleStore(deps.db).book(a);
    audit(deps, c, "appointment.book", std::nullopt, {{"appointment_id", row.id}});
    auto out = store::to_json(row);
    out["video_session"] = prepare(deps, row.id);
    return Response::json(201, out);
}

Response patient_notifications(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    const auto id = path_uuid(req, "id");
    auto choice = store::ScheduleStore(deps.db).notify_via(id);
    if (!choice) throw ApiError(404, "patient_not_found", "no such patient");
    audit(deps, c, "patient.notifications_read", std::nullopt, {{"patient_id", id}});
    return Response::json(200, {{"patient_id", id},
                                {"notify_via", *choice ? nlohmann::json(**choice) : nlohmann::json(nullptr)},
                                {"editable", !deps.cloud_paired}});
}

Response set_patient_notifications(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    const auto id = path_uuid(req, "id");
    auto body = req.json_body();
    std::optional<std::string> choice;
    if (!body.contains("notify_via")) throw ApiError(400, "missing_field", "notify_via is required", "notify_via");
    if (!body["notify_via"].is_null()) choice = require_enum(body, "notify_via", {"sms", "email", "both", "none"});
    if (deps.cloud_paired)
        throw ApiError(409, "managed_by_cloud",
                       "patients belong to the clinic system on this box: change the choice there (notify_via)");
    if (!store::ScheduleStore(deps.db).set_notify_via(id, choice))
        throw ApiError(404, "patient_not_found", "no such patient");
    audit(deps, c, "patient.notifications_set", std::nullopt,
          {{"patient_id", id}, {"notify_via", choice.value_or("default")}});
    return Response::json(200, {{"patient_id", id},
                                {"notify_via", choice ? nlohmann::json(*choice) : nlohmann::json(nullptr)},
                                {"editable", true}});
}

// The admin's list for choosing how each patient hears from the clinic: names matching
// `q` (at most 100 characters), 20 by default, at most 50. Numbers and addresses stay
// out: only whether SMS or email can reach the patient.
Response find_patients(const ScheduleDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    std::string text;
    if (auto it = req.query.find("q"); it != req.query.end()) text = it->second;
    if (text.size() > 100) throw ApiError(400, "invalid_value", "q is at most 100 characters", "q");
    if (!g_utf8_validate(text.data(), gssize(text.size()), nullptr)) throw ApiError(400, "invalid_value", "q must be UTF-8 text", "q");
    int limit = 20;
    if (auto it = req.query.find("limit"); it != req.query.end() && !it->second.empty()) {
        const std::string& v = it->second;
        limit = v.size() <= 2 && v.find_first_not_of("0123456789") == std::string::npos ? std::stoi(v) : 0;
        if (limit < 1 || limit > 50) throw ApiError(400, "invalid_value", "limit must be a whole number from 1 to 50", "limit");
    }
    const auto rows = store::ScheduleStore(deps.db).find_patients(text, limit);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : rows)
        out.push_back({{"id", p.id}, {"name", p.name},
                       {"notify_via", p.notify_via ? nlohmann::json(*p.notify_via) : nlohmann::json(nullptr)},
                       {"reachable", {{"sms", p.has_phone}, {"email", p.has_email}}}});
    audit(deps, c, "patient.search", std::nullopt, {{"results", rows.size()}});
    return Response::json(200, {{"patients", out}, {"editable", !deps.cloud_paired}, {"default", deps.notify_default}});
}

}  // namespace

void add_schedule_routes(Router& r, const ScheduleDeps& deps) {
    auto bind = [deps](Response (*f)(const ScheduleDeps&, const Request&)) {
        return [deps, f](const Request& q) { return f(deps, q); };
    };
    r.add("GET", "/api/video-consultations/timings", bind(list_timings));
    r.add("POST", "/api/video-consultations/timings", bind(create_timing));
    r.add("PUT", "/api/video-consultations/timings/{id}", bind(update_timing));
    r.add("DELETE", "/api/video-consultations/timings/{id}", bind(delete_timing));
    r.add("GET", "/api/video-consultations/availability", bind(availability));
    r.add("GET", "/api/appointments", bind(list_appointments));
    r.add("POST", "/api/appointments", bind(book_appointment));
    r.add("GET", "/api/patients", bind(find_patients));
    r.add("GET", "/api/patients/{id}/notifications", bind(patient_notifications));
    r.add("PUT", "/api/patients/{id}/notifications", bind(set_patient_notifications));
}

}  // namespace consult::http
