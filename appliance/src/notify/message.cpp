#include "appliance/notify/message.hpp"

#include <array>

namespace consult::notify {

namespace {

constexpr std::array<std::string_view, 7> kPurposes{"invite",       "reminder", "ready",        "summary",
                                                    "update",       "cancellation", "visit_summary"};

}  // namespace

std::string_view purpose_name(Purpose p) { return kPurposes[size_t(p)]; }
std::string_view channel_name(Channel c) { return c == Channel::Sms ? "sms" : "email"; }

std::optional<Purpose> parse_purpose(std::string_view s) {
    for (size_t i = 0; i < kPurposes.size(); ++i)
        if (kPurposes[i] == s) return Purpose(i);
    return std::nullopt;
}

nlohmann::json to_json(const MessageRow& m) {
    nlohmann::json j{{"id", m.id},           {"purpose", m.purpose},       {"channel", m.channel},
                     {"status", m.status},   {"attempts", m.attempts},     {"created_at", m.created_at},
                     {"updated_at", m.updated_at}, {"about", m.about}};
    j["provider_sid"] = m.provider_sid ? nlohmann::json(*m.provider_sid) : nlohmann::json(nullptr);
    j["error"] = nullptr;
    if (m.error_code || m.error_message)
        j["error"] = {{"code", m.error_code ? nlohmann::json(*m.error_code) : nlohmann::json(nullptr)},
                      {"message", m.error_message.value_or("")}};
    return j;
}

}  // namespace consult::notify
