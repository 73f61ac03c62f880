// consultd as a process: start-up, the sd_notify protocol, HTTP basics, signals,
// configuration errors, demo data and the token signing key.
#include "consultd_process.hpp"

#include "appliance/store/migrations.hpp"
#include "appliance/tokens/token_service.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/stat.h>

#include <csignal>
#include <ctime>
#include <regex>

namespace consult::test {
namespace {

using namespace std::chrono_literals;

// Generous limits: the hardware probe test-encodes frames, and the machine has two cores.
constexpr double kReadyTimeoutS = 30;
constexpr auto kExitTimeout = 30s;

nlohmann::json parse_json(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
    return j;
}

std::string http_series(const std::string& route, const std::string& method, int status) {
    return "consult_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
           std::to_string(status) + "\"}";
}

// Appointments in a consult.db, read with the SQLite C API (no daemon, no HTTP).
long count_rows(const fs::path& db_path, const std::string& table) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        ADD_FAILURE() << "cannot open " << db_path << ": " << (db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return -1;
    }
    long n = -1;
    sqlite3_stmt* st = nullptr;
    const std::string sql = "SELECT count(*) FROM " + table;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = long(sqlite3_column_int64(st, 0));
    else
        ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

std::string local_date() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

std::string trim_newlines(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// Starts consultd and waits for READY=1; the test fails (fatally) if it does not come.
#define START_AND_WAIT_READY(proc)                                                                  \
    do {                                                                                            \
        ASSERT_TRUE((proc).start()) << (proc).start_error();                                        \
        ASSERT_TRUE((proc).wait_for_notify("READY=1", kReadyTimeoutS).has_value())                 \
            << "no READY=1 within " << kReadyTimeoutS << " s; stderr:\n" << (proc).stderr_text();  \
    } while (0)

TEST(Consultd, StartsWithoutConfigFileAndAnswersHealthzWithin2Seconds) {
    // The very first start on a machine also builds GStreamer's registry cache; a first
    // run takes that cost so that the measured one is an ordinary start.
    {
        ConsultdProcess warm;
        ASSERT_TRUE(warm.start()) << warm.start_error();
        ASSERT_TRUE(warm.wait_for_healthz(kReadyTimeoutS)) << warm.stderr_text();
    }
    ConsultdProcess p;  // no --config: the default file, absent on a development machine
    ASSERT_TRUE(p.start()) << p.start_error();
    auto elapsed = p.wait_for_healthz(2.0);
    ASSERT_TRUE(elapsed.has_value()) << "no 200 from /healthz within 2 s; stderr:\n" << p.stderr_text();
    EXPECT_LT(elapsed->count(), 2000);

    auto r = p.http("GET", "/healthz");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type").value_or("").rfind("application/json", 0), 0u);
    auto j = parse_json(r.body);
    for (const char* key : {"status", "version", "schema_version", "db", "camera", "encoder"})
        EXPECT_TRUE(j.contains(key)) << "missing " << key << " in " << r.body;
    EXPECT_EQ(j.value("schema_version", -1), store::latest_schema_version());
    EXPECT_EQ(j.value("db", ""), "ok");
    EXPECT_TRUE(j["status"] == "ok" || j["status"] == "degraded") << r.body;
    EXPECT_FALSE(j.value("version", "").empty());
}

TEST(Consultd, NotifiesReadyOnlyAfterProbeThenSendsWatchdogPings) {
    ConsultdProcess p({.env = {{"WATCHDOG_USEC", "400000"}}});
    ASSERT_TRUE(p.start()) << p.start_error();
    auto ready = p.wait_for_notify("READY=1", kReadyTimeoutS);
    ASSERT_TRUE(ready.has_value()) << "no READY=1; stderr:\n" << p.stderr_text();
    const std::string ready_msg = p.notifications()[*ready];
    EXPECT_NE(ready_msg.find("STATUS="), std::string::npos) << ready_msg;
    for (size_t i = 0; i < *ready; ++i)
        EXPECT_EQ(p.notifications()[i].find("WATCHDOG=1"), std::string::npos) << "watchdog ping before READY";

    // READY means the probe is done: /healthz reports a camera, not "probing".
    auto health = p.http("GET", "/healthz");
    ASSERT_EQ(health.status, 200);
    auto j = parse_json(health.body);
    EXPECT_TRUE(j["camera"].is_object()) << health.body;

    // WATCHDOG_USEC=400000: a ping every 200 ms.
    auto first = p.wait_for_notify("WATCHDOG=1", 2.0, *ready + 1);
    ASSERT_TRUE(first.has_value()) << "no WATCHDOG=1 after READY=1";
    auto second = p.wait_for_notify("WATCHDOG=1", 2.0, *first + 1);
    EXPECT_TRUE(second.has_value()) << "only one WATCHDOG=1";

    auto stop = p.terminate();
    EXPECT_TRUE(stop.exited && stop.code == 0) << stop.describe();
    EXPECT_TRUE(p.wait_for_notify("STOPPING=1", 1.0, *ready + 1).has_value());
}

TEST(Consultd, NoWatchdogPingsWithoutWatchdogUsec) {
    ConsultdProcess p;
    START_AND_WAIT_READY(p);
    auto ping = p.wait_for_notify("WATCHDOG=1", 1.0);
    EXPECT_FALSE(ping.has_value());
}

TEST(Consultd, MetricsCountRequestsByRouteMethodAndStatus) {
    ConsultdProcess p;
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
    const double before = metric_value(p.http("GET", "/metrics").body, http_series("/healthz", "GET", 200));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(p.http("GET", "/healthz").status, 200);
    for (int i = 0; i < 2; ++i) ASSERT_EQ(p.http("GET", "/no-such-route").status, 404);
    ASSERT_EQ(p.http("POST", "/healthz", "{}", {"Content-Type: application/json"}).status, 405);

    auto r = p.http("GET", "/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type").value_or("").rfind("text/plain", 0), 0u);
    const std::string& m = r.body;
    EXPECT_GE(before, 1) << m;  // wait_for_healthz's own successful poll
    EXPECT_EQ(metric_value(m, http_series("/healthz", "GET", 200)), before + 3) << m;
    EXPECT_EQ(metric_value(m, http_series("(unmatched)", "GET", 404)), 2) << m;
    EXPECT_EQ(metric_value(m, http_series("/healthz", "POST", 405)), 1) << m;
    EXPECT_GE(metric_value(m, http_series("/metrics", "GET", 200)), 1) << m;
    EXPECT_GT(metric_value(m, "process_resident_memory_bytes"), 1e6) << m;
    EXPECT_TRUE(std::regex_search(m, std::regex(R"(\nconsult_build_info\{version="[^"]+"\} 1\n)"))) << m;
    EXPECT_NE(m.find("# TYPE consult_http_requests_total counter"), std::string::npos);
}

TEST(Consultd, UnknownRouteAnswers404WithJsonErrorShape) {
    ConsultdProcess p;
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
    auto r = p.http("GET", "/api/v1/does-not-exist");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.header("content-type").value_or("").rfind("application/json", 0), 0u);
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), "not_found");
    EXPECT_FALSE(j["error"].value("message", "").empty());
}

TEST(Consultd, PostToHealthzAnswers405WithAllowGet) {
    ConsultdProcess p;
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
    auto r = p.http("POST", "/healthz", "{}", {"Content-Type: application/json"});
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("allow").value_or("<none>"), "GET");
    auto j = parse_json(r.body);
    EXPECT_EQ(j["error"].value("code", ""), "method_not_allowed") << r.body;
}

TEST(Consultd, BodyOverMaxBodyBytesAnswers413) {
    ConsultdProcess p({.args = {"--set", "http.max_body_bytes=2048"}});
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
    const std::string big(4096, 'x');
    // With curl's own "Expect: 100-continue" and with the body sent at once.
    for (const std::vector<std::string>& headers :
         {std::vector<std::string>{"Content-Type: application/json"},
          std::vector<std::string>{"Content-Type: application/json", "Expect:"}}) {
        auto r = p.http("POST", "/healthz", big, headers);
        EXPECT_EQ(r.status, 413) << r.error << " " << r.body;
        auto j = parse_json(r.body);
        EXPECT_EQ(j["error"].value("code", ""), "body_too_large") << r.body;
    }
    // A chunked body has no Content-Length to refuse early: it is counted as it arrives,
    // kept only up to the limit, and refused as soon as it passes it.
    auto chunked = p.http("POST", "/healthz", big, {"Content-Type: application/json", "Transfer-Encoding: chunked"});
    EXPECT_EQ(chunked.status, 413) << chunked.error << " " << chunked.body;
    // Under the limit it is routed as usual (and the daemon is still fine).
    EXPECT_EQ(p.http("POST", "/healthz", std::string(1000, 'x'), {"Content-Type: application/json"}).status, 405);
    EXPECT_EQ(p.http("GET", "/healthz").status, 200);
    const std::string m = p.http("GET", "/metrics").body;
    EXPECT_EQ(metric_value(m, http_series("(early)", "POST", 413)), 3) << m;
}

void expect_clean_stop_on(int sig) {
    ConsultdProcess p;
    START_AND_WAIT_READY(p);
    auto stop = p.terminate(sig, 5s);
    EXPECT_FALSE(stop.timed_out) << "still running 5 s after " << strsignal(sig);
    EXPECT_TRUE(stop.exited) << stop.describe();
    EXPECT_EQ(stop.code, 0) << stop.describe() << "\n" << p.stderr_text();
    EXPECT_LT(stop.elapsed_ms, 5000);
    EXPECT_NE(p.stderr_text().find("stopped"), std::string::npos) << p.stderr_text();
}

TEST(Consultd, SigtermStopsCleanlyWithExit0Within5Seconds) { expect_clean_stop_on(SIGTERM); }
TEST(Consultd, SigintStopsCleanlyWithExit0Within5Seconds) { expect_clean_stop_on(SIGINT); }

TEST(Consultd, SigtermAsSoonAsHttpAnswersStopsCleanly) {
    ConsultdProcess p;
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();  // serving; the probe may still run
    auto stop = p.terminate(SIGTERM, 5s);
    EXPECT_TRUE(stop.exited && stop.code == 0) << stop.describe() << "\n" << p.stderr_text();
}

void expect_config_rejected(const std::string& content, const std::string& key, const std::string& reason) {
    TempDir dir;
    const fs::path conf = dir / "consultd.conf";
    write_file(conf, content);
    ConsultdProcess p({.args = {"--config", conf.string()}, .pass_http_port = false});
    ASSERT_TRUE(p.start()) << p.start_error();
    auto st = p.wait_exit(kExitTimeout);
    ASSERT_TRUE(st.exited) << st.describe();
    EXPECT_EQ(st.code, 78);
    const std::string err = p.stderr_text();
    EXPECT_NE(err.find(conf.string()), std::string::npos) << err;
    EXPECT_NE(err.find(key), std::string::npos) << err;
    EXPECT_NE(err.find(reason), std::string::npos) << err;
}

TEST(Consultd, ConfigPortOutOfRangeExits78NamingFileAndKey) {
    expect_config_rejected("[http]\nport = 70000\n", "http.port", "70000 is outside 1..65535");
}

TEST(Consultd, ConfigPortNotANumberExits78NamingFileAndKey) {
    expect_config_rejected("[http]\nport = eighty\n", "http.port", "'eighty' is not a whole number");
}

TEST(Consultd, UnknownConfigKeyWarnsNamingItAndStartsAnyway) {
    TempDir dir;
    const fs::path conf = dir / "consultd.conf";
    write_file(conf, "[http]\nbind = 127.0.0.1\ncolour = blue\n");
    ConsultdProcess p({.args = {"--config", conf.string()}});
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
    const std::string err = p.stderr_text();
    EXPECT_NE(err.find("colour"), std::string::npos) << err;
    EXPECT_NE(err.find("unknown key"), std::string::npos) << err;
}

TEST(Consultd, DropInFileOverridesMainFile) {
    TempDir dir;
    const int main_port = free_port();
    int drop_in_port = free_port();
    while (drop_in_port == main_port) drop_in_port = free_port();
    const fs::path conf = dir / "consultd.conf";
    write_file(conf, "[http]\nport = " + std::to_string(main_port) + "\n");
    fs::create_directory(dir / "consultd.conf.d");
    write_file(dir / "consultd.conf.d" / "50-port.conf", "[http]\nport = " + std::to_string(drop_in_port) + "\n");
    write_file(dir / "consultd.conf.d" / "notes.txt", "not a key file, and not read\n");

    ConsultdProcess p({.args = {"--config", conf.string()}, .port = drop_in_port, .pass_http_port = false});
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << "nothing on the drop-in's port; stderr:\n" << p.stderr_text();
    EXPECT_EQ(http_request(main_port, "GET", "/healthz", "", {}, 500).status, 0) << "main file's port answers";
}

TEST(Consultd, MissingConfigFileExitsNonZeroWithClearMessage) {
    TempDir dir;
    const fs::path conf = dir / "absent.conf";
    ConsultdProcess p({.args = {"--config", conf.string()}});
    ASSERT_TRUE(p.start()) << p.start_error();
    auto st = p.wait_exit(kExitTimeout);
    ASSERT_TRUE(st.exited) << st.describe();
    EXPECT_NE(st.code, 0);
    const std::string err = p.stderr_text();
    EXPECT_NE(err.find(conf.string()), std::string::npos) << err;
    EXPECT_NE(err.find("no such file"), std::string::npos) << err;
}

TEST(Consultd, SecondInstanceOnSamePortFailsWithClearMessage) {
    ConsultdProcess first;
    ASSERT_TRUE(first.start()) << first.start_error();
    ASSERT_TRUE(first.wait_for_healthz(kReadyTimeoutS)) << first.stderr_text();

    ConsultdProcess second({.port = first.port()});
    ASSERT_TRUE(second.start()) << second.start_error();
    auto st = second.wait_exit(kExitTimeout);
    ASSERT_TRUE(st.exited) << st.describe() << "\n" << second.stderr_text();
    EXPECT_NE(st.code, 0);
    const std::string err = second.stderr_text();
    EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos) << err;
    EXPECT_EQ(first.http("GET", "/healthz").status, 200) << "the first instance was disturbed";
}

TEST(Consultd, DemoDataTwiceOnSameStateDirIsIdempotent) {
    TempDir dir;
    const fs::path state = dir / "state";
    const std::string day_before = local_date();
    std::vector<std::string> logs;
    std::vector<long> counts;
    for (int run = 0; run < 2; ++run) {
        ConsultdProcess p({.args = {"--demo"}, .state_dir = state});
        START_AND_WAIT_READY(p);
        auto stop = p.terminate();
        ASSERT_TRUE(stop.exited && stop.code == 0) << stop.describe();
        logs.push_back(p.stderr_text());
        counts.push_back(count_rows(state / "consult.db", "appointments"));
    }
    if (local_date() != day_before) GTEST_SKIP() << "the runs straddled midnight; the demo days moved";
    EXPECT_NE(logs[0].find("demo data ready ("), std::string::npos) << logs[0];
    EXPECT_EQ(logs[0].find("(0 new rows)"), std::string::npos) << logs[0];
    EXPECT_NE(logs[1].find("demo data ready (0 new rows)"), std::string::npos) << logs[1];
    EXPECT_EQ(counts[0], 64);
    EXPECT_EQ(counts[1], counts[0]);
}

TEST(Consultd, KeyFileIsCreated0600AndReusedOnRestart) {
    TempDir dir;
    const fs::path state = dir / "state";
    const fs::path key_file = state / "credentials" / "token-signing-key";
    std::string key_before, token;
    write_file(dir / "ctl.conf", "");
    {
        ConsultdProcess p({.state_dir = state});
        ASSERT_TRUE(p.start()) << p.start_error();
        ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
        struct stat st{};
        ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << key_file;
        EXPECT_EQ(st.st_mode & 07777, 0600u);
        ASSERT_EQ(::stat(state.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0700u);
        key_before = read_file(key_file);
        EXPECT_TRUE(std::regex_match(trim_newlines(key_before), std::regex("[0-9a-f]{64}"))) << key_before;

        auto ctl = run_command({consultctl_bin(), "--config", (dir / "ctl.conf").string(), "--state-dir",
                                state.string(), "token", "--role", "doctor", "--identity", "dr-key"},
                               30s);
        ASSERT_EQ(ctl.code(), 0) << ctl.err;
        token = trim_newlines(ctl.out);
        EXPECT_EQ(p.terminate().code, 0);
    }
    ASSERT_FALSE(token.empty());
    {
        ConsultdProcess p({.state_dir = state});
        ASSERT_TRUE(p.start()) << p.start_error();
        ASSERT_TRUE(p.wait_for_healthz(kReadyTimeoutS)) << p.stderr_text();
        EXPECT_EQ(read_file(key_file), key_before) << "the key changed on restart";
        struct stat st{};
        ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0600u);
    }
    tokens::TokenService service(trim_newlines(read_file(key_file)));
    auto claims = service.check(token, tokens::unix_now());
    ASSERT_TRUE(claims.has_value()) << "a token from before the restart no longer verifies: "
                                    << tokens::describe(claims.error());
    EXPECT_EQ(claims->identity, "dr-key");
}

TEST(Consultd, KeyFileReadableByOthersIsRefusedWithExit78) {
    TempDir dir;
    const fs::path state = dir / "state";
    fs::create_directories(state / "credentials");
    const fs::path key_file = state / "credentials" / "token-signing-key";
    write_file(key_file, std::string(64, 'a') + "\n");
    ASSERT_EQ(::chmod(key_file.c_str(), 0644), 0);

    ConsultdProcess p({.state_dir = state});
    ASSERT_TRUE(p.start()) << p.start_error();
    auto st = p.wait_exit(kExitTimeout);
    ASSERT_TRUE(st.exited) << st.describe();
    EXPECT_EQ(st.code, 78);
    const std::string err = p.stderr_text();
    EXPECT_NE(err.find("readable by others"), std::string::npos) << err;
    EXPECT_NE(err.find(key_file.string()), std::string::npos) << err;
    EXPECT_EQ(http_request(p.port(), "GET", "/healthz", "", {}, 500).status, 0);
}

}  // namespace
}  // namespace consult::test
