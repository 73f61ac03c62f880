// JSON from outside the box (a browser, a WebSocket message, the cloud, a webhook):
// parsed within size and nesting limits, then read field by field with its type
// checked. A wrong type is a FieldError, which each boundary turns into its own
// stable refusal (HTTP 400/422, close 4400, a parked cloud row); never a crash.
#pragma once

#include "hwconfig/expected.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace consult::input {

struct Limits {
    std::size_t max_bytes = 1 << 20;
    int max_depth = 32;   // arrays and objects inside each other
};

// The deepest nesting of arrays and objects in `text`, strings skipped; stops
// counting (and returns a value above `stop_at`) once past `stop_at`.
int nesting_depth(std::string_view text, int stop_at);

// Checks size, UTF-8 and nesting before parsing; the error says which failed.
expected<nlohmann::json, std::string> parse(std::string_view text, Limits limits = {});

// Serialises JSON that may hold invalid UTF-8 from outside (replaced, not thrown).
std::string dump(const nlohmann::json& j);

class FieldError : public std::runtime_error {
public:
    enum class Kind { Missing, WrongType, OutOfRange };
    FieldError(Kind kind, std::string field, const std::string& message)
        : std::runtime_error(message), kind_(kind), field_(std::move(field)) {}
    Kind kind() const { return kind_; }
    const std::string& field() const { return field_; }

private:
    Kind kind_;
    std::string field_;
};

// Typed reads of one JSON object's fields. A null field counts as absent; the
// `optional_` reads return nothing for an absent field, the `required_` ones throw.
class Fields {
public:
    // Throws FieldError(WrongType, name) unless `object` is an object.
    explicit Fields(const nlohmann::json& object, std::string name = "body");

    bool has(const char* field) const;
    std::optional<std::string> optional_string(const char* field, std::size_t max_chars = 2000) const;
    std::string required_string(const char* field, std::size_t max_chars = 2000) const;
    std::optional<bool> optional_bool(const char* field) const;
    bool required_bool(const char* field) const;
    std::optional<std::int64_t> optional_int(const char* field, std::int64_t min, std::int64_t max) const;
    std::int64_t required_int(const char* field, std::int64_t min, std::int64_t max) const;
    std::optional<double> optional_number(const char* field, double min, double max) const;
    // A string or a number, as text (some senders write codes either way).
    std::optional<std::string> optional_scalar_text(const char* field, std::size_t max_chars = 200) const;
    // Nested values, checked to be objects/arrays; nullptr when absent.
    const nlohmann::json* optional_object(const char* field) const;
    const nlohmann::json* optional_array(const char* field) const;

private:
    const nlohmann::json* find(const char* field) const;
    [[noreturn]] void wrong_type(const char* field, const char* want) const;
    const nlohmann::json& object_;
};

// Characters (code points) in valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

}  // namespace consult::input
