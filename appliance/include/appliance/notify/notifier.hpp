// Tells patients about their video consultation: the invite (a confirmation when the
// appointment is booked, or at Start), an update when it moves, a cancellation, a
// reminder 15 minutes before, "the doctor is ready", and a short note after the call.
// By the patient's choice (notify_via, else [notify] channels): SMS first (Twilio) with
// email as the backup when SMS is off, refused, undelivered or opted out of; email first
// with SMS as the backup; both; or none. Every message and its fate is stored; none goes
// out twice for the same purpose (and, for reminders and updates, the same time).
#pragma once

#include "appliance/config.hpp"
#include "appliance/metrics.hpp"
#include "appliance/notify/message.hpp"
#include "appliance/notify/smtp_sender.hpp"
#include "appliance/store/message_records.hpp"
#include "appliance/tokens/token_service.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace consult::notify {

struct SendOutcome {
    bool ok = false;
    std::string provider_sid;          // SMS: Twilio's message SID
    std::string status;                // SMS: Twilio's first status ("queued", "accepted")
    std::optional<int> error_code;     // Twilio's error code
    std::string error_message;
    int attempts = 1;
};

// The ways out; the daemon plugs in Twilio and SMTP, tests plug in fakes.
class SmsChannel {
public:
    virtual ~SmsChannel() = default;
    virtual void send_sms(const std::string& to, const std::string& body, std::function<void(SendOutcome)> done) = 0;
};
class EmailChannel {
public:
    virtual ~EmailChannel() = default;
    virtual void send_email(Email email, std::function<void(SendOutcome)> done) = 0;
};

inline constexpr int kReminderMinutes = 15;

// Why a resend was refused: `code` is the API's error code (e.g. channel_unavailable).
struct InviteRefused : std::runtime_error {
    InviteRefused(std::string code, const std::string& why) : std::runtime_error(why), code(std::move(code)) {}
    std::string code;
};

class Notifier {
public:
    // Either channel may be null (switched off); so may `metrics`.
    Notifier(store::Database& db, const Config& config, const tokens::TokenService& tokens, SmsChannel* sms,
             EmailChannel* email, Metrics* metrics = nullptr);
    ~Notifier();
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    bool sms_on() const { return sms_ != nullptr; }
    bool email_on() const { return email_ != nullptr; }

    // A session was made: invite the patient with `link`. Returns the invite's state
    // for the API ({channel: sms|email|none, status, link when none, ...}).
    nlohmann::json session_created(const std::string& session_id, const std::string& link);
    // The doctor opened the waiting room: tell the patient (once per session).
    nlohmann::json doctor_ready(const std::string& session_id);
    // The appointment was booked: the invite with the short link, once. Nothing when the
    // patient cannot or will not be reached; the first row sent otherwise.
    std::optional<MessageRow> confirm(const std::string& session_id);
    // The appointment moved since the patient was last told its time: one update.
    std::optional<MessageRow> rescheduled(const std::string& session_id);
    // The doctor's summary (written with VisitSummaryStore) to the patient, once: by
    // email with its text, or by SMS with the link to the page that shows it behind the
    // invite's code. The message's state for the API ({channel, status} or why none).
    nlohmann::json visit_summary(const std::string& session_id);
    // The session was cancelled: a cancellation, once, when the patient had been told of it.
    std::optional<MessageRow> cancelled(const std::string& session_id);
    // The kiosk's "resend" / "email": the invite again by this channel, only when it has
    // not gone out that way yet or failed. Throws InviteRefused otherwise.
    nlohmann::json resend_invite(const std::string& session_id, Channel channel);
    // Reminders that are due, notes after finished calls, sends left unanswered.
    void tick(std::time_t now);
    // A status callback from Twilio; false when the SID is not one of ours.
    bool message_status(const std::string& provider_sid, const std::string& status, std::optional<int> error_code,
                        const std::string& error_message);
    // For the session JSON: {invite: {...}, messages: [...]}.
    nlohmann::json session_messages(const std::string& session_id);
    // Just the invite's {channel, status, notice?}, for lists (one query).
    nlohmann::json invite_summary(const std::string& session_id);

private:
    struct Recipient;
    std::optional<Recipient> recipient(const std::string& session_id);
    bool can_use(const Recipient& r, Channel c, Purpose p);
    std::vector<Channel> channels_for(const Recipient& r, Purpose p);
    std::optional<MessageRow> start(const std::string& session_id, Purpose p, const std::string& link = {});
    void dispatch(const MessageRow& row, const Recipient& r, std::string link);
    void finished(const std::string& row_id, const SendOutcome& outcome);
    bool sending(const std::string& session_id);   // a message for it is still on its way
    void fall_back(const MessageRow& failed);
    std::string patient_link(const Recipient& r);
    nlohmann::json state_of(const std::optional<MessageRow>& row, const std::string& link, const Recipient* r);
    nlohmann::json invite_of(const std::vector<MessageRow>& rows, const Recipient* r);
    void count(const MessageRow& m, const std::string& outcome);

    store::Database& db_;
    const Config& config_;
    const tokens::TokenService& tokens_;
    SmsChannel* sms_;
    EmailChannel* email_;
    Metrics* metrics_;
    store::MessageRecords messages_;
    std::set<std::string> in_flight_;   // row ids sent and not answered yet
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "number unreachable" for 30003 and so on: what the kiosk shows beside "SMS failed".
std::string describe_twilio_error(std::optional<int> code);

}  // namespace consult::notify
