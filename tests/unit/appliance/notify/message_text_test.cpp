// What patients read: the clinic, the time and the link, nothing clinical; emails as
// an SMTP server expects them.
#include "appliance/notify/message_text.hpp"
#include "appliance/notify/smtp_sender.hpp"
#include "appliance/twilio/message_status.hpp"

#include <gtest/gtest.h>

namespace consult::notify {
namespace {

TEST(MessageText, EveryPurposeNamesTheClinicAndOnlyInvitesAndRemindersCarryTheLink) {
    const MessageFacts f{"Riverside Clinic", 1800000000, "https://c.example/v/room#t=tok", "+15550100"};
    for (auto p : {Purpose::Invite, Purpose::Reminder, Purpose::Ready, Purpose::Summary}) {
        const auto sms = sms_text(p, f);
        const auto mail = email_text(p, f);
        EXPECT_NE(sms.find("Riverside Clinic"), std::string::npos) << sms;
        EXPECT_LE(sms.size(), 320u) << sms;   // two SMS segments at most
        EXPECT_EQ(sms.find("https://c.example/v/room#t=tok") != std::string::npos, p != Purpose::Summary) << sms;
        EXPECT_EQ(mail.body.find("https://c.example/v/room#t=tok") != std::string::npos, p != Purpose::Summary);
        EXPECT_FALSE(mail.subject.empty());
    }
    EXPECT_NE(sms_text(Purpose::Invite, f).find(format_when(1800000000)), std::string::npos);
}

TEST(EmailFormat, HeadersAreSingleLinesAndTheSubjectIsEncodedWhenNotAscii) {
    Email e{"pat@example.org\r\nBcc: evil@example.org", "Ihre Videosprechstunde – Zürich", "Hello\nline two\n"};
    const auto text = format_email(e, "clinic@example.org", 0, "abc@example.org");
    EXPECT_NE(text.find("To: pat@example.org  Bcc: evil@example.org\r\n"), std::string::npos);
    EXPECT_EQ(text.find("\nBcc:"), std::string::npos);
    EXPECT_NE(text.find("Subject: =?UTF-8?B?"), std::string::npos);
    EXPECT_NE(text.find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), std::string::npos);
    EXPECT_NE(text.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\n\r\nHello\r\nline two\r\n"), std::string::npos);
    EXPECT_NE(format_email({"a@b.c", "Plain", "x"}, "f@b.c", 0, "i@b.c").find("Subject: Plain\r\n"), std::string::npos);
}

TEST(MessageStatus, OrderedSoCallbacksCannotMoveAMessageBack) {
    using twilio::moves_forward;
    EXPECT_TRUE(moves_forward("pending", "queued"));
    EXPECT_TRUE(moves_forward("queued", "sent"));
    EXPECT_TRUE(moves_forward("sent", "delivered"));
    EXPECT_TRUE(moves_forward("delivered", "read"));
    EXPECT_TRUE(moves_forward("accepted", "undelivered"));
    EXPECT_FALSE(moves_forward("delivered", "sent"));
    EXPECT_FALSE(moves_forward("delivered", "delivered"));
    EXPECT_FALSE(moves_forward("delivered", "failed"));
    EXPECT_FALSE(moves_forward("failed", "read"));
    EXPECT_FALSE(moves_forward("sent", "made-up"));
    EXPECT_TRUE(twilio::is_failure("undelivered"));
    EXPECT_FALSE(twilio::is_failure("delivered"));
}

}  // namespace
}  // namespace consult::notify
