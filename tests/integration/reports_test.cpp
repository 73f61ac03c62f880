// The Reports screen's API against a real consultd --demo: admins only (and the
// reports-only admin sign-in, which opens nothing else), dates checked hard, the numbers
// of consultations held, ended, cancelled and rated through the API, and the CSV.
#include "api_fixture.hpp"

#include <sstream>

namespace consult::test::api {
namespace {

const std::string kReports = "/api/reports";
const std::string kKiosk = "/api/kiosk";

std::vector<std::string> csv_lines(const std::string& body) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at < body.size();) {
        const auto end = body.find("\r\n", at);
        if (end == std::string::npos) {
            out.push_back(body.substr(at));   // a last line without CRLF: wrong, and seen as such
            break;
        }
        out.push_back(body.substr(at, end - at));
        at = end + 2;
    }
    return out;
}

std::size_t commas(const std::string& line) { return std::size_t(std::count(line.begin(), line.end(), ',')); }

TEST_F(ApiTest, ReportsAreForAdminsOnly) {
    const std::string range = "?from=" + local_day(0) + "&to=" + local_day(1);
    for (const auto& path : {kReports, kReports + ".csv"}) {
        EXPECT_TRUE(is_error(api.call("GET", path + range, ""), 401, "unauthenticated")) << path;
        EXPECT_TRUE(is_error(api.call("GET", path + range, "not-a-token"), 401, "invalid_token")) << path;
        EXPECT_TRUE(is_error(api.call("GET", path + range, api.doctor_b), 403, "forbidden")) << path;
        EXPECT_EQ(api.call("GET", path + range, api.admin).status, 200) << path;
    }
    const Session s = api.scheduled_session();
    EXPECT_TRUE(is_error(api.call("GET", kReports + range, s.patient_token), 403, "forbidden"));
    EXPECT_EQ(api.query_column("SELECT count(*) FROM audit_log WHERE action = 'reports.read'"),
              (std::vector<std::string>{"2"}));
}

TEST_F(ApiTest, TheReportsOnlySignInOpensTheReportsAndNothingElse) {
    EXPECT_TRUE(is_error(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "0000"}, {"scope", "all"}}), 422,
                         "invalid_enum", "scope"));
    auto r = api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "0000"}, {"scope", "reports"}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["identity"], "reports-viewer");
    const std::string token = r.body["token"];
    EXPECT_EQ(api.call("GET", kReports, token).status, 200);
    EXPECT_EQ(api.call("GET", kReports + ".csv", token).status, 200);
    EXPECT_TRUE(is_error(api.call("GET", "/api/recordings", token), 403, "forbidden"));
    EXPECT_TRUE(is_error(api.call("GET", kSessions + "?date=" + local_day(0), token), 403, "forbidden"));
    EXPECT_TRUE(is_error(api.call("GET", "/api/system/devices", token), 403, "forbidden"));
    EXPECT_TRUE(is_error(api.call("POST", kKiosk + "/renew", token), 403, "forbidden"));
    // A wrong PIN counts against the same admin lock as the kiosk's Settings.
    auto wrong = api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "1111"}, {"scope", "reports"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body["error"]["code"], "wrong_pin");
    EXPECT_EQ(api.query_column("SELECT actor || ' ' || json_extract(detail, '$.result') FROM audit_log "
                               "WHERE action = 'kiosk.sign_in' ORDER BY id DESC LIMIT 1"),
              (std::vector<std::string>{"reports-viewer wrong_pin"}));
    ASSERT_EQ(api.call("POST", kKiosk + "/sign-out", token).status, 204);
    EXPECT_TRUE(is_error(api.call("GET", kReports, token), 401, "token_revoked"));
}

TEST_F(ApiTest, ReportDatesAreCheckedHard) {
    auto bad = [&](const std::string& query, const std::string& code, const std::string& field) {
        for (const auto& path : {kReports, kReports + ".csv"})
            EXPECT_TRUE(is_error(api.call("GET", path + query, api.admin), 400, code, field)) << path << query;
    };
    bad("?from=2026-02-30&to=2026-03-02", "invalid_date", "from");
    bad("?from=2026-11-01&to=tomorrow", "invalid_date", "to");
    bad("?from=2026-11-01T00:00&to=2026-11-02", "invalid_date", "from");
    bad("?from=1969-12-01&to=1970-01-02", "invalid_date", "from");
    bad("?from=2026-11-02&to=2026-11-02", "invalid_range", "to");
    bad("?from=2026-11-03&to=2026-11-02", "invalid_range", "to");
    bad("?from=2025-11-01&to=2026-11-03", "invalid_range", "from");   // 367 days
    auto longest = api.call("GET", kReports + "?from=2023-03-01&to=2024-03-01", api.admin);   // 366 days, leap year
    ASSERT_EQ(longest.status, 200) << longest.text();
    EXPECT_EQ(longest.body["days"].size(), 366u);
    auto fallback = api.call("GET", kReports, api.admin);   // no dates: the last four weeks up to today
    ASSERT_EQ(fallback.status, 200);
    EXPECT_EQ(fallback.body["days"].size(), 28u);
    EXPECT_EQ(fallback.body["days"].back()["date"], local_day(0));
}

TEST_F(ApiTest, TheReportCountsConsultationsHeldEndedCancelledAndRated) {
    const Session a = api.in_progress_session();
    const Session b = api.in_progress_session();
    const Session c = api.scheduled_session();
    ASSERT_EQ(api.call("POST", kSessions + "/" + a.id + "/end", api.doctor_b).status, 200);
    ASSERT_EQ(api.call("POST", kSessions + "/" + b.id + "/end", api.doctor_b).status, 200);
    ASSERT_EQ(api.call("POST", kSessions + "/" + c.id + "/cancel", api.doctor_b).status, 200);
    ASSERT_EQ(api.call("POST", kSessions + "/" + a.id + "/rating", a.patient_token, {{"score", 4}}).status, 201);
    ASSERT_EQ(api.call("POST", kSessions + "/" + b.id + "/rating", b.patient_token, {{"score", 2}}).status, 201);

    const std::string query = "?from=" + local_day(0) + "&to=" + local_day(8);
    auto r = api.call("GET", kReports + query, api.admin);
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.raw.header("cache-control").value_or(""), "no-store");
    const json& t = r.body["totals"];
    EXPECT_EQ(t["held"], 2);
    EXPECT_EQ(t["completed"], 2);
    EXPECT_GE(t["cancelled"].get<int>(), 1);
    EXPECT_GE(t["consultations"].get<int>(), 3);
    EXPECT_TRUE(t["average_duration_seconds"].is_number());
    EXPECT_EQ(t["ratings"], 2);
    EXPECT_EQ(t["average_rating"], 3.0);
    EXPECT_EQ(t["rating_2"], 1);
    EXPECT_EQ(t["rating_4"], 1);
    EXPECT_EQ(t["joined"], 0);   // no media ran: no connection report says the patient's media arrived
    EXPECT_EQ(t["join_success_rate"], 0.0);
    EXPECT_TRUE(t["no_show_rate"].is_null() || t["no_show_rate"].is_number());
    ASSERT_EQ(r.body["days"].size(), 8u);
    // Days add up to the totals, and so do the weeks.
    int day_held = 0, week_held = 0, day_ratings = 0;
    for (const auto& d : r.body["days"]) {
        day_held += d["held"].get<int>();
        day_ratings += d["ratings"].get<int>();
        if (d["date"] == local_day_of(a.starts_at)) {
            EXPECT_GE(d["held"].get<int>(), 1);
        }
    }
    for (const auto& w : r.body["weeks"]) week_held += w["held"].get<int>();
    EXPECT_EQ(day_held, 2);
    EXPECT_EQ(week_held, 2);
    EXPECT_EQ(day_ratings, 2);
    EXPECT_EQ(r.body["weeks"].front()["first_day"], local_day(0));
    EXPECT_EQ(r.body["weeks"].back()["last_day"], local_day(7));

    // The CSV: one header row, one row per day, every row as wide as the header, CRLF.
    auto csv = api.call("GET", kReports + ".csv" + query, api.admin);
    ASSERT_EQ(csv.status, 200) << csv.text();
    EXPECT_EQ(csv.raw.header("content-type").value_or(""), "text/csv; charset=utf-8");
    EXPECT_EQ(csv.raw.header("content-disposition").value_or(""),
              "attachment; filename=\"consultations-" + local_day(0) + "-to-" + local_day(8) + ".csv\"");
    const auto lines = csv_lines(csv.raw.body);
    ASSERT_EQ(lines.size(), 9u) << csv.raw.body;
    EXPECT_EQ(lines[0].rfind("date,appointments,due_appointments,no_shows,no_show_rate,consultations,held,completed,", 0), 0u);
    for (const auto& line : lines) EXPECT_EQ(commas(line), commas(lines[0])) << line;
    EXPECT_EQ(lines[1].rfind(local_day(0) + ",", 0), 0u);
    EXPECT_EQ(lines[8].rfind(local_day(7) + ",", 0), 0u);
    for (const auto& line : lines)
        for (char first : {'=', '+', '-', '@'}) EXPECT_EQ(line.find(std::string(",") + first), std::string::npos) << line;
}

}  // namespace
}  // namespace consult::test::api
