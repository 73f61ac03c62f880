// Kiosk PINs: 4-8 digits, kept only as a slow, salted scrypt hash.
#pragma once

#include <string>
#include <string_view>

namespace consult::kiosk {

// scrypt cost: 16 MiB of memory per attempt (about 40-80 ms on the appliance's CPU).
struct PinCost {
    unsigned long long n = 1ULL << 14;
    unsigned long long r = 8, p = 1;
};

bool valid_pin(std::string_view pin);

// "scrypt$N$r$p$<salt hex>$<hash hex>" with a fresh random salt; throws on a bad PIN or
// when OpenSSL fails.
std::string hash_pin(std::string_view pin, PinCost cost = {});

// Constant-time comparison; false for a malformed stored value too.
bool verify_pin(std::string_view pin, std::string_view stored);

// A hash as hash_pin writes it, with a cost a kiosk can afford on every sign-in (N a power
// of two from 2^10 to 2^17, r 1-16, p 1-4): for hashes that come from outside the box.
bool well_formed_hash(std::string_view stored);

}  // namespace consult::kiosk
