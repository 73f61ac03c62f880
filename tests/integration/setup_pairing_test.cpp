// Pairing a box by code on its setup screen, over real HTTP, against the PostgREST stand-in
// (its consult_claim_pairing_code as cloud/migrations/0005 has it): a box that knows its
// clinic's project (url and anon key) and nothing else trades clinic IT's code for its
// clinic and device token, once, and syncs; hostile codes never reach the cloud; the
// cloud's refusals and failures say what to do and store nothing.
#include "cloud_fixture.hpp"

namespace consult::test::cloud {
namespace {

const std::string kPair = "/api/kiosk/setup/pair";

class SetupPairing : public CloudFixture {
protected:
    void start_unpaired(bool with_key = true) {
        ConsultdOptions o;
        o.state_dir = state_dir();
        o.args = {"--set", "cloud.url=" + cloud.url(), "--set", "cloud.poll_seconds=5"};
        if (with_key) o.args.insert(o.args.end(), {"--set", std::string("cloud.anon_key=") + PostgrestStandin::kApiKey});
        daemon = std::make_unique<ConsultdProcess>(o);
        if (!daemon->start()) throw std::runtime_error("consultd: " + daemon->start_error());
        if (!daemon->wait_for_healthz(30)) throw std::runtime_error("consultd not healthy: " + daemon->stderr_text());
    }
    json call(const std::string& method, const std::string& path, const json& body, long* status) {
        auto r = daemon->http(method, path, body.is_null() ? "" : body.dump(), {"Content-Type: application/json"}, 30000);
        *status = r.status;
        return json::parse(r.body, nullptr, false);
    }
    std::string pair(const json& code, long* status) {
        auto j = call("POST", kPair, {{"code", code}}, status);
        return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
    }
    std::string new_code(const std::string& device = "box-room-3") {
        return cloud.control("pairing_code", {{"clinic_id", kClinic}, {"device_id", device}})["code"].get<std::string>();
    }
    json status_of() const { return CloudFixture::status(); }
    int claims() { return cloud.stats()["served"].value("pairing_claims", 0); }
    bool stored_nothing() {
        return !fs::exists(state_dir() / "provisioned.conf") && !fs::exists(state_dir() / "credentials" / "cloud-device-token");
    }
};

TEST_F(SetupPairing, ACodeFromClinicItPairsTheBoxOnceAndItSyncs) {
    seed(2);
    start_unpaired();
    long status = 0;
    auto setup = call("GET", "/api/kiosk/setup", nullptr, &status);
    ASSERT_EQ(status, 200) << setup.dump();
    EXPECT_TRUE(setup["pairing"]["available"].get<bool>());
    EXPECT_FALSE(setup["pairing"]["paired"].get<bool>());

    // As a person types it: lower case, a space instead of the dash.
    std::string code = new_code();
    std::string typed = code.substr(0, 5) + " " + code.substr(6);
    for (auto& c : typed) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto paired = call("POST", kPair, {{"code", typed}}, &status);
    ASSERT_EQ(status, 200) << paired.dump() << daemon->stderr_text();
    EXPECT_EQ(paired["clinic_id"], kClinic);
    EXPECT_EQ(paired["device_id"], "box-room-3");
    EXPECT_FALSE(paired.dump().find("eyJ") != std::string::npos) << "the token stays in the box";

    // It syncs the clinic's appointments without a restart.
    ASSERT_TRUE(wait_for([&] { return status_of()["last_pull_at"].is_string(); }, 60s)) << status_of().dump();
    EXPECT_EQ(status_of()["clinic_id"], kClinic);
    EXPECT_TRUE(wait_for([&] { return local_value("SELECT count(*) FROM appointments") == "2"; }, 30s));
    EXPECT_TRUE(call("GET", "/api/kiosk/setup", nullptr, &status)["pairing"]["paired"].get<bool>());

    // Once: the box is paired now, and the code is used.
    EXPECT_EQ(pair(code, &status), "already_paired");
    EXPECT_EQ(status, 409);
    // Audited with the clinic and device, never the token; the token is a credential (0600).
    auto audit = local("SELECT detail FROM audit_log WHERE action = 'kiosk.setup.pair'");
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_NE(audit[0][0].find("box-room-3"), std::string::npos);
    EXPECT_EQ(audit[0][0].find("eyJ"), std::string::npos);
    EXPECT_EQ(daemon->stderr_text().find("eyJ"), std::string::npos);
    struct stat st{};
    ASSERT_EQ(::stat((state_dir() / "credentials" / "cloud-device-token").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    // And it holds across a restart of consultd, whose own configuration names no clinic.
    daemon.reset();
    start_unpaired();
    EXPECT_TRUE(wait_for([&] { return status_of()["enabled"] == true && status_of()["clinic_id"] == kClinic; }, 30s))
        << status_of().dump();
}

TEST_F(SetupPairing, HostileCodesNeverReachTheCloudAndRefusalsStoreNothing) {
    seed(1);
    start_unpaired();
    long status = 0;
    for (const json& bad : {json("ABCD"), json("ABCDE-FGHJK-L"), json("0OIL1-0OIL1"), json("ABCDE;FGHJK"),
                            json(std::string(5000, 'A')), json("ABCDE\nFGHJK"), json("ÄBCDE-FGHJK")}) {
        const std::string code = pair(bad, &status);
        EXPECT_TRUE(code == "invalid_code" || code == "invalid_value") << bad.dump() << ": " << code;
        EXPECT_EQ(status, 422) << bad.dump();
    }
    EXPECT_EQ(pair(json(1234567890), &status), "invalid_type");
    EXPECT_EQ(call("POST", kPair, json::object(), &status)["error"]["code"], "missing_field");
    EXPECT_EQ(claims(), 0) << "no malformed code went to the cloud";

    // A well-formed code the cloud does not know: wrong, used or expired.
    EXPECT_EQ(pair("ABCDE-FGHJK", &status), "code_not_accepted");
    EXPECT_EQ(status, 422);
    // The cloud failing or refusing the project's key: said, nothing stored, the code kept.
    const std::string code = new_code();
    cloud.fault("500", 1);
    EXPECT_EQ(pair(code, &status), "cloud_unreachable");
    EXPECT_EQ(status, 503);
    cloud.fault("401", 1);
    EXPECT_EQ(pair(code, &status), "cloud_refused");
    EXPECT_EQ(status, 502);
    EXPECT_TRUE(stored_nothing());
    EXPECT_EQ(status_of()["enabled"], false);
    // Then it works.
    EXPECT_EQ(pair(code, &status), "");
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(daemon->http("GET", "/healthz").status == 200);
}

TEST_F(SetupPairing, OnlyOnABoxThatKnowsItsProjectAndIsNotSetUp) {
    start_unpaired(false);
    long status = 0;
    EXPECT_FALSE(call("GET", "/api/kiosk/setup", nullptr, &status)["pairing"]["available"].get<bool>());
    EXPECT_EQ(pair(new_code(), &status), "pairing_unavailable");
    EXPECT_EQ(status, 409);
    daemon.reset();
    start_unpaired();
    call("POST", "/api/kiosk/setup", {{"admin_pin", "482915"}, {"time_zone", "UTC"}}, &status);
    ASSERT_EQ(status, 200);
    EXPECT_EQ(pair(new_code(), &status), "setup_done");
    EXPECT_EQ(status, 409);
    EXPECT_EQ(claims(), 0);
    EXPECT_TRUE(stored_nothing());
}

}  // namespace
}  // namespace consult::test::cloud
