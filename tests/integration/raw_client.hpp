// Plain TCP clients for the hostile-client tests: what a browser would never send
// (half a header, a body far over the limit, WebSocket frames by hand), from any
// loopback source address (127.0.0.0/8), with a hard timeout on every wait.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace consult::test {

class RawConn {
public:
    RawConn(int port, const std::string& source = "127.0.0.1") {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return;
        sockaddr_in from{};
        from.sin_family = AF_INET;
        inet_pton(AF_INET, source.c_str(), &from.sin_addr);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(std::uint16_t(port));
        inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~RawConn() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawConn(RawConn&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    RawConn(const RawConn&) = delete;

    bool ok() const { return fd_ >= 0; }
    bool send(const std::string& bytes) {
        std::size_t at = 0;
        while (at < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
            if (n <= 0) return false;
            at += std::size_t(n);
        }
        return true;
    }
    // What arrives within `timeout` (stops early at `until` or when the peer closes).
    std::string receive(std::chrono::milliseconds timeout, const std::string& until = "") {
        std::string out;
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            const int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
            if (::poll(&p, 1, std::max(left, 1)) <= 0) break;
            char buf[8192];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closed_ = true;
                break;
            }
            out.append(buf, std::size_t(n));
            if (!until.empty() && out.find(until) != std::string::npos) break;
        }
        return out;
    }
    // True when the server closed the connection within `timeout`.
    bool closed_within(std::chrono::milliseconds timeout) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (!closed_ && std::chrono::steady_clock::now() < end) receive(std::chrono::milliseconds(200));
        return closed_;
    }

private:
    int fd_ = -1;
    bool closed_ = false;
};

// GET /healthz from `source`; the status (0 on failure) and how long it took.
inline std::pair<int, double> timed_healthz(int port, const std::string& source, std::chrono::milliseconds timeout) {
    const auto t0 = std::chrono::steady_clock::now();
    RawConn c(port, source);
    int status = 0;
    if (c.ok() && c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) {
        const std::string r = c.receive(timeout, "\r\n\r\n");
        if (r.rfind("HTTP/1.1 ", 0) == 0) status = std::atoi(r.c_str() + 9);
    }
    return {status, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()};
}

inline long rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

// This test process may open this many files.
inline void raise_own_file_limit(rlim_t want) {
    rlimit l{};
    getrlimit(RLIMIT_NOFILE, &l);
    l.rlim_cur = std::min<rlim_t>(std::max(l.rlim_cur, want), l.rlim_max);
    setrlimit(RLIMIT_NOFILE, &l);
}

// A client WebSocket frame (masked), `n` bytes of payload.
inline std::string ws_frame(std::uint8_t opcode, bool fin, std::size_t n) {
    std::string f(1, char((fin ? 0x80 : 0) | opcode));
    if (n < 126) {
        f += char(0x80 | n);
    } else if (n <= 0xffff) {
        f += char(0x80 | 126);
        f += char(n >> 8);
        f += char(n & 0xff);
    } else {
        f += char(0x80 | 127);
        for (int s = 56; s >= 0; s -= 8) f += char((std::uint64_t(n) >> s) & 0xff);
    }
    f += std::string(4, '\0');   // a zero mask: the payload goes as it is
    f += std::string(n, 'x');
    return f;
}

inline const char* kWsHandshake =
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

}  // namespace consult::test
