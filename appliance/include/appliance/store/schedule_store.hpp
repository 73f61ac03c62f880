// Video timings and appointments: the doctor's week, and the bookings in it.
#pragma once

#include "appliance/domain/scheduling.hpp"
#include "appliance/store/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace consult::store {

struct NewAppointment {
    std::string doctor_id, patient_id, starts_at, consultation_type;
    int duration_minutes = 30;
    std::optional<std::string> reason;
};

class ScheduleStore {
public:
    explicit ScheduleStore(Database& db) : db_(db) {}

    std::vector<domain::Timing> timings(const std::optional<std::string>& doctor_id);
    std::optional<domain::Timing> timing(const std::string& id);
    // Validated, and refused (409) when it overlaps an active timing of the same day.
    domain::Timing create_timing(domain::Timing t);
    domain::Timing update_timing(const domain::Timing& t);
    void delete_timing(const std::string& id);

    std::vector<domain::Slot> availability(const std::string& doctor_id, const domain::Date& date);

    std::vector<AppointmentRow> appointments(const std::optional<std::string>& from_iso,
                                             const std::optional<std::string>& to_iso,
                                             const std::optional<std::string>& doctor_id);
    std::optional<AppointmentRow> appointment(const std::string& id);
    // Video and hybrid bookings must take a free slot; one slot, one booking.
    AppointmentRow book(const NewAppointment& a);
    // A patient's own choice of messages (sms, email, both, none; null: the clinic's
    // default); nothing when there is no such patient.
    std::optional<std::optional<std::string>> notify_via(const std::string& patient_id);
    bool set_notify_via(const std::string& patient_id, const std::optional<std::string>& choice);
    // Patients whose name holds `text` (any case; empty: all), by name, at most `limit`:
    // what an admin needs to set their choice, and whether SMS or email can reach them.
    struct PatientChoice {
        std::string id, name;
        std::optional<std::string> notify_via;
        bool has_phone = false, has_email = false;
    };
    std::vector<PatientChoice> find_patients(std::string_view text, int limit);

    bool doctor_exists(const std::string& id);

private:
    void check_doctor(const std::string& id);
    std::vector<domain::Interval> booked_intervals(const std::string& doctor_id, const domain::Date& date);
    Database& db_;
};

}  // namespace consult::store
