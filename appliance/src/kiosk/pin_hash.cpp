#include "appliance/kiosk/pin_hash.hpp"

#include "appliance/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace consult::kiosk {

namespace {

constexpr std::size_t kSaltBytes = 16, kHashBytes = 32;
constexpr std::uint64_t kMaxMem = 64ULL * 1024 * 1024;

bool from_hex(std::string_view hex, std::vector<unsigned char>& out) {
    if (hex.size() % 2) return false;
    auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    out.clear();
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
    return true;
}

bool derive(std::string_view pin, const std::vector<unsigned char>& salt, PinCost cost, std::vector<unsigned char>& out) {
    out.assign(kHashBytes, 0);
    return EVP_PBE_scrypt(pin.data(), pin.size(), salt.data(), salt.size(), cost.n, cost.r, cost.p, kMaxMem,
                          out.data(), out.size()) == 1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (std::size_t at = 0;;) {
        auto next = s.find(sep, at);
        parts.push_back(s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
        if (next == std::string_view::npos) return parts;
        at = next + 1;
    }
}

}  // namespace

bool valid_pin(std::string_view pin) {
    if (pin.size() < 4 || pin.size() > 8) return false;
    for (char c : pin)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string hash_pin(std::string_view pin, PinCost cost) {
    if (!valid_pin(pin)) throw std::invalid_argument("a PIN is 4 to 8 digits");
    std::vector<unsigned char> salt(kSaltBytes), hash;
    if (RAND_bytes(salt.data(), int(salt.size())) != 1 || !derive(pin, salt, cost, hash))
        throw std::runtime_error("scrypt failed");
    return "scrypt$" + std::to_string(cost.n) + "$" + std::to_string(cost.r) + "$" + std::to_string(cost.p) + "$" +
           to_hex(salt) + "$" + to_hex(hash);
}

bool well_formed_hash(std::string_view stored) {
    auto parts = split(stored, '$');
    if (parts.size() != 6 || parts[0] != "scrypt") return false;
    std::uint64_t cost[3] = {};
    for (int i = 0; i < 3; ++i) {
        const auto digits = parts[std::size_t(i) + 1];
        if (digits.empty() || digits.size() > 7 || digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
        cost[i] = std::stoull(std::string(digits));
    }
    const auto [n, r, p] = cost;
    if (n < 1024 || n > 131072 || (n & (n - 1)) != 0 || r < 1 || r > 16 || p < 1 || p > 4) return false;
    std::vector<unsigned char> salt, hash;
    return from_hex(parts[4], salt) && salt.size() == kSaltBytes && from_hex(parts[5], hash) && hash.size() == kHashBytes;
}

bool verify_pin(std::string_view pin, std::string_view stored) {
    auto parts = split(stored, '$');
    if (parts.size() != 6 || parts[0] != "scrypt" || !valid_pin(pin)) return false;
    PinCost cost;
    try {
        cost = {std::stoull(std::string(parts[1])), std::stoull(std::string(parts[2])), std::stoull(std::string(parts[3]))};
    } catch (const std::exception&) {
        return false;
    }
    std::vector<unsigned char> salt, expected, actual;
    if (!from_hex(parts[4], salt) || !from_hex(parts[5], expected) || expected.size() != kHashBytes) return false;
    if (!derive(pin, salt, cost, actual)) return false;
    return CRYPTO_memcmp(actual.data(), expected.data(), kHashBytes) == 0;
}

}  // namespace consult::kiosk
