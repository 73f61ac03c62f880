// Test support for the integration tests: runs the real consultd (and consultctl) as
// child processes in a temporary directory of their own. Every wait here has a hard
// limit, and whatever a test leaves running is killed when its object goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace consult::test {

namespace fs = std::filesystem;

// The binaries under test and the source tree. Only consultd_process.cpp is compiled
// with their paths, so every other test file compiles the same in any clone (ccache).
const std::string& consultd_bin();
const std::string& consultctl_bin();
const std::string& source_dir();

// The value of one Prometheus sample line "name{labels} value" in a /metrics text, or -1
// when it is absent.
double metric_value(const std::string& metrics, const std::string& series);

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "consult-it");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago (bind to port 0, read, close).
int free_port();

void write_file(const fs::path& path, const std::string& content);
std::string read_file(const fs::path& path);

// How a child process ended.
struct ExitStatus {
    bool exited = false;      // exited by itself (code is valid)
    int code = -1;
    int signal = 0;           // killed by this signal
    bool timed_out = false;   // did not end within the limit (then killed with SIGKILL)
    long elapsed_ms = 0;      // from the signal (or the start of the wait) until it was reaped
    std::string describe() const;
};

struct HttpResponse {
    long status = 0;                              // 0 when the request failed
    std::map<std::string, std::string> headers;   // lower-case names
    std::string body;
    std::string error;                            // curl's reason when status == 0
    std::optional<std::string> header(const std::string& lower_name) const;
};

// One HTTP request to 127.0.0.1:port with libcurl (no proxies, short timeout).
HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body = "", const std::vector<std::string>& headers = {},
                          long timeout_ms = 3000);

// Runs a program to completion (stdout and stderr captured), killed after `timeout`.
struct CommandResult {
    ExitStatus status;
    std::string out;
    std::string err;
    int code() const { return status.exited ? status.code : -1; }
};
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const EnvVars& env = {});

struct ConsultdOptions {
    std::string binary;                             // default: consultd_bin()
    std::vector<std::string> args;                  // extra arguments after --state-dir/--http-port
    EnvVars env;                                    // extra environment (e.g. WATCHDOG_USEC)
    std::optional<fs::path> state_dir;              // default: <temp>/state
    std::optional<int> port;                        // default: a free port
    bool pass_http_port = true;                     // add --http-port PORT
    bool notify_socket = true;                      // set NOTIFY_SOCKET to a socket of ours
    std::vector<std::string> wrapper;               // run through this first (e.g. prlimit --nofile=…)
};

class ConsultdProcess {
public:
    explicit ConsultdProcess(ConsultdOptions options = {});
    ~ConsultdProcess();
    ConsultdProcess(const ConsultdProcess&) = delete;
    ConsultdProcess& operator=(const ConsultdProcess&) = delete;

    // Forks and execs consultd. False (with a reason in start_error()) if it could not.
    bool start();
    const std::string& start_error() const { return start_error_; }
    // SIGTERM, then start again on the same state directory and port.
    bool restart();
    // The environment of the next start (e.g. another version's test hooks).
    void set_env(EnvVars env) { options_.env = std::move(env); }

    pid_t pid() const { return pid_; }
    int port() const { return port_; }
    const fs::path& temp_dir() const { return temp_.path(); }
    const fs::path& state_dir() const { return state_dir_; }
    fs::path stderr_path() const { return temp_ / "consultd.stderr"; }
    std::string stderr_text() const;
    std::chrono::steady_clock::time_point started_at() const { return started_at_; }

    // Datagrams received on NOTIFY_SOCKET so far (each the full text of one sd_notify call).
    const std::vector<std::string>& notifications();
    // Waits until a datagram at index >= `from` has `line` as one of its lines; returns its index.
    // Gives up after `timeout_s` seconds, or early if the child has exited.
    std::optional<size_t> wait_for_notify(const std::string& line, double timeout_s, size_t from = 0);

    HttpResponse http(const std::string& method, const std::string& path, const std::string& body = "",
                      const std::vector<std::string>& headers = {}, long timeout_ms = 3000) const;
    // Polls GET /healthz until it answers 200; the elapsed time from start, or nothing.
    std::optional<std::chrono::milliseconds> wait_for_healthz(double timeout_s);

    bool running();
    // For a child that should stop on its own (bad config...): waits at most `timeout`.
    ExitStatus wait_exit(std::chrono::milliseconds timeout);
    // Sends `sig` (SIGTERM by default) and waits at most `timeout` for the exit.
    ExitStatus terminate(int sig = 15, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // SIGKILL to the child's process group, then reap.
    void kill_now();

private:
    void drain_notify_socket(int wait_ms);

    ConsultdOptions options_;
    TempDir temp_;
    fs::path state_dir_;
    int port_ = 0;
    int notify_fd_ = -1;
    pid_t pid_ = -1;
    std::optional<ExitStatus> exit_;
    std::string start_error_;
    std::vector<std::string> notifications_;
    std::chrono::steady_clock::time_point started_at_;
};

}  // namespace consult::test
