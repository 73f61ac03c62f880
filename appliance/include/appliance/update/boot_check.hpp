// The health check that decides whether a newly booted slot is kept (image/README.md,
// "Updates"): consultd READY and answering, its store open and migrated, the kiosk page
// served. consult-boot-check.service runs it before boot-complete.target.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace consult::update {

// What this slot's consultd must report: the version and schema this software was built with.
struct BootExpectation {
    std::string version;
    int schema_version = 0;
};

// nullopt when /healthz's answer shows a healthy daemon of this slot; otherwise why not, in
// one line for the journal. `body` is outside input: any shape is answered, never thrown.
std::optional<std::string> health_problem(long http_status, const std::string& body, const BootExpectation& expect);

// nullopt when GET /kiosk served the kiosk's page.
std::optional<std::string> kiosk_problem(long http_status, const std::string& content_type, const std::string& body);

// Asks `base_url` (http://127.0.0.1:PORT) every two seconds until both are healthy or
// `timeout` has passed. Gives up sooner when nothing has answered at all for `unanswered`:
// the check starts once consultd's start has finished (After=consultd.service), so a
// daemon that does not even listen by then is crash-looping, and a slot being tried should
// not wait the whole timeout for it. Prints one line; 0 healthy, 1 not.
int run_boot_check(const std::string& base_url, const BootExpectation& expect, std::chrono::seconds timeout,
                   std::chrono::seconds unanswered = std::chrono::seconds(60));

}  // namespace consult::update
