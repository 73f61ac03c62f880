// The PostgREST stand-in (tests/standins/postgrest_standin.py) as a child process for
// integration tests: started on a free loopback port, controlled over /_control, killed
// when the object goes away. Every wait has a hard limit.
#pragma once

#include "consultd_process.hpp"

#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace consult::test {

class PostgrestStandin {
public:
    static constexpr const char* kApiKey = "test-project-anon-key";

    PostgrestStandin() {
        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::dup2(out[1], 1);
            ::close(out[0]);
            const std::string script = std::string(CONSULT_SOURCE_DIR) + "/tests/standins/postgrest_standin.py";
            ::execl("/usr/bin/python3", "python3", script.c_str(), "--api-key", kApiKey, "--jwt-secret",
                    "stand-in-jwt-secret-for-tests", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        // First line: "PORT <n>", within 10 s.
        std::string line;
        const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        char c;
        while (std::chrono::steady_clock::now() < limit) {
            pollfd p{out[0], POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            if (::read(out[0], &c, 1) != 1) break;
            if (c == '\n') break;
            line += c;
        }
        ::close(out[0]);
        if (line.rfind("PORT ", 0) != 0) throw std::runtime_error("the PostgREST stand-in did not start: '" + line + "'");
        port_ = std::stoi(line.substr(5));
    }
    ~PostgrestStandin() {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    PostgrestStandin(const PostgrestStandin&) = delete;
    PostgrestStandin& operator=(const PostgrestStandin&) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    nlohmann::json control(const std::string& what, const nlohmann::json& body = nlohmann::json::object()) const {
        auto r = http_request(port_, "POST", "/_control/" + what, body.dump(), {}, 10000);
        if (r.status != 200) throw std::runtime_error("stand-in control " + what + ": " + std::to_string(r.status) + " " + r.body);
        return nlohmann::json::parse(r.body);
    }
    nlohmann::json get(const std::string& path) const {
        auto r = http_request(port_, "GET", path, "", {}, 10000);
        if (r.status != 200) throw std::runtime_error("stand-in " + path + ": " + std::to_string(r.status));
        return nlohmann::json::parse(r.body);
    }
    nlohmann::json stats() const { return get("/_control/stats"); }
    nlohmann::json rows(const std::string& table) const { return get("/_control/rows?table=" + table); }
    void fault(const std::string& mode, int count = -1, nlohmann::json extra = nlohmann::json::object()) const {
        extra["mode"] = mode;
        extra["count"] = count;
        control("fault", extra);
    }
    std::string token(const std::string& clinic_id) const {
        return control("token", {{"clinic_id", clinic_id}})["token"].get<std::string>();
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace consult::test
