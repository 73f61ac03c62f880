#include "appliance/cloud/code_claimer.hpp"

#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/cloud/pairing_code.hpp"
#include "appliance/credentials.hpp"
#include "appliance/log.hpp"
#include "appliance/provision.hpp"
#include "appliance/store/records.hpp"

#include <unistd.h>

#include <algorithm>
#include <variant>

namespace consult::cloud {

namespace {

std::filesystem::path code_file(const std::filesystem::path& state_dir) {
    return Credentials(state_dir).local_dir() / provision::kPairingCodeCredential;
}

}  // namespace

CodeClaimer::CodeClaimer(ClaimerDeps deps) : deps_(std::move(deps)), wait_(deps_.first_retry) {}

CodeClaimer::~CodeClaimer() {
    if (retry_timer_) g_source_remove(retry_timer_);
    client_.reset();   // a claim still out: its answer is not delivered
}

void CodeClaimer::start() { attempt(); }

void CodeClaimer::attempt() {
    auto stored = Credentials(deps_.state_dir).read(provision::kPairingCodeCredential);
    if (!stored) return give_up("the provisioning file's pairing code cannot be read: " + stored.error());
    if (!*stored) return;   // no code: nothing to claim
    if (deps_.sync.enabled()) {
        log::info("this box is paired with its clinic cloud; the provisioning file's pairing code is not needed");
        ::unlink(code_file(deps_.state_dir).c_str());
        return;
    }
    const auto code = normalize_pairing_code(**stored);
    if (!code) return give_up("the provisioning file's pairing code is not one (10 letters and digits)");
    if (deps_.cloud_url.empty() || deps_.anon_key.empty())
        return give_up("the provisioning file's pairing code came without the clinic cloud's url and anon key");
    if (!client_) client_ = std::make_unique<net::HttpClient>();
    log::info("claiming the provisioning file's pairing code at " + deps_.cloud_url);
    client_->send(claim_request(deps_.cloud_url, deps_.anon_key, *code),
                  [this](net::HttpResponse answer) { answered(answer); });
}

void CodeClaimer::answered(const net::HttpResponse& answer) {
    using Why = ClaimRefused::Why;
    auto claimed = parse_claim_reply(answer);
    if (auto* no = std::get_if<ClaimRefused>(&claimed)) {
        switch (no->why) {
        case Why::Unreachable:
        case Why::BadAnswer:   // a cloud having a bad moment: the code may still be good
            return retry_later(no->detail);
        case Why::WrongCode:
            return give_up("the clinic cloud did not accept the provisioning file's pairing code (wrong, used or "
                           "expired: " + no->detail + "); pair the box on its setup screen or with a new file");
        case Why::KeyRefused:
            return give_up("the clinic cloud refused the provisioning file's api_key (" + no->detail +
                           "); pair the box with a new file");
        }
    }
    const auto& c = std::get<Claimed>(claimed);
    provision::Provision p;
    p.cloud = provision::Cloud{deps_.cloud_url, c.clinic_id, deps_.anon_key, c.device_token};
    if (auto done = provision::apply(p, deps_.state_dir); !done)   // erases the code when it succeeds
        return retry_later("the pairing could not be stored: " + done.error());
    deps_.sync.pair_with(deps_.cloud_url, c.clinic_id);
    try {
        store::write_audit(deps_.db, {"provisioning", "system", "cloud.pair", std::nullopt, "",
                                      {{"result", "paired"}, {"clinic_id", c.clinic_id}, {"device_id", c.device_id}}});
    } catch (const std::exception& e) {
        log::warning(std::string("the pairing's audit row could not be written: ") + e.what());
    }
    const std::string said = "paired with the clinic cloud at " + deps_.cloud_url + " (clinic " + c.clinic_id +
                             ") by the provisioning file's pairing code, as device " + c.device_id;
    log::info(said);
    provision::record_result(deps_.state_dir, true, said);
}

void CodeClaimer::retry_later(const std::string& why) {
    log::warning("the provisioning file's pairing code is not claimed yet (" + why + "); trying again in " +
                 std::to_string(wait_.count()) + " s");
    if (retry_timer_) g_source_remove(retry_timer_);
    retry_timer_ = g_timeout_add_seconds(guint(wait_.count()), [](gpointer p) -> gboolean {
        auto* self = static_cast<CodeClaimer*>(p);
        self->retry_timer_ = 0;
        self->attempt();
        return G_SOURCE_REMOVE;
    }, this);
    wait_ = std::min(wait_ * 2, deps_.longest_retry);
}

void CodeClaimer::give_up(const std::string& why) {
    log::error(why);
    ::unlink(code_file(deps_.state_dir).c_str());
    provision::record_result(deps_.state_dir, false, why);
    try {
        store::write_audit(deps_.db, {"provisioning", "system", "cloud.pair", std::nullopt, "",
                                      {{"result", "refused"}, {"detail", why}}});
    } catch (const std::exception& e) {
        log::warning(std::string("the refusal's audit row could not be written: ") + e.what());
    }
}

}  // namespace consult::cloud
