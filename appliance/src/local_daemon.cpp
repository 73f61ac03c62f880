#include "appliance/local_daemon.hpp"

#include "appliance/credentials.hpp"
#include "appliance/tokens/token_service.hpp"

namespace consult {

std::string local_daemon_url(const Config& c, const std::string& path) {
    const std::string host = c.http.bind == "0.0.0.0" ? "127.0.0.1" : c.http.bind;
    return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(c.http.port) + path;
}

std::optional<std::string> local_admin_token(const std::filesystem::path& state_dir, const std::string& identity) {
    // Read, never created: consultctl often runs as root, and a key it made would be root's
    // file that consultd cannot read. No key means consultd never started here.
    auto key = Credentials(state_dir).read("token-signing-key");
    if (!key || !*key) return std::nullopt;
    auto issued = tokens::TokenService(**key).issue(identity, tokens::Role::Admin, std::nullopt, 300, tokens::unix_now());
    if (!issued) return std::nullopt;
    return issued->token;
}

}  // namespace consult
