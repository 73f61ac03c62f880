#include "appliance/notify/journey.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/store/appointment_changes.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/store/short_link_store.hpp"

namespace consult::notify {

namespace {

constexpr int kSlice = 10;         // appointments handled per turn of the main loop
constexpr int kMaxAttempts = 5;    // a change that keeps failing is dropped (and logged) after this many passes

}  // namespace

Journey::Journey(store::Database& db, const Config& config, Notifier& notifier, Metrics* metrics)
    : db_(db), config_(config), notifier_(notifier), metrics_(metrics) {
    if (metrics_)
        metrics_->set_help("consult_appointment_changes_total", "counter",
                           "Booked or changed appointments handled: sessions prepared, kept, cancelled, or none");
}

void Journey::count(const std::string& action) {
    if (metrics_) metrics_->count("consult_appointment_changes_total", {{"action", action}});
}

Journey::Outcome Journey::process(const std::string& appointment_id, std::time_t now) {
    Outcome out = handle(appointment_id, now);
    count(out.action);
    return out;
}

Journey::Outcome Journey::handle(const std::string& appointment_id, std::time_t now) {
    auto a = store::journey_appointment(db_, appointment_id);
    if (!a) return {};
    const bool video = a->consultation_type != "in-person";
    const bool booked = a->status == "scheduled" || a->status == "confirmed";
    const std::time_t ends = domain::parse_iso(a->starts_at).value_or(0) + std::time_t(a->duration_minutes) * 60;
    Outcome out;
    if (video && booked) {
        if (ends <= now || a->in_progress) return out;   // over, or being held: nothing to tell
        if (a->open_session) {
            out = {a->open_session, "kept"};
        } else {
            if (!config_.notify.prepare_at_booking) return out;
            auto s = store::SessionStore(db_).create(a->id, a->duration_minutes, "appliance");
            store::ShortLinkStore(db_).code_for(s.id);
            log::info("session prepared for a booked video appointment",
                      {{"SESSION_ID", s.id}, {"APPOINTMENT_ID", a->id}});
            out = {s.id, "prepared"};
        }
        notifier_.confirm(*out.session_id);
        notifier_.rescheduled(*out.session_id);
        return out;
    }
    // Cancelled, or no longer a video appointment: its unstarted session goes.
    if (a->status == "cancelled" || !video) {
        if (a->open_session) {
            try {
                store::SessionStore(db_).transition(*a->open_session, domain::SessionStatus::Cancelled, "appliance",
                                                    std::string(video ? "appointment cancelled"
                                                                      : "appointment no longer by video"));
                a->cancelled_sessions.insert(a->cancelled_sessions.begin(), *a->open_session);
            } catch (const domain::DomainError& e) {
                log::info(std::string("session not cancelled: ") + e.what(), {{"SESSION_ID", *a->open_session}});
            }
        }
        // Only a cancelled appointment is news to the patient: a move to the clinic's
        // chair is the clinic's to explain.
        if (a->status == "cancelled" && !a->cancelled_sessions.empty()) {
            notifier_.cancelled(a->cancelled_sessions.front());
            out = {std::nullopt, "cancelled"};
        }
    }
    return out;
}

bool Journey::tick(std::time_t now) {
    const auto changes = store::queued_appointment_changes(db_, kSlice);
    int done = 0;
    for (const auto& change : changes) {
        try {
            process(change.appointment_id, now);
            store::appointment_change_done(db_, change);
            ++done;
        } catch (const std::exception& e) {
            const bool dropped = store::appointment_change_failed(db_, change, kMaxAttempts);
            log::warning(std::string(dropped ? "appointment change dropped after retries: "
                                             : "appointment change not handled yet: ") + e.what(),
                         {{"APPOINTMENT_ID", change.appointment_id}});
            count("failed");
        }
    }
    // A failure waits for the clock's next pass: retries stay spread out.
    return done == kSlice;
}

}  // namespace consult::notify
