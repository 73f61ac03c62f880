// Refusals from the domain and the store ("no such session", "slot taken",
// "illegal transition"). Mapped to HTTP statuses in one place, at the boundary.
#pragma once

#include <stdexcept>
#include <string>

namespace consult::domain {

class DomainError : public std::runtime_error {
public:
    enum class Kind { NotFound, Conflict, Invalid, Forbidden };
    DomainError(Kind kind, std::string code, const std::string& message, std::string field = {})
        : std::runtime_error(message), kind_(kind), code_(std::move(code)), field_(std::move(field)) {}
    Kind kind() const { return kind_; }
    const std::string& code() const { return code_; }
    const std::string& field() const { return field_; }
private:
    Kind kind_;
    std::string code_;
    std::string field_;
};

inline DomainError not_found(std::string code, const std::string& msg) {
    return {DomainError::Kind::NotFound, std::move(code), msg};
}
inline DomainError conflict(std::string code, const std::string& msg) {
    return {DomainError::Kind::Conflict, std::move(code), msg};
}
inline DomainError invalid(std::string code, const std::string& msg, std::string field = {}) {
    return {DomainError::Kind::Invalid, std::move(code), msg, std::move(field)};
}

}  // namespace consult::domain
