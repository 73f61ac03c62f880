// consult-compose as consultd runs it: a subprocess at the lowest priority, read line by
// line, paused with SIGSTOP while a call runs and resumed with SIGCONT.
#include "compose_fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#ifndef CONSULT_COMPOSE_BIN
#error "CONSULT_COMPOSE_BIN must name the consult-compose binary"
#endif

namespace consult::test::composing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Child {
public:
    explicit Child(std::vector<std::string> args) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = fds[0];
    }
    ~Child() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) ::close(out_);
    }

    pid_t pid() const { return pid_; }

    // The next line, or nullopt at EOF or when `deadline` passes.
    std::optional<std::string> line(Clock::time_point deadline) {
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string l = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return l;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, int(left)) <= 0) continue;
            char chunk[512];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, std::size_t(n));
        }
    }

    // Reads what is left, then the exit status.
    int finish(std::vector<std::string>& lines, Clock::time_point deadline) {
        while (auto l = line(deadline)) lines.push_back(*l);
        int status = 0;
        while (Clock::now() < deadline) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                reaped_ = true;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(50ms);
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    bool reaped_ = false;
    std::string buffer_;
};

class ComposeCliTest : public ::testing::Test {
protected:
    TempDir dir;
    std::string output = (dir / "consult.webm").string();
};

double progress_of(const std::string& line) {
    return line.rfind("progress ", 0) == 0 ? std::stod(line.substr(9)) : -1;
}

TEST_F(ComposeCliTest, PausedWithSigstopItResumesAndFinishes) {
    // Short parts: the nice-19 composer on a loaded two-core machine has taken most of the
    // test's two minutes for two 5 s parts.
    const std::string a = make_part(dir, "part1.mkv", PartSpec{4});
    const std::string b = make_part(dir, "part2.mkv", PartSpec{4});
    const double expected = seconds(media_end(a) + media_end(b));
    // A stall timeout shorter than the pause: a pause must not count as a stall.
    // (15 s: time enough between two outputs for a nice-19 process on a loaded machine;
    // the pause is longer.)
    Child child({CONSULT_COMPOSE_BIN, "--stall-seconds", "15", output, a, b});
    ASSERT_GT(child.pid(), 0);
    // Its I/O class, asked as soon as it has set it: a fast composer may have finished (and
    // lost its I/O context) by the time its first progress line is read.
    constexpr int kWhoProcess = 1, kClassIdle = 3;
    long io_class = -1;
    for (const auto until = Clock::now() + 20s; Clock::now() < until; std::this_thread::sleep_for(1ms)) {
        io_class = ::syscall(SYS_ioprio_get, kWhoProcess, child.pid()) >> 13;
        if (io_class == kClassIdle) break;
    }
    EXPECT_EQ(io_class, kClassIdle);
    const auto deadline = Clock::now() + 100s;   // inside ctest's 120 s, so a failure shows the lines
    std::vector<std::string> lines;
    while (auto l = child.line(deadline)) {
        lines.push_back(*l);
        if (progress_of(*l) > 0) break;
    }
    ASSERT_FALSE(lines.empty());
    ASSERT_GT(progress_of(lines.back()), 0) << lines.back();

    EXPECT_EQ(::getpriority(PRIO_PROCESS, id_t(child.pid())), 19);

    ASSERT_EQ(::kill(child.pid(), SIGSTOP), 0);
    std::this_thread::sleep_for(18s);
    const auto resumed = Clock::now();
    ASSERT_EQ(::kill(child.pid(), SIGCONT), 0);
    const int code = child.finish(lines, deadline);
    ASSERT_EQ(code, 0) << lines.back();
    std::printf("finished %.1f s after SIGCONT\n", std::chrono::duration<double>(Clock::now() - resumed).count());

    double last = 0;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        const double p = progress_of(lines[i]);
        ASSERT_GE(p, last) << lines[i];
        last = p;
    }
    std::istringstream done(lines.back());
    std::string word, container, codec;
    long long ms = 0;
    unsigned long long size = 0;
    done >> word >> ms >> size >> container >> codec;
    EXPECT_EQ(word, "done") << lines.back();
    EXPECT_NEAR(double(ms) / 1000.0, expected, 1.0);
    EXPECT_EQ(size, std::filesystem::file_size(output));
    EXPECT_EQ(container, "webm");
    EXPECT_EQ(codec, "vp8+opus");
    const Decoded dec = decode_to_end(output);
    EXPECT_TRUE(dec.reached_eos) << dec.error;
    EXPECT_NEAR(seconds(dec.last_video_end), expected, 0.5);
}

TEST_F(ComposeCliTest, NothingToComposeIsAnErrorLine) {
    Child child({CONSULT_COMPOSE_BIN, output, (dir / "missing.mkv").string()});
    std::vector<std::string> lines;
    const int code = child.finish(lines, Clock::now() + 30s);
    EXPECT_EQ(code, 1);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "error no part can be composed; part 1 (missing.mkv): no such file");
    EXPECT_FALSE(std::filesystem::exists(output));
}

TEST_F(ComposeCliTest, SigtermStopsItAndLeavesNoFile) {
    // Long enough that no machine composes it within the half second the tool may take to
    // see the signal: 8 s of it were done before the signal on a fast machine.
    const std::string a = make_part(dir, "part1.mkv", PartSpec{60});
    Child child({CONSULT_COMPOSE_BIN, output, a});
    const auto deadline = Clock::now() + 60s;
    while (auto l = child.line(deadline))
        if (progress_of(*l) > 0) break;
    ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);
    std::vector<std::string> lines;
    EXPECT_EQ(child.finish(lines, deadline), 1);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "error cancelled");
    EXPECT_FALSE(std::filesystem::exists(output));
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        EXPECT_EQ(entry.path().extension(), ".mkv") << entry.path();
}

TEST_F(ComposeCliTest, TracksSaysWhatAPartHolds) {
    PartSpec room_only{3};
    room_only.patient_video = room_only.patient_audio = false;
    Child child({CONSULT_COMPOSE_BIN, "--tracks", make_part(dir, "room.mkv", room_only)});
    std::vector<std::string> lines;
    EXPECT_EQ(child.finish(lines, Clock::now() + 30s), 0);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].substr(0, 17), "track room-video ");
    EXPECT_NEAR(std::stod(lines[0].substr(17)), 3000, 200);
    EXPECT_EQ(lines[1].substr(0, 17), "track room-audio ");
    EXPECT_EQ(lines[2], "done");

    Child missing({CONSULT_COMPOSE_BIN, "--tracks", (dir / "missing.mkv").string()});
    lines.clear();
    EXPECT_EQ(missing.finish(lines, Clock::now() + 30s), 1);
    EXPECT_EQ(lines, (std::vector<std::string>{"error no such file"}));
}

TEST_F(ComposeCliTest, BadUsageSaysSo) {
    Child child({CONSULT_COMPOSE_BIN, "--layout", "mosaic", output, "x.mkv"});
    std::vector<std::string> lines;
    EXPECT_EQ(child.finish(lines, Clock::now() + 30s), 2);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "error unknown layout (side-by-side or pip)");
}

}  // namespace
}  // namespace consult::test::composing
