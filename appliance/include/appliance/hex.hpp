// Bytes as lower-case hex: digests, random ids, a Wi-Fi network's name.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace consult {

inline std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

inline std::string to_hex(std::string_view bytes) {
    return to_hex(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

}  // namespace consult
