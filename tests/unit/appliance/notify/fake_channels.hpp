// SMS and email channels for the notifier's tests: what was sent, answered at once
// (accepted, refused, failed) or held until the test answers.
#pragma once

#include "appliance/notify/notifier.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace consult::notify {

struct FakeSms : SmsChannel {
    struct Sent { std::string to, body; };
    std::vector<Sent> sent;
    std::vector<std::function<void(SendOutcome)>> held;
    bool hold = false;
    std::optional<SendOutcome> refuse;   // answer every send with this failure
    void send_sms(const std::string& to, const std::string& body, std::function<void(SendOutcome)> done) override {
        sent.push_back({to, body});
        if (hold) return held.push_back(std::move(done));
        if (refuse) return done(*refuse);
        SendOutcome o;
        o.ok = true;
        o.provider_sid = sid(sent.size() - 1);
        o.status = "queued";
        done(o);
    }
    // The SID Twilio gave the i-th message sent (from 0).
    static std::string sid(size_t i) {
        const std::string n = std::to_string(i + 1);
        return "SM" + std::string(32 - n.size(), '0') + n;
    }
};

struct FakeEmail : EmailChannel {
    std::vector<Email> sent;
    bool fail = false;
    void send_email(Email e, std::function<void(SendOutcome)> done) override {
        sent.push_back(e);
        SendOutcome o;
        o.ok = !fail;
        if (fail) o.error_message = "550 no such user";
        done(o);
    }
};

}  // namespace consult::notify
