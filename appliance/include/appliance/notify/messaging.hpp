// The daemon's outside messaging, put together from the configuration and the
// credentials: Twilio (SMS and TURN credentials) and SMTP (email), each switched off
// cleanly when what it needs is missing, and the notifier's clock.
#pragma once

#include "appliance/notify/journey.hpp"
#include "appliance/notify/notifier.hpp"
#include "appliance/twilio/ice_servers.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace consult::notify {

class Messaging {
public:
    // Credentials (twilio-auth-token, twilio-api-key-secret, smtp-password) are read from
    // the state directory's credential store.
    static std::unique_ptr<Messaging> create(const Config& config, const std::filesystem::path& state_dir,
                                             store::Database& db, const tokens::TokenService& tokens, Metrics& metrics);
    ~Messaging();
    Messaging(const Messaging&) = delete;
    Messaging& operator=(const Messaging&) = delete;

    Notifier& notifier() { return *notifier_; }
    Journey& journey() { return *journey_; }
    twilio::IceServers& ice_servers() { return *ice_; }
    // The account's auth token, which signs Twilio's webhooks (an API key secret does not).
    const std::optional<std::string>& webhook_token() const { return auth_token_; }
    // Runs the journey's and the notifier's ticks every `seconds` on the default main context.
    void start_clock(unsigned seconds = 15);
    nlohmann::json status() const;   // {sms, email, turn, status_callbacks}: on/off

    struct Parts;

private:
    Messaging() = default;
    // One slice of queued appointment changes; true when more may be waiting. A store
    // failure is logged, never thrown (it runs in GLib callbacks).
    bool journey_slice(std::time_t now);
    std::unique_ptr<Parts> parts_;
    std::unique_ptr<Notifier> notifier_;
    std::unique_ptr<Journey> journey_;
    std::unique_ptr<twilio::IceServers> ice_;
    std::optional<std::string> auth_token_;
    guint clock_ = 0;
    guint drain_ = 0;   // the rest of a backlog of appointment changes, a slice per turn
};

}  // namespace consult::notify
