// The short invite link (/j/<code>) against a real consultd --demo: the code a
// receptionist reads out opens the patient's page with a fresh token, forgives case and
// separators, dies with its consultation, tells a person's browser what to do, and is
// tried at most five times a minute from one address.
#include "api_fixture.hpp"

#include <algorithm>
#include <regex>

namespace consult::test::api {
namespace {

const std::regex kSpokenCode("[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4} [23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4}");

std::string code_of(const Session& s) {
    std::string spoken = s.created.value("patient_code", "");
    spoken.erase(std::remove(spoken.begin(), spoken.end(), ' '), spoken.end());
    return spoken;
}

TEST_F(ApiTest, TheShortLinkOpensThePatientsPageWithAFreshTokenAndForgivesHowItIsTyped) {
    const Session s = api.scheduled_session();
    const std::string spoken = s.created.value("patient_code", "");
    EXPECT_TRUE(std::regex_match(spoken, kSpokenCode)) << spoken;
    const std::string code = code_of(s);
    const std::string short_url = s.created.value("patient_short_url", "");
    EXPECT_EQ(short_url.substr(short_url.size() - 11), "/j/" + code) << short_url;

    auto r = api.send("GET", "/j/" + code, {});
    ASSERT_EQ(r.status, 303) << r.text();
    const std::string location = r.raw.header("location").value_or("");
    const std::string marker = "../v/" + s.room + "#t=";
    ASSERT_EQ(location.rfind(marker, 0), 0u) << location;
    const std::string token = location.substr(marker.size());
    EXPECT_NE(token, s.patient_token) << "a fresh token";
    auto claims = api.verifier().check(token, tokens::unix_now());
    ASSERT_TRUE(claims.has_value()) << tokens::describe(claims.error());
    EXPECT_EQ(claims->role, tokens::Role::Patient);
    EXPECT_EQ(claims->session_id.value_or(""), s.id);
    EXPECT_EQ(claims->identity, s.patient_id);
    EXPECT_EQ(api.call("GET", "/api/patient/link", token).status, 200) << "the token opens the consultation";
    EXPECT_EQ(r.raw.header("cache-control").value_or(""), "no-store");

    // Read out over the phone: lower case, a space or a dash.
    std::string lower = code;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(api.send("GET", "/j/" + lower.substr(0, 4) + "-" + lower.substr(4), {}).status, 303);
    EXPECT_EQ(api.send("GET", "/j/" + code.substr(0, 4) + "%20" + code.substr(4), {}).status, 303);
    EXPECT_EQ(api.session_status(s.id), "scheduled");
    // This test daemon's links point to 127.0.0.1: the kiosk is told that phones cannot open them.
    EXPECT_NE(s.created["invite"].value("warning", "").find("Patients' phones cannot open their links"), std::string::npos)
        << s.created.dump();
}

TEST_F(ApiTest, AShortLinkDiesWithItsConsultationAndABrowserIsToldWhatToDo) {
    const Session s = api.scheduled_session();
    const std::string code = code_of(s);
    ASSERT_EQ(api.call("POST", kSessions + "/" + s.id + "/cancel", api.doctor_b).status, 200);
    auto api_answer = api.send("GET", "/j/" + code, {});
    EXPECT_TRUE(is_error(api_answer, 404, "link_not_valid")) << api_answer.text();
    auto page = api.send("GET", "/j/" + code, {"Accept: text/html,application/xhtml+xml"});
    EXPECT_EQ(page.status, 404);
    EXPECT_EQ(page.raw.header("content-type").value_or("").rfind("text/html", 0), 0u);
    EXPECT_NE(page.raw.body.find("call the clinic"), std::string::npos) << page.raw.body;
    // Codes that cannot be one, and one that is no session's.
    EXPECT_EQ(api.send("GET", "/j/0000OOOO", {}).status, 404);
    EXPECT_EQ(api.send("GET", "/j/ABC", {}).status, 404);
}

// A consultation that took place: its link works during it and is done when it ends.
TEST_F(ApiTest, AShortLinkEndsWhenItsConsultationEnds) {
    const Session held = api.in_progress_session();
    EXPECT_EQ(api.send("GET", "/j/" + code_of(held), {}).status, 303);
    ASSERT_EQ(api.call("POST", kSessions + "/" + held.id + "/end", api.doctor_b).status, 200);
    auto after = api.send("GET", "/j/" + code_of(held), {});
    EXPECT_TRUE(is_error(after, 404, "link_not_valid")) << after.text();
}

TEST_F(ApiTest, OneAddressTriesAtMostFiveShortLinksAMinute) {
    const Session s = api.scheduled_session();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(api.send("GET", "/j/2222222" + std::to_string(i + 2), {}).status, 404);
    auto sixth = api.send("GET", "/j/" + code_of(s), {});
    EXPECT_TRUE(is_error(sixth, 429, "rate_limited")) << "even a good code: " << sixth.text();
    EXPECT_TRUE(sixth.raw.header("retry-after").has_value());
    auto page = api.send("GET", "/j/" + code_of(s), {"Accept: text/html"});
    EXPECT_EQ(page.status, 429);
    EXPECT_NE(page.raw.body.find("Try again in"), std::string::npos);
}

}  // namespace
}  // namespace consult::test::api
