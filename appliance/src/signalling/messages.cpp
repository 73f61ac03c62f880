#include "appliance/signalling/messages.hpp"

#include "appliance/input/json_input.hpp"

#include <functional>
#include <map>

namespace consult::signalling::msg {

namespace {

using input::Fields;
using json = nlohmann::json;

bool is_session_id(const std::string& s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
}

std::optional<std::string> session_of(const Fields& f) {
    auto s = f.optional_string("session", 64);
    if (s && !is_session_id(*s)) throw input::FieldError(input::FieldError::Kind::WrongType, "session", "session must be a session id");
    return s;
}

// A screen or device id: short, plain characters only.
std::optional<std::string> token_like(const Fields& f, const char* name) {
    auto s = f.optional_string(name, 64);
    if (!s) return s;
    for (char c : *s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
            throw input::FieldError(input::FieldError::Kind::WrongType, name, std::string(name) + " must be letters, digits, - or _");
    return s;
}

std::string check_choice(const Fields& f, const char* name) {
    auto v = f.optional_string(name, 16);
    if (!v || (*v != "ok" && *v != "failed" && *v != "skipped"))
        throw input::FieldError(input::FieldError::Kind::WrongType, name, std::string(name) + " must be one of ok, failed, skipped");
    return *v;
}

std::string bounded_string(const Fields& f, const char* name, std::size_t min_chars, std::size_t max_chars) {
    auto s = f.required_string(name, max_chars);
    if (input::utf8_length(s) < min_chars)
        throw input::FieldError(input::FieldError::Kind::OutOfRange, name,
                                std::string(name) + " must be " + std::to_string(min_chars) + "-" + std::to_string(max_chars) + " characters");
    return s;
}

using Reader = std::function<Any(const Fields&)>;

const std::map<std::string, Reader, std::less<>>& readers() {
    static const std::map<std::string, Reader, std::less<>> t{
        {"hello", [](const Fields& f) -> Any {
             return Hello{bounded_string(f, "token", 1, 4096), session_of(f), token_like(f, "device").value_or("")};
         }},
        {"ping", [](const Fields&) -> Any { return Ping{}; }},
        {"precheck", [](const Fields& f) -> Any {
             return Precheck{check_choice(f, "camera"), check_choice(f, "microphone"), check_choice(f, "speaker"),
                             f.optional_string("browser", 200).value_or("")};
         }},
        {"answer", [](const Fields& f) -> Any { return Answer{bounded_string(f, "sdp", 1, 60000)}; }},
        {"ice", [](const Fields& f) -> Any {
             return Ice{f.required_string("candidate", 1000), unsigned(f.required_int("mline", 0, 15))};
         }},
        // Chat length is checked where it is refused gently (the socket stays open).
        {"chat", [](const Fields& f) -> Any { return Chat{f.required_string("text", 100000), session_of(f)}; }},
        {"media", [](const Fields& f) -> Any { return Media{f.required_bool("audio"), f.required_bool("video")}; }},
        {"reconnect_media", [](const Fields&) -> Any { return ReconnectMedia{}; }},
        {"leave", [](const Fields&) -> Any { return Leave{}; }},
        {"admit", [](const Fields& f) -> Any { return Admit{session_of(f), token_like(f, "screen")}; }},
        {"decline", [](const Fields& f) -> Any {
             return Decline{session_of(f), token_like(f, "screen"), f.optional_string("reason", 500)};
         }},
        {"end", [](const Fields& f) -> Any { return End{session_of(f), f.optional_string("reason", 500)}; }},
        {"view", [](const Fields& f) -> Any { return View{session_of(f)}; }},
        {"share", [](const Fields& f) -> Any { return Share{f.required_bool("on"), session_of(f)}; }},
        {"record", [](const Fields& f) -> Any { return Record{f.required_bool("on"), session_of(f)}; }},
        {"consent", [](const Fields& f) -> Any { return Consent{f.required_bool("given")}; }},
        {"first_frame", [](const Fields&) -> Any { return FirstFrame{}; }},
    };
    return t;
}

}  // namespace

const char* type_name(const Any& m) {
    static constexpr const char* names[] = {"hello", "ping", "precheck", "answer", "ice", "chat", "media",
                                            "reconnect_media", "leave", "admit", "decline", "end", "view", "share",
                                            "record", "consent", "first_frame"};
    static_assert(std::size(names) == std::variant_size_v<Any>);
    return names[m.index()];
}

expected<Any, ProtocolError> parse(std::string_view text) {
    auto bad = [](std::string why) { return unexpected(ProtocolError{CloseCode::BadMessage, std::move(why)}); };
    if (text.size() > kMaxMessageBytes) return unexpected(ProtocolError{CloseCode::TooBig, "message too big"});
    auto parsed = input::parse(text, {kMaxMessageBytes, 8});
    if (!parsed) return bad("not JSON: " + parsed.error());
    if (!parsed->is_object()) return bad("not a JSON object");
    auto type = parsed->find("type");
    if (type == parsed->end() || !type->is_string()) return bad("type is required");
    auto reader = readers().find(type->get_ref<const std::string&>());
    if (reader == readers().end()) return bad("unknown type");
    try {
        return reader->second(Fields(*parsed, "message"));
    } catch (const input::FieldError& e) {
        return bad(reader->first + ": " + e.what());
    }
}

bool doctor_only(const Any& m) {
    return std::holds_alternative<Admit>(m) || std::holds_alternative<Decline>(m) || std::holds_alternative<End>(m) ||
           std::holds_alternative<View>(m) || std::holds_alternative<Share>(m) || std::holds_alternative<Record>(m);
}

bool patient_only(const Any& m) {
    return std::holds_alternative<Precheck>(m) || std::holds_alternative<Leave>(m) || std::holds_alternative<Consent>(m);
}

}  // namespace consult::signalling::msg
