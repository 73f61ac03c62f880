#include "appliance/twilio/message_status.hpp"

#include <array>
#include <utility>

namespace consult::twilio {

namespace {

// 'pending' and 'rejected' are the appliance's own: reserved but not yet accepted by
// Twilio, and refused by its API. The final states share the top rank so that one
// never replaces another ('read' follows 'delivered' on channels that report it).
constexpr std::array<std::pair<std::string_view, int>, 15> kRanks{{
    {"pending", 0},   {"accepted", 1},  {"scheduled", 1}, {"queued", 2},      {"sending", 3},
    {"sent", 4},      {"delivered", 5}, {"read", 6},      {"undelivered", 5}, {"failed", 5},
    {"canceled", 5},  {"rejected", 5},  {"receiving", 2}, {"received", 5},    {"partially_delivered", 5},
}};

}  // namespace

int status_rank(std::string_view status) {
    for (const auto& [name, rank] : kRanks)
        if (name == status) return rank;
    return -1;
}

bool moves_forward(std::string_view from, std::string_view to) {
    const int a = status_rank(from), b = status_rank(to);
    if (b < 0) return false;
    if (to == "read") return from != "read" && !is_failure(from);
    return b > a;
}

bool is_failure(std::string_view status) {
    return status == "failed" || status == "undelivered" || status == "rejected" || status == "canceled";
}

}  // namespace consult::twilio
