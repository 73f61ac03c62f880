#include "consultd_process.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace consult::test {

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t0) {
    return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// What a child must not inherit from whatever runs the tests (a systemd unit, a CI job...).
bool inherited_var_dropped(const std::string& name) {
    static const char* const dropped[] = {
        "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
        "STATE_DIRECTORY", "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM", "http_proxy", "HTTP_PROXY",
        "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    return std::any_of(std::begin(dropped), std::end(dropped), [&](const char* d) { return name == d; });
}

std::vector<std::string> child_environment(const EnvVars& extra) {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        std::string name = entry.substr(0, entry.find('='));
        if (inherited_var_dropped(name)) continue;
        if (std::any_of(extra.begin(), extra.end(), [&](const auto& kv) { return kv.first == name; })) continue;
        out.push_back(std::move(entry));
    }
    for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
    return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// fork + exec with stdin from /dev/null and stdout/stderr appended to files; the child leads
// a process group of its own so that helpers it starts can be killed with it.
pid_t spawn(const std::vector<std::string>& argv_in, const EnvVars& env, const fs::path& out_path,
            const fs::path& err_path, std::string& error) {
    if (argv_in.empty()) { error = "no program"; return -1; }
    std::vector<std::string> argv_strings = argv_in;
    std::vector<std::string> env_strings = child_environment(env);
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<char*> envp = c_strings(env_strings);
    std::string out_s = out_path.string(), err_s = err_path.string();
    const char* out_c = out_s.c_str();
    const char* err_c = err_s.c_str();

    pid_t pid = ::fork();
    if (pid < 0) { error = std::string("fork: ") + std::strerror(errno); return -1; }
    if (pid == 0) {
        // Only async-signal-safe calls from here on.
        ::setpgid(0, 0);
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(out_c, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int err = ::open(err_c, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || err < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::close_range(3, ~0U, 0);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also from here, so that it holds before kill(-pid) whoever runs first
    return pid;
}

ExitStatus from_wait_status(int status, long elapsed_ms) {
    ExitStatus s;
    s.elapsed_ms = elapsed_ms;
    if (WIFEXITED(status)) { s.exited = true; s.code = WEXITSTATUS(status); }
    else if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
    return s;
}

// Reaps `pid` if it ends before `deadline`.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return std::nullopt;
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// SIGKILL to the group (and the leader), then reap within a bounded time.
std::optional<int> kill_and_reap(pid_t pid) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    return wait_until(pid, Clock::now() + std::chrono::seconds(5));
}

void curl_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* p, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* out) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(out);
    std::string line(p, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
        headers->clear();  // a new response (after 100 Continue)
    } else if (auto colon = line.find(':'); colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        (*headers)[name] = value;
    }
    return size * n;
}

}  // namespace

// ---- TempDir ----

TempDir::TempDir(const std::string& prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    // A notify socket path must fit in sockaddr_un: fall back to /tmp for a deep TMPDIR.
    if (tmpl.size() > 60) tmpl = "/tmp/" + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    path_ = buf.data();
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

// ---- helpers ----

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(std::string("bind to a free port: ") + std::strerror(e));
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string ExitStatus::describe() const {
    if (timed_out) return "still running after " + std::to_string(elapsed_ms) + " ms (killed)";
    if (exited) return "exit " + std::to_string(code) + " after " + std::to_string(elapsed_ms) + " ms";
    if (signal) return std::string("killed by signal ") + strsignal(signal);
    return "unknown";
}

std::optional<std::string> HttpResponse::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
}

HttpResponse http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                          const std::vector<std::string>& headers, long timeout_ms) {
    curl_init_once();
    HttpResponse r;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) { r.error = "curl_easy_init failed"; return r; }
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 2000L));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method != "GET" || !body.empty()) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(list, curl_slist_free_all);
    if (list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (CURLcode rc = curl_easy_perform(c); rc != CURLE_OK) {
        r.error = curl_easy_strerror(rc);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        r.status = code;  // a response may have arrived before the connection broke
        return r;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const EnvVars& env) {
    TempDir dir("consult-cmd");
    CommandResult result;
    std::string error;
    const auto t0 = Clock::now();
    pid_t pid = spawn(argv, env, dir / "stdout", dir / "stderr", error);
    if (pid < 0) {
        result.err = error;
        return result;
    }
    if (auto status = wait_until(pid, t0 + timeout)) {
        result.status = from_wait_status(*status, ms_since(t0));
    } else {
        kill_and_reap(pid);
        result.status.timed_out = true;
        result.status.elapsed_ms = ms_since(t0);
    }
    result.out = read_file(dir / "stdout");
    result.err = read_file(dir / "stderr");
    return result;
}

// ---- ConsultdProcess ----

ConsultdProcess::ConsultdProcess(ConsultdOptions options)
    : options_(std::move(options)), temp_("consultd-it") {
    state_dir_ = options_.state_dir.value_or(temp_ / "state");
    port_ = options_.port.value_or(0);
    if (port_ == 0) port_ = free_port();
    if (options_.binary.empty()) options_.binary = consultd_bin();
}

ConsultdProcess::~ConsultdProcess() {
    if (pid_ > 0 && !exit_) kill_and_reap(pid_);
    if (notify_fd_ >= 0) ::close(notify_fd_);
}

bool ConsultdProcess::start() {
    if (pid_ > 0) { start_error_ = "already started"; return false; }
    EnvVars env = options_.env;
    if (options_.notify_socket) {
        const fs::path sock = temp_ / "notify.sock";
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (sock.string().size() >= sizeof addr.sun_path) { start_error_ = "socket path too long"; return false; }
        std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
        notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (notify_fd_ < 0 || ::bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            start_error_ = std::string("notify socket: ") + std::strerror(errno);
            return false;
        }
        env.emplace_back("NOTIFY_SOCKET", sock.string());
    }
    std::vector<std::string> argv = options_.wrapper;
    argv.insert(argv.end(), {options_.binary, "--state-dir", state_dir_.string()});
    if (options_.pass_http_port) {
        argv.push_back("--http-port");
        argv.push_back(std::to_string(port_));
    }
    argv.insert(argv.end(), options_.args.begin(), options_.args.end());
    started_at_ = Clock::now();
    pid_ = spawn(argv, env, temp_ / "consultd.stdout", stderr_path(), start_error_);
    return pid_ > 0;
}

bool ConsultdProcess::restart() {
    terminate();
    pid_ = -1;
    exit_.reset();
    if (notify_fd_ >= 0) {
        ::close(notify_fd_);
        notify_fd_ = -1;
        ::unlink((temp_ / "notify.sock").c_str());
    }
    notifications_.clear();
    return start();
}

std::string ConsultdProcess::stderr_text() const { return read_file(stderr_path()); }

void ConsultdProcess::drain_notify_socket(int wait_ms) {
    if (notify_fd_ < 0) {
        if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
        return;
    }
    pollfd p{notify_fd_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(notify_fd_, buf, sizeof buf, 0);
        if (n < 0) break;  // EAGAIN: nothing more for now
        notifications_.emplace_back(buf, size_t(n));
    }
}

const std::vector<std::string>& ConsultdProcess::notifications() {
    drain_notify_socket(0);
    return notifications_;
}

std::optional<size_t> ConsultdProcess::wait_for_notify(const std::string& line, double timeout_s, size_t from) {
    const auto limit = Clock::now() + std::chrono::milliseconds(long(timeout_s * 1000));
    auto has_line = [&](const std::string& datagram) {
        std::istringstream in(datagram);
        for (std::string l; std::getline(in, l);)
            if (l == line) return true;
        return false;
    };
    size_t checked = from;
    for (;;) {
        for (; checked < notifications_.size(); ++checked)
            if (has_line(notifications_[checked])) return checked;
        const bool alive = running();
        if (!alive || Clock::now() >= limit) {
            drain_notify_socket(0);  // whatever it sent just before exiting
            for (; checked < notifications_.size(); ++checked)
                if (has_line(notifications_[checked])) return checked;
            return std::nullopt;
        }
        drain_notify_socket(50);
    }
}

HttpResponse ConsultdProcess::http(const std::string& method, const std::string& path, const std::string& body,
                                   const std::vector<std::string>& headers, long timeout_ms) const {
    return http_request(port_, method, path, body, headers, timeout_ms);
}

std::optional<std::chrono::milliseconds> ConsultdProcess::wait_for_healthz(double timeout_s) {
    const auto limit = Clock::now() + std::chrono::milliseconds(long(timeout_s * 1000));
    for (;;) {
        auto r = http("GET", "/healthz", "", {}, 1000);
        if (r.status == 200)
            return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at_);
        if (!running() || Clock::now() >= limit) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

bool ConsultdProcess::running() {
    if (pid_ <= 0 || exit_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_ = from_wait_status(status, 0);
        return false;
    }
    return true;
}

ExitStatus ConsultdProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) { ExitStatus s; s.timed_out = false; return s; }
    if (exit_) return *exit_;
    const auto t0 = Clock::now();
    if (auto status = wait_until(pid_, t0 + timeout)) {
        exit_ = from_wait_status(*status, ms_since(t0));
        return *exit_;
    }
    ExitStatus s;
    s.timed_out = true;
    s.elapsed_ms = ms_since(t0);
    return s;  // still running; the caller may terminate() or the destructor kills it
}

ExitStatus ConsultdProcess::terminate(int sig, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return ExitStatus{};
    if (!running()) return *exit_;
    const auto t0 = Clock::now();
    ::kill(pid_, sig);
    if (auto status = wait_until(pid_, t0 + timeout)) {
        exit_ = from_wait_status(*status, ms_since(t0));
        return *exit_;
    }
    ExitStatus s;
    s.timed_out = true;
    s.elapsed_ms = ms_since(t0);
    if (auto status = kill_and_reap(pid_)) {
        exit_ = from_wait_status(*status, ms_since(t0));
        exit_->timed_out = true;
    }
    return s;
}

void ConsultdProcess::kill_now() {
    if (pid_ <= 0 || exit_) return;
    const auto t0 = Clock::now();
    if (auto status = kill_and_reap(pid_)) exit_ = from_wait_status(*status, ms_since(t0));
}

const std::string& consultd_bin() {
    static const std::string path = CONSULTD_BIN;
    return path;
}

const std::string& consultctl_bin() {
    static const std::string path = CONSULTCTL_BIN;
    return path;
}

const std::string& source_dir() {
    static const std::string path = CONSULT_SOURCE_DIR;
    return path;
}

double metric_value(const std::string& metrics, const std::string& series) {
    std::istringstream in(metrics);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

}  // namespace consult::test
