// A stand-in for an outside service (tests/standins/*.py) as a child process: started
// on a free loopback port (it prints "PORT <n>" first), killed with its process group
// when the object goes away. Every wait has a hard limit.
#pragma once

#include "consultd_process.hpp"

#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace consult::test {

class PythonStandin {
public:
    // `script` is relative to tests/standins/.
    PythonStandin(const std::string& script, const std::vector<std::string>& args) {
        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe");
        const std::string path = source_dir() + "/tests/standins/" + script;
        std::vector<std::string> argv{"/usr/bin/python3", path};
        argv.insert(argv.end(), args.begin(), args.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::dup2(out[1], 1);
            ::close(out[0]);
            std::vector<char*> c;
            for (auto& a : argv) c.push_back(a.data());
            c.push_back(nullptr);
            ::execv(c[0], c.data());
            ::_exit(127);
        }
        ::close(out[1]);
        std::string line;
        const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        char ch;
        while (std::chrono::steady_clock::now() < limit) {
            pollfd p{out[0], POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            if (::read(out[0], &ch, 1) != 1 || ch == '\n') break;
            line += ch;
        }
        ::close(out[0]);
        if (line.rfind("PORT ", 0) != 0) {
            stop();
            throw std::runtime_error(script + " did not start: '" + line + "'");
        }
        port_ = std::stoi(line.substr(5));
    }
    ~PythonStandin() { stop(); }
    PythonStandin(const PythonStandin&) = delete;
    PythonStandin& operator=(const PythonStandin&) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // POST /_control/<what> with a JSON body; the JSON answer (throws unless 200).
    nlohmann::json control(const std::string& what, const nlohmann::json& body = nlohmann::json::object()) const {
        auto r = http_request(port_, "POST", "/_control/" + what, body.dump(), {}, 20000);
        if (r.status != 200) throw std::runtime_error("control " + what + ": " + std::to_string(r.status) + " " + r.body);
        return nlohmann::json::parse(r.body);
    }
    nlohmann::json get(const std::string& path) const {
        auto r = http_request(port_, "GET", path, "", {}, 10000);
        if (r.status != 200) throw std::runtime_error(path + ": " + std::to_string(r.status));
        return nlohmann::json::parse(r.body);
    }

private:
    void stop() {
        if (pid_ <= 0) return;
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace consult::test
