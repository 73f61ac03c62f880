// Recording with the patient's consent, applied: the doctor's Record and Stop, the
// patient's answer and withdrawal, and the parts the call's recorder writes. The
// rules are room::RecordingConsent's; the files are recording::Recordings'.
#include "hub_parts.hpp"

#include "appliance/log.hpp"
#include "appliance/store/recording_store.hpp"

namespace consult::signalling {

using json = nlohmann::json;
using Outcome = RecordResult::Outcome;

namespace {

constexpr auto kRestartAfterConnect = std::chrono::milliseconds(1500);

const char* answer_name(room::RecordingConsent::Answer a) {
    switch (a) {
    case room::RecordingConsent::Answer::Given: return "given";
    case room::RecordingConsent::Answer::Declined: return "declined";
    case room::RecordingConsent::Answer::Withdrawn: return "withdrawn";
    case room::RecordingConsent::Answer::Ignored: return "ignored";
    }
    return "ignored";
}

}  // namespace

json Hub::consent_request() const {
    const auto text = recording::consent_text(deps_.config.recording);
    return {{"type", "consent_request"}, {"text", text.text}, {"version", text.version},
            {"retention_days", deps_.config.recording.retention_days},
            {"includes_patient", deps_.config.recording.include_patient}};
}

json Hub::recording_state(const Room& r) const {
    const char* state = r.part ? "on" : r.consent.pending() ? "asking" : "off";
    return {{"type", "recording"}, {"session", r.session_id}, {"state", state},
            {"consent", room::state_name(r.consent.state())}};
}

void Hub::tell_recording(Room& r, const json& extra) {
    json m = recording_state(r);
    m.update(extra);
    to_session(r.session_id, m);
}

unsigned Hub::call_kbps(const Room& r) const {
    // What a recording of this call writes: the room's video and the patient's, two Opus tracks.
    unsigned kbps = r.call ? std::max(r.call->video_bitrate(), 1500u) : 1500u;
    auto it = r.last_stats.find(kPatientPeer);
    kbps += it == r.last_stats.end() ? 1500u : std::max(it->second.receive_kbps, 500u);
    return kbps + 128;
}

void Hub::calls_changed() {
    if (deps_.recordings) deps_.recordings->calls_changed();
}

RecordResult Hub::record(const std::string& session_id, bool on, const std::string& actor, const std::string& address) {
    Room* r = find_room(session_id);
    if (!on) {
        if (!r) return {Outcome::Stopped, "nothing was being recorded"};
        r->record_wanted = false;
        r->restart_part = false;
        if (r->consent.pending()) {
            r->consent.cancel();
            if (r->consent_row)
                write("consent unanswered", [id = *r->consent_row](store::Database& db) {
                    store::RecordingStore(db).consent_answered(id, "unanswered");
                });
        }
        const bool was_on = r->part.has_value();
        stop_part(*r);
        if (was_on) audit({actor, "doctor", "recording.stop", session_id, address, nullptr});
        tell_recording(*r);
        return {Outcome::Stopped, was_on ? "the recording stopped" : "nothing was being recorded"};
    }
    if (!deps_.recordings || !deps_.config.recording.enabled)
        return {Outcome::Disabled, "Recording is turned off in this clinic's settings."};
    if (!r || !r->call || !r->waiting.admitted_screen())
        return {Outcome::NotInCall, "The patient is not in the call: recording needs them there to say yes."};
    if (r->part) return {Outcome::Recording, "already recording"};
    if (auto no = deps_.recordings->refusal(call_kbps(*r))) return {Outcome::NoRoom, *no};

    auto ask = r->consent.request(deps_.now());
    using Ask = room::RecordingConsent::Ask;
    r->record_actor = actor;
    switch (ask.outcome) {
    case Ask::AlreadyGiven:
        r->record_wanted = true;
        return start_part(*r, actor);
    case Ask::TooSoon:
        return {Outcome::TooSoon,
                "The patient was asked less than a minute ago. Ask again in " + std::to_string(ask.retry_after.count()) + " s.",
                int(ask.retry_after.count())};
    case Ask::Sent: {
        const auto text = recording::consent_text(deps_.config.recording);
        try {
            r->consent_row = store::RecordingStore(deps_.db).consent_asked(session_id, r->patient_participant, actor,
                                                                           text.version, text.text);
        } catch (const std::exception& e) {
            r->consent.cancel();
            log::error(std::string("could not store a consent request: ") + e.what(), {{"SESSION_ID", session_id}});
            return {Outcome::Failed, "The appliance could not note the request; nothing is recorded. Try again."};
        }
        deps_.metrics.count("consult_recording_consent_total", {{"event", "asked"}});
        audit({actor, "doctor", "recording.consent_asked", session_id, address, {{"text_version", text.version}}});
        [[fallthrough]];
    }
    case Ask::Pending: {
        r->record_wanted = true;
        if (auto screen = r->waiting.admitted_screen())
            if (Socket* p = find_socket(*screen)) send(*p, consent_request());
        tell_recording(*r);
        return {ask.outcome == Ask::Sent ? Outcome::Asked : Outcome::Pending,
                "The patient is asked on their screen; recording starts when they say yes."};
    }
    }
    return {Outcome::Failed, "unreachable"};
}

void Hub::on(Socket& s, const msg::Record& m) {
    auto row = doctor_session(s, m.session);
    auto result = record(row.id, m.on, s.claims.identity, s.address);
    if (result.outcome == Outcome::Recording || result.outcome == Outcome::Stopped || result.outcome == Outcome::Asked ||
        result.outcome == Outcome::Pending)
        return;   // every screen has heard the new state
    static constexpr const char* codes[] = {"recording", "stopped", "asked", "pending", "too_soon", "not_in_call",
                                            "disabled", "no_room", "failed"};
    json refused = {{"type", "recording"}, {"session", row.id}, {"refused", codes[int(result.outcome)]},
                    {"message", result.message}};
    if (Room* r = find_room(row.id)) refused.update(json{{"state", recording_state(*r)["state"]}});
    else refused["state"] = "off";
    if (result.retry_after) refused["retry_after"] = result.retry_after;
    send(s, refused);
}

void Hub::on(Socket& s, const msg::Consent& m) {
    Room& r = room(*s.session_id);
    if (r.waiting.admitted_screen() != s.id) {
        send(s, {{"type", "recording"}, {"state", "off"}, {"consent", "none"}});
        return;   // a waiting screen has nothing to answer
    }
    const auto answer = r.consent.answer(m.given);
    if (answer == room::RecordingConsent::Answer::Ignored) {
        send(s, recording_state(r));
        return;
    }
    deps_.metrics.count("consult_recording_consent_total", {{"event", answer_name(answer)}});
    audit({s.claims.identity, "patient", std::string("recording.consent_") + answer_name(answer), r.session_id, s.address, nullptr});
    if (r.consent_row)
        write("consent answer", [id = *r.consent_row, answer](store::Database& db) {
            store::RecordingStore rs(db);
            if (answer == room::RecordingConsent::Answer::Withdrawn) rs.consent_withdrawn(id);
            else rs.consent_answered(id, answer_name(answer));
        });
    switch (answer) {
    case room::RecordingConsent::Answer::Given:
        if (r.record_wanted && !r.part) {
            auto started = start_part(r, r.record_actor);
            if (started.outcome != Outcome::Recording) tell_recording(r, {{"message", started.message}});
        } else {
            tell_recording(r);
        }
        break;
    case room::RecordingConsent::Answer::Declined:
        r.record_wanted = false;
        tell_recording(r, {{"message", "The patient said no: nothing is recorded. You may ask again in a minute."}});
        break;
    case room::RecordingConsent::Answer::Withdrawn:
        withdrawn(r);
        break;
    case room::RecordingConsent::Answer::Ignored: break;
    }
}

RecordResult Hub::start_part(Room& r, const std::string& actor) {
    if (!deps_.recordings || !r.call) return {Outcome::NotInCall, "no call is running"};
    if (!r.consent.given()) return {Outcome::Asked, "the patient has not said yes"};   // never without consent
    if (auto no = deps_.recordings->refusal(call_kbps(r))) {
        tell_recording(r, {{"message", *no}});
        return {Outcome::NoRoom, *no};
    }
    recording::Recordings::Part part;
    try {
        part = deps_.recordings->begin_part(r.session_id, actor);
    } catch (const std::exception& e) {
        log::error(std::string("could not start a recording: ") + e.what(), {{"SESSION_ID", r.session_id}});
        return {Outcome::Failed, "The appliance could not start the recording; the call goes on."};
    }
    media::RecordingOptions o;
    o.file = part.file;
    if (r.call->has_peer(kPatientPeer)) o.patient = kPatientPeer;
    o.include_patient = deps_.config.recording.include_patient;
    if (auto ok = r.call->start_recording(o); !ok) {
        r.part = part;
        recording_failed(r, "the recorder could not start: " + ok.error().describe());
        return {Outcome::Failed, "The recording could not start; the call goes on."};
    }
    r.part = part;
    // Which of the patient's media peers this part holds; none when their tracks have not
    // arrived yet, so their arrival starts the next part (see Room::event).
    r.part_peer = !o.include_patient || !r.call->recording_misses(kPatientPeer) ? r.patient_peers : 0;
    r.part_stopping = false;
    log::info("recording part " + std::to_string(part.n) + " started", {{"SESSION_ID", r.session_id}});
    audit({actor, "doctor", "recording.start", r.session_id, "", {{"part", part.n}, {"recording_sid", part.recording_sid}}});
    room::Event e{room::EventKind::RecordingStarted, r.session_id, "doctor", "", actor, "", "", 0};
    e.recording_sid = part.recording_sid;
    e.part = part.n;
    deps_.events.publish(e);
    tell_recording(r);
    return {Outcome::Recording, "recording"};
}

void Hub::stop_part(Room& r) {
    if (!r.part || r.part_stopping) return;
    if (r.call && r.call->recording()) {
        r.part_stopping = true;   // the file closes; RecordingStopped finishes the part
        r.call->stop_recording();
        // The next part follows at once (the patient's media came): both screens keep
        // the red mark rather than flicker off and on.
        if (!r.restart_part) tell_recording(r, {{"state", "off"}});
        return;
    }
    finish_part(r);
}

// The part's file is closed (or its call is gone): its row is closed, and what comes
// next is decided: a new part (the patient came back), a deletion (withdrawn), or nothing.
void Hub::finish_part(Room& r) {
    if (!r.part) return;
    auto part = *r.part;
    r.part.reset();
    r.part_stopping = false;
    try {
        if (deps_.recordings) deps_.recordings->end_part(part);
    } catch (const std::exception& e) {
        log::error(std::string("could not close a recording part: ") + e.what(), {{"SESSION_ID", r.session_id}});
    }
    room::Event e{room::EventKind::RecordingCompleted, r.session_id, "doctor", "", r.record_actor, "", "", 0};
    e.recording_sid = part.recording_sid;
    e.part = part.n;
    deps_.events.publish(e);
    if (r.delete_after_stop && deps_.recordings) {
        r.delete_after_stop = false;
        deps_.recordings->remove(part.recording_id, "patient", "the patient withdrew their consent");
    }
    if (r.restart_part && r.record_wanted && r.consent.given() && r.call) {
        r.restart_part = false;
        start_part(r, r.record_actor);
        return;
    }
    tell_recording(r);
}

void Hub::withdrawn(Room& r) {
    r.record_wanted = false;
    r.restart_part = false;
    const bool remove = deps_.config.recording.on_withdrawal == "delete";
    const std::string kept = remove ? "What was recorded has been deleted (the clinic's policy)."
                                    : "What was recorded before is kept (the clinic's policy).";
    if (remove && deps_.recordings) {
        if (r.part) {
            r.delete_after_stop = true;
            stop_part(r);
        } else if (auto row = store::RecordingStore(deps_.db).for_session(r.session_id); row && row->state != "deleted") {
            deps_.recordings->remove(row->id, "patient", "the patient withdrew their consent");
        }
    } else {
        stop_part(r);
    }
    tell_recording(r, {{"state", "off"}, {"withdrawn", true},
                       {"message", "The patient withdrew their consent: the recording stopped. " + kept}});
}

void Hub::consent_over(Room& r, const char* why) {
    if (r.consent.state() == room::RecordingConsent::State::None && !r.part && !r.record_wanted) return;
    log::info(std::string("recording consent ends: ") + why, {{"SESSION_ID", r.session_id}});
    if (r.consent.pending() && r.consent_row)
        write("consent unanswered", [id = *r.consent_row](store::Database& db) {
            store::RecordingStore(db).consent_answered(id, "unanswered");
        });
    r.consent.reset();
    r.record_wanted = false;
    r.restart_part = false;
    stop_part(r);
    tell_recording(r, {{"message", std::string("Recording stopped: ") + why + ". Ask the patient again to record."}});
}

// The recorder stopped on an error: what it wrote is kept as a part. While the
// patient's yes holds, a new part starts (a browser that changes its picture size mid-call
// gives caps a Matroska track cannot change to), at most three times a minute; a full
// disk is refused by start_part's own check. Otherwise the recording has failed.
void Hub::recording_broke(Room& r, const std::string& why) {
    constexpr auto kWindow = std::chrono::seconds(60);
    constexpr std::size_t kMaxRestarts = 3;
    const auto now = deps_.now();
    std::erase_if(r.part_restarts, [&](room::Clock::time_point t) { return now - t > kWindow; });
    if (!r.part || !r.record_wanted || !r.consent.given() || !r.call || r.delete_after_stop ||
        r.part_restarts.size() >= kMaxRestarts) {
        recording_failed(r, why);
        return;
    }
    log::warning("recording part ended on an error, starting the next: " + why, {{"SESSION_ID", r.session_id}});
    r.part_restarts.push_back(now);
    r.restart_part = false;
    finish_part(r);
    auto next = start_part(r, r.record_actor);
    if (next.outcome != Outcome::Recording) recording_failed(r, next.message);
}

void Hub::recording_failed(Room& r, const std::string& why) {
    log::error("recording failed: " + why, {{"SESSION_ID", r.session_id}});
    std::string sid = r.part ? r.part->recording_sid : "";
    const int part_n = r.part ? r.part->n : 0;
    if (r.part) {
        finish_part(r);
        try {
            store::RecordingStore rs(deps_.db);
            if (auto row = rs.for_session(r.session_id); row && row->state == "paused")
                rs.set_state(row->id, "paused", why);
        } catch (const std::exception&) {}
    }
    r.record_wanted = false;
    r.restart_part = false;
    room::Event e{room::EventKind::RecordingFailed, r.session_id, "doctor", "", r.record_actor, "", why, 0};
    e.recording_sid = sid;
    e.part = part_n;
    deps_.events.publish(e);
    tell_recording(r, {{"failed", true}, {"message", "The recording stopped: " + why + ". The call goes on."}});
}

}  // namespace consult::signalling
