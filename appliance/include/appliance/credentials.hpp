// Secrets: from systemd credentials ($CREDENTIALS_DIRECTORY) or from 0600 files in
// <state-dir>/credentials. Never from the config file or the command line.
#pragma once

#include "hwconfig/expected.hpp"
#include <filesystem>
#include <optional>
#include <string>

namespace consult {

class Credentials {
public:
    explicit Credentials(std::filesystem::path state_dir);

    // The secret, nothing when it is not configured, or an error when it exists but
    // cannot be trusted (readable by others, unreadable, empty).
    expected<std::optional<std::string>, std::string> read(const std::string& name) const;

    // Reads the secret, creating a random one (0600) on first use when absent.
    expected<std::string, std::string> read_or_create(const std::string& name, size_t random_bytes) const;

    // Stores a secret in the state dir (0600), replacing any previous one atomically.
    expected<void, std::string> store(const std::string& name, const std::string& value) const;

    std::filesystem::path local_dir() const { return state_dir_ / "credentials"; }

private:
    std::filesystem::path state_dir_;
};

}  // namespace consult
