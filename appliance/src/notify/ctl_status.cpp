#include "appliance/notify/ctl_status.hpp"

#include "appliance/credentials.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/notify/notifier.hpp"
#include "appliance/store/message_records.hpp"

namespace consult::notify {

namespace {

bool has(const Credentials& c, const char* name) {
    auto v = c.read(name);
    return v && v->has_value();
}

}  // namespace

nlohmann::json messaging_status(const Config& config, const std::filesystem::path& state_dir) {
    const Credentials creds(state_dir);
    const auto& tw = config.twilio;
    const bool twilio_key = has(creds, "twilio-auth-token") || (!tw.api_key_sid.empty() && has(creds, "twilio-api-key-secret"));
    std::string sms = "on", turn = "twilio";
    if (tw.account_sid.empty()) sms = turn = "off ([twilio] account_sid is not set)";
    else if (!twilio_key) sms = turn = "off (no twilio-auth-token or twilio-api-key-secret credential)";
    else if (tw.from_number.empty() && tw.messaging_service_sid.empty()) sms = "off (no from_number or messaging_service_sid)";
    if (turn != "twilio")
        turn = config.media.stun_servers.empty() ? "off, no STUN servers configured" : "configured STUN servers only";
    std::string email = "on";
    if (config.email.smtp_url.empty() || config.email.from.empty()) email = "off ([email] smtp_url and from are not both set)";
    nlohmann::json out{{"sms", sms}, {"email", email}, {"turn", turn}, {"last_24h", nlohmann::json::object()},
                       {"last_failure", nullptr}};
    try {
        auto db = store::Database::open(state_dir / "consult.db", store::Database::Mode::ReadOnly);
        const std::string since = domain::iso_utc(std::time(nullptr) - 86400);
        store::MessageRecords messages(db);
        for (const auto& [what, n] : messages.counts_since(since)) out["last_24h"][what] = n;
        if (auto f = messages.last_failure())
            out["last_failure"] = {{"channel", f->channel}, {"purpose", f->purpose},
                                   {"reason", describe_twilio_error(f->error_code)}, {"at", f->at}};
    } catch (const store::StoreError&) {
        // No database yet, or one from before messages were kept: nothing to count.
    }
    return out;
}

std::string messaging_status_lines(const nlohmann::json& s) {
    auto text = [&](const char* k) { return s.contains(k) && s[k].is_string() ? s[k].get<std::string>() : "?"; };
    std::string counts;
    for (const auto& [k, v] : s["last_24h"].items()) counts += (counts.empty() ? "" : ", ") + v.dump() + " " + k;
    std::string out = "SMS:             " + text("sms") + "\n" + "email:           " + text("email") + "\n" +
                      "TURN:            " + text("turn") + "\n" +
                      "messages (24 h): " + (counts.empty() ? "none" : counts) + "\n";
    if (s["last_failure"].is_object()) {
        const auto& f = s["last_failure"];
        out += "last failure:    " + f.value("channel", "") + " " + f.value("purpose", "") + ": " + f.value("reason", "") +
               " (at " + f.value("at", "") + ")\n";
    }
    return out;
}

}  // namespace consult::notify
