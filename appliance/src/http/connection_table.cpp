#include "appliance/http/connection_table.hpp"

namespace consult::http {

const char* phase_name(ConnectionTable::Phase p) {
    using P = ConnectionTable::Phase;
    switch (p) {
    case P::Waiting: return "waiting";
    case P::Idle: return "idle";
    case P::Headers: return "headers";
    case P::Body: return "body";
    case P::Handling: return "handling";
    case P::Upgraded: return "websocket";
    }
    return "unknown";
}

std::optional<std::chrono::milliseconds> ConnectionTable::deadline(Phase p) const {
    switch (p) {
    case Phase::Waiting: return limits_.first_request;
    case Phase::Idle: return limits_.idle;
    case Phase::Headers: return limits_.headers;
    case Phase::Body: return limits_.body;
    case Phase::Handling:
    case Phase::Upgraded: return std::nullopt;
    }
    return std::nullopt;
}

std::optional<ConnectionTable::Id> ConnectionTable::longest_waiting() const {
    std::optional<Id> best;
    Clock::time_point oldest = Clock::time_point::max();
    for (const auto& [id, e] : open_) {
        // Only connections that have not asked for anything yet are given up; a
        // request in progress and a WebSocket are kept.
        const bool evictable = e.phase == Phase::Waiting || e.phase == Phase::Idle || e.phase == Phase::Headers;
        if (evictable && e.since < oldest) {
            oldest = e.since;
            best = id;
        }
    }
    return best;
}

ConnectionTable::Admission ConnectionTable::admit(Id id, const std::string& address, Clock::time_point now) {
    if (open_from(address) >= limits_.max_per_address) return {Verdict::AddressFull, std::nullopt};
    std::optional<Id> evict;
    if (open_.size() >= limits_.max_total) {
        evict = longest_waiting();
        if (!evict) return {Verdict::ServerFull, std::nullopt};
        closed(*evict);
    }
    open_[id] = {address, Phase::Waiting, now};
    ++per_address_[address];
    return {Verdict::Admitted, evict};
}

void ConnectionTable::set_phase(Id id, Phase phase, Clock::time_point now) {
    auto it = open_.find(id);
    if (it == open_.end() || it->second.phase == phase) return;
    it->second.phase = phase;
    it->second.since = now;
}

void ConnectionTable::closed(Id id) {
    auto it = open_.find(id);
    if (it == open_.end()) return;
    auto a = per_address_.find(it->second.address);
    if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
    open_.erase(it);
}

std::vector<ConnectionTable::Id> ConnectionTable::overdue(Clock::time_point now) const {
    std::vector<Id> out;
    for (const auto& [id, e] : open_)
        if (auto limit = deadline(e.phase); limit && now - e.since >= *limit) out.push_back(id);
    return out;
}

std::size_t ConnectionTable::open_from(const std::string& address) const {
    auto it = per_address_.find(address);
    return it == per_address_.end() ? 0 : it->second;
}

std::size_t ConnectionTable::in_phase(Phase phase) const {
    std::size_t n = 0;
    for (const auto& [id, e] : open_) n += e.phase == phase;
    return n;
}

std::optional<ConnectionTable::Phase> ConnectionTable::phase_of(Id id) const {
    auto it = open_.find(id);
    if (it == open_.end()) return std::nullopt;
    return it->second.phase;
}

}  // namespace consult::http
