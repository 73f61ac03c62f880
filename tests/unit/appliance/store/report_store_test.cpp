// The Reports screen's numbers from a seeded database: per local day, per ISO week and
// in all; what counts (video and hybrid, not cancelled), what does not (in-person,
// outside the range), and the day a consultation falls on in the box's time zone.
#include "appliance/http/report_format.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/report_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace consult::store {
namespace {

constexpr const char* kClinic = "5d0c1a1e-0000-4000-8000-000000000009";
constexpr const char* kDoctor = "5d0c1a1e-0000-4000-8000-00000000d0c9";
constexpr const char* kPatient = "5d0c1a1e-0000-4000-8000-0000000000a1";

domain::Date date(const char* text) { return *domain::parse_date(text); }

// The box's zone for one test; the process's own comes back after.
class ZoneGuard {
public:
    explicit ZoneGuard(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        setenv("TZ", tz, 1);
        tzset();
    }
    ~ZoneGuard() {
        if (old_) setenv("TZ", old_->c_str(), 1);
        else unsetenv("TZ");
        tzset();
    }
private:
    std::optional<std::string> old_;
};

class ReportStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        migrate(db_);
        db_.exec(std::string("INSERT INTO clinics(id, name) VALUES ('") + kClinic + "', 'C');" +
                 "INSERT INTO doctors(id, clinic_id, full_name) VALUES ('" + kDoctor + "', '" + kClinic + "', 'Dr. T');" +
                 "INSERT INTO patients(id, clinic_id, full_name) VALUES ('" + kPatient + "', '" + kClinic + "', 'P. T')");
    }

    std::string appointment(const char* starts_at, const char* status = "scheduled", const char* type = "video") {
        const auto id = new_uuid();
        db_.prepare("INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, consultation_type, status) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(1, std::string_view(id)).bind(2, std::string_view(kClinic)).bind(3, std::string_view(kDoctor))
            .bind(4, std::string_view(kPatient)).bind(5, std::string_view(starts_at)).bind(6, std::string_view(type))
            .bind(7, std::string_view(status)).run();
        return id;
    }

    // started: admitted at this time (null: never); joined: both sides joined.
    std::string session(const std::string& appointment_id, const char* status, const char* started = nullptr,
                        std::optional<int> duration = std::nullopt, bool joined = false) {
        const auto id = new_uuid();
        db_.prepare("INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status, started_at, "
                    "duration_seconds, doctor_joined_at, patient_joined_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)")
            .bind(1, std::string_view(id)).bind(2, std::string_view(appointment_id))
            .bind(3, std::string_view("room-" + id)).bind(4, std::string_view(status))
            .bind(5, started ? std::optional<std::string>(started) : std::nullopt)
            .bind(6, duration ? std::optional<std::string>(std::to_string(*duration)) : std::nullopt)
            .bind(7, joined && started ? std::optional<std::string>(started) : std::nullopt).run();
        return id;
    }

    void patient_report(const std::string& session_id, const char* joined_at, const std::string& quality) {
        db_.prepare("INSERT INTO video_consultation_participants(id, session_id, user_id, user_type, joined_at, "
                    "connection_quality) VALUES (?1, ?2, ?3, 'patient', ?4, ?5)")
            .bind(1, std::string_view(new_uuid())).bind(2, std::string_view(session_id))
            .bind(3, std::string_view(kPatient)).bind(4, std::string_view(joined_at))
            .bind(5, std::string_view(quality)).run();
    }

    void rating(const std::string& session_id, int score) {
        db_.prepare("INSERT INTO session_ratings(session_id, patient_id, score) VALUES (?1, ?2, ?3)")
            .bind(1, std::string_view(session_id)).bind(2, std::string_view(kPatient)).bind(3, score).run();
    }

    void recording(const std::string& session_id, int duration_ms) {
        std::string sid = "RT" + new_uuid();
        std::erase(sid, '-');
        db_.prepare("INSERT INTO recordings(id, session_id, recording_sid, state, started_by, started_at, duration_ms, "
                    "updated_at) VALUES (?1, ?2, ?3, 'deleted', 'doc', '2026-11-23T09:05:00.000Z', ?4, "
                    "'2026-11-23T09:05:00.000Z')")
            .bind(1, std::string_view(new_uuid())).bind(2, std::string_view(session_id)).bind(3, std::string_view(sid))
            .bind(4, duration_ms).run();
    }

    void declined(const std::string& session_id) {
        db_.prepare("INSERT INTO recording_consents(id, session_id, asked_by, asked_at, text_version, text, answer) "
                    "VALUES (?1, ?2, 'doc', '2026-11-24T09:05:00.000Z', 'v1', 'May we record?', 'declined')")
            .bind(1, std::string_view(new_uuid())).bind(2, std::string_view(session_id)).run();
    }

    // The scenario most tests read: a week and a day, Monday 23 to Monday 30 November 2026.
    void seed_week() {
        const auto a1 = appointment("2026-11-23T09:00:00.000Z", "completed");
        const auto s1 = session(a1, "completed", "2026-11-23T09:01:00.000Z", 600, true);
        patient_report(s1, "2026-11-23T09:00:30.000Z", R"({"level":"poor","rtt_ms":900,"loss":0.2})");   // older
        patient_report(s1, "2026-11-23T09:03:00.000Z",
                       R"({"level":"good","rtt_ms":40,"loss":0.01,"frames_decoded":500,"audio_decoded":90})");
        rating(s1, 5);
        recording(s1, 120000);
        const auto a2 = appointment("2026-11-23T10:00:00.000Z", "no-show");
        session(a2, "cancelled");
        appointment("2026-11-23T11:00:00.000Z", "completed", "in-person");
        const auto a4 = appointment("2026-11-24T09:00:00Z", "completed", "hybrid");   // cloud form, no milliseconds
        const auto s4 = session(a4, "completed", "2026-11-24T09:02:00.000Z", 1200, true);
        patient_report(s4, "2026-11-24T09:02:00.000Z", R"({"level":"poor","rtt_ms":700,"loss":0.1,"frames_decoded":0})");
        rating(s4, 2);
        declined(s4);
        const auto a5 = appointment("2026-11-24T10:00:00.000Z", "cancelled");
        session(a5, "cancelled");
        const auto a6 = appointment("2026-11-30T09:00:00.000Z");
        session(a6, "in-progress", "2026-11-30T09:04:00.000Z", std::nullopt, true);
        const auto a7 = appointment("2026-12-01T09:00:00.000Z", "completed");   // after the range
        session(a7, "completed", "2026-12-01T09:01:00.000Z", 300, true);
        appointment("2026-11-22T23:59:59.999Z", "no-show");                       // before it
    }

    const std::time_t now_ = *domain::parse_iso("2026-11-30T09:30:00Z");
    test::TempDir dir_;
    Database db_ = Database::open(dir_ / "consult.db");
};

TEST_F(ReportStoreTest, TotalsCountVideoAppointmentsAndTheirConsultationsInTheRange) {
    ZoneGuard utc("UTC");
    seed_week();
    const auto r = build_report(db_, date("2026-11-23"), date("2026-12-01"), now_);
    const auto& t = r.totals;
    EXPECT_EQ(t.appointments, 4);   // in-person, cancelled and out-of-range ones left out
    EXPECT_EQ(t.due, 4);
    EXPECT_EQ(t.no_shows, 1);
    EXPECT_DOUBLE_EQ(*t.no_show_rate(), 0.25);
    EXPECT_EQ(t.sessions, 5);
    EXPECT_EQ(t.held, 3);
    EXPECT_EQ(t.completed, 2);
    EXPECT_EQ(t.cancelled, 2);
    EXPECT_DOUBLE_EQ(*t.average_duration_seconds(), 900);
    EXPECT_EQ(t.joined, 1);         // the poor call decoded nothing; the open one has no report
    EXPECT_DOUBLE_EQ(*t.join_success_rate(), 1.0 / 3);
    EXPECT_EQ(t.quality_reports, 2);   // the latest report of each session
    EXPECT_EQ(t.quality_good, 1);
    EXPECT_EQ(t.quality_poor, 1);
    EXPECT_DOUBLE_EQ(*t.average_rtt_ms(), 370);
    EXPECT_DOUBLE_EQ(*t.average_loss(), 0.055);
    EXPECT_EQ(t.rating_count(), 2);
    EXPECT_DOUBLE_EQ(*t.average_rating(), 3.5);
    EXPECT_EQ(t.ratings, (std::array<std::int64_t, 5>{0, 1, 0, 0, 1}));
    EXPECT_EQ(t.recordings, 1);
    EXPECT_EQ(t.recorded_ms, 120000);
    EXPECT_EQ(t.recording_declined, 1);
}

TEST_F(ReportStoreTest, EveryDayOfTheRangeIsListedAndDaysAddUpToIsoWeeks) {
    ZoneGuard utc("UTC");
    seed_week();
    const auto r = build_report(db_, date("2026-11-23"), date("2026-12-01"), now_);
    ASSERT_EQ(r.days.size(), 8u);
    EXPECT_EQ(r.days.front().label, "2026-11-23");
    EXPECT_EQ(r.days.back().label, "2026-11-30");
    EXPECT_EQ(r.days[0].counts.appointments, 2);
    EXPECT_EQ(r.days[0].counts.no_shows, 1);
    EXPECT_EQ(r.days[0].counts.joined, 1);
    EXPECT_EQ(r.days[1].counts.sessions, 2);
    EXPECT_EQ(r.days[2].counts.sessions, 0);   // an empty day is still a row
    ASSERT_EQ(r.weeks.size(), 2u);
    EXPECT_EQ(r.weeks[0].label, "2026-W48");
    EXPECT_EQ(r.weeks[0].first_day, "2026-11-23");
    EXPECT_EQ(r.weeks[0].last_day, "2026-11-29");
    EXPECT_EQ(r.weeks[0].counts.held, 2);
    EXPECT_EQ(r.weeks[1].label, "2026-W49");
    EXPECT_EQ(r.weeks[1].first_day, "2026-11-30");
    EXPECT_EQ(r.weeks[1].last_day, "2026-11-30");
    EXPECT_EQ(r.weeks[1].counts.held, 1);
    EXPECT_EQ(r.weeks[1].counts.joined, 0);
}

TEST_F(ReportStoreTest, AnAppointmentNotYetStartedIsNotDueSoItsRateIsUnknown) {
    ZoneGuard utc("UTC");
    seed_week();
    const auto r = build_report(db_, date("2026-11-30"), date("2026-12-02"), *domain::parse_iso("2026-11-30T08:00:00Z"));
    EXPECT_EQ(r.totals.appointments, 2);
    EXPECT_EQ(r.totals.due, 0);
    EXPECT_FALSE(r.totals.no_show_rate());
    EXPECT_FALSE(r.days[0].counts.average_rating());
}

TEST_F(ReportStoreTest, AConsultationCountsOnItsLocalDay) {
    ZoneGuard zone("EST5");   // UTC-5 all year
    seed_week();
    appointment("2026-11-24T03:00:00.000Z");   // 22:00 on the 23rd, here
    const auto r = build_report(db_, date("2026-11-24"), date("2026-11-25"), now_);
    ASSERT_EQ(r.days.size(), 1u);
    EXPECT_EQ(r.totals.appointments, 1);   // the hybrid one at 04:00 local; the cancelled one is left out
    EXPECT_EQ(r.totals.held, 1);
    const auto before = build_report(db_, date("2026-11-23"), date("2026-11-24"), now_);
    EXPECT_EQ(before.totals.appointments, 3);
}

TEST(ReportCalendar, IsoWeeksAndDayArithmetic) {
    EXPECT_EQ(iso_week(date("2026-01-01")), "2026-W01");   // a Thursday
    EXPECT_EQ(iso_week(date("2027-01-01")), "2026-W53");   // a Friday: the last week of 2026
    EXPECT_EQ(iso_week(date("2024-12-30")), "2025-W01");   // a Monday
    EXPECT_EQ(iso_week(date("2026-11-29")), "2026-W48");   // a Sunday
    EXPECT_EQ(domain::format_date(add_days(date("2024-02-28"), 1)), "2024-02-29");
    EXPECT_EQ(domain::format_date(add_days(date("2026-03-01"), -1)), "2026-02-28");
    EXPECT_EQ(days_between(date("2026-01-01"), date("2027-01-01")), 365);
    EXPECT_EQ(days_between(date("2024-01-01"), date("2025-01-01")), 366);
}

TEST(ReportCsv, FieldsAreQuotedAndFormulasDefused) {
    EXPECT_EQ(http::csv_field("2026-11-23"), "2026-11-23");
    EXPECT_EQ(http::csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(http::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(http::csv_field("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(http::csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    EXPECT_EQ(http::csv_field("+1"), "'+1");
    EXPECT_EQ(http::csv_field("@SUM(A1)"), "'@SUM(A1)");
    EXPECT_EQ(http::csv_field("\tx"), "'\tx");
}

TEST_F(ReportStoreTest, CsvHasAHeaderAndOneRowPerDay) {
    ZoneGuard utc("UTC");
    seed_week();
    const auto csv = http::report_csv(build_report(db_, date("2026-11-23"), date("2026-11-25"), now_));
    const std::string header = csv.substr(0, csv.find("\r\n"));
    EXPECT_EQ(header.rfind("date,appointments,due_appointments,no_shows,no_show_rate,consultations,", 0), 0u) << header;
    int rows = 0;
    for (std::size_t at = 0; (at = csv.find("\r\n", at)) != std::string::npos; at += 2) ++rows;
    EXPECT_EQ(rows, 3);
    EXPECT_NE(csv.find("\r\n2026-11-23,2,2,1,0.5,2,1,1,1,600,1,1,"), std::string::npos) << csv;
    const auto json = http::report_json(build_report(db_, date("2026-11-23"), date("2026-11-25"), now_));
    EXPECT_EQ(json["days"][0]["no_show_rate"], 0.5);
    EXPECT_TRUE(json["weeks"][0]["average_rtt_ms"].is_number());
    EXPECT_EQ(json["totals"]["average_rating"], 3.5);
}

}  // namespace
}  // namespace consult::store
