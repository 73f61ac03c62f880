// Email through libcurl against the SMTP stand-in: AUTH, the message as it arrives,
// and refusals (bad password, unknown recipient) reported as failures.
#include "python_standin.hpp"

#include "appliance/notify/smtp_sender.hpp"

#include <gtest/gtest.h>

namespace consult::test {
namespace {

class SmtpSenderTest : public ::testing::Test {
protected:
    SmtpSenderTest()
        : smtp_("smtp_standin.py", {"--spool", spool_.path().string(), "--password", "pw", "--reject", "gone@example.org"}) {}
    notify::SmtpSettings settings(const std::string& password = "pw") const {
        return {"smtp://127.0.0.1:" + std::to_string(smtp_.port()), "clinic@example.org", "", password,
                std::chrono::milliseconds(10000)};
    }
    std::vector<fs::path> spooled(const char* ext) const {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(spool_.path()))
            if (e.path().extension() == ext) out.push_back(e.path());
        return out;
    }
    TempDir spool_{"consult-smtp"};
    PythonStandin smtp_;
};

TEST_F(SmtpSenderTest, SendsWithAuthAndTheServerGetsTheMessageWhole) {
    auto r = notify::SmtpSender::send_blocking(settings(), {"pat@example.org", "Grüße from the clinic", "Hello\n.\nBye\n"});
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(spooled(".eml").size(), 1u);
    const std::string mail = read_file(spooled(".eml")[0]);
    EXPECT_NE(mail.find("To: pat@example.org\r\n"), std::string::npos);
    EXPECT_NE(mail.find("Subject: =?UTF-8?B?"), std::string::npos);
    EXPECT_NE(mail.find("\r\n\r\nHello\r\n.\r\nBye\r\n"), std::string::npos) << mail;   // the lone dot survives
    auto envelope = nlohmann::json::parse(read_file(spooled(".json")[0]));
    EXPECT_EQ(envelope["auth_user"], "clinic@example.org");
    EXPECT_EQ(envelope["mail_from"], "<clinic@example.org>");
    EXPECT_EQ(envelope["rcpt"], nlohmann::json::array({"<pat@example.org>"}));
}

TEST_F(SmtpSenderTest, RefusalsAreFailures) {
    EXPECT_FALSE(notify::SmtpSender::send_blocking(settings("wrong"), {"pat@example.org", "s", "b"}).ok);
    EXPECT_FALSE(notify::SmtpSender::send_blocking(settings(), {"gone@example.org", "s", "b"}).ok);
    auto closed = settings();
    closed.url = "smtp://127.0.0.1:" + std::to_string(free_port());
    EXPECT_FALSE(notify::SmtpSender::send_blocking(closed, {"pat@example.org", "s", "b"}).ok);
    EXPECT_TRUE(spooled(".eml").empty());
}

TEST_F(SmtpSenderTest, TheWorkerDeliversOnTheMainContext) {
    notify::SmtpSender sender(settings());
    std::optional<notify::SmtpResult> got;
    sender.send({"pat@example.org", "s", "b"}, [&](notify::SmtpResult r) { got = r; });
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!got && std::chrono::steady_clock::now() < end) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(got->ok) << got->error;
}

}  // namespace
}  // namespace consult::test
