// `consultctl update status|check|install FILE|mark-good|stick`: clinic IT's and the update
// timer's way to a new version (README "Updating boxes"). It runs in its own process, never
// in consultd: the download, the checks and RAUC's install only wait on the network and the
// disk, and consultd is asked only whether anyone is in a consultation.
#pragma once

#include "appliance/config.hpp"

#include <chrono>
#include <filesystem>

namespace consult::update {

// Exit codes of `consultctl update`.
inline constexpr int kUpdateOk = 0;          // up to date, installed, restarted or nothing to do
inline constexpr int kUpdateRefused = 1;     // the release or the bundle was not accepted
inline constexpr int kUpdateError = 2;       // the cloud, the network, the disk or RAUC failed
inline constexpr int kUpdatePostponed = 4;   // a consultation was running or the window was closed

struct UpdateCommand {
    // Stick: the kiosk's request in <state>/update-stick (update/stick.hpp), answered as root.
    enum class Verb { Status, Check, Install, MarkGood, Stick } verb = Verb::Status;
    std::filesystem::path bundle;              // install
    bool json = false;                         // status
    bool now = false;                          // check: inside the maintenance window or not
    bool restart = false;                      // install: restart into it once nobody is in a consultation
    std::chrono::seconds poll{30};             // how often a running consultation is looked at again
};

// The outside world, from the environment where tests replace it: CONSULT_RAUC (the rauc
// program), CONSULT_REBOOT_COMMAND (a program run instead of `systemctl reboot`),
// CONSULT_BOOT_ID_FILE (instead of /proc/sys/kernel/random/boot_id), CONSULT_OS_RELEASE
// (instead of /usr/lib/os-release, whose IMAGE_VERSION is the version this box runs) and
// CONSULT_UPDATE_TEST_LOOPBACK_HTTP=1 (bundles over plain http from 127.0.0.1) and
// CONSULT_UPDATE_STICK_DIR (a folder that stands for a mounted USB stick: nothing is mounted).
int run_update(const Config& config, const std::filesystem::path& state_dir, const UpdateCommand& command);

}  // namespace consult::update
