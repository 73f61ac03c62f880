// consultd's side of a pairing code in the provisioning file ([cloud] pairing_code,
// provision.hpp): consultctl provision kept the code as the credential
// cloud-pairing-code, with the project's URL and anon key in provisioned.conf. At start,
// a box that is not paired claims it (cloud/pairing_code.hpp), on the main loop through
// the HTTP client's thread, and again after 10 s, 20 s, ... up to 5 minutes while the
// cloud does not answer (the network may come up long after consultd). A claimed code
// pairs the box as the kiosk's setup does (provision::apply, then the sync starts) and is
// erased; a code the cloud refuses (wrong, used, expired, or the project key refused) is
// erased too, since it will never work, and the kiosk and the journal say why
// (provision-result.json). Nothing here ever stops consultd.
#pragma once

#include "appliance/net/http_client.hpp"

#include <glib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace consult::store { class Database; }
namespace consult::cloud {

class CloudSync;

struct ClaimerDeps {
    store::Database& db;
    CloudSync& sync;
    std::filesystem::path state_dir;
    std::string cloud_url, anon_key;
    std::chrono::seconds first_retry{10}, longest_retry{300};
};

class CodeClaimer {
public:
    explicit CodeClaimer(ClaimerDeps deps);
    ~CodeClaimer();
    CodeClaimer(const CodeClaimer&) = delete;
    CodeClaimer& operator=(const CodeClaimer&) = delete;

    void start();   // a claim now when there is a code to claim; otherwise nothing

private:
    void attempt();
    void answered(const net::HttpResponse& answer);
    void retry_later(const std::string& why);
    void give_up(const std::string& why);

    ClaimerDeps deps_;
    std::unique_ptr<net::HttpClient> client_;
    std::chrono::seconds wait_;
    guint retry_timer_ = 0;
};

}  // namespace consult::cloud
