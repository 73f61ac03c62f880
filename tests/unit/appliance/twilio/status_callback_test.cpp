#include "appliance/twilio/message_status.hpp"

#include <gtest/gtest.h>

namespace consult::twilio {
namespace {

SignedRequest json_body(std::string body) {
    SignedRequest r;
    r.body_is_form = false;
    r.body = std::move(body);
    return r;
}

TEST(StatusCallback, AFormOrAJsonBodyGivesTheSameReport) {
    SignedRequest form;
    form.params = parse_form("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003&ErrorMessage=gone");
    auto a = read_status_callback(form);
    ASSERT_TRUE(a) << a.error();
    auto b = read_status_callback(json_body(R"({"MessageSid":"SM1","MessageStatus":"undelivered","ErrorCode":30003,"ErrorMessage":"gone"})"));
    ASSERT_TRUE(b) << b.error();
    EXPECT_EQ(a->sid, b->sid);
    EXPECT_EQ(a->status, b->status);
    EXPECT_EQ(a->error_code, "30003");
    EXPECT_EQ(b->error_code, "30003");
}

TEST(StatusCallback, HostileBodiesAreRefusedWithAReasonNotAnException) {
    for (const std::string& body : {std::string(R"({"MessageSid":5,"MessageStatus":"sent"})"),
                                   std::string(R"({"MessageSid":"SM1","MessageStatus":["sent"]})"),
                                   std::string(R"({"MessageSid":"SM1"})"), std::string("[]"), std::string("{"),
                                   R"({"MessageSid":"SM1","MessageStatus":"sent","ErrorCode":)" + std::string(200000, '[') +
                                       std::string(200000, ']') + "}"}) {
        auto r = read_status_callback(json_body(body));
        EXPECT_FALSE(r) << body.substr(0, 60);
    }
}

}  // namespace
}  // namespace consult::twilio
