// Cloud sync benchmark against the PostgREST stand-in on 127.0.0.1: the initial pull of
// N appointments (seconds, peak RSS, the main loop's worst stall meanwhile) and the
// outbox drain rate (rows/s). Prints; never fails on numbers.
//
//   consult_cloud_bench [APPOINTMENTS=10000] [SESSIONS=2500]
#include "../integration/postgrest_standin.hpp"

#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/domain/session_lifecycle.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/session_store.hpp"

#include <curl/curl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

namespace {

using namespace consult;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kClinic = "c1a1c000-0000-4000-8000-000000000001";
constexpr const char* kDoctor = "d0c70000-0000-4000-8000-000000000001";

std::string uuid(const char* prefix, int i) {
    char b[40];
    std::snprintf(b, sizeof b, "%s-0000-4000-8000-%012x", prefix, i);
    return b;
}

long peak_rss_kb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

// Seeds the stand-in in chunks (its control endpoint takes JSON bodies).
void seed(const test::PostgrestStandin& cloud, int appointments) {
    json patients = json::array();
    for (int i = 0; i < 100; ++i)
        patients.push_back({{"id", uuid("b0000000", i)}, {"clinic_id", kClinic}, {"full_name", "Patient"},
                            {"phone", "+1555010" + std::to_string(1000 + i)}});
    cloud.control("seed", {{"clinics", {{{"id", kClinic}, {"name", "North"}, {"timezone", "UTC"}}}},
                           {"profiles", {{{"id", kDoctor}, {"clinic_id", kClinic}, {"full_name", "Dr"}, {"role", "doctor"}, {"is_active", true}}}},
                           {"patients", patients}});
    const std::time_t base = std::time(nullptr) / 1800 * 1800 + 2 * 86400;
    for (int from = 0; from < appointments; from += 2000) {
        json rows = json::array();
        for (int i = from; i < std::min(appointments, from + 2000); ++i) {
            char starts[32];
            std::time_t t = base + std::time_t(i) * 1800;
            std::strftime(starts, sizeof starts, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&t));
            rows.push_back({{"id", uuid("a0000000", i)}, {"clinic_id", kClinic}, {"doctor_id", kDoctor},
                            {"patient_id", uuid("b0000000", i % 100)}, {"starts_at", starts}, {"duration_minutes", 30},
                            {"consultation_type", "video"}, {"status", "scheduled"}});
        }
        cloud.control("seed", {{"appointments", rows}});
    }
}

// Runs the context until the sync's run ends; the worst gap between 5 ms ticks meanwhile.
struct RunResult {
    double seconds = 0;
    double worst_stall_ms = 0;     // the longest a 5 ms tick came late (our work plus being descheduled)
    double longest_step_ms = 0;    // the longest single sync step on the loop (our work alone)
};
RunResult run_once(cloud::CloudSync& sync, int limit_s) {
    bool done = false;
    sync.on_run_end([&] { done = true; });
    gint64 last = g_get_monotonic_time(), worst = 0;
    guint tick = g_timeout_add(5, [](gpointer p) -> gboolean {
        auto* w = static_cast<std::pair<gint64*, gint64*>*>(p);
        gint64 now = g_get_monotonic_time();
        *w->second = std::max(*w->second, now - *w->first - 5000);
        *w->first = now;
        return G_SOURCE_CONTINUE;
    }, new std::pair<gint64*, gint64*>(&last, &worst));
    const auto t0 = Clock::now();
    sync.sync_now();
    const gint64 until = g_get_monotonic_time() + gint64(limit_s) * G_USEC_PER_SEC;
    while (!done && g_get_monotonic_time() < until) g_main_context_iteration(nullptr, TRUE);
    RunResult r{std::chrono::duration<double>(Clock::now() - t0).count(), double(worst) / 1000.0,
                sync.status().value("longest_step_ms", 0.0)};
    g_source_remove(tick);
    sync.on_run_end(nullptr);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const int appointments = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int sessions = argc > 2 ? std::atoi(argv[2]) : 2500;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test::TempDir dir("consult-cloud-bench");
    test::PostgrestStandin cloud;
    seed(cloud, appointments);

    const auto state = dir.path() / "state";
    std::filesystem::create_directories(state / "credentials");
    ::chmod(state.c_str(), 0700);
    ::chmod((state / "credentials").c_str(), 0700);
    test::write_file(state / "credentials" / "cloud-api-key", test::PostgrestStandin::kApiKey);
    test::write_file(state / "credentials" / "cloud-device-token", cloud.token(kClinic));
    for (const char* f : {"cloud-api-key", "cloud-device-token"}) ::chmod((state / "credentials" / f).c_str(), 0600);

    auto db = store::Database::open(state / "consult.db");
    store::migrate(db);
    const long rss_before = rss_kb();
    cloud::CloudSync sync(db, state, {cloud.url(), kClinic, 3600});

    auto pull = run_once(sync, 600);
    auto count = db.prepare("SELECT count(*) FROM appointments");
    count.step();
    const long long pulled = count.integer(0);
    count.reset();   // a statement left open pins this connection's snapshot
    std::printf("initial pull: %lld appointments in %.2f s (%.0f rows/s); RSS %ld kB before, peak %ld kB; "
                "main loop: worst tick delay %.1f ms, longest sync step %.1f ms\n",
                pulled, pull.seconds, double(pulled) / pull.seconds,
                rss_before, peak_rss_kb(), pull.worst_stall_ms, pull.longest_step_ms);

    // The outbox: each session made and cancelled, two rows each.
    store::SessionStore store(db);
    for (int i = 0; i < sessions && i < appointments; ++i) {
        auto s = store.create(uuid("a0000000", i), 30, kDoctor);
        store.transition(s.id, domain::SessionStatus::Cancelled, kDoctor, std::string("bench"));
    }
    auto depth = db.prepare("SELECT count(*) FROM outbox");
    depth.step();
    const long long rows = depth.integer(0);
    depth.reset();
    auto drain = run_once(sync, 600);
    auto left = db.prepare("SELECT count(*) FROM outbox");
    left.step();
    auto stats = cloud.stats();
    std::printf("outbox drain: %lld rows (%d sessions) in %.2f s = %.0f rows/s; %lld left; %d upsert requests; "
                "main loop: worst tick delay %.1f ms, longest sync step so far %.1f ms\n",
                rows, sessions, drain.seconds, double(rows) / drain.seconds, static_cast<long long>(left.integer(0)),
                stats["requests"].value("POST", 0), drain.worst_stall_ms, drain.longest_step_ms);
    curl_global_cleanup();
    return 0;
}
