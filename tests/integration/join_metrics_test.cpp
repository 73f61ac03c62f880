// The seed's success measures in /metrics, against a real consultd --demo: a join whose
// pictures reached both sides (the pages' first_frame), the time from admission to each
// side's first picture, a join that never showed one, and a call dropped past the rejoin
// window.
#include "shared_daemon.hpp"

namespace consult::test::api {
namespace {

const std::vector<std::string> kArgs = {"--set", "http.rate_limit_per_minute=1000000", "--set",
                                        "http.rate_limit_burst=100000", "--set", "media.max_width=320",
                                        "--set", "media.max_height=240", "--set", "media.max_fps=15",
                                        "--set", "sessions.rejoin_seconds=3"};

class JoinMetricsTest : public SharedDaemonSuite<kArgs> {
protected:
    std::unique_ptr<WsClient> patient(const Session& s, json* = nullptr, const std::string& device = "phone-1") {
        auto c = open();
        c->send({{"type", "hello"}, {"token", s.patient_token}, {"device", device}});
        if (!c->wait_for("welcome")) setup_failed("no welcome for the patient");
        return c;
    }
    std::unique_ptr<WsClient> doctor(const Session& s) {
        auto c = open();
        c->send({{"type", "hello"}, {"token", api().doctor_b}, {"session", s.id}});
        if (!c->wait_for("welcome")) setup_failed("no welcome for the doctor");
        return c;
    }
};

double metric(ApiDaemon& api, const std::string& series) {
    const std::string text = api.call("GET", "/metrics", "").raw.body;
    const auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size() + 2));
}

TEST_F(JoinMetricsTest, JoinsFirstPicturesAndDroppedCallsAreCounted) {
    const std::string both = "consult_joins_total{result=\"media_both_ways\"}", none = "consult_joins_total{result=\"no_media\"}",
                      patient_side = "consult_admit_to_first_frame_seconds_count{side=\"patient\"}",
                      dropped = "consult_calls_dropped_total";
    const double both0 = metric(api(), both), none0 = metric(api(), none), side0 = metric(api(), patient_side),
                 dropped0 = metric(api(), dropped);

    // Both pages show a picture: one join that worked, each side timed once.
    Session s = api().scheduled_session();
    auto doc = doctor(s);
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(pat->wait_for("admitted"));
    pat->send({{"type", "first_frame"}});
    pat->send({{"type", "first_frame"}});   // a repeat changes nothing
    doc->send({{"type", "first_frame"}});
    pat->send({{"type", "ping"}});
    ASSERT_TRUE(pat->wait_for("pong"));
    doc->send({{"type", "ping"}});
    ASSERT_TRUE(doc->wait_for("pong"));
    EXPECT_EQ(metric(api(), both), both0 + 1);
    EXPECT_EQ(metric(api(), patient_side), side0 + 1);

    // The patient's connection drops and does not come back within the window (3 s here).
    pat->close();
    for (int i = 0; i < 100 && metric(api(), dropped) < dropped0 + 1; ++i) std::this_thread::sleep_for(100ms);
    EXPECT_EQ(metric(api(), dropped), dropped0 + 1);
    EXPECT_EQ(metric(api(), none), none0) << "that join had worked";

    // Let in, gone before any picture: a join that did not work.
    Session t = api().scheduled_session();
    auto doc2 = doctor(t);
    auto pat2 = patient(t, nullptr, "phone-2");
    ASSERT_TRUE(pat2->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + t.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(pat2->wait_for("admitted"));
    pat2->send({{"type", "leave"}});
    EXPECT_EQ(pat2->wait_closed(5s), 1000);
    EXPECT_EQ(metric(api(), none), none0 + 1);
    EXPECT_EQ(metric(api(), both), both0 + 1);
    // Outside a call the message is harmless.
    auto lone = patient(api().scheduled_session(), nullptr, "phone-3");
    lone->send({{"type", "first_frame"}});
    lone->send({{"type", "ping"}});
    EXPECT_TRUE(lone->wait_for("pong"));
}

}  // namespace
}  // namespace consult::test::api
