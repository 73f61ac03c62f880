#include "appliance/signalling/protocol.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace consult::signalling {

namespace {

using json = nlohmann::json;
using Check = std::function<std::optional<std::string>(const json&)>;

std::size_t utf8_length(const std::string& s) {
    return std::size_t(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Check string_field(const char* name, std::size_t min_chars, std::size_t max_chars, bool required = true) {
    return [=](const json& m) -> std::optional<std::string> {
        auto it = m.find(name);
        if (it == m.end()) return required ? std::optional<std::string>(std::string(name) + " is required") : std::nullopt;
        if (!it->is_string()) return std::string(name) + " must be a string";
        const auto n = utf8_length(it->get_ref<const std::string&>());
        if (n < min_chars || n > max_chars)
            return std::string(name) + " must be " + std::to_string(min_chars) + "-" + std::to_string(max_chars) + " characters";
        return std::nullopt;
    };
}

Check bool_field(const char* name) {
    return [=](const json& m) -> std::optional<std::string> {
        auto it = m.find(name);
        if (it == m.end() || !it->is_boolean()) return std::string(name) + " must be true or false";
        return std::nullopt;
    };
}

Check choice_field(const char* name, std::initializer_list<const char*> choices) {
    std::vector<std::string> all(choices.begin(), choices.end());
    return [=](const json& m) -> std::optional<std::string> {
        auto it = m.find(name);
        if (it == m.end() || !it->is_string() || std::find(all.begin(), all.end(), it->get<std::string>()) == all.end())
            return std::string(name) + " must be one of ok, failed, skipped";
        return std::nullopt;
    };
}

Check uuid_field(const char* name) {
    return [=](const json& m) -> std::optional<std::string> {
        auto it = m.find(name);
        if (it == m.end()) return std::nullopt;
        if (!it->is_string() || it->get_ref<const std::string&>().size() != 36) return std::string(name) + " must be a session id";
        return std::nullopt;
    };
}

Check mline_field() {
    return [](const json& m) -> std::optional<std::string> {
        auto it = m.find("mline");
        if (it == m.end() || !it->is_number_integer() || it->get<long>() < 0 || it->get<long>() > 15)
            return std::string("mline must be a whole number 0-15");
        return std::nullopt;
    };
}

const std::map<std::string, std::vector<Check>, std::less<>>& table() {
    static const std::map<std::string, std::vector<Check>, std::less<>> t{
        {"hello", {string_field("token", 1, 4096), uuid_field("session")}},
        {"precheck", {choice_field("camera", {"ok", "failed", "skipped"}), choice_field("microphone", {"ok", "failed", "skipped"}),
                      choice_field("speaker", {"ok", "failed", "skipped"}), string_field("browser", 0, 200, false)}},
        {"answer", {string_field("sdp", 1, 60000)}},
        {"ice", {string_field("candidate", 0, 1000), mline_field()}},
        {"chat", {string_field("text", 0, 100000), uuid_field("session")}},   // length is checked where it is refused gently
        {"media", {bool_field("audio"), bool_field("video")}},
        {"admit", {uuid_field("session")}},
        {"decline", {uuid_field("session"), string_field("reason", 0, 500, false)}},
        {"end", {uuid_field("session"), string_field("reason", 0, 500, false)}},
        {"view", {uuid_field("session")}},
        {"share", {bool_field("on"), uuid_field("session")}},
        {"reconnect_media", {}},
        {"leave", {}},
        {"ping", {}},
    };
    return t;
}

}  // namespace

std::expected<ClientMessage, ProtocolError> parse_client_message(std::string_view text) {
    auto bad = [](std::string why) { return std::unexpected(ProtocolError{CloseCode::BadMessage, std::move(why)}); };
    if (text.size() > kMaxMessageBytes) return std::unexpected(ProtocolError{CloseCode::TooBig, "message too big"});
    json m = json::parse(text, nullptr, false);
    if (m.is_discarded()) return bad("not JSON");
    if (!m.is_object()) return bad("not a JSON object");
    auto type = m.find("type");
    if (type == m.end() || !type->is_string()) return bad("type is required");
    auto entry = table().find(type->get_ref<const std::string&>());
    if (entry == table().end()) return bad("unknown type");
    for (const auto& check : entry->second)
        if (auto why = check(m)) return bad(entry->first + ": " + *why);
    return ClientMessage{entry->first, std::move(m)};
}

bool FloodGuard::allow(std::int64_t now_us) {
    if (last_us_ != 0) tokens_ = std::min(burst_, tokens_ + double(now_us - last_us_) / 1e6 * rate_);
    last_us_ = now_us;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
}

std::string quality_level(double rtt_ms, double fraction_lost) {
    if (fraction_lost > 0.08 || rtt_ms > 600) return "poor";
    if (fraction_lost > 0.02 || rtt_ms > 250) return "fair";
    return "good";
}

}  // namespace consult::signalling
