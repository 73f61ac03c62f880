#include "appliance/store/schedule_store.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/store/cloud_payloads.hpp"

#include <algorithm>

namespace consult::store {

namespace {

constexpr const char* kTimingColumns =
    "SELECT id, doctor_id, day_of_week, start_time, end_time, slot_duration_minutes, is_active "
    "FROM video_consultation_timings ";
constexpr const char* kAppointmentColumns =
    "SELECT id, clinic_id, doctor_id, patient_id, starts_at, consultation_type, status, duration_minutes, "
    "video_session_id, reason, created_at, updated_at FROM appointments ";

domain::Timing read_timing(const Statement& st) {
    return {st.text(0), st.text(1), int(st.integer(2)), st.text(3), st.text(4), int(st.integer(5)), st.integer(6) != 0};
}

AppointmentRow read_appointment(const Statement& st) {
    AppointmentRow a;
    a.id = st.text(0);
    a.clinic_id = st.text(1);
    a.doctor_id = st.text(2);
    a.patient_id = st.text(3);
    a.starts_at = st.text(4);
    a.consultation_type = st.text(5);
    a.status = st.text(6);
    a.duration_minutes = int(st.integer(7));
    a.video_session_id = st.optional_text(8);
    a.reason = st.optional_text(9);
    a.created_at = st.text(10);
    a.updated_at = st.text(11);
    return a;
}

void check_timing(const domain::Timing& t, const std::vector<domain::Timing>& existing) {
    if (auto e = domain::validate_timing(t)) throw domain::invalid("invalid_field", e->message, e->field);
    if (auto o = domain::find_overlap(t, existing))
        throw domain::conflict("timing_overlap", "overlaps the active timing " + o->start_time + "-" + o->end_time +
                                                     " on the same day (" + o->id + ")");
}

}  // namespace

bool ScheduleStore::doctor_exists(const std::string& id) {
    auto st = db_.prepare("SELECT 1 FROM doctors WHERE id = ?1");
    st.bind(1, std::string_view(id));
    return st.step();
}

void ScheduleStore::check_doctor(const std::string& id) {
    if (!doctor_exists(id)) throw domain::invalid("unknown_doctor", "no doctor " + id, "doctor_id");
}

std::vector<domain::Timing> ScheduleStore::timings(const std::optional<std::string>& doctor_id) {
    auto st = db_.prepare(std::string(kTimingColumns) +
                          "WHERE (?1 IS NULL OR doctor_id = ?1) ORDER BY doctor_id, day_of_week, start_time");
    st.bind(1, doctor_id);
    std::vector<domain::Timing> out;
    while (st.step()) out.push_back(read_timing(st));
    return out;
}

std::optional<domain::Timing> ScheduleStore::timing(const std::string& id) {
    auto st = db_.prepare(std::string(kTimingColumns) + "WHERE id = ?1");
    st.bind(1, std::string_view(id));
    if (!st.step()) return std::nullopt;
    return read_timing(st);
}

domain::Timing ScheduleStore::create_timing(domain::Timing t) {
    Transaction tx(db_);
    check_doctor(t.doctor_id);
    t.id = new_uuid();
    check_timing(t, timings(t.doctor_id));
    db_.prepare("INSERT INTO video_consultation_timings(id, doctor_id, day_of_week, start_time, end_time, "
                "slot_duration_minutes, is_active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, std::string_view(t.id)).bind(2, std::string_view(t.doctor_id)).bind(3, t.day_of_week)
        .bind(4, std::string_view(t.start_time)).bind(5, std::string_view(t.end_time))
        .bind(6, t.slot_duration_minutes).bind(7, int(t.is_active)).run();
    enqueue_outbox(db_, "video_consultation_timings", t.id, cloud_timing(db_, t));
    tx.commit();
    return t;
}

domain::Timing ScheduleStore::update_timing(const domain::Timing& t) {
    Transaction tx(db_);
    if (!timing(t.id)) throw domain::not_found("timing_not_found", "no timing " + t.id);
    check_doctor(t.doctor_id);
    check_timing(t, timings(t.doctor_id));
    db_.prepare("UPDATE video_consultation_timings SET doctor_id = ?2, day_of_week = ?3, start_time = ?4, "
                "end_time = ?5, slot_duration_minutes = ?6, is_active = ?7, updated_at = ?8 WHERE id = ?1")
        .bind(1, std::string_view(t.id)).bind(2, std::string_view(t.doctor_id)).bind(3, t.day_of_week)
        .bind(4, std::string_view(t.start_time)).bind(5, std::string_view(t.end_time))
        .bind(6, t.slot_duration_minutes).bind(7, int(t.is_active)).bind(8, std::string_view(domain::now_iso()))
        .run();
    enqueue_outbox(db_, "video_consultation_timings", t.id, cloud_timing(db_, t));
    tx.commit();
    return t;
}

void ScheduleStore::delete_timing(const std::string& id) {
    Transaction tx(db_);
    if (!timing(id)) throw domain::not_found("timing_not_found", "no timing " + id);
    db_.prepare("DELETE FROM video_consultation_timings WHERE id = ?1").bind(1, std::string_view(id)).run();
    enqueue_outbox(db_, "video_consultation_timings", id, {{"id", id}, {"deleted", true}});
    tx.commit();
}

std::vector<domain::Interval> ScheduleStore::booked_intervals(const std::string& doctor_id, const domain::Date& date) {
    // A day's window with a margin either side: bookings may straddle midnight.
    const std::time_t from = domain::local_instant(date, 0) - 24 * 3600, to = from + 3 * 24 * 3600;
    auto st = db_.prepare("SELECT starts_at, duration_minutes FROM appointments WHERE doctor_id = ?1 "
                          "AND consultation_type IN ('video', 'hybrid') AND status NOT IN ('cancelled', 'no-show') "
                          "AND starts_at >= ?2 AND starts_at < ?3");
    st.bind(1, std::string_view(doctor_id)).bind(2, std::string_view(domain::iso_utc(from)))
        .bind(3, std::string_view(domain::iso_utc(to)));
    std::vector<domain::Interval> out;
    while (st.step())
        if (auto s = domain::parse_iso(st.text(0))) out.push_back({*s, *s + std::time_t(st.integer(1)) * 60});
    return out;
}

std::vector<domain::Slot> ScheduleStore::availability(const std::string& doctor_id, const domain::Date& date) {
    check_doctor(doctor_id);
    auto slots = domain::free_slots(timings(doctor_id), date, booked_intervals(doctor_id, date));
    const std::time_t now = domain::now_seconds();
    std::erase_if(slots, [now](const domain::Slot& s) { return s.start < now; });  // only slots still to come
    return slots;
}

std::vector<AppointmentRow> ScheduleStore::appointments(const std::optional<std::string>& from_iso,
                                                        const std::optional<std::string>& to_iso,
                                                        const std::optional<std::string>& doctor_id) {
    auto st = db_.prepare(std::string(kAppointmentColumns) +
                          "WHERE (?1 IS NULL OR starts_at >= ?1) AND (?2 IS NULL OR starts_at < ?2) "
                          "AND (?3 IS NULL OR doctor_id = ?3) ORDER BY starts_at, doctor_id LIMIT 2000");
    st.bind(1, from_iso).bind(2, to_iso).bind(3, doctor_id);
    std::vector<AppointmentRow> out;
    while (st.step()) out.push_back(read_appointment(st));
    return out;
}

std::optional<AppointmentRow> ScheduleStore::appointment(const std::string& id) {
    auto st = db_.prepare(std::string(kAppointmentColumns) + "WHERE id = ?1");
    st.bind(1, std::string_view(id));
    if (!st.step()) return std::nullopt;
    return read_appointment(st);
}

AppointmentRow ScheduleStore::book(const NewAppointment& a) {
    auto start = domain::parse_iso(a.starts_at);
    if (!start) throw domain::invalid("invalid_field", "starts_at must be an ISO 8601 time with a zone", "starts_at");
    constexpr std::time_t kYear10000 = 253402300800;  // stored times have four-digit years
    if (*start >= kYear10000) throw domain::invalid("invalid_field", "starts_at is too far in the future", "starts_at");
    if (*start < domain::now_seconds() - 60 && a.consultation_type != "in-person")
        throw domain::invalid("slot_in_past", "that video slot has already begun", "starts_at");
    Transaction tx(db_);  // BEGIN IMMEDIATE: concurrent bookings queue here
    check_doctor(a.doctor_id);
    auto p = db_.prepare("SELECT p.clinic_id FROM patients p JOIN doctors d ON d.clinic_id = p.clinic_id "
                         "WHERE p.id = ?1 AND d.id = ?2");
    p.bind(1, std::string_view(a.patient_id)).bind(2, std::string_view(a.doctor_id));
    if (!p.step()) throw domain::invalid("unknown_patient", "no patient " + a.patient_id + " in this doctor's clinic", "patient_id");
    const std::string clinic = p.text(0);

    if (a.consultation_type != "in-person") {
        const auto date = domain::local_date(*start);
        auto free = domain::free_slots(timings(a.doctor_id), date, booked_intervals(a.doctor_id, date));
        bool on_grid = false;
        for (const auto& t : timings(a.doctor_id)) on_grid |= t.is_active && t.day_of_week == domain::day_of_week(date);
        auto it = std::find_if(free.begin(), free.end(), [&](const domain::Slot& s) { return s.start == *start; });
        if (it == free.end()) {
            if (!on_grid) throw domain::invalid("no_video_hours", "the doctor takes no video calls that day", "starts_at");
            throw domain::conflict("slot_unavailable", "that video slot is not free");
        }
        if (a.duration_minutes > it->minutes)
            throw domain::invalid("invalid_field", "a video slot here is " + std::to_string(it->minutes) + " minutes",
                                  "duration_minutes");
    }
    const std::string id = new_uuid(), now = domain::now_iso();
    try {
        db_.prepare("INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, duration_minutes, "
                    "consultation_type, status, reason, created_at, updated_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'scheduled', ?8, ?9, ?9)")
            .bind(1, std::string_view(id)).bind(2, std::string_view(clinic)).bind(3, std::string_view(a.doctor_id))
            .bind(4, std::string_view(a.patient_id)).bind(5, std::string_view(domain::iso_utc(*start)))
            .bind(6, a.duration_minutes).bind(7, std::string_view(a.consultation_type)).bind(8, a.reason)
            .bind(9, std::string_view(now)).run();
    } catch (const StoreError& e) {
        if (e.is_constraint()) throw domain::conflict("slot_unavailable", "that video slot is not free");
        throw;
    }
    AppointmentRow row = *appointment(id);
    enqueue_outbox(db_, "appointments", id, to_json(row));
    tx.commit();
    return row;
}

std::optional<std::optional<std::string>> ScheduleStore::notify_via(const std::string& patient_id) {
    auto st = db_.prepare("SELECT notify_via FROM patients WHERE id = ?1");
    st.bind(1, std::string_view(patient_id));
    if (!st.step()) return std::nullopt;
    return st.optional_text(0);
}

bool ScheduleStore::set_notify_via(const std::string& patient_id, const std::optional<std::string>& choice) {
    db_.prepare("UPDATE patients SET notify_via = ?1, updated_at = ?2 WHERE id = ?3")
        .bind(1, choice).bind(2, std::string_view(domain::now_iso())).bind(3, std::string_view(patient_id))
        .run();
    return db_.changes() > 0;
}

std::vector<ScheduleStore::PatientChoice> ScheduleStore::find_patients(std::string_view text, int limit) {
    // LIKE's own wildcards in the text are matched as themselves.
    std::string pattern = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
    }
    pattern += '%';
    auto st = db_.prepare("SELECT id, full_name, notify_via, phone IS NOT NULL, email IS NOT NULL FROM patients "
                          "WHERE full_name LIKE ?1 ESCAPE '\\' ORDER BY full_name COLLATE NOCASE, id LIMIT ?2");
    st.bind(1, std::string_view(pattern)).bind(2, std::int64_t(limit));
    std::vector<PatientChoice> out;
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.optional_text(2), st.integer(3) != 0, st.integer(4) != 0});
    return out;
}

}  // namespace consult::store
