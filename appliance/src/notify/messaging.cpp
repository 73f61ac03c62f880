#include "appliance/notify/messaging.hpp"

#include "appliance/credentials.hpp"
#include "appliance/log.hpp"
#include "appliance/twilio/rest_client.hpp"

namespace consult::notify {

namespace {

class TwilioSms : public SmsChannel {
public:
    explicit TwilioSms(twilio::RestClient& rest) : rest_(rest) {}
    void send_sms(const std::string& to, const std::string& body, std::function<void(SendOutcome)> done) override {
        rest_.create_message(to, body, [done = std::move(done)](twilio::Result r) {
            SendOutcome o;
            o.attempts = r.attempts;
            if (r.ok) {
                auto j = nlohmann::json::parse(r.response.body, nullptr, false);
                if (j.is_object() && j.contains("sid") && j["sid"].is_string()) {
                    o.ok = true;
                    o.provider_sid = j["sid"];
                    o.status = j.contains("status") && j["status"].is_string() ? j["status"].get<std::string>() : "queued";
                } else {
                    o.error_message = "Twilio's answer carries no message SID";
                }
            } else {
                if (r.error.code) o.error_code = r.error.code;
                o.error_message = r.error.http_status ? r.error.message : "Twilio unreachable: " + r.error.message;
            }
            done(std::move(o));
        });
    }
private:
    twilio::RestClient& rest_;
};

class SmtpEmail : public EmailChannel {
public:
    explicit SmtpEmail(SmtpSettings s) : sender_(std::move(s)) {}
    void send_email(Email email, std::function<void(SendOutcome)> done) override {
        sender_.send(std::move(email), [done = std::move(done)](SmtpResult r) {
            SendOutcome o;
            o.ok = r.ok;
            o.error_message = r.error;
            done(std::move(o));
        });
    }
private:
    SmtpSender sender_;
};

std::optional<std::string> credential(const Credentials& c, const std::string& name) {
    auto v = c.read(name);
    if (!v) {
        log::warning("credential " + name + " cannot be used: " + v.error());
        return std::nullopt;
    }
    return *v;
}

std::string user_of(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return {};
    const auto end = url.find_first_of("/?#", scheme + 3);
    const std::string authority = url.substr(scheme + 3, end == std::string::npos ? std::string::npos : end - scheme - 3);
    const auto at = authority.rfind('@');
    if (at == std::string::npos) return {};
    return authority.substr(0, authority.find(':') < at ? authority.find(':') : at);
}

}  // namespace

struct Messaging::Parts {
    std::unique_ptr<net::HttpClient> http;
    std::unique_ptr<twilio::RestClient> rest;
    std::unique_ptr<TwilioSms> sms;
    std::unique_ptr<SmtpEmail> email;
};

std::unique_ptr<Messaging> Messaging::create(const Config& config, const std::filesystem::path& state_dir,
                                             store::Database& db, const tokens::TokenService& tokens, Metrics& metrics) {
    std::unique_ptr<Messaging> m(new Messaging());
    m->parts_ = std::make_unique<Parts>();
    auto& p = *m->parts_;
    const auto& tw = config.twilio;
    const Credentials creds(state_dir);

    if (!tw.account_sid.empty()) {
        m->auth_token_ = credential(creds, "twilio-auth-token");
        auto key_secret = tw.api_key_sid.empty() ? std::nullopt : credential(creds, "twilio-api-key-secret");
        twilio::Settings s;
        s.api_base_url = tw.api_base_url;
        s.account_sid = tw.account_sid;
        s.from_number = tw.from_number;
        s.messaging_service_sid = tw.messaging_service_sid;
        if (key_secret) {
            s.username = tw.api_key_sid;
            s.password = *key_secret;
        } else if (m->auth_token_) {
            s.username = tw.account_sid;
            s.password = *m->auth_token_;
        }
        std::string base = config.public_base_url();
        while (!base.empty() && base.back() == '/') base.pop_back();
        // Without the auth token the callbacks could not be checked, so none are asked for.
        if (m->auth_token_) s.status_callback_url = base + "/api/webhooks/twilio/message-status";
        else log::warning("no twilio-auth-token: Twilio's delivery reports cannot be verified and are not requested");
        if (!s.username.empty()) {
            p.http = std::make_unique<net::HttpClient>();
            p.rest = std::make_unique<twilio::RestClient>(std::move(s), *p.http);
            if (!tw.from_number.empty() || !tw.messaging_service_sid.empty())
                p.sms = std::make_unique<TwilioSms>(*p.rest);
            else log::warning("Twilio has no from_number or messaging_service_sid: SMS is off");
        } else {
            log::warning("Twilio account set but no twilio-auth-token or twilio-api-key-secret: SMS and TURN are off");
        }
    }
    if (!config.email.smtp_url.empty() && !config.email.from.empty()) {
        SmtpSettings s;
        s.url = config.email.smtp_url;
        s.from = config.email.from;
        s.username = user_of(s.url);
        s.password = credential(creds, "smtp-password").value_or("");
        p.email = std::make_unique<SmtpEmail>(std::move(s));
    }
    m->notifier_ = std::make_unique<Notifier>(db, config, tokens, p.sms.get(), p.email.get(), &metrics);
    m->journey_ = std::make_unique<Journey>(db, config, *m->notifier_, &metrics);
    m->ice_ = std::make_unique<twilio::IceServers>(p.rest.get(), config.media.stun_servers);
    metrics.set_help("consult_twilio_token_requests_total", "counter",
                     "Requests for TURN credentials to Twilio's Network Traversal Service, by outcome (ok, "
                     "unreadable, failed)");
    m->ice_->on_fetched([&metrics](const std::string& outcome) {
        metrics.count("consult_twilio_token_requests_total", {{"outcome", outcome}});
    });
    if (!p.rest && config.media.stun_servers.empty())
        log::warning("no TURN (Twilio off) and no [media] stun_servers: patients behind NAT may not connect");
    else if (!p.rest)
        log::warning("Twilio is off: calls use the configured STUN servers only, no TURN relay");
    log::info(std::string("messaging: SMS ") + (p.sms ? "on" : "off") + ", email " + (p.email ? "on" : "off") +
              ", TURN " + (p.rest ? "from Twilio" : "off"));
    return m;
}

Messaging::~Messaging() {
    if (clock_) g_source_remove(clock_);
    if (drain_) g_source_remove(drain_);
    // The notifier and the ICE cache go before the clients they call into.
    journey_.reset();
    notifier_.reset();
    ice_.reset();
}

bool Messaging::journey_slice(std::time_t now) {
    try {
        return journey_->tick(now);
    } catch (const std::exception& e) {
        log::error(std::string("appointment changes not handled: ") + e.what());
        return false;
    }
}

void Messaging::start_clock(unsigned seconds) {
    if (clock_) return;
    auto tick = [](gpointer self) -> gboolean {
        auto* m = static_cast<Messaging*>(self);
        const std::time_t now = std::time(nullptr);
        if (m->journey_slice(now) && !m->drain_)
            m->drain_ = g_idle_add_full(G_PRIORITY_LOW, [](gpointer self) -> gboolean {
                auto* m = static_cast<Messaging*>(self);
                if (m->journey_slice(std::time(nullptr))) return G_SOURCE_CONTINUE;
                m->drain_ = 0;
                return G_SOURCE_REMOVE;
            }, m, nullptr);
        try {
            m->notifier_->tick(now);
        } catch (const std::exception& e) {
            log::error(std::string("messaging tick failed: ") + e.what());
        }
        return G_SOURCE_CONTINUE;
    };
    tick(this);
    clock_ = g_timeout_add_seconds(seconds, tick, this);
    if (parts_->rest) ice_->current(std::time(nullptr));   // fetch TURN credentials ahead of the first call
}

nlohmann::json Messaging::status() const {
    return {{"sms", parts_->sms ? "on" : "off"},
            {"email", parts_->email ? "on" : "off"},
            {"turn", parts_->rest ? "twilio" : "off"},
            {"status_callbacks", auth_token_ ? "verified" : "off"}};
}

}  // namespace consult::notify
