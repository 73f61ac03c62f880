#include "appliance/input/json_input.hpp"

#include <glib.h>

#include <cmath>

namespace consult::input {

using json = nlohmann::json;

int nesting_depth(std::string_view text, int stop_at) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > deepest && (deepest = depth) > stop_at) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

expected<json, std::string> parse(std::string_view text, Limits limits) {
    if (text.size() > limits.max_bytes)
        return unexpected("larger than " + std::to_string(limits.max_bytes) + " bytes");
    if (!g_utf8_validate(text.data(), gssize(text.size()), nullptr)) return unexpected(std::string("not valid UTF-8"));
    if (nesting_depth(text, limits.max_depth) > limits.max_depth)
        return unexpected("nested deeper than " + std::to_string(limits.max_depth) + " levels");
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return unexpected(std::string("not valid JSON"));
    return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

Fields::Fields(const json& object, std::string name) : object_(object) {
    if (!object.is_object()) throw FieldError(FieldError::Kind::WrongType, name, name + " must be a JSON object");
}

const json* Fields::find(const char* field) const {
    auto it = object_.find(field);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
}

void Fields::wrong_type(const char* field, const char* want) const {
    throw FieldError(FieldError::Kind::WrongType, field, std::string(field) + " must be " + want);
}

bool Fields::has(const char* field) const { return find(field) != nullptr; }

std::optional<std::string> Fields::optional_string(const char* field, std::size_t max_chars) const {
    const json* v = find(field);
    if (!v) return std::nullopt;
    if (!v->is_string()) wrong_type(field, "a string");
    const auto& s = v->get_ref<const std::string&>();
    if (!g_utf8_validate(s.data(), gssize(s.size()), nullptr)) wrong_type(field, "valid UTF-8 text");
    if (utf8_length(s) > max_chars)
        throw FieldError(FieldError::Kind::OutOfRange, field,
                         std::string(field) + " is longer than " + std::to_string(max_chars) + " characters");
    return s;
}

std::string Fields::required_string(const char* field, std::size_t max_chars) const {
    auto s = optional_string(field, max_chars);
    if (!s) throw FieldError(FieldError::Kind::Missing, field, std::string(field) + " is required");
    return *s;
}

std::optional<bool> Fields::optional_bool(const char* field) const {
    const json* v = find(field);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) wrong_type(field, "true or false");
    return v->get<bool>();
}

bool Fields::required_bool(const char* field) const {
    auto b = optional_bool(field);
    if (!b) throw FieldError(FieldError::Kind::Missing, field, std::string(field) + " is required");
    return *b;
}

std::optional<std::int64_t> Fields::optional_int(const char* field, std::int64_t min, std::int64_t max) const {
    const json* v = find(field);
    if (!v) return std::nullopt;
    auto out_of_range = [&] {
        return FieldError(FieldError::Kind::OutOfRange, field,
                          std::string(field) + " must be " + std::to_string(min) + "-" + std::to_string(max));
    };
    std::int64_t n = 0;
    if (v->is_number_unsigned()) {
        const auto u = v->get<std::uint64_t>();
        if (max < 0 || u > std::uint64_t(max)) throw out_of_range();
        n = std::int64_t(u);
    } else if (v->is_number_integer()) {
        n = v->get<std::int64_t>();
    } else {
        wrong_type(field, "a whole number");
    }
    if (n < min || n > max) throw out_of_range();
    return n;
}

std::int64_t Fields::required_int(const char* field, std::int64_t min, std::int64_t max) const {
    auto n = optional_int(field, min, max);
    if (!n) throw FieldError(FieldError::Kind::Missing, field, std::string(field) + " is required");
    return *n;
}

std::optional<double> Fields::optional_number(const char* field, double min, double max) const {
    const json* v = find(field);
    if (!v) return std::nullopt;
    if (!v->is_number()) wrong_type(field, "a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max)
        throw FieldError(FieldError::Kind::OutOfRange, field, std::string(field) + " is out of range");
    return d;
}

std::optional<std::string> Fields::optional_scalar_text(const char* field, std::size_t max_chars) const {
    const json* v = find(field);
    if (!v) return std::nullopt;
    if (v->is_number_integer()) return std::to_string(v->get<std::int64_t>());
    return optional_string(field, max_chars);
}

const json* Fields::optional_object(const char* field) const {
    const json* v = find(field);
    if (v && !v->is_object()) wrong_type(field, "an object");
    return v;
}

const json* Fields::optional_array(const char* field) const {
    const json* v = find(field);
    if (v && !v->is_array()) wrong_type(field, "an array");
    return v;
}

}  // namespace consult::input
