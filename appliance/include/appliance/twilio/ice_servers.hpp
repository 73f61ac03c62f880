// STUN/TURN servers for calls: short-lived credentials from Twilio's Network
// Traversal Service (POST .../Tokens.json), kept until shortly before they expire.
// When Twilio is off or unreachable, the configured STUN servers stand in (no TURN).
#pragma once

#include "appliance/twilio/rest_client.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include "hwconfig/expected.hpp"
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace consult::twilio {

struct IceServer {
    std::string urls;
    std::string username, credential;   // empty for STUN
};

struct IceServerList {
    std::vector<IceServer> servers;
    std::string source;                 // "twilio" or "configured"
    std::time_t expires_at = 0;         // 0: does not expire
};

nlohmann::json to_json(const IceServerList& list);   // {"ice_servers":[{urls, username?, credential?}], source, expires_at?}
// webrtcbin's forms: "stun://host:port" and "turn://user:pass@host:port?transport=udp".
std::string webrtcbin_uri(const IceServer& s);

// The NTS response body → servers and when they expire ('ttl' is a string there).
expected<IceServerList, std::string> parse_token_response(const std::string& body, std::time_t fetched_at);

// How long before expiry credentials are replaced: a tenth of their life, at most 5 minutes.
std::time_t refresh_at(const IceServerList& list, std::time_t fetched_at);

class IceServers {
public:
    // `rest` may be null (Twilio off): then only the configured STUN servers are used.
    IceServers(RestClient* rest, std::vector<std::string> stun_servers, int ttl_seconds = 86400);
    ~IceServers();

    // What to use now: fresh Twilio credentials when there are some, else the configured
    // STUN servers (with a warning). Starts a refresh when the cache is stale.
    IceServerList current(std::time_t now);
    // Calls back with fresh credentials, fetching them if needed (or the fallback when
    // the fetch fails). Runs `done` at once when the cache is fresh.
    void get(std::time_t now, std::function<void(const IceServerList&)> done);

    int fetches() const { return fetches_; }   // requests sent to Twilio so far
    // Told how each fetch ended: "ok", "unreadable" (an answer with no usable credentials)
    // or "failed" (Twilio refused or did not answer).
    void on_fetched(std::function<void(const std::string& outcome)> observer) { on_fetched_ = std::move(observer); }

private:
    IceServerList fallback() const;
    void refresh(std::time_t now);
    RestClient* rest_;
    std::vector<std::string> stun_;
    int ttl_;
    std::optional<IceServerList> cached_;
    std::time_t refresh_at_ = 0;
    std::time_t next_try_ = 0;       // after a failed fetch
    bool fetching_ = false;
    int fetches_ = 0;
    std::vector<std::function<void(const IceServerList&)>> waiting_;
    std::function<void(const std::string&)> on_fetched_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::twilio
