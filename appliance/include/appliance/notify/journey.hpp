// The patient's journey from booking to the call. Every video (or hybrid) appointment
// booked through the API or pulled from the clinic system gets its session prepared (room
// and short link) and a confirmation; one that moves gets an update; one that is
// cancelled has its unstarted session cancelled and the patient told. In-person
// appointments get nothing. Driven by the appointment_changes queue, which triggers on
// the appointments table fill whoever wrote the change, so nothing is missed across a
// restart; the notifier's keys keep anything from being sent twice.
#pragma once

#include "appliance/config.hpp"
#include "appliance/metrics.hpp"
#include "appliance/notify/notifier.hpp"
#include "appliance/store/database.hpp"

#include <ctime>
#include <optional>
#include <string>

namespace consult::notify {

class Journey {
public:
    // `metrics` may be null.
    Journey(store::Database& db, const Config& config, Notifier& notifier, Metrics* metrics = nullptr);

    // What became of one appointment.
    struct Outcome {
        std::optional<std::string> session_id;   // its open session, prepared now or before
        std::string action = "none";             // prepared | kept | cancelled | none
    };
    // One appointment now (the booking route answers with its session); throws on a
    // store failure, which leaves it queued for the clock.
    Outcome process(const std::string& appointment_id, std::time_t now);
    // The oldest queued appointments, a slice at a time so that the main loop is never
    // held long (a first pairing with the clinic cloud queues a whole diary); true when
    // more may be waiting (the messaging clock then comes back at once).
    bool tick(std::time_t now);

private:
    Outcome handle(const std::string& appointment_id, std::time_t now);
    void count(const std::string& action);

    store::Database& db_;
    const Config& config_;
    Notifier& notifier_;
    Metrics* metrics_;
};

}  // namespace consult::notify
