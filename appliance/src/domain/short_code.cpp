#include "appliance/domain/short_code.hpp"

#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace consult::domain {

std::string new_short_code() {
    unsigned char bytes[kShortCodeLength];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a short code");
    std::string code;
    for (unsigned char b : bytes) code += kShortCodeAlphabet[b % kShortCodeAlphabet.size()];   // 256 = 8 × 32: uniform
    return code;
}

std::optional<std::string> normalize_short_code(std::string_view typed) {
    if (typed.size() > 32) return std::nullopt;
    std::string code;
    for (char c : typed) {
        if (c == ' ' || c == '-') continue;
        const char up = char(std::toupper(static_cast<unsigned char>(c)));
        if (kShortCodeAlphabet.find(up) == std::string_view::npos) return std::nullopt;
        code += up;
    }
    if (code.size() != kShortCodeLength) return std::nullopt;
    return code;
}

std::string spoken_short_code(const std::string& code) {
    return code.size() == kShortCodeLength ? code.substr(0, 4) + " " + code.substr(4) : code;
}

}  // namespace consult::domain
