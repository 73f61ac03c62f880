// The provisioning file (appliance/provision.hpp): a good one applies whole; every
// hostile or careless one is refused with the key and the reason, and changes nothing.
#include "appliance/config.hpp"
#include "appliance/credentials.hpp"
#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/provision.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/pin_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace consult {
namespace {

using test::TempDir;

const std::string kToken = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiY29uc3VsdF9kZXZpY2UifQ.c2lnbmF0dXJl";
const std::string kClinic = "5d0c1a1e-0000-4000-8000-000000000001";

std::string cloud_section(const std::string& url = "https://clinic.supabase.co") {
    return "[cloud]\nurl=" + url + "\nclinic_id=" + kClinic + "\napi_key=anon-key-123\ndevice_token=" + kToken + "\n";
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class ProvisionTest : public ::testing::Test {
protected:
    static const std::string& pin_hash() {
        static const std::string h = kiosk::hash_pin("4711", {1024, 1, 1});
        return h;
    }
    // Everything in the state folder, so "nothing changed" can be checked.
    std::vector<std::string> listing() {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::recursive_directory_iterator(state.path())) out.push_back(e.path().string());
        std::sort(out.begin(), out.end());
        return out;
    }
    int run_file(const std::string& text) {
        const auto file = files.write("consult-provision.conf", text);
        return provision::run(state.path(), file);
    }
    std::string result() { return read_all(state / "provision-result.json"); }
    // The configuration consultd reads: its own file (none here), then what provisioning left.
    auto consultd_config() {
        ConfigSources sources;
        sources.main = files / "none.conf";
        sources.settings_files = {state / "provisioned.conf", state / "devices.conf"};
        return load_config(sources);
    }

    TempDir state, files;
};

TEST_F(ProvisionTest, AGoodFileAppliesWholeAndConsultdReadsIt) {
    ASSERT_EQ(run_file("# from clinic IT\n" + cloud_section() + "\n[kiosk]\nadmin_pin_hash=" + pin_hash() + "\n"), 0);
    Credentials creds(state.path());
    EXPECT_EQ(creds.read("cloud-api-key").value().value_or(""), "anon-key-123");
    EXPECT_EQ(creds.read("cloud-device-token").value().value_or(""), kToken);
    auto loaded = consultd_config();
    ASSERT_TRUE(loaded) << loaded.error().describe();
    EXPECT_EQ(loaded->config.cloud.url, "https://clinic.supabase.co");
    EXPECT_EQ(loaded->config.cloud.clinic_id, kClinic);
    EXPECT_NE(result().find("\"ok\":true"), std::string::npos) << result();
    EXPECT_EQ(result().find("anon-key"), std::string::npos) << "no secret in the outcome";

    // consultd at start: the PIN hash goes into its store and its file goes.
    auto db = store::Database::open(state / "consult.db");
    store::migrate(db);
    provision::import_admin_pin(db, state.path());
    auto stored = store::PinStore(db).hash_of(store::PinStore::kAdmin);
    ASSERT_TRUE(stored);
    EXPECT_TRUE(kiosk::verify_pin("4711", *stored));
    EXPECT_FALSE(std::filesystem::exists(state / "provisioned-admin-pin"));
}

// [cloud] with a pairing code instead of clinic_id and device_token: the project and its
// key for consultd, the code kept (0600) for consultd to claim, and the token of an
// earlier pairing gone (the code brings a new one).
TEST_F(ProvisionTest, APairingCodeIsKeptForConsultdToClaimWithTheProjectItNames) {
    Credentials creds(state.path());
    creds.store("cloud-device-token", kToken).value();
    ASSERT_EQ(run_file("[cloud]\nurl=https://clinic.supabase.co\napi_key=anon-key-123\npairing_code=k7qm2 xr9td\n"), 0)
        << result();
    EXPECT_EQ(creds.read("cloud-api-key").value().value_or(""), "anon-key-123");
    EXPECT_EQ(creds.read(provision::kPairingCodeCredential).value().value_or(""), "K7QM2XR9TD");
    EXPECT_FALSE(creds.read("cloud-device-token").value()) << "the code brings a new token";
    struct stat st{};
    ASSERT_EQ(::stat((creds.local_dir() / provision::kPairingCodeCredential).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto loaded = consultd_config();
    ASSERT_TRUE(loaded) << loaded.error().describe();
    EXPECT_EQ(loaded->config.cloud.url, "https://clinic.supabase.co");
    EXPECT_EQ(loaded->config.cloud.anon_key, "anon-key-123");
    EXPECT_EQ(loaded->config.cloud.clinic_id, "") << "not paired until the code is claimed";
    EXPECT_NE(result().find("pairing code for the clinic cloud at https://clinic.supabase.co kept"), std::string::npos)
        << result();
    EXPECT_EQ(result().find("K7QM2"), std::string::npos) << "the code is a secret too";

    // A later file with a device token pairs the box outright: the code is no longer needed.
    ASSERT_EQ(run_file(cloud_section()), 0) << result();
    EXPECT_FALSE(creds.read(provision::kPairingCodeCredential).value());
    EXPECT_EQ(creds.read("cloud-device-token").value().value_or(""), kToken);
}

// [system]: the time zone and host name go to system.conf, for the image's root unit
// (consult-system-settings) to apply at every boot.
TEST_F(ProvisionTest, TheTimeZoneAndHostNameAreLeftForTheSystemToApply) {
    ASSERT_EQ(run_file("[system]\ntime_zone=America/Argentina/Buenos_Aires\nhostname=Consult-Room-2\n"), 0);
    const std::string conf = read_all(state / "system.conf");
    EXPECT_NE(conf.find("[system]\ntime_zone=America/Argentina/Buenos_Aires\nhostname=Consult-Room-2\n"), std::string::npos) << conf;
    struct stat st {};
    ASSERT_EQ(::stat((state / "system.conf").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(result().find("time zone America/Argentina/Buenos_Aires; host name Consult-Room-2"), std::string::npos) << result();
    EXPECT_FALSE(std::filesystem::exists(state / "provisioned.conf")) << "no [cloud], nothing of it written";

    ASSERT_EQ(run_file("[system]\nhostname=room-3\n"), 0);
    EXPECT_NE(read_all(state / "system.conf").find("time_zone=America/Argentina/Buenos_Aires\nhostname=room-3\n"), std::string::npos)
        << "a later file changes what it names and keeps the rest: " << read_all(state / "system.conf");
    EXPECT_EQ(run_file("[system]\n"), 65) << "an empty section sets nothing";
}

// [ssh]: clinic IT's key goes to ssh-authorized-key for the image's root unit, which turns
// SSH on with it; "none" turns it off. Only a plain public key line is taken.
TEST_F(ProvisionTest, AnSshKeyForClinicItIsLeftForTheSystemAndNoneTurnsItOff) {
    const std::string ed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmKYJ0u9aBpyAQIRJp75y3YVZy6E9S6ao9r0yIN+GGe it@clinic";
    ASSERT_EQ(run_file("[ssh]\nauthorized_key=" + ed + "\n"), 0);
    EXPECT_EQ(read_all(state / "ssh-authorized-key"), ed + "\n");
    EXPECT_NE(result().find("SSH on for a ssh-ed25519 key"), std::string::npos) << result();
    EXPECT_EQ(result().find("AAAA"), std::string::npos) << "the key itself is not repeated";
    ASSERT_EQ(run_file("[ssh]\nauthorized_key=none\n"), 0);
    EXPECT_EQ(read_all(state / "ssh-authorized-key"), "");
    EXPECT_NE(result().find("SSH off"), std::string::npos) << result();
    // Other types this box takes.
    EXPECT_FALSE(provision::ssh_key_problem("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA3qvzYPuKc94JzL+06jqWGy/Nz/up8/1uBKSeXwFrGlziMDwV+vCUeKRbSqF2uo6qx1oDxleTe1SqBZsvIA2Xk= ec"));
    EXPECT_FALSE(provision::ssh_key_problem("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCInzH+7R38hrolFjV/Lk3Ma7pk0TMqe4xmRKTZZi7kh/j5TFLEZJxbrvdAE5yNGYYRHf87ffiLNg9/iGvw+HEr7TAcvFqMU5Sqb0a9vrR03F2s36Gr/84uWTnk//VRs0Sa+HnmGBoJD7r9zD5AZ3cxJ+Lf3Psl1/BchH94Ai/U8RbTW5djIKxNyQ3u9GOfuKnHGFKF5zSkZzdxpeqIcRb+kdrL5zVwl0j/2RopTwLks4FqoMPtdsDEvn8p8/Tod5ahGNdNkYhtsYKTr/cyD8vIkkAI7Z2rYYCEImwLto0VGJ6ZzXHsCYDNZ1iAJN7xOMw7s6V7SWEVVVb4enxJJTlCSRDwTzv8v5pHqc8Q6/6ox2/HvE/8gpaagL+NOHngZVojOVd7rqMW3gNCqhUC9aUIpp0R2nYx19f4j0BJAiX/QeOFskDJvFWbGsY49ZRNQhIzy8sM5RfJool+5Swhn9JweiJ4/WGqJCmyj96CNyAaC85GbXLji6AP1y813rfvtus= big"));
    EXPECT_FALSE(provision::ssh_key_problem(ed.substr(0, ed.rfind(' ')))) << "the comment is optional";
}

TEST(SshKeyShape, OnlyAPlainPublicKeyLineIsTaken) {
    const std::string ed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmKYJ0u9aBpyAQIRJp75y3YVZy6E9S6ao9r0yIN+GGe it@clinic";
    const std::string blob = ed.substr(12, ed.rfind(' ') - 12);
    const std::vector<std::pair<std::string, std::string>> cases{
        {"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQChp2re4WBTJmFw5xOw0mjQ0j9DPu3i3G0GCTibj4rmj9jfyPF+jTovTh2H7e2XaqGvvuwgCTWDf89EbgmOhoEtiK1E/iF+01CBLblUouyZ4RAEkzI3Z3eAN6sD2Hn+tkg3YpYG8Qjf0ZF7JXsQ8ctyZqdbkIZqSzLiIqyhEmRewatX1mrwR+Ls9B6nfOUNYIdT1oI745PYVOaMFyJ2j9vuLHz/7XU/vyLVUs4hDVUhA+s5LdmzcCQtSGUso3Csxhqq+C0/9Cp4H3pLUxtxkPty8SDFqp2US6WUdURROlzRYkimPDHpyAqL/9VyRkUsr+36Ym8L4Aw5tHKvWSze3idR small", "under 3072 bits"},
        {"command=\"reboot\" " + ed, "not a public key of a type"},
        {"from=\"10.0.0.1\" " + ed, "not a public key of a type"},
        {"ssh-dss " + blob, "not a public key of a type"},
        {"ssh-ed25519", "no key after"},
        {"ssh-ed25519 not*base64", "not base64"},
        {"ssh-ed25519 AAAA", "own type is not"},
        {"ssh-rsa " + blob + " mislabelled", "own type is not"},
        {"ssh-ed25519 " + blob.substr(0, 12), "own type is not"},   // cut inside its type
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "cut short"},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA", "cut short"},
        {ed + "\tx", "characters"},
        {ed + std::string(9000, 'x'), "longer than"},
    };
    for (const auto& [line, why] : cases) {
        const auto problem = provision::ssh_key_problem(line);
        ASSERT_TRUE(problem) << line;
        EXPECT_NE(problem->find(why), std::string::npos) << line << ": " << *problem;
    }
}

TEST_F(ProvisionTest, EveryBadFileIsRefusedByKeyAndChangesNothing) {
    Credentials(state.path()).store("cloud-api-key", "the-old-key").value();
    const auto before = listing();
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "sets nothing"},
        {"just some words\n", "not in the key=value format"},
        {"[cloud]\nurl=https://clinic.supabase.co\n", "cloud.clinic_id: missing"},
        {cloud_section("http://clinic.supabase.co"), "cloud.url: must be https://"},
        {cloud_section("https://user:pw@clinic.supabase.co"), "cloud.url: must not carry a user"},
        {cloud_section("https://clinic.supabase.co/?x=1"), "cloud.url: must not carry"},
        {cloud_section("not a url"), "cloud.url: is not a valid URL"},
        {cloud_section() + "[lan]\nvlan=12\n", "[lan]: unknown section"},
        {cloud_section() + "[wifi]\nssid=Clinic\n", "wifi.passphrase: missing"},   // an open network
        {"[wifi]\npassphrase=long enough\n", "wifi.ssid: missing"},
        {"[wifi]\nssid=\npassphrase=long enough\n", "wifi.ssid: must be 1-32 bytes"},
        {"[wifi]\nssid=" + std::string(33, 'n') + "\npassphrase=long enough\n", "wifi.ssid: must be 1-32 bytes"},
        {"[wifi]\nssid=Clinic\\nnetwork={\npassphrase=long enough\n", "wifi.ssid: holds a control character"},
        {"[wifi]\nssid=Clinic\npassphrase=short\n", "wifi.passphrase: must be 8-63"},
        {"[wifi]\nssid=Clinic\npassphrase=" + std::string(64, 'g') + "\n", "wifi.passphrase: must be 8-63"},
        {"[wifi]\nssid=Clinic\npassphrase=caf\xc3\xa9 au lait\n", "wifi.passphrase: may hold only printable ASCII"},
        {"[wifi]\nssid=Clinic\npassphrase=two\\nlines here\n", "wifi.passphrase: may hold only printable ASCII"},
        {"[wifi]\nssid=Clinic\npassphrase=long enough\nhidden=maybe\n", "wifi.hidden: must be yes or no"},
        {"[wifi]\noff=yes\nssid=Clinic\n", "wifi.off: goes alone"},
        {"[wifi]\nsecurity=wep\n", "wifi.security: unknown key"},
        {cloud_section() + "colour=blue\n", "cloud.colour: unknown key"},
        {"[cloud]\nurl=https://a.b\nclinic_id=12\napi_key=k\ndevice_token=" + kToken + "\n", "cloud.clinic_id: is not a UUID"},
        {"[cloud]\nurl=https://a.b\nclinic_id=" + kClinic + "\napi_key=has space\ndevice_token=" + kToken + "\n",
         "cloud.api_key: is not a key"},
        {"[cloud]\nurl=https://a.b\nclinic_id=" + kClinic + "\napi_key=k\ndevice_token=only.two\n", "cloud.device_token"},
        {cloud_section() + "pairing_code=K7QM2-XR9TD\n", "cloud.pairing_code: goes without clinic_id and device_token"},
        {"[cloud]\nurl=https://a.b\napi_key=k\npairing_code=K7QM2-XR9T\n", "cloud.pairing_code: is not a pairing code"},
        {"[cloud]\nurl=https://a.b\napi_key=k\npairing_code=O0IL1-O0IL1\n", "cloud.pairing_code: is not a pairing code"},
        {"[cloud]\nurl=https://a.b\napi_key=k\npairing_code=$(reboot)\n", "cloud.pairing_code: is not a pairing code"},
        {"[cloud]\nurl=https://a.b\npairing_code=K7QM2-XR9TD\n", "cloud.api_key: missing"},
        {"[cloud]\nurl=http://clinic.supabase.co\napi_key=k\npairing_code=K7QM2-XR9TD\n", "cloud.url: must be https://"},
        {"[kiosk]\nadmin_pin_hash=1234\n", "kiosk.admin_pin_hash: is not a PIN hash"},
        // A cost that would make every sign-in take minutes.
        {"[kiosk]\nadmin_pin_hash=scrypt$1048576$8$16$" + std::string(32, 'a') + "$" + std::string(64, 'b') + "\n",
         "kiosk.admin_pin_hash"},
        {"[kiosk]\nadmin_pin_hash=" + pin_hash() + "\n" + std::string(20000, '#'), "larger than"},
        {"[kiosk]\nadmin_pin_hash=\xff\xfe\n", "not UTF-8"},
        {"[system]\ntime_zone=../../../etc/shadow\n", "system.time_zone: is not a time zone name"},
        {"[system]\ntime_zone=/etc/passwd\n", "system.time_zone: is not a time zone name"},
        {"[system]\ntime_zone=Europe/\n", "system.time_zone: is not a time zone name"},
        {"[system]\ntime_zone=Europe/Berlin;reboot\n", "system.time_zone: is not a time zone name"},
        {"[system]\ntime_zone=Mars/Olympus_Mons\n", "system.time_zone: is not a time zone this box knows"},
        {"[system]\ntime_zone=Europe\n", "system.time_zone: is not a time zone this box knows"},   // a folder
        {"[system]\nhostname=room 2\n", "system.hostname: may hold only"},
        {"[system]\nhostname=$(reboot)\n", "system.hostname: may hold only"},
        {"[system]\nhostname=consult.clinic.example\n", "system.hostname: may hold only"},
        {"[system]\nhostname=-room\n", "system.hostname: must not start or end"},
        {"[system]\nhostname=" + std::string(64, 'a') + "\n", "system.hostname: must be 1-63"},
        {"[system]\nntp=pool.example\n", "system.ntp: unknown key"},
        {cloud_section() + "[system]\ntime_zone=Nowhere\n", "system.time_zone"},   // nothing of [cloud] either
    };
    for (const auto& [text, why] : cases) {
        EXPECT_EQ(run_file(text), 65) << why;
        EXPECT_NE(result().find(why), std::string::npos) << "want '" << why << "' in " << result();
        std::filesystem::remove(state / "provision-result.json");
        EXPECT_EQ(listing(), before) << why;
        EXPECT_EQ(Credentials(state.path()).read("cloud-api-key").value().value_or(""), "the-old-key") << why;
    }
}

// [wifi]: the name as hex for the root unit (no byte of it can be read as syntax), the
// passphrase as a 0600 credential; off=yes forgets both.
TEST_F(ProvisionTest, AWifiNetworkIsKeptAsHexWithItsPassphraseAsACredential) {
    ASSERT_EQ(run_file("[wifi]\nssid=\\sClinic \"Staff\" #2\npassphrase=pa$$ \"word\" #1\\s\nhidden=yes\n"), 0) << result();
    const std::string ssid = " Clinic \"Staff\" #2";
    std::string hex;
    for (unsigned char c : ssid) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", c);
        hex += b;
    }
    const auto conf = read_all(state / "wifi.conf");
    EXPECT_NE(conf.find("ssid_hex=" + hex + "\n"), std::string::npos) << conf;
    EXPECT_NE(conf.find("hidden=yes\n"), std::string::npos) << conf;
    EXPECT_EQ(conf.find("Staff"), std::string::npos) << "the name is only in hex: " << conf;
    EXPECT_EQ(conf.find("word"), std::string::npos) << "the passphrase is not beside it: " << conf;
    EXPECT_EQ(Credentials(state.path()).read(provision::kWifiPassphraseCredential).value().value_or(""), "pa$$ \"word\" #1 ");
    struct stat st {};
    ASSERT_EQ(::stat((state / "credentials" / provision::kWifiPassphraseCredential).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(result().find("Wi-Fi network"), std::string::npos) << result();

    // A 64-hex-digit key is taken as a key; a later file replaces the network.
    ASSERT_EQ(run_file("[wifi]\nssid=Staff\npassphrase=" + std::string(64, 'a') + "\n"), 0) << result();
    EXPECT_NE(read_all(state / "wifi.conf").find("ssid_hex=5374616666\nhidden=no\n"), std::string::npos);
    EXPECT_EQ(Credentials(state.path()).read(provision::kWifiPassphraseCredential).value().value_or(""), std::string(64, 'a'));

    ASSERT_EQ(run_file("[wifi]\noff=yes\n"), 0) << result();
    EXPECT_FALSE(std::filesystem::exists(state / "wifi.conf"));
    EXPECT_FALSE(Credentials(state.path()).read(provision::kWifiPassphraseCredential).value());
    EXPECT_NE(result().find("forgotten"), std::string::npos) << result();
}

// A file refused for another key leaves the network the box had.
TEST_F(ProvisionTest, ARefusedFileKeepsTheWifiNetworkItHad) {
    ASSERT_EQ(run_file("[wifi]\nssid=Staff\npassphrase=first passphrase\n"), 0) << result();
    const auto conf = read_all(state / "wifi.conf");
    EXPECT_EQ(run_file("[wifi]\nssid=Guests\npassphrase=second passphrase\n[system]\nhostname=-x\n"), 65);
    EXPECT_EQ(read_all(state / "wifi.conf"), conf);
    EXPECT_EQ(Credentials(state.path()).read(provision::kWifiPassphraseCredential).value().value_or(""), "first passphrase");
}

TEST_F(ProvisionTest, TheLastOutcomeIsReadBackForTheKioskAndJunkIsIgnored) {
    EXPECT_FALSE(provision::last_result(state.path()));
    ASSERT_EQ(run_file("[kiosk]\nadmin_pin_hash=1234\n"), 65);
    auto r = provision::last_result(state.path());
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["ok"], false);
    EXPECT_EQ((*r)["message"].get<std::string>().rfind("kiosk.admin_pin_hash: ", 0), 0u) << r->dump();
    EXPECT_TRUE((*r)["at"].is_string());
    for (const std::string& junk : std::vector<std::string>{"not json", "[]", "{\"ok\":\"yes\"}", std::string(10000, '{')}) {
        std::ofstream(state / "provision-result.json") << junk;
        EXPECT_FALSE(provision::last_result(state.path())) << junk.substr(0, 20);
    }
    std::ofstream(state / "provision-result.json") << R"({"ok":true,"message":7,"extra":"x"})";
    EXPECT_EQ(provision::last_result(state.path())->dump(), R"({"at":null,"message":null,"ok":true})");
}

TEST_F(ProvisionTest, WhatIsNotAFileIsRefused) {
    EXPECT_EQ(provision::run(state.path(), files / "missing.conf"), 66);
    EXPECT_EQ(provision::run(state.path(), files.path()), 66);
    const auto target = files.write("elsewhere.conf", cloud_section());
    std::filesystem::create_symlink(target, files / "link.conf");
    EXPECT_EQ(provision::run(state.path(), files / "link.conf"), 66) << "a link is not followed";
    ASSERT_EQ(::mkfifo((files / "fifo.conf").c_str(), 0600), 0);
    EXPECT_EQ(provision::run(state.path(), files / "fifo.conf"), 66) << "a FIFO does not block it";
    EXPECT_FALSE(std::filesystem::exists(state / "provisioned.conf"));
}

TEST_F(ProvisionTest, AStoredPinHashThatIsNotOneIsLeftOutAtStart) {
    std::ofstream(state / "provisioned-admin-pin") << "scrypt$1$1$1$00$00\n";
    auto db = store::Database::open(state / "consult.db");
    store::migrate(db);
    provision::import_admin_pin(db, state.path());
    EXPECT_FALSE(store::PinStore(db).hash_of(store::PinStore::kAdmin));
    EXPECT_FALSE(std::filesystem::exists(state / "provisioned-admin-pin"));
}

TEST_F(ProvisionTest, AStoreThatRefusesThePinKeepsItForTheNextStart) {
    {
        auto db = store::Database::open(state / "consult.db");
        store::migrate(db);
    }
    std::ofstream(state / "provisioned-admin-pin") << pin_hash() << "\n";
    auto read_only = store::Database::open(state / "consult.db", store::Database::Mode::ReadOnly);
    EXPECT_NO_THROW(provision::import_admin_pin(read_only, state.path()));
    EXPECT_TRUE(std::filesystem::exists(state / "provisioned-admin-pin"));
    auto db = store::Database::open(state / "consult.db");
    provision::import_admin_pin(db, state.path());
    EXPECT_TRUE(store::PinStore(db).hash_of(store::PinStore::kAdmin));
    EXPECT_FALSE(std::filesystem::exists(state / "provisioned-admin-pin"));
}

TEST(PinHashShape, OnlyHashesAKioskCanAffordPass) {
    EXPECT_TRUE(kiosk::well_formed_hash(kiosk::hash_pin("123456", {1024, 1, 1})));
    EXPECT_TRUE(kiosk::well_formed_hash(kiosk::hash_pin("123456")));
    for (const char* bad : {"", "scrypt", "scrypt$1024$1$1$00$00", "bcrypt$1024$1$1$x$y",
                            "scrypt$1000$1$1$00112233445566778899aabbccddeeff$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                            "scrypt$1024$1$1$00112233445566778899AABBCCDDEEFF$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                            "scrypt$-1024$1$1$00$00"})
        EXPECT_FALSE(kiosk::well_formed_hash(bad)) << bad;
}

}  // namespace
}  // namespace consult
