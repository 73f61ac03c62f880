// The patient's rating after the call, against a real consultd --demo: once, only after
// the consultation has ended, only with that consultation's patient link, 1 to 5 with
// an optional comment, counted in /metrics.
#include "api_fixture.hpp"

namespace consult::test::api {
namespace {

std::string rating_path(const Session& s) { return kSessions + "/" + s.id + "/rating"; }

TEST_F(ApiTest, ThePatientRatesTheirConsultationOnceAfterItHasEnded) {
    const Session s = api.in_progress_session();
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), s.patient_token, {{"score", 5}}), 409, "session_not_completed"))
        << "not during the call";
    ASSERT_EQ(api.call("POST", kSessions + "/" + s.id + "/end", api.doctor_b).status, 200);

    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), s.patient_token, {{"score", 0}}), 422, "invalid_value"));
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), s.patient_token, {{"score", 6}}), 422, "invalid_value"));
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), s.patient_token, {{"score", "5"}}), 400, "invalid_type"));
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), s.patient_token, {{"score", 4}, {"comment", std::string(1001, 'x')}}),
                         422, "invalid_value"));
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), api.doctor_b, {{"score", 5}}), 403, "forbidden")) << "the doctor cannot";
    const Session other = api.in_progress_session();
    ASSERT_EQ(api.call("POST", kSessions + "/" + other.id + "/end", api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), other.patient_token, {{"score", 1}}), 403, "forbidden"))
        << "another consultation's link cannot";

    auto r = api.call("POST", rating_path(s), s.patient_token, {{"score", 4}, {"comment", "Clear picture, thank you"}});
    ASSERT_EQ(r.status, 201) << r.text();
    EXPECT_TRUE(is_error(api.call("POST", rating_path(s), s.patient_token, {{"score", 1}}), 409, "already_rated"));
    EXPECT_EQ(api.query_column("SELECT score || ':' || comment FROM session_ratings WHERE session_id = '" + s.id + "'"),
              (std::vector<std::string>{"4:Clear picture, thank you"}));
    EXPECT_NE(api.call("GET", "/metrics", "").raw.body.find("consult_patient_ratings_total{score=\"4\"} 1"), std::string::npos);

    // A rating without a comment; a cancelled consultation is not rated.
    ASSERT_EQ(api.call("POST", rating_path(other), other.patient_token, {{"score", 2}}).status, 201);
    const Session cancelled = api.scheduled_session();
    ASSERT_EQ(api.call("POST", kSessions + "/" + cancelled.id + "/cancel", api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("POST", rating_path(cancelled), cancelled.patient_token, {{"score", 3}}), 409,
                         "session_not_completed"));
}

}  // namespace
}  // namespace consult::test::api
