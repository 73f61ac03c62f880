#include "appliance/config.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult {
namespace {

using test::TempDir;

consult::expected<LoadedConfig, ConfigError> load(const TempDir& dir, const std::string& text,
                                              std::vector<std::string> overrides = {}) {
    auto path = dir.write("consultd.conf", text);
    return load_config({path, true, std::move(overrides)});
}

TEST(Config, NoFileGivesWorkingDefaults) {
    TempDir dir;
    auto c = load_config({dir / "absent.conf", false, {}});
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->config.http.port, 8080);
    EXPECT_EQ(c->config.http.bind, "127.0.0.1");
    EXPECT_EQ(c->config.public_base_url(), "http://127.0.0.1:8080");
    EXPECT_EQ(c->config.media.encoder, "auto");
    EXPECT_TRUE(c->config.cloud.url.empty());
    EXPECT_TRUE(c->files.empty());
}

TEST(Config, RequiredFileThatIsMissingIsAnError) {
    TempDir dir;
    auto c = load_config({dir / "absent.conf", true, {}});
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().describe().find("absent.conf"), std::string::npos);
}

TEST(Config, ReadsEverySection) {
    TempDir dir;
    auto c = load(dir,
                  "[http]\nport=9000\nbind=0.0.0.0\npublic_base_url=https://room.example.org\n"
                  "[cloud]\nurl=https://x.supabase.co/rest/v1\nclinic_id=c1\npoll_seconds=30\n"
                  "[twilio]\naccount_sid=AC0123456789abcdef0123456789abcdef\nfrom_number=+15551234567\n"
                  "[email]\nsmtp_url=smtps://mail.example.org:465\nfrom=clinic@example.org\n"
                  "[media]\nencoder=vp8enc\nmax_width=640\nmax_height=480\nmax_fps=15\n"
                  "[sessions]\ntoken_ttl_seconds=900\n[log]\nlevel=debug\n");
    ASSERT_TRUE(c.has_value()) << c.error().describe();
    EXPECT_EQ(c->config.http.port, 9000);
    EXPECT_EQ(c->config.public_base_url(), "https://room.example.org");
    EXPECT_EQ(c->config.cloud.poll_seconds, 30);
    EXPECT_EQ(c->config.twilio.from_number, "+15551234567");
    EXPECT_EQ(c->config.media.encoder, "vp8enc");
    EXPECT_EQ(c->config.media.max_fps, 15);
    EXPECT_EQ(c->config.sessions.token_ttl_seconds, 900);
    EXPECT_EQ(c->config.log.level, "debug");
}

struct BadValue {
    const char* text;
    const char* key;
    const char* reason_part;
};

class ConfigBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValue, StopsWithFileKeyAndReason) {
    TempDir dir;
    auto c = load(dir, GetParam().text);
    ASSERT_FALSE(c.has_value());
    const std::string msg = c.error().describe();
    EXPECT_NE(msg.find("consultd.conf"), std::string::npos) << msg;
    EXPECT_EQ(c.error().key, GetParam().key) << msg;
    EXPECT_NE(msg.find(GetParam().reason_part), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigBadValue,
    ::testing::Values(BadValue{"[http]\nport=70000\n", "http.port", "outside 1..65535"},
                      BadValue{"[http]\nport=eighty\n", "http.port", "not a whole number"},
                      BadValue{"[http]\nport=80x\n", "http.port", "not a whole number"},
                      BadValue{"[http]\npublic_base_url=ftp://x\n", "http.public_base_url", "scheme"},
                      BadValue{"[cloud]\npoll_seconds=1\n", "cloud.poll_seconds", "outside"},
                      BadValue{"[twilio]\naccount_sid=XY123\n", "twilio.account_sid", "Twilio SID"},
                      BadValue{"[twilio]\nfrom_number=5551234\n", "twilio.from_number", "E.164"},
                      BadValue{"[email]\nsmtp_url=http://mail\n", "email.smtp_url", "scheme smtp"},
                      BadValue{"[email]\nfrom=not-an-address\n", "email.from", "email address"},
                      BadValue{"[media]\nencoder=magicenc\n", "media.encoder", "not one of"},
                      BadValue{"[media]\nmax_fps=0\n", "media.max_fps", "outside"},
                      BadValue{"[sessions]\ntoken_ttl_seconds=7200\n", "sessions.token_ttl_seconds", "outside 60..3600"},
                      BadValue{"[log]\nlevel=loud\n", "log.level", "not one of"}));

TEST(Config, SyntaxErrorNamesTheFile) {
    TempDir dir;
    auto c = load(dir, "this is not ini\n");
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().describe().find("consultd.conf"), std::string::npos);
}

TEST(Config, UnknownKeysAndSectionsAreWarningsNotErrors) {
    TempDir dir;
    auto c = load(dir, "[http]\nport=9001\ncolour=blue\n[mystery]\nx=1\n");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->config.http.port, 9001);
    ASSERT_EQ(c->warnings.size(), 2u);
    EXPECT_NE(c->warnings[0].find("colour"), std::string::npos);
}

TEST(Config, DropInsOverrideInNameOrder) {
    TempDir dir;
    dir.write("consultd.conf.d/20-late.conf", "[http]\nport=9300\n");
    dir.write("consultd.conf.d/10-early.conf", "[http]\nport=9200\nbind=0.0.0.0\n");
    dir.write("consultd.conf.d/ignored.txt", "[http]\nport=1\n");
    auto c = load(dir, "[http]\nport=9100\n");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->config.http.port, 9300);
    EXPECT_EQ(c->config.http.bind, "0.0.0.0");
    EXPECT_EQ(c->files.size(), 3u);
}

TEST(Config, TheSettingsFileComesAfterTheDropInsAndBeforeTheCommandLine) {
    TempDir dir;
    auto main = dir.write("consultd.conf", "[media]\ncamera=/dev/video0\nspeaker=hdmi\n");
    dir.write("consultd.conf.d/10-room.conf", "[media]\ncamera=/dev/video1\nmicrophone=usb\n");
    auto settings = dir.write("devices.conf", "[media]\ncamera=test\nmicrophone=test\n");
    auto c = load_config({main, true, {"media.microphone=auto"}, {settings}});
    ASSERT_TRUE(c.has_value()) << c.error().describe();
    EXPECT_EQ(c->config.media.camera, "test");
    EXPECT_EQ(c->config.media.microphone, "auto");
    EXPECT_EQ(c->config.media.speaker, "hdmi");
    ASSERT_EQ(c->files.size(), 3u);
    EXPECT_EQ(c->files.back(), settings);
    EXPECT_TRUE(load_config({main, true, {}, {dir / "absent-devices.conf"}}).has_value()) << "the settings file is optional";
}

TEST(Config, BadValueInDropInNamesTheDropIn) {
    TempDir dir;
    dir.write("consultd.conf.d/50-bad.conf", "[media]\nmax_width=99999\n");
    auto c = load(dir, "");
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().file.find("50-bad.conf"), std::string::npos);
}

TEST(Config, CommandLineOverridesWinAndAreValidated) {
    TempDir dir;
    auto ok = load(dir, "[http]\nport=9100\n", {"http.port=9400"});
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->config.http.port, 9400);
    EXPECT_FALSE(load(dir, "", {"http.port=0"}).has_value());
    EXPECT_FALSE(load(dir, "", {"http.nosuch=1"}).has_value());
    EXPECT_FALSE(load(dir, "", {"no-equals-sign"}).has_value());
}

TEST(Config, TheMaintenanceWindowDefaultsToTheNightAndIsCheckedAsAWindow) {
    TempDir dir;
    auto defaults = load(dir, "");
    ASSERT_TRUE(defaults.has_value());
    EXPECT_EQ(defaults->config.update.window, "22:00-05:00");
    auto set = load(dir, "[update]\nwindow=01:00-03:30\n");
    ASSERT_TRUE(set.has_value());
    EXPECT_EQ(set->config.update.window, "01:00-03:30");
    for (const char* bad : {"25:00-01:00", "22:00", "22-05", "", "04:00-04:00"}) {
        auto c = load(dir, std::string("[update]\nwindow=") + bad + "\n");
        ASSERT_FALSE(c.has_value()) << bad;
        EXPECT_EQ(c.error().key, "update.window");
    }
}

}  // namespace
}  // namespace consult
