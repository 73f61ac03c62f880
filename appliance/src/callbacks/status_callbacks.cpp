#include "appliance/callbacks/status_callbacks.hpp"

#include "appliance/callbacks/callback_params.hpp"
#include "appliance/cloud/postgrest.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/store/callback_store.hpp"
#include "appliance/store/recording_store.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/twilio/signature.hpp"
#include "appliance/version.hpp"
#include "hwconfig/c_boundary.hpp"

#include <algorithm>
#include <sstream>

namespace consult::callbacks {

namespace ch = std::chrono;

// One URL's queue: at most one callback in flight, so the receiver sees them in order.
struct StatusCallbacks::Lane {
    std::string target;    // room | recording
    bool busy = false;
    guint timer = 0;
    std::uint64_t delivered = 0, refused = 0, retried = 0, given_up = 0;
};

namespace {

std::int64_t ms_of(const std::optional<std::string>& iso) {
    if (!iso) return 0;
    auto t = domain::parse_iso(*iso);
    return t ? std::int64_t(*t) * 1000 : 0;
}

std::optional<std::int64_t> seconds_between(std::int64_t from_ms, std::int64_t to_ms) {
    if (from_ms <= 0 || to_ms < from_ms) return std::nullopt;
    return (to_ms - from_ms) / 1000;
}

// The room's facts from its session row; nothing when the session is unknown.
std::optional<RoomFacts> room_facts(store::Database& db, const room::Event& e, const std::string& account_sid) {
    auto session = store::SessionStore(db).find(e.session_id);
    auto sid = store::CallbackStore(db).room_sid(e.session_id);
    if (!session || !sid) return std::nullopt;
    RoomFacts room{account_sid, *sid, session->room_name, std::nullopt};
    const std::int64_t start = ms_of(session->started_at ? session->started_at : std::optional(session->created_at));
    const std::int64_t end = session->ended_at ? ms_of(session->ended_at) : e.at_ms;
    room.room_duration_s = seconds_between(start, end);
    return room;
}

std::optional<ParticipantFacts> facts_of(const std::optional<store::CallbackParticipant>& p, const std::string& identity,
                                         std::int64_t at_ms) {
    if (!p) return std::nullopt;
    return ParticipantFacts{p->sid, identity.empty() ? p->user_id : identity, seconds_between(ms_of(p->joined_at), at_ms)};
}

std::optional<ParticipantFacts> participant_facts(store::Database& db, const room::Event& e) {
    if (e.participant_id.empty()) return std::nullopt;
    return facts_of(store::CallbackStore(db).participant(e.participant_id), e.identity, e.at_ms);
}

// The doctor's participant row in the room: who a recording belongs to.
std::optional<ParticipantFacts> doctor_facts(store::Database& db, const room::Event& e) {
    return facts_of(store::CallbackStore(db).latest_doctor(e.session_id), "", e.at_ms);
}

RecordingFacts recording_facts(store::Database& db, const room::Event& e, const std::string& base_url,
                               std::int64_t room_start_ms) {
    RecordingFacts rec;
    rec.recording_sid = e.recording_sid;
    rec.recording_uri = base_url + "/api/video-consultations/sessions/" + e.session_id + "/recording";
    rec.media_uri = rec.recording_uri + "/media";
    rec.failed_operation = !e.failed_operation.empty() ? e.failed_operation
                           : e.part > 0                ? "RecordingComplete"
                                                       : "RecordingStart";
    store::RecordingStore rs(db);
    auto row = rs.for_session(e.session_id);
    if (!row) return rec;
    for (const auto& p : row->parts) {
        if (p.n != e.part) continue;
        const std::int64_t started = ms_of(p.started_at);
        if (started > 0 && room_start_ms > 0 && started >= room_start_ms) rec.offset_ms = started - room_start_ms;
        rec.duration_s = seconds_between(started, p.ended_at ? ms_of(p.ended_at) : e.at_ms);
        rec.size_bytes = p.size_bytes;
    }
    return rec;
}

bool retryable(const net::HttpResponse& r) { return r.transport_failed() || r.status >= 500 || r.status == 429; }

std::string short_reason(const net::HttpResponse& r) {
    if (r.transport_failed()) return r.error.empty() ? "no answer" : r.error;
    std::string body = r.body.substr(0, 200);
    std::replace(body.begin(), body.end(), '\n', ' ');
    return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

}  // namespace

StatusCallbacks::StatusCallbacks(store::Database& db, CallbackSettings settings)
    : db_(db), settings_(std::move(settings)), room_lane_(std::make_unique<Lane>()),
      recording_lane_(std::make_unique<Lane>()) {
    room_lane_->target = "room";
    recording_lane_->target = "recording";
}

StatusCallbacks::~StatusCallbacks() {
    *alive_ = false;
    for (Lane* l : {room_lane_.get(), recording_lane_.get()})
        if (l->timer) g_source_remove(l->timer);
}

bool StatusCallbacks::enabled() const {
    return !settings_.auth_token.empty() && (!settings_.room_status_url.empty() || !settings_.recording_status_url.empty());
}

void StatusCallbacks::start() {
    if (!enabled()) return;
    try {
        store::CallbackStore(db_).prune_delivered(domain::iso_utc(std::time(nullptr) - 7 * 86400));
    } catch (const store::StoreError& e) {
        log::warning(std::string("status callbacks: could not prune delivered rows: ") + e.what());
    }
    pump(*room_lane_);
    pump(*recording_lane_);
}

void StatusCallbacks::on_event(const room::Event& e) {
    if (!enabled()) return;
    try {
        queue(e);
    } catch (const std::exception& err) {
        // The event itself is not lost to the room; only its callback is, and the log says so.
        log::error(std::string("status callback not queued: ") + err.what(),
                   {{"SESSION_ID", e.session_id}, {"EVENT", room::event_name(e.kind)}});
        return;
    }
    if (!settings_.room_status_url.empty()) pump(*room_lane_);
    if (!settings_.recording_status_url.empty() && is_recording_event(e.kind)) pump(*recording_lane_);
}

void StatusCallbacks::queue(const room::Event& e) {
    auto room = room_facts(db_, e, settings_.account_sid);
    if (!room) return;   // a session this box does not know: nothing to say
    const std::string at = timestamp(e.at_ms);
    const std::string event = room::event_name(e.kind);
    store::CallbackStore cs(db_);
    if (!settings_.room_status_url.empty()) {
        std::optional<ParticipantFacts> who;
        if (is_recording_event(e.kind)) who = doctor_facts(db_, e);
        else who = participant_facts(db_, e);
        cs.enqueue("room", settings_.room_status_url, e.session_id, event, at, room_params(e, *room, who));
    }
    if (!settings_.recording_status_url.empty() && is_recording_event(e.kind)) {
        auto session = store::SessionStore(db_).find(e.session_id);
        const std::int64_t start = session ? ms_of(session->started_at ? session->started_at
                                                                       : std::optional(session->created_at))
                                           : 0;
        const RecordingFacts rec = recording_facts(db_, e, settings_.public_base_url, start);
        cs.enqueue("recording", settings_.recording_status_url, e.session_id, event, at,
                   recording_params(e, *room, rec, doctor_facts(db_, e)));
    }
}

void StatusCallbacks::wake(Lane& lane, ch::milliseconds after) {
    if (lane.timer) g_source_remove(lane.timer);
    struct Wake {
        StatusCallbacks* self;
        Lane* lane;
    };
    lane.timer = g_timeout_add_full(G_PRIORITY_DEFAULT, guint(std::max<ch::milliseconds::rep>(after.count(), 0)),
                                    [](gpointer p) -> gboolean {
                                        auto* w = static_cast<Wake*>(p);
                                        w->lane->timer = 0;
                                        at_boundary("status callbacks timer", [w] { w->self->pump(*w->lane); });
                                        return G_SOURCE_REMOVE;
                                    },
                                    new Wake{this, &lane}, [](gpointer p) { delete static_cast<Wake*>(p); });
}

void StatusCallbacks::pump(Lane& lane) {
    if (lane.busy) return;
    std::optional<store::QueuedCallback> c;
    try {
        c = store::CallbackStore(db_).head(lane.target);
    } catch (const store::StoreError& e) {
        log::warning(std::string("status callbacks: the queue could not be read: ") + e.what());
        return wake(lane, ch::seconds(5));
    }
    if (!c) return;
    const std::int64_t now_ms = ch::duration_cast<ch::milliseconds>(ch::system_clock::now().time_since_epoch()).count();
    if (c->next_attempt_at) {
        const std::int64_t due = ms_of(c->next_attempt_at);
        if (due > now_ms) return wake(lane, ch::milliseconds(due - now_ms));
    }
    net::HttpRequest req;
    req.method = "POST";
    req.url = c->url;
    req.timeout = settings_.timeout;
    req.body = net::form_encode(c->params);
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"X-Twilio-Signature", twilio::compute_signature(settings_.auth_token, c->url, c->params)},
                   {"User-Agent", "consult-appliance/" + std::string(version())}};
    lane.busy = true;
    http_.send(std::move(req), [this, alive = std::weak_ptr<bool>(alive_), lane = &lane, id = c->id,
                                attempts = c->attempts, first = c->event_at](net::HttpResponse r) {
        auto a = alive.lock();
        if (!a || !*a) return;
        lane->busy = false;
        finished(*lane, id, attempts, first, r);
    });
}

void StatusCallbacks::finished(Lane& lane, std::int64_t id, int attempts, const std::string& first_queued,
                               const net::HttpResponse& r) {
    store::CallbackStore cs(db_);
    const int status = int(r.status);
    ch::milliseconds next_in{0};
    try {
        if (r.status >= 200 && r.status < 300) {
            cs.delivered(id, status);
            ++lane.delivered;
        } else if (!retryable(r)) {
            cs.refused(id, status, short_reason(r));
            ++lane.refused;
            log::warning("status callback refused by the clinic's backend (" + short_reason(r) + "); not sent again",
                         {{"TARGET", lane.target}});
        } else {
            const auto queued = domain::parse_iso(first_queued);
            const bool too_old = queued && std::time(nullptr) - *queued > ch::seconds(settings_.give_up_after).count();
            if (too_old) {
                cs.give_up(id, status, short_reason(r));
                ++lane.given_up;
                log::error("status callback given up after " + std::to_string(attempts + 1) + " tries: " + short_reason(r),
                           {{"TARGET", lane.target}});
            } else {
                next_in = cloud::backoff(attempts, std::uniform_real_distribution<double>(0, 1)(random_),
                                         settings_.first_retry, settings_.max_retry);
                if (auto after = cloud::retry_after(r, std::time(nullptr))) next_in = std::max<ch::milliseconds>(next_in, *after);
                cs.retry(id, status, short_reason(r), domain::iso_in(next_in));
                ++lane.retried;
                log::warning("status callback not delivered (" + short_reason(r) + "); trying again in " +
                                 std::to_string(ch::duration_cast<ch::seconds>(next_in).count()) + " s",
                             {{"TARGET", lane.target}});
            }
        }
    } catch (const store::StoreError& e) {
        log::warning(std::string("status callbacks: the outcome could not be stored: ") + e.what());
        next_in = ch::seconds(5);
    }
    // The rest of the queue waits behind a callback being retried: order is kept.
    wake(lane, next_in);
}

std::string StatusCallbacks::metrics_text() {
    if (!enabled()) return {};
    std::ostringstream out;
    out << "# HELP consult_status_callbacks_total Status callbacks to the clinic's backend, by URL and outcome.\n"
        << "# TYPE consult_status_callbacks_total counter\n";
    for (const Lane* l : {room_lane_.get(), recording_lane_.get()}) {
        for (const auto& [result, n] : {std::pair<const char*, std::uint64_t>{"delivered", l->delivered},
                                        {"refused", l->refused}, {"retried", l->retried}, {"given_up", l->given_up}})
            out << "consult_status_callbacks_total{target=\"" << l->target << "\",result=\"" << result << "\"} " << n << "\n";
    }
    try {
        const auto counts = store::CallbackStore(db_).counts();
        out << "# HELP consult_status_callbacks_pending Status callbacks queued and not yet delivered.\n"
            << "# TYPE consult_status_callbacks_pending gauge\n"
            << "consult_status_callbacks_pending " << counts.pending << "\n"
            << "# HELP consult_status_callbacks_undeliverable Status callbacks refused (4xx) or given up, kept for a person.\n"
            << "# TYPE consult_status_callbacks_undeliverable gauge\n"
            << "consult_status_callbacks_undeliverable " << counts.refused + counts.failed << "\n";
    } catch (const store::StoreError&) {}
    return out.str();
}

}  // namespace consult::callbacks
