// Join success and time to the first picture (seed §11: the success criteria): from the
// moment a patient is let in, each page says when it first shows the other side
// (`first_frame`); both sides seeing each other is a join that worked, a patient gone
// before that is one that did not. A patient whose connection dropped and did not come
// back within the rejoin window is a dropped call.
#include "hub_parts.hpp"

namespace consult::signalling {

namespace {

const std::vector<double> kFirstFrameBounds{0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60};

}  // namespace

void Hub::join_started(Room& r) {
    if (r.join.admitted_at) return;   // a rejoin within the same admission
    r.join = Room::Join{deps_.now(), false, false, false};
}

void Hub::on(Socket& s, const msg::FirstFrame&) {
    Room* r = s.session_id ? find_room(*s.session_id) : nullptr;
    if (!r || !r->join.admitted_at) return;   // nothing to time: not (or no longer) in a call
    bool& saw = s.patient() ? r->join.patient_saw : r->join.doctor_saw;
    if (saw) return;
    saw = true;
    const double seconds = std::chrono::duration<double>(deps_.now() - *r->join.admitted_at).count();
    deps_.metrics.observe("consult_admit_to_first_frame_seconds", {{"side", s.role()}}, std::max(0.0, seconds),
                          kFirstFrameBounds);
    if (r->join.patient_saw && r->join.doctor_saw && !r->join.counted) {
        r->join.counted = true;
        deps_.metrics.count("consult_joins_total", {{"result", "media_both_ways"}});
    }
}

void Hub::join_over(Room& r) {
    if (r.join.admitted_at && !r.join.counted) deps_.metrics.count("consult_joins_total", {{"result", "no_media"}});
    r.join = Room::Join{};
}

void Hub::call_dropped(Room& r) {
    deps_.metrics.count("consult_calls_dropped_total", {});
    join_over(r);
}

}  // namespace consult::signalling
