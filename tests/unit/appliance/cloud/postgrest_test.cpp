#include "appliance/cloud/postgrest.hpp"

#include <gtest/gtest.h>

namespace consult::cloud {
namespace {

const Endpoint kEndpoint{"https://abc.example.test/", "anon-key", "device.jwt.sig"};

std::string header(const net::HttpRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "<absent>";
}

TEST(PostgrestForms, FirstReadFiltersByClinicOrdersByCursorAndAsksForOnePage) {
    ReadQuery q{.table = "appointments", .select = "id,updated_at", .filters = {{"clinic_id", "eq.c1"}}};
    auto r = read_request(kEndpoint, q);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.url, "https://abc.example.test/rest/v1/appointments?select=id%2Cupdated_at&clinic_id=eq.c1"
                     "&order=updated_at.asc%2Cid.asc&limit=500");
    EXPECT_EQ(header(r, "apikey"), "anon-key");
    EXPECT_EQ(header(r, "Authorization"), "Bearer device.jwt.sig");
    EXPECT_EQ(header(r, "Range-Unit"), "items");
    EXPECT_EQ(header(r, "Range"), "0-499");
}

TEST(PostgrestForms, LaterReadsContinueAfterTheCursorWithTiesBrokenById) {
    ReadQuery q{.table = "appointments", .after = {"2024-01-01T10:00:00.5+02:00", "a-1"}, .page_size = 2};
    auto r = read_request(kEndpoint, q);
    // or=(updated_at.gt."T",and(updated_at.eq."T",id.gt."a-1")), with '+' and the quotes percent-encoded.
    EXPECT_NE(r.url.find("&or=%28updated_at.gt.%222024-01-01T10%3A00%3A00.5%2B02%3A00%22%2Cand%28updated_at.eq."
                         "%222024-01-01T10%3A00%3A00.5%2B02%3A00%22%2Cid.gt.%22a-1%22%29%29"),
              std::string::npos) << r.url;
    EXPECT_NE(r.url.find("&limit=2"), std::string::npos);
    EXPECT_EQ(header(r, "Range"), "0-1");
}

TEST(PostgrestForms, UpsertIsAPostWithOnConflictAndMergeDuplicates) {
    auto r = upsert_request(kEndpoint, "video_consultation_sessions", nlohmann::json::array({{{"id", "s1"}}}));
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://abc.example.test/rest/v1/video_consultation_sessions?on_conflict=id");
    EXPECT_EQ(header(r, "Prefer"), "resolution=merge-duplicates, return=minimal");
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    EXPECT_EQ(r.body, R"([{"id":"s1"}])");
}

TEST(PostgrestForms, TheDeviceStatusUpsertMergesOnTheDeviceId) {
    auto r = upsert_request(kEndpoint, "consult_device_status", nlohmann::json::array({{{"device_id", "box-1"}}}));
    EXPECT_EQ(r.url, "https://abc.example.test/rest/v1/consult_device_status?on_conflict=device_id");
    EXPECT_EQ(header(r, "Prefer"), "resolution=merge-duplicates, return=minimal");
}

TEST(PostgrestForms, DeleteListsTheIds) {
    auto r = delete_request(kEndpoint, "video_consultation_timings", {"t1", "t2"});
    EXPECT_EQ(r.method, "DELETE");
    EXPECT_EQ(r.url, "https://abc.example.test/rest/v1/video_consultation_timings?id=in.%28%22t1%22%2C%22t2%22%29");
}

TEST(PostgrestForms, AFunctionCallIsAPostToRpcWithTheArgumentsAsJson) {
    auto r = rpc_request(kEndpoint, "consult_release_for_device", nlohmann::json::object());
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://abc.example.test/rest/v1/rpc/consult_release_for_device");
    EXPECT_EQ(r.body, "{}");
    EXPECT_EQ(header(r, "apikey"), "anon-key");
    EXPECT_EQ(header(r, "Authorization"), "Bearer device.jwt.sig");
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    EXPECT_EQ(rpc_request({"https://abc.example.test/rest/v1", "k", "t"}, "f", {{"a", 1}}).url,
              "https://abc.example.test/rest/v1/rpc/f");
}

TEST(PostgrestForms, ContentRange) {
    auto a = parse_content_range("0-499/*");
    ASSERT_TRUE(a);
    EXPECT_EQ(*a->first, 0);
    EXPECT_EQ(*a->last, 499);
    EXPECT_FALSE(a->total);
    auto empty = parse_content_range("*/*");
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->first);
    EXPECT_EQ(parse_content_range("0-24/3573458")->total.value_or(0), 3573458);
    EXPECT_FALSE(parse_content_range("garbage"));
    EXPECT_FALSE(parse_content_range("5-2/*"));
}

TEST(PostgrestForms, ErrorsAreReadFromPostgrestsBody) {
    net::HttpResponse r{.status = 409, .body = R"({"code":"23505","details":"Key (id)=(1) already exists.","hint":null,)"
                                               R"("message":"duplicate key value violates unique constraint \"x_pkey\""})"};
    auto e = parse_error(r);
    EXPECT_EQ(e.code, "23505");
    EXPECT_EQ(e.details, "Key (id)=(1) already exists.");
    EXPECT_EQ(e.summary(), "HTTP 409 23505: duplicate key value violates unique constraint \"x_pkey\"");
    EXPECT_EQ(parse_error({.status = 0, .error = "timeout after 10 ms"}).summary(), "HTTP 0: timeout after 10 ms");
}

TEST(PostgrestForms, OutcomeOfEachStatus) {
    EXPECT_EQ(classify({.status = 201}), Outcome::Done);
    EXPECT_EQ(classify({.status = 200}), Outcome::Done);
    EXPECT_EQ(classify({.status = 0, .error = "refused"}), Outcome::Retry);
    EXPECT_EQ(classify({.status = 500}), Outcome::Retry);
    EXPECT_EQ(classify({.status = 503}), Outcome::Retry);
    EXPECT_EQ(classify({.status = 429}), Outcome::Retry);
    EXPECT_EQ(classify({.status = 408}), Outcome::Retry);
    EXPECT_EQ(classify({.status = 401}), Outcome::Unauthorized);
    EXPECT_EQ(classify({.status = 403}), Outcome::Unauthorized);
    EXPECT_EQ(classify({.status = 400}), Outcome::Rejected);
    EXPECT_EQ(classify({.status = 409}), Outcome::Rejected);
}

TEST(PostgrestForms, RetryAfterInSecondsOrAsADate) {
    net::HttpResponse r{.status = 429, .headers = {{"retry-after", "7"}}};
    EXPECT_EQ(retry_after(r, 0)->count(), 7);
    r.headers = {{"retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}};
    EXPECT_EQ(retry_after(r, 784111777 - 30)->count(), 30);
    r.headers = {{"retry-after", "soon"}};
    EXPECT_FALSE(retry_after(r, 0));
    EXPECT_FALSE(retry_after({.status = 429}, 0));
}

TEST(PostgrestForms, BackoffGrowsWithinItsBoundsAndJitters) {
    using std::chrono::milliseconds;
    EXPECT_EQ(backoff(0, 0.0), milliseconds(1000));
    EXPECT_EQ(backoff(3, 0.0), milliseconds(1000));      // full jitter reaches down to the base
    EXPECT_EQ(backoff(3, 1.0), milliseconds(8000));
    EXPECT_EQ(backoff(30, 1.0), milliseconds(300000));   // capped
    EXPECT_LT(backoff(5, 0.25), backoff(5, 0.75));
}

}  // namespace
}  // namespace consult::cloud
