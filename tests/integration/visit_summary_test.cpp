// The doctor's summary for the patient through consultd with the Twilio and SMTP
// stand-ins: written after the call, sent by SMS as a link to a page that shows it only
// for the invite's code (counted, rate limited, closed after ten wrong codes), or by
// email with its text; the private notes never go with it.
#include "twilio_fixture.hpp"

#include <algorithm>
#include <cctype>

namespace consult::test::twilio {
namespace {

using api::kSessions;

class VisitSummaryTest : public MessagingTest {
protected:
    api::Session finished(const std::string& patient = "") {
        api::Session s = patient.empty() ? api_.in_progress_session()
                                         : api_.create_session(api_.book(patient));
        if (!patient.empty()) {
            api_.call("POST", kSessions + "/" + s.id + "/join", s.patient_token);
            api_.call("POST", kSessions + "/" + s.id + "/admit", api_.doctor_b);
        }
        if (api_.call("POST", kSessions + "/" + s.id + "/end", api_.doctor_b).status != 200) api::setup_failed("end");
        return s;
    }
    std::string summary(const std::string& id) const { return kSessions + "/" + id + "/summary"; }
    api::Reply page(const std::string& method, const std::string& path, const std::string& code = "",
                    bool browser = true) const {
        std::vector<std::string> headers;
        if (browser) headers.push_back("Accept: text/html");
        if (method == "POST") headers.push_back("Content-Type: application/x-www-form-urlencoded");
        return api_.send(method, path, headers, method == "POST" ? "code=" + code : "");
    }
    static std::string path_of(const std::string& url) { return url.substr(url.find("/s/")); }
};

TEST_F(VisitSummaryTest, SentBySmsAsALinkThatShowsTheSummaryOnlyForTheInvitesCode) {
    const api::Session s = finished();
    const std::string notes = "Private: patient anxious, consider referral.";
    ASSERT_EQ(api_.call("PUT", kSessions + "/" + s.id + "/notes", api_.doctor_b, {{"notes", notes}}).status, 200);
    const std::string text = "Keep the gel on twice a day.\nCome back <in> two weeks & call if it hurts.";
    auto r = api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", text}, {"send", true}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["sent"]["channel"], "sms") << r.text();
    const std::string page_path = path_of(r.body["page"]);
    ASSERT_TRUE(eventually([&] {
        for (const auto& m : messages_to(phone_of(s.patient_id)))
            if (m["body"].get<std::string>().find(page_path) != std::string::npos) return true;
        return false;
    })) << "the SMS carries the page's link";
    for (const auto& m : messages_to(phone_of(s.patient_id))) {
        EXPECT_EQ(m["body"].get<std::string>().find("gel"), std::string::npos) << "the text only behind the code";
        EXPECT_EQ(m["body"].get<std::string>().find("anxious"), std::string::npos) << "never the private notes";
    }
    // Sent once: asking again says so.
    auto again = api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", text}, {"send", true}});
    EXPECT_EQ(again.body["sent"]["already_sent"], true) << again.text();

    // The page: the form, a wrong code refused and counted, the right one (as typed) shows it, escaped.
    auto form = page("GET", page_path);
    ASSERT_EQ(form.status, 200) << form.text();
    EXPECT_NE(form.raw.body.find("name=\"code\""), std::string::npos);
    EXPECT_EQ(form.raw.body.find("gel"), std::string::npos);
    EXPECT_EQ(form.raw.header("cache-control").value_or(""), "no-store");
    auto wrong = page("POST", page_path, "ZZZZZZZZ");
    EXPECT_EQ(wrong.status, 403);
    EXPECT_EQ(wrong.raw.body.find("gel"), std::string::npos);
    EXPECT_EQ(api_.query_column("SELECT wrong_codes FROM visit_summaries"), std::vector<std::string>{"1"});
    std::string typed = code_of(s.id);
    std::transform(typed.begin(), typed.end(), typed.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    auto right = page("POST", page_path, typed.substr(0, 4) + "+" + typed.substr(4));   // "abcd efgh": forgiven
    ASSERT_EQ(right.status, 200) << right.text();
    EXPECT_NE(right.raw.body.find("Keep the gel on twice a day."), std::string::npos) << right.raw.body;
    EXPECT_NE(right.raw.body.find("&lt;in&gt; two weeks &amp; call"), std::string::npos) << "escaped, never markup";
    EXPECT_EQ(right.raw.body.find("anxious"), std::string::npos);
    EXPECT_EQ(api_.query_column("SELECT count(*) FROM audit_log WHERE action = 'summary.read'"), std::vector<std::string>{"1"});
    // Not a browser: the API's errors.
    EXPECT_TRUE(api::is_error(page("POST", page_path, "ZZZZZZZZ", false), 403, "code_mismatch"));
    EXPECT_TRUE(api::is_error(page("GET", "/s/not-a-summary", "", false), 404, "summary_not_found"));
}

TEST_F(VisitSummaryTest, GuessingIsSlowAndThePageClosesAfterTenWrongCodes) {
    const api::Session s = finished();
    auto r = api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", "Rinse with salt water."}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_TRUE(r.body["sent"].is_null());
    const std::string page_path = path_of(r.body["page"]);
    int refused = 0, limited = 0;
    for (int i = 0; i < 7; ++i) {
        auto w = page("POST", page_path, "ZZZZZZZZ");
        refused += w.status == 403;
        limited += w.status == 429;
    }
    EXPECT_EQ(refused, 5);
    EXPECT_EQ(limited, 2) << "five tries a minute from one address";
    // Ten wrong codes in all (from other addresses, as an attacker would): closed for good.
    exec_sql(api_.db_path(), "UPDATE visit_summaries SET wrong_codes = 10");
    EXPECT_EQ(page("GET", page_path).status, 404);
    EXPECT_TRUE(api::is_error(page("GET", page_path, "", false), 404, "summary_not_found"));
}

TEST_F(VisitSummaryTest, ByEmailForAPatientWhoChoseEmailAndRefusedWhereItDoesNotBelong) {
    const std::string patient = api_.next_patient();
    set_email(patient, "patient.five@example.org");
    ASSERT_EQ(api_.call("PUT", "/api/patients/" + patient + "/notifications", api_.admin, {{"notify_via", "email"}}).status,
              200);
    const api::Session open = api_.create_session(api_.book(patient));
    EXPECT_TRUE(api::is_error(api_.call("PUT", summary(open.id), api_.doctor_b, {{"text", "Too early."}}), 409,
                              "session_not_completed"));
    const api::Session s = finished(patient);
    EXPECT_EQ(api_.call("PUT", summary(s.id), api_.doctor_a, {{"text", "Not mine."}}).status, 403);
    EXPECT_EQ(api_.call("PUT", summary(s.id), s.patient_token, {{"text", "Mine?"}}).status, 403);
    EXPECT_TRUE(api::is_error(api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", ""}}), 422, "invalid_value", "text"));
    EXPECT_TRUE(api::is_error(api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", std::string(4001, 'x')}}), 422,
                              "invalid_value", "text"));
    EXPECT_TRUE(api::is_error(api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", 42}}), 400, "invalid_type", "text"));
    auto r = api_.call("PUT", summary(s.id), api_.doctor_b, {{"text", "Floss daily."}, {"send", true}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["sent"]["channel"], "email") << r.text();
    ASSERT_TRUE(eventually([&] {
        for (const auto& m : emails())
            if (m.find("Floss daily.") != std::string::npos) return true;
        return false;
    })) << "the email carries the text";
}

}  // namespace
}  // namespace consult::test::twilio
