#include "appliance/notify/notifier.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/message_text.hpp"
#include "appliance/store/message_targets.hpp"
#include "appliance/store/visit_summary_store.hpp"
#include "appliance/twilio/message_status.hpp"

#include <array>

namespace consult::notify {

namespace {

bool is_open(const std::string& session_status) { return session_status == "scheduled" || session_status == "waiting"; }

std::time_t parse_time(const std::string& iso) { return domain::parse_iso(iso).value_or(0); }

}  // namespace

struct Notifier::Recipient {
    std::string session_id, room, session_status, patient_id, clinic_name, clinic_phone;
    std::optional<std::string> phone, email, short_code;
    std::string notify_via;      // the patient's choice, else the clinic's default
    std::string starts_iso;      // what `about` holds for this appointment time
    std::time_t starts_at = 0, created_at = 0;
};

namespace {

// Reminders and updates go once per appointment time; everything else once per session.
bool once_per_time(Purpose p) { return p == Purpose::Reminder || p == Purpose::Update; }

// Whether a message of `p` may go to a session in this state.
bool fits_state(Purpose p, const std::string& status) {
    if (p == Purpose::Summary || p == Purpose::VisitSummary) return status == "completed";
    if (p == Purpose::Cancellation) return status == "cancelled";
    return is_open(status);
}

bool reached_no_one(const MessageRow& m) { return m.status == "failed" || twilio::is_failure(m.status); }

}  // namespace

std::string describe_twilio_error(std::optional<int> code) {
    static constexpr std::array<std::pair<int, const char*>, 10> kText{{
        {30003, "number unreachable"},
        {30005, "unknown number"},
        {30006, "landline or unreachable carrier"},
        {30007, "blocked by the carrier"},
        {30008, "unknown error"},
        {21211, "not a valid phone number"},
        {21614, "not a mobile number"},
        {21610, "the patient opted out of SMS"},
        {21408, "no permission to send to this country"},
        {20003, "Twilio refused the appliance's credentials"},
    }};
    if (code)
        for (const auto& [c, text] : kText)
            if (c == *code) return text;
    return code ? "Twilio error " + std::to_string(*code) : std::string("not delivered");
}

Notifier::Notifier(store::Database& db, const Config& config, const tokens::TokenService& tokens, SmsChannel* sms,
                   EmailChannel* email, Metrics* metrics)
    : db_(db), config_(config), tokens_(tokens), sms_(sms), email_(email), metrics_(metrics), messages_(db) {
    if (metrics_)
        metrics_->set_help("consult_patient_messages_total", "counter",
                           "Messages to patients by channel, purpose and outcome (accepted, refused, and Twilio's "
                           "final delivery statuses)");
    if (metrics_)
        metrics_->set_help("consult_patient_message_clock_ticks_total", "counter",
                           "Passes of the patients' messages clock (reminders, notes after calls, retries) completed");
}

void Notifier::count(const MessageRow& m, const std::string& outcome) {
    if (metrics_)
        metrics_->count("consult_patient_messages_total", {{"channel", m.channel}, {"purpose", m.purpose}, {"outcome", outcome}});
}

Notifier::~Notifier() { *alive_ = false; }

std::optional<Notifier::Recipient> Notifier::recipient(const std::string& session_id) {
    auto row = store::find_recipient(db_, session_id);
    if (!row) return std::nullopt;
    Recipient r;
    r.session_id = session_id;
    r.room = row->room;
    r.session_status = row->session_status;
    r.created_at = parse_time(row->created_at);
    r.starts_at = parse_time(row->starts_at);
    r.patient_id = row->patient_id;
    r.phone = row->phone;
    r.email = row->email;
    r.clinic_name = row->clinic_name;
    r.clinic_phone = row->clinic_phone.value_or("");
    r.short_code = row->short_code;
    r.notify_via = row->notify_via.value_or(config_.notify.channels);
    r.starts_iso = row->starts_at;
    return r;
}

bool Notifier::can_use(const Recipient& r, Channel c, Purpose p) {
    if (c == Channel::Email) return email_ && r.email && !r.email->empty();
    return sms_ && r.phone && !r.phone->empty() && p != Purpose::Summary && !messages_.opted_out(r.patient_id);
}

std::vector<Channel> Notifier::channels_for(const Recipient& r, Purpose p) {
    if (r.notify_via == "none") return {};
    if (r.notify_via == "both") {
        std::vector<Channel> out;
        for (Channel c : {Channel::Sms, Channel::Email})
            if (can_use(r, c, p)) out.push_back(c);
        return out;
    }
    // The chosen channel first; the other only when the chosen one cannot reach the patient.
    const Channel first = r.notify_via == "email" ? Channel::Email : Channel::Sms;
    const Channel second = first == Channel::Sms ? Channel::Email : Channel::Sms;
    if (can_use(r, first, p)) return {first};
    if (can_use(r, second, p)) return {second};
    return {};
}

std::string Notifier::patient_link(const Recipient& r) {
    auto t = tokens_.issue(r.patient_id, tokens::Role::Patient, r.session_id, config_.sessions.token_ttl_seconds,
                           tokens::unix_now());
    if (!t) throw std::runtime_error("cannot issue a patient token: " + t.error());
    return config_.public_base_url() + "/v/" + r.room + "#t=" + t->token;
}

std::optional<MessageRow> Notifier::start(const std::string& session_id, Purpose p, const std::string& link) {
    auto r = recipient(session_id);
    if (!r || !fits_state(p, r->session_status)) return std::nullopt;
    for (const auto& m : messages_.for_session(session_id))
        if (m.purpose == purpose_name(p) && (!once_per_time(p) || m.about == r->starts_iso))
            return std::nullopt;   // sent (or tried) already
    std::optional<MessageRow> first;
    for (Channel channel : channels_for(*r, p)) {
        auto row = messages_.reserve(session_id, r->patient_id, purpose_name(p), channel_name(channel), r->starts_iso);
        if (!row) continue;
        dispatch(*row, *r, link);
        if (!first) first = messages_.find(row->id);
    }
    return first;
}

void Notifier::dispatch(const MessageRow& row, const Recipient& r, std::string link) {
    const auto purpose = parse_purpose(row.purpose).value_or(Purpose::Invite);
    // Sent ahead (a confirmation, an update): the short link, which makes a fresh token
    // when opened; close to the time: the patient page's own link with a token.
    const bool ahead = purpose == Purpose::Invite || purpose == Purpose::Update;
    if (link.empty() && ahead && r.short_code) link = config_.public_base_url() + "/j/" + *r.short_code;
    MessageFacts facts{r.clinic_name, r.starts_at, link, r.clinic_phone, {}};
    if (purpose == Purpose::VisitSummary) {
        auto v = store::VisitSummaryStore(db_).for_session(row.session_id);
        if (!v) throw std::runtime_error("no summary written for this session");
        facts.summary = v->text;
        facts.link = config_.public_base_url() + "/s/" + v->ref;
    } else if (link.empty() && purpose != Purpose::Summary && purpose != Purpose::Cancellation) {
        facts.link = patient_link(r);
    }
    in_flight_.insert(row.id);
    log::info("sending " + row.purpose + " by " + row.channel, {{"SESSION_ID", row.session_id}, {"MESSAGE_ID", row.id}});
    auto done = [this, id = row.id, alive = std::weak_ptr<bool>(alive_)](SendOutcome o) {
        if (!alive.expired()) finished(id, o);
    };
    if (row.channel == "sms") {
        sms_->send_sms(*r.phone, sms_text(purpose, facts), std::move(done));
    } else {
        auto text = email_text(purpose, facts);
        email_->send_email({*r.email, text.subject, text.body}, std::move(done));
    }
}

bool Notifier::sending(const std::string& session_id) {
    if (in_flight_.empty()) return false;
    for (const auto& m : messages_.for_session(session_id))
        if (in_flight_.contains(m.id)) return true;
    return false;
}

void Notifier::finished(const std::string& row_id, const SendOutcome& o) {
    in_flight_.erase(row_id);
    auto row = messages_.find(row_id);
    if (!row) return;
    if (o.ok) {
        // A first status this build does not know is taken as "queued".
        if (row->channel == "sms")
            messages_.accepted(row_id, o.provider_sid, twilio::status_rank(o.status) > 0 ? o.status : "queued", o.attempts);
        else messages_.emailed(row_id, o.attempts);
        count(*row, "accepted");
        log::info(row->purpose + " accepted by " + (row->channel == "sms" ? "Twilio" : "the SMTP server"),
                  {{"SESSION_ID", row->session_id}, {"MESSAGE_ID", row_id}, {"PROVIDER_SID", o.provider_sid}});
        return;
    }
    messages_.failed(row_id, row->channel == "sms" && o.error_code ? "rejected" : "failed", o.error_code,
                     o.error_message, o.attempts);
    count(*row, o.error_code ? "refused" : "gave_up");
    log::warning(row->purpose + " by " + row->channel + " failed: " + describe_twilio_error(o.error_code),
                 {{"SESSION_ID", row->session_id}, {"MESSAGE_ID", row_id},
                  {"TWILIO_ERROR", o.error_code ? std::to_string(*o.error_code) : ""},
                  {"ATTEMPTS", std::to_string(o.attempts)}});
    if (o.error_code == twilio::kErrorOptedOut) messages_.opt_out(row->patient_id, *o.error_code);
    fall_back(*messages_.find(row_id));
}

void Notifier::fall_back(const MessageRow& failed) {
    auto r = recipient(failed.session_id);
    if (!r || r->notify_via == "both" || r->notify_via == "none") return;
    const auto purpose = parse_purpose(failed.purpose).value_or(Purpose::Invite);
    // A late failure of "ready" or a reminder after the call is over helps no one.
    if (!fits_state(purpose, r->session_status)) return;
    const Channel other = failed.channel == "sms" ? Channel::Email : Channel::Sms;
    // SMS is the backup of an email only for a patient who chose email.
    if (other == Channel::Sms && r->notify_via != "email") return;
    if (!can_use(*r, other, purpose)) return;
    auto row = messages_.reserve(failed.session_id, failed.patient_id, purpose_name(purpose), channel_name(other),
                                 failed.about);
    if (!row) return;
    log::info("falling back to " + std::string(channel_name(other)),
              {{"SESSION_ID", failed.session_id}, {"MESSAGE_ID", row->id}});
    dispatch(*row, *r, {});
}

nlohmann::json Notifier::state_of(const std::optional<MessageRow>& row, const std::string& link, const Recipient* r) {
    if (!row) {
        std::string reason;
        if (!sms_ && !email_) reason = "SMS and email are off on this appliance; give the patient the link";
        else if (r && r->notify_via == "none") reason = "the patient asked for no messages; give the patient the link";
        else if (r && !r->phone && !r->email) reason = "the patient has no phone number or email address";
        else reason = "no way to reach the patient is switched on; give the patient the link";
        nlohmann::json j{{"channel", "none"}, {"status", "not_sent"}, {"reason", reason}};
        if (!link.empty()) j["link"] = link;
        return j;
    }
    return {{"channel", row->channel}, {"status", row->status}, {"message_id", row->id}};
}

nlohmann::json Notifier::session_created(const std::string& session_id, const std::string& link) {
    auto row = start(session_id, Purpose::Invite, link);
    auto r = recipient(session_id);
    if (!row) {
        for (const auto& m : messages_.for_session(session_id))
            if (m.purpose == "invite") return state_of(m, {}, nullptr);
    }
    return state_of(row, link, r ? &*r : nullptr);
}

nlohmann::json Notifier::doctor_ready(const std::string& session_id) {
    auto row = start(session_id, Purpose::Ready);
    if (!row) {
        for (const auto& m : messages_.for_session(session_id))
            if (m.purpose == "ready") return {{"channel", m.channel}, {"status", m.status}, {"already_sent", true}};
    }
    auto r = recipient(session_id);
    return state_of(row, {}, r ? &*r : nullptr);
}

std::optional<MessageRow> Notifier::confirm(const std::string& session_id) {
    return start(session_id, Purpose::Invite);
}

nlohmann::json Notifier::visit_summary(const std::string& session_id) {
    auto row = start(session_id, Purpose::VisitSummary);
    if (!row) {
        for (const auto& m : messages_.for_session(session_id))
            if (m.purpose == "visit_summary") return {{"channel", m.channel}, {"status", m.status}, {"already_sent", true}};
    }
    auto r = recipient(session_id);
    nlohmann::json state = state_of(row, {}, r ? &*r : nullptr);
    state.erase("link");
    return state;
}

std::optional<MessageRow> Notifier::rescheduled(const std::string& session_id) {
    auto r = recipient(session_id);
    if (!r || !is_open(r->session_status)) return std::nullopt;
    // What the patient was last told (an invite or an update that reached them).
    std::optional<MessageRow> told;
    for (const auto& m : messages_.for_session(session_id))
        if ((m.purpose == "invite" || m.purpose == "update") && !reached_no_one(m)) told = m;
    if (!told || told->about.empty() || told->about == r->starts_iso) return std::nullopt;
    return start(session_id, Purpose::Update);
}

std::optional<MessageRow> Notifier::cancelled(const std::string& session_id) {
    bool told = false;
    for (const auto& m : messages_.for_session(session_id))
        if ((m.purpose == "invite" || m.purpose == "update" || m.purpose == "reminder") && !reached_no_one(m)) told = true;
    // Nobody tells a patient that something they never heard of is off.
    if (!told) return std::nullopt;
    return start(session_id, Purpose::Cancellation);
}

nlohmann::json Notifier::resend_invite(const std::string& session_id, Channel channel) {
    auto r = recipient(session_id);
    if (!r) throw InviteRefused("session_not_found", "no such session");
    if (!is_open(r->session_status)) throw InviteRefused("session_not_open", "the session is " + r->session_status);
    if (channel == Channel::Sms) {
        if (!sms_) throw InviteRefused("channel_unavailable", "SMS is off on this appliance");
        if (!r->phone) throw InviteRefused("channel_unavailable", "the patient has no phone number");
        if (messages_.opted_out(r->patient_id))
            throw InviteRefused("channel_unavailable", "the patient opted out of SMS (replied STOP)");
    } else {
        if (!email_) throw InviteRefused("channel_unavailable", "email is off on this appliance");
        if (!r->email) throw InviteRefused("channel_unavailable", "the patient has no email address");
    }
    std::optional<MessageRow> row;
    for (const auto& m : messages_.for_session(session_id))
        if (m.purpose == "invite" && m.channel == channel_name(channel)) row = m;
    if (row && (in_flight_.contains(row->id) || !messages_.retry_failed(row->id)))
        throw InviteRefused("invite_already_sent", "the invite is " + row->status + " by " + row->channel);
    if (!row)
        row = messages_.reserve(session_id, r->patient_id, purpose_name(Purpose::Invite), channel_name(channel),
                                r->starts_iso);
    if (!row) throw InviteRefused("invite_already_sent", "the invite was just sent");
    log::info("invite sent again on request", {{"SESSION_ID", session_id}, {"MESSAGE_ID", row->id}});
    dispatch(*messages_.find(row->id), *r, {});
    return session_messages(session_id)["invite"];
}

void Notifier::tick(std::time_t now) {
    // Reminders: open sessions starting within the next 15 minutes that were made
    // before that window opened (a session made 5 minutes ahead has just had its invite).
    const auto due = store::open_sessions_starting(db_, domain::iso_utc(now - 60),
                                                   domain::iso_utc(now + kReminderMinutes * 60 + 60));
    // A session whose appointment change is still queued is left out by the query, and
    // one with a message still on its way waits for the next pass: a move's update
    // reaches the patient before the reminder for the new time.
    for (const auto& s : due) {
        const std::time_t starts = parse_time(s.starts_at), created = parse_time(s.created_at);
        if (starts >= now && starts - now <= kReminderMinutes * 60 && created < starts - kReminderMinutes * 60 &&
            !sending(s.id))
            start(s.id, Purpose::Reminder);
    }

    // A note after each finished call (within a day, so an old database sends nothing).
    if (email_)
        for (const auto& id : store::sessions_completed_since(db_, domain::iso_utc(now - 86400)))
            start(id, Purpose::Summary);

    // Rows still pending and not in flight: the daemon stopped before the answer came.
    for (const auto& m : messages_.pending()) {
        if (in_flight_.contains(m.id) || parse_time(m.updated_at) > now - 60) continue;
        auto r = recipient(m.session_id);
        if (!r || (m.channel == "sms" && (!sms_ || !r->phone)) || (m.channel == "email" && (!email_ || !r->email))) {
            messages_.failed(m.id, "failed", std::nullopt, "the channel or the address is gone", m.attempts);
            continue;
        }
        dispatch(m, *r, {});
    }
    if (metrics_) metrics_->count("consult_patient_message_clock_ticks_total", {});
}

bool Notifier::message_status(const std::string& provider_sid, const std::string& status,
                              std::optional<int> error_code, const std::string& error_message) {
    auto update = messages_.apply_status(provider_sid, status, error_code, error_message,
                                         [&](const std::string& from) { return twilio::moves_forward(from, status); });
    if (!update) return false;
    if (!update->changed) {
        log::debug("status callback ignored (duplicate or out of order)",
                   {{"PROVIDER_SID", provider_sid}, {"STATUS", status}});
        return true;
    }
    const auto& m = update->message;
    if (twilio::status_rank(status) >= twilio::status_rank("delivered")) count(m, status);
    log::info("message " + m.purpose + " is " + status, {{"SESSION_ID", m.session_id}, {"MESSAGE_ID", m.id},
                                                         {"TWILIO_ERROR", error_code ? std::to_string(*error_code) : ""}});
    if (error_code == twilio::kErrorOptedOut) messages_.opt_out(m.patient_id, *error_code);
    if (twilio::is_failure(status) || error_code == twilio::kErrorOptedOut) fall_back(m);
    return true;
}

nlohmann::json Notifier::invite_of(const std::vector<MessageRow>& rows, const Recipient* r) {
    std::optional<MessageRow> sms, email;
    for (const auto& m : rows)
        if (m.purpose == "invite") (m.channel == "sms" ? sms : email) = m;
    nlohmann::json invite = state_of(email ? email : sms, {}, r);
    if (sms && twilio::is_failure(sms->status)) {
        invite["sms_error"] = {{"code", sms->error_code ? nlohmann::json(*sms->error_code) : nlohmann::json(nullptr)},
                               {"message", sms->error_message.value_or("")}};
        invite["notice"] = "SMS failed: " + describe_twilio_error(sms->error_code) +
                           (email ? " — sent by email instead" : " — resend or give the patient the link");
    }
    return invite;
}

nlohmann::json Notifier::session_messages(const std::string& session_id) {
    auto rows = messages_.for_session(session_id);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : rows) list.push_back(to_json(m));
    auto r = recipient(session_id);
    return {{"invite", invite_of(rows, r ? &*r : nullptr)}, {"messages", list}};
}

nlohmann::json Notifier::invite_summary(const std::string& session_id) {
    auto invite = invite_of(messages_.for_session(session_id), nullptr);
    invite.erase("reason");   // says why only where one session is shown
    return invite;
}

}  // namespace consult::notify
