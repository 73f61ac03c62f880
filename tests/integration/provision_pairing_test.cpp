// A pairing code in the provisioning file, end to end: `consultctl provision` keeps the
// code with the project it names, and consultd, which knows nothing else of the cloud,
// claims it from the PostgREST stand-in (consult_claim_pairing_code, as
// cloud/migrations/0005 has it) once the cloud answers, pairs, syncs, and erases the
// code; a code the cloud refuses is said on the kiosk's record and never sent again.
#include "cloud_fixture.hpp"

namespace consult::test::cloud {
namespace {

class ProvisionPairing : public CloudFixture {
protected:
    void provision_with(const std::string& code) {
        fs::create_directories(state_dir());
        ::chmod(state_dir().c_str(), 0700);
        write_file(dir / "consult-provision.conf", "[cloud]\nurl=" + cloud.url() + "\napi_key=" +
                                                       PostgrestStandin::kApiKey + "\npairing_code=" + code + "\n");
        write_file(dir / "ctl.conf", "[http]\nport=1\n");
        auto r = ctl({"provision", (dir / "consult-provision.conf").string()});
        ASSERT_EQ(r.code(), 0) << r.out << r.err;
        EXPECT_NE(r.out.find("consultd claims it once the cloud answers"), std::string::npos) << r.out;
    }
    // consultd with nothing of the cloud on its command line: all it knows is the provisioning's.
    void start_provisioned() {
        ConsultdOptions o;
        o.state_dir = state_dir();
        o.args = {"--set", "cloud.poll_seconds=5", "--set", "notify.prepare_at_booking=false"};
        daemon = std::make_unique<ConsultdProcess>(o);
        if (!daemon->start()) throw std::runtime_error("consultd: " + daemon->start_error());
        if (!daemon->wait_for_healthz(30)) throw std::runtime_error("consultd not healthy: " + daemon->stderr_text());
    }
    std::string new_code() {
        return cloud.control("pairing_code", {{"clinic_id", kClinic}, {"device_id", "box-room-7"}})["code"].get<std::string>();
    }
    int claims() { return cloud.stats()["served"].value("pairing_claims", 0); }
    bool code_kept() const { return fs::exists(state_dir() / "credentials" / "cloud-pairing-code"); }
    json provisioning() { return status().value("provisioning", json::object()); }
};

TEST_F(ProvisionPairing, ConsultdClaimsTheFilesCodeOncePairsAndSyncs) {
    seed(2);
    provision_with(new_code());
    ASSERT_TRUE(code_kept());
    start_provisioned();
    ASSERT_TRUE(wait_for([&] { return status()["enabled"] == true && status()["clinic_id"] == kClinic; }, 30s))
        << status().dump() << daemon->stderr_text();
    EXPECT_TRUE(wait_for([&] { return local_value("SELECT count(*) FROM appointments") == "2"; }, 60s));
    EXPECT_FALSE(code_kept()) << "a claimed code is erased";
    struct stat st{};
    ASSERT_EQ(::stat((state_dir() / "credentials" / "cloud-device-token").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(claims(), 1);
    EXPECT_EQ(provisioning()["ok"], true) << provisioning().dump();
    EXPECT_NE(provisioning()["message"].get<std::string>().find("by the provisioning file's pairing code, as device box-room-7"),
              std::string::npos) << provisioning().dump();
    auto audit = local("SELECT detail FROM audit_log WHERE action = 'cloud.pair'");
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_NE(audit[0][0].find("box-room-7"), std::string::npos);
    EXPECT_EQ(audit[0][0].find("eyJ"), std::string::npos) << "never the token";
    EXPECT_EQ(daemon->stderr_text().find("eyJ"), std::string::npos);

    // A restart: still paired, and the used code is not sent again.
    daemon.reset();
    start_provisioned();
    EXPECT_TRUE(wait_for([&] { return status()["enabled"] == true; }, 30s)) << status().dump();
    EXPECT_EQ(claims(), 1);
}

TEST_F(ProvisionPairing, ACloudThatDoesNotAnswerYetIsAskedAgainLater) {
    seed(1);
    provision_with(new_code());
    cloud.fault("500", 1);   // the first claim fails as a cloud having a bad moment
    start_provisioned();
    ASSERT_TRUE(wait_for([&] { return daemon->stderr_text().find("trying again in 10 s") != std::string::npos; }, 30s))
        << daemon->stderr_text();
    EXPECT_TRUE(code_kept()) << "the code may still be good";
    ASSERT_TRUE(wait_for([&] { return status()["enabled"] == true && status()["clinic_id"] == kClinic; }, 40s))
        << status().dump() << daemon->stderr_text();
    EXPECT_FALSE(code_kept());
}

TEST_F(ProvisionPairing, ACodeTheCloudRefusesIsSaidAndNeverSentAgain) {
    seed(1);
    provision_with("ABCDE-FGHJK");   // well formed, and no code the cloud gave
    start_provisioned();
    ASSERT_TRUE(wait_for([&] { return provisioning().value("ok", true) == false; }, 30s)) << status().dump();
    EXPECT_NE(provisioning()["message"].get<std::string>().find("did not accept the provisioning file's pairing code"),
              std::string::npos) << provisioning().dump();
    EXPECT_FALSE(code_kept());
    EXPECT_FALSE(fs::exists(state_dir() / "credentials" / "cloud-device-token"));
    EXPECT_EQ(status()["enabled"], false);
    EXPECT_EQ(claims(), 1);
    EXPECT_EQ(daemon->http("GET", "/healthz").status, 200);
    daemon.reset();
    start_provisioned();
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(claims(), 1) << "a refused code is not sent again";
    EXPECT_EQ(local_value("SELECT count(*) FROM audit_log WHERE action = 'cloud.pair'"), "1");
}

}  // namespace
}  // namespace consult::test::cloud
