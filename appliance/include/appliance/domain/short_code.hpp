// The code of a short invite link (/j/<code>): 8 characters from an alphabet of 32
// without look-alikes (no 0/O, 1/I): 40 bits, readable over the phone. What a person
// types is forgiven its case, spaces and dashes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace consult::domain {

inline constexpr std::string_view kShortCodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
inline constexpr std::size_t kShortCodeLength = 8;

std::string new_short_code();   // from the system's cryptographic random source
// The code in its stored form, or nothing when it cannot be one.
std::optional<std::string> normalize_short_code(std::string_view typed);
// "ABCD EFGH": as a receptionist reads it out.
std::string spoken_short_code(const std::string& code);

}  // namespace consult::domain
