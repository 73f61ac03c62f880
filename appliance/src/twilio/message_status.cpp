#include "appliance/twilio/message_status.hpp"

#include "appliance/input/json_input.hpp"

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

expected<StatusReport, std::string> read_status_callback(const SignedRequest& request) {
    StatusReport r;
    if (request.body_is_form) {
        for (const auto& [k, v] : request.params) {
            if (k == "MessageSid" || (k == "SmsSid" && r.sid.empty())) r.sid = v;
            else if (k == "MessageStatus" || (k == "SmsStatus" && r.status.empty())) r.status = v;
            else if (k == "ErrorCode") r.error_code = v;
            else if (k == "ErrorMessage") r.error_message = v;
        }
    } else {
        auto body = input::parse(request.body, {64 * 1024, 8});
        if (!body) return unexpected("the callback body is " + body.error());
        try {
            const input::Fields j(*body, "callback");
            r.sid = j.optional_string("MessageSid", 64).value_or("");
            r.status = j.optional_string("MessageStatus", 32).value_or("");
            r.error_code = j.optional_scalar_text("ErrorCode", 16).value_or("");
            r.error_message = j.optional_string("ErrorMessage", 500).value_or("");
        } catch (const input::FieldError& e) {
            return unexpected(std::string(e.what()));
        }
    }
    if (r.sid.empty() || r.status.empty() || r.sid.size() > 64 || r.status.size() > 32)
        return unexpected(std::string("a status callback needs MessageSid and MessageStatus"));
    return r;
}

}  // namespace consult::twilio
