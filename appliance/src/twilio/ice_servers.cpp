#include "appliance/twilio/ice_servers.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/net/http_client.hpp"

#include <algorithm>
#include <charconv>

namespace consult::twilio {

nlohmann::json to_json(const IceServerList& list) {
    nlohmann::json servers = nlohmann::json::array();
    for (const auto& s : list.servers) {
        nlohmann::json j{{"urls", s.urls}};
        if (!s.username.empty()) j["username"] = s.username;
        if (!s.credential.empty()) j["credential"] = s.credential;
        servers.push_back(std::move(j));
    }
    nlohmann::json out{{"ice_servers", servers}, {"source", list.source}};
    if (list.expires_at) out["expires_at"] = domain::iso_utc(list.expires_at);
    return out;
}

std::string webrtcbin_uri(const IceServer& s) {
    const auto colon = s.urls.find(':');
    if (colon == std::string::npos) return s.urls;
    const std::string scheme = s.urls.substr(0, colon);
    std::string rest = s.urls.substr(colon + 1);
    if (rest.starts_with("//")) rest.erase(0, 2);
    std::string auth;
    if (!s.username.empty()) auth = net::url_escape(s.username) + ":" + net::url_escape(s.credential) + "@";
    return scheme + "://" + auth + rest;
}

expected<IceServerList, std::string> parse_token_response(const std::string& body, std::time_t fetched_at) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("ice_servers") || !j["ice_servers"].is_array())
        return unexpected("the token response has no ice_servers list");
    IceServerList out;
    out.source = "twilio";
    for (const auto& e : j["ice_servers"]) {
        if (!e.is_object()) continue;
        IceServer s;
        // 'urls' in the current API; older answers also carry 'url'.
        if (e.contains("urls") && e["urls"].is_string()) s.urls = e["urls"];
        else if (e.contains("url") && e["url"].is_string()) s.urls = e["url"];
        if (s.urls.empty()) continue;
        if (e.contains("username") && e["username"].is_string()) s.username = e["username"];
        if (e.contains("credential") && e["credential"].is_string()) s.credential = e["credential"];
        out.servers.push_back(std::move(s));
    }
    if (out.servers.empty()) return unexpected("the token response lists no usable ICE server");
    long ttl = 0;
    if (j.contains("ttl") && j["ttl"].is_string()) {
        const std::string t = j["ttl"];
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), ttl);
        if (ec != std::errc() || p != t.data() + t.size()) ttl = 0;
    } else if (j.contains("ttl") && j["ttl"].is_number_integer()) {
        ttl = j["ttl"].get<long>();
    }
    if (ttl <= 0) return unexpected("the token response has no usable ttl");
    out.expires_at = fetched_at + ttl;
    return out;
}

std::time_t refresh_at(const IceServerList& list, std::time_t fetched_at) {
    const std::time_t life = list.expires_at - fetched_at;
    return list.expires_at - std::min<std::time_t>(300, life / 10);
}

IceServers::IceServers(RestClient* rest, std::vector<std::string> stun_servers, int ttl_seconds)
    : rest_(rest), stun_(std::move(stun_servers)), ttl_(ttl_seconds) {}

IceServers::~IceServers() { *alive_ = false; }

IceServerList IceServers::fallback() const {
    IceServerList out;
    out.source = "configured";
    for (const auto& s : stun_) out.servers.push_back({s, "", ""});
    return out;
}

IceServerList IceServers::current(std::time_t now) {
    if (cached_ && now < refresh_at_) return *cached_;
    if (rest_) refresh(now);
    if (cached_ && now < cached_->expires_at) return *cached_;   // stale but still valid while refreshing
    return fallback();
}

void IceServers::get(std::time_t now, std::function<void(const IceServerList&)> done) {
    if (!rest_ || (cached_ && now < refresh_at_) || now < next_try_) {
        done(current(now));
        return;
    }
    waiting_.push_back(std::move(done));
    refresh(now);
}

void IceServers::refresh(std::time_t now) {
    if (fetching_ || !rest_ || now < next_try_) return;
    fetching_ = true;
    ++fetches_;
    rest_->create_token(ttl_, [this, now, alive = std::weak_ptr<bool>(alive_)](Result r) {
        if (alive.expired()) return;
        fetching_ = false;
        const char* outcome = "failed";
        // Expiry counts from when the request was made: the credentials may be a little older than the answer.
        if (r.ok) {
            auto list = parse_token_response(r.response.body, now);
            if (list) {
                cached_ = *list;
                refresh_at_ = refresh_at(*list, now);
                outcome = "ok";
            } else {
                outcome = "unreadable";
                log::warning("Twilio's TURN credentials could not be read (" + list.error() +
                             "); calls use the configured STUN servers");
            }
        } else {
            next_try_ = now + 30;   // not once per page load while Twilio is down
            log::warning("Twilio's Network Traversal Service is unreachable (" + r.error.message +
                         "); calls use the configured STUN servers",
                         {{"HTTP_STATUS", std::to_string(r.error.http_status)},
                          {"TWILIO_ERROR", std::to_string(r.error.code)}});
        }
        if (on_fetched_) on_fetched_(outcome);
        auto waiting = std::move(waiting_);
        waiting_.clear();
        const IceServerList use = cached_ && now < cached_->expires_at ? *cached_ : fallback();
        for (auto& w : waiting) w(use);
    });
}

}  // namespace consult::twilio
