// consult-compose: the composition after a call, as a subprocess of consultd.
//
//   consult-compose [--layout side-by-side|pip] [--encoder FACTORY] [--container auto|mp4|webm]
//                   OUTPUT PART...
//   consult-compose --tracks PART
//
// --tracks prints what a part holds, one line each: "track <title> <end_ms>", "note
// <text>", then "done", or "error <message>" (exit 1).
//
// stdout, one line each: "progress 0.42", "note <text>" (a part or track left out),
// then "done <duration_ms> <size_bytes> <container> <video>+<audio>" and exit 0, or
// "error <message>" and exit 1 (2: bad usage). It lowers its own CPU and I/O priority
// first. SIGSTOP/SIGCONT pause and resume it (nothing in it counts wall time);
// SIGTERM/SIGINT stop it within half a second, leaving no output file.
#include "pipelines/compose.hpp"

#include <gst/gst.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);   // set from a signal handler

// Composing never competes with a call or the kiosk: nice 19 and the idle I/O class
// (threads started later inherit both).
void lower_priority() {
    if (::setpriority(PRIO_PROCESS, 0, 19) != 0) std::fprintf(stderr, "consult-compose: setpriority: %s\n", std::strerror(errno));
#ifdef SYS_ioprio_set
    constexpr int kWhoProcess = 1, kClassIdle = 3, kClassShift = 13;
    if (::syscall(SYS_ioprio_set, kWhoProcess, 0, kClassIdle << kClassShift) != 0)
        std::fprintf(stderr, "consult-compose: ioprio_set: %s\n", std::strerror(errno));
#endif
}

int usage(const char* why) {
    std::printf("error %s\n", why);
    std::fprintf(stderr,
                 "usage: consult-compose [--layout side-by-side|pip] [--encoder FACTORY] "
                 "[--container auto|mp4|webm] OUTPUT PART...\n"
                 "       consult-compose --tracks PART\n");
    return 2;
}

// Keeps one line to one line, whatever a message holds.
std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    lower_priority();

    if (argc == 3 && std::string_view(argv[1]) == "--tracks") {
        gst_init(nullptr, nullptr);
        auto part = consult::media::describe_part(argv[2]);
        if (!part) {
            std::printf("error %s\n", one_line(part.error()).c_str());
            return 1;
        }
        for (const auto& t : part->tracks) std::printf("track %s %lld\n", t.title.c_str(), static_cast<long long>(t.end.count()));
        for (const auto& note : part->notes) std::printf("note %s\n", one_line(note).c_str());
        std::printf("done\n");
        return 0;
    }

    consult::media::ComposeJob job;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--layout" && has_value) {
            auto layout = consult::media::parse_layout(argv[++i]);
            if (!layout) return usage("unknown layout (side-by-side or pip)");
            job.layout = *layout;
        } else if (arg == "--encoder" && has_value) {
            job.encoder = argv[++i];
        } else if (arg == "--container" && has_value) {
            auto container = consult::media::parse_container(argv[++i]);
            if (!container) return usage("unknown container (auto, mp4 or webm)");
            job.container = *container;
        } else if (arg == "--stall-seconds" && has_value) {   // for tests of the watchdog
            job.stall_timeout = std::chrono::seconds(std::atoi(argv[++i]));
        } else if (arg == "--") {
            ++i;
            break;
        } else if (arg.substr(0, 2) == "--") {
            return usage("unknown option");
        } else {
            break;
        }
    }
    if (argc - i < 2) return usage("need an output and at least one part");
    job.output = argv[i++];
    for (; i < argc; ++i) job.parts.emplace_back(argv[i]);

    struct sigaction sa {};
    sa.sa_handler = [](int) { stop_requested.store(true); };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    job.cancel = &stop_requested;

    gst_init(nullptr, nullptr);
    int last_shown = -1;
    auto result = consult::media::compose(job, [&](double p) {
        const int hundredths = int(p * 100.0);
        if (hundredths == last_shown) return;
        last_shown = hundredths;
        std::printf("progress %.2f\n", double(hundredths) / 100.0);
    });
    if (!result) {
        std::printf("error %s\n", one_line(result.error()).c_str());
        return 1;
    }
    for (const auto& note : result->notes) std::printf("note %s\n", one_line(note).c_str());
    std::printf("done %lld %llu %s %s+%s\n", static_cast<long long>(result->duration.count()),
                static_cast<unsigned long long>(result->size_bytes), result->container.c_str(),
                result->video_codec.c_str(), result->audio_codec.c_str());
    return 0;
}
