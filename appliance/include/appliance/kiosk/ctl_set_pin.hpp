// consultctl set-pin --doctor ID | --admin: reads a 4-8 digit PIN from stdin and stores
// its scrypt hash in the appliance's database. consultctl hash-pin: prints the hash only,
// for a provisioning file (provision.hpp).
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace consult::kiosk {

// `doctor` empty means the admin PIN. Returns consultctl's exit code.
int set_pin(const std::filesystem::path& state_dir, const std::optional<std::string>& doctor, std::FILE* in);

// Reads a PIN from `in`, prints its hash on stdout. Returns consultctl's exit code.
int hash_pin_command(std::FILE* in);

}  // namespace consult::kiosk
