// What the box says about the boot it is in: the A/B slot its kernel was started for, the
// boot's id, how long it has run, the image's os-release. Each comes from a small file whose
// place tests can change; every file is outside input, read with a size cap and checked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace consult::fleet {

struct BoxPaths {
    std::filesystem::path cmdline = "/proc/cmdline";
    std::filesystem::path boot_id = "/proc/sys/kernel/random/boot_id";
    std::filesystem::path uptime = "/proc/uptime";
    std::filesystem::path os_release = "/usr/lib/os-release";
    // The defaults, or CONSULT_PROC_CMDLINE, CONSULT_BOOT_ID_FILE, CONSULT_PROC_UPTIME and
    // CONSULT_OS_RELEASE when set (the updater, consultctl update, takes the same two last ones).
    static BoxPaths from_environment();
};

// At most `limit` bytes of the file; nothing when it cannot be read.
std::optional<std::string> read_small_file(const std::filesystem::path& file, std::size_t limit = 16 * 1024);

// 'a' or 'b' from the kernel command line's rauc.slot=; nothing when it names none (not an
// A/B box), names another value, or names two different slots.
std::optional<char> booted_slot(std::string_view cmdline);

// 8-4-4-4-12 hex digits: a boot id's and a clinic id's shape.
bool uuid_shaped(std::string_view text);

// The boot id as the kernel writes it (36 characters of hex digits and dashes, a newline).
std::optional<std::string> boot_id(std::string_view text);

// Whole seconds since the box started, from /proc/uptime's first number.
std::optional<std::int64_t> uptime_seconds(std::string_view proc_uptime);

}  // namespace consult::fleet
