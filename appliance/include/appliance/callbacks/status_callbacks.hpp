// Status callbacks for the clinic's backend, in the shape of Twilio Video's room and
// recording status callbacks: each room event becomes a form-encoded POST signed with
// X-Twilio-Signature, queued in the store the moment it happens (nothing is lost across
// a restart) and delivered in the order of its Timestamp, one at a time per URL.
// A 2xx delivers; a 4xx refuses it for good (counted, kept for a person to see); a 5xx,
// 429 or no answer is tried again with backoff, then given up after a day.
#pragma once

#include "appliance/net/http_client.hpp"
#include "appliance/room/room_events.hpp"
#include "appliance/store/database.hpp"

#include <glib.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>

namespace consult::callbacks {

struct CallbackSettings {
    std::string room_status_url;        // empty: no room callbacks
    std::string recording_status_url;   // empty: no recording callbacks
    std::string auth_token;             // signs every callback; none is sent without it
    std::string account_sid;            // AccountSid in every callback
    std::string public_base_url;        // for RecordingUri and MediaUri
    std::chrono::milliseconds first_retry{5000}, max_retry{std::chrono::hours(1)};
    std::chrono::hours give_up_after{24};
    std::chrono::milliseconds timeout{10000};
};

class StatusCallbacks {
public:
    StatusCallbacks(store::Database& db, CallbackSettings settings);
    ~StatusCallbacks();
    StatusCallbacks(const StatusCallbacks&) = delete;
    StatusCallbacks& operator=(const StatusCallbacks&) = delete;

    bool enabled() const;
    void on_event(const room::Event& e);   // a room::Events listener: queues, then delivers
    void start();                           // delivers what an earlier run left queued
    std::string metrics_text();

private:
    struct Lane;
    void queue(const room::Event& e);
    void pump(Lane& lane);
    void finished(Lane& lane, std::int64_t id, int attempts, const std::string& first_queued, const net::HttpResponse& r);
    void wake(Lane& lane, std::chrono::milliseconds after);

    store::Database& db_;
    CallbackSettings settings_;
    net::HttpClient http_;
    std::unique_ptr<Lane> room_lane_, recording_lane_;
    std::mt19937 random_{std::random_device{}()};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::callbacks
