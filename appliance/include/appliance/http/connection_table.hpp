// The HTTP server's connections and what each is doing, with the rules that keep a
// flood of them from taking the box down: a cap on all connections (below the
// process's file limit), a share per client address, and deadlines for each phase
// of a request. Plain C++ with the time passed in; server.cpp applies its answers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace consult::http {

class ConnectionTable {
public:
    using Clock = std::chrono::steady_clock;
    using Id = std::uint64_t;

    struct Limits {
        std::size_t max_total = 1024;
        std::size_t max_per_address = 64;
        std::chrono::milliseconds first_request{10'000};   // accepted, not a byte yet
        std::chrono::milliseconds idle{30'000};            // between requests (keep-alive)
        std::chrono::milliseconds headers{10'000};         // from the first byte to the end of the headers
        std::chrono::milliseconds body{30'000};            // from the headers to the end of the body
    };

    enum class Phase {
        Waiting,    // accepted; no request yet
        Idle,       // answered; keep-alive, waiting for the next request
        Headers,    // a request's headers are arriving
        Body,       // its body is arriving
        Handling,   // read; the appliance is answering (no deadline)
        Upgraded,   // a WebSocket now: the signalling hub keeps its own time
    };

    enum class Verdict { Admitted, AddressFull, ServerFull };
    struct Admission {
        Verdict verdict;
        std::optional<Id> evict;   // admitted by closing this idle connection first
    };

    explicit ConnectionTable(Limits limits) : limits_(limits) {}
    const Limits& limits() const { return limits_; }

    // A new connection from `address`. When the server is full, the connection that
    // has waited longest without a request is given up for it, if there is one.
    Admission admit(Id id, const std::string& address, Clock::time_point now);
    void set_phase(Id id, Phase phase, Clock::time_point now);
    void closed(Id id);

    // Connections past their phase's deadline, to be closed.
    std::vector<Id> overdue(Clock::time_point now) const;

    std::size_t open() const { return open_.size(); }
    std::size_t open_from(const std::string& address) const;
    std::size_t in_phase(Phase phase) const;
    std::optional<Phase> phase_of(Id id) const;

private:
    struct Entry {
        std::string address;
        Phase phase;
        Clock::time_point since;
    };
    std::optional<std::chrono::milliseconds> deadline(Phase p) const;
    std::optional<Id> longest_waiting() const;

    Limits limits_;
    std::map<Id, Entry> open_;
    std::map<std::string, std::size_t> per_address_;
};

const char* phase_name(ConnectionTable::Phase p);

}  // namespace consult::http
