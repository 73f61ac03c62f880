// A tiny HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) for client tests:
// one thread, one connection at a time, answers with whatever the handler returns.
// The handler may ask to hang (hold the connection until the server stops) or drop it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace consult::test {

struct RawRequest {
    std::string head;   // request line and headers
    std::string body;
    std::string method() const { return head.substr(0, head.find(' ')); }
    std::string target() const {
        auto a = head.find(' ') + 1;
        return head.substr(a, head.find(' ', a) - a);
    }
    // Case-insensitive header lookup; "" when absent.
    std::string header(const std::string& name) const {
        std::string lower_head = head, lower_name = name;
        for (auto* s : {&lower_head, &lower_name})
            for (char& c : *s) c = char(std::tolower(static_cast<unsigned char>(c)));
        auto at = lower_head.find("\r\n" + lower_name + ":");
        if (at == std::string::npos) return "";
        auto start = at + 2 + name.size() + 1;
        auto end = head.find("\r\n", start);
        std::string v = head.substr(start, end - start);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        return v;
    }
};

class LoopbackHttp {
public:
    static constexpr const char* kHang = "\x01hang";
    static constexpr const char* kDrop = "\x01drop";

    explicit LoopbackHttp(std::function<std::string(const RawRequest&)> handler) : handler_(std::move(handler)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 16);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~LoopbackHttp() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }

    int port() const { return port_; }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    int requests() const { return requests_.load(); }

    static std::string reply(int status, const std::string& body, const std::string& extra_headers = "") {
        return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
    }

private:
    bool wait_readable(int fd) {
        while (!stop_) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) > 0) return true;
        }
        return false;
    }

    void serve() {
        while (wait_readable(fd_)) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            RawRequest r;
            std::string data;
            char buf[4096];
            size_t want = std::string::npos;
            while (want == std::string::npos || data.size() < want) {
                if (!wait_readable(c)) break;
                ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                data.append(buf, size_t(n));
                if (want == std::string::npos) {
                    auto end = data.find("\r\n\r\n");
                    if (end == std::string::npos) continue;
                    r.head = data.substr(0, end);
                    auto cl = r.header("Content-Length");
                    want = end + 4 + (cl.empty() ? 0 : std::stoul(cl));
                }
            }
            if (want != std::string::npos) r.body = data.substr(r.head.size() + 4);
            ++requests_;
            std::string out = handler_(r);
            if (out == kHang) {
                while (!stop_) ::usleep(10000);
            } else if (out != kDrop) {
                ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
            }
            ::close(c);
        }
    }

    std::function<std::string(const RawRequest&)> handler_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

}  // namespace consult::test
