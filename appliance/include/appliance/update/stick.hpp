// Installing an update from a USB stick, asked for on the kiosk (Settings, behind the admin
// PIN). consultd runs unprivileged and may neither mount a stick nor run RAUC, so the two
// sides meet through two small files in <state>/update-stick/:
//
//   request  written by consultd (POST /api/system/update/stick): look for a stick, or
//            install one bundle on it; a fresh id each time.
//   result   written by root (consult-update-stick.service, started by a path unit when the
//            request changes, runs `consultctl update stick`): what it is doing or what came
//            of the request with that id.
//
// Each side reads the other's file as outside input: small, a regular file never followed
// through a link, every field checked; anything else is refused with the reason.
#pragma once

#include "hwconfig/expected.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consult::update {

inline constexpr std::size_t kMaxStickBundles = 20;      // listed of one stick
inline constexpr std::size_t kMaxStickFileBytes = 16 * 1024;

std::filesystem::path stick_dir(const std::filesystem::path& state_dir);   // <state>/update-stick

// A bundle's name on a stick as the kiosk may name it: 1-100 characters of letters, digits,
// '.', '_', '+', '-', not starting with '.' or '-', ending in ".raucb".
bool valid_bundle_name(std::string_view name);
// 16 lower-case hex digits.
bool valid_stick_request_id(std::string_view id);

struct StickRequest {
    enum class Action { Look, Install } action = Action::Look;
    std::string id;
    std::string file;   // Install: the bundle's name at the stick's top level
    std::string at;     // when it was asked (UTC)
};

nlohmann::json to_json(const StickRequest& r);
expected<StickRequest, std::string> stick_request_from_json(const nlohmann::json& j);

// One bundle found on a stick, as `rauc info` found it.
struct StickBundle {
    std::string name;
    std::uint64_t size_bytes = 0;
    std::string version;   // empty when it could not be read
    std::string problem;   // empty: it may be installed; else why it would be refused
};

struct StickResult {
    // working: not finished (message says what it does). Final: found (bundles listed),
    // no_stick, no_bundle, installed, refused, failed, postponed.
    enum class State { Working, Found, NoStick, NoBundle, Installed, Refused, Failed, Postponed } state = State::Working;
    std::string id;          // the request's
    std::string message;     // one or two sentences for the person at the kiosk
    std::string version;     // installed / refused: the bundle's version, when known
    std::vector<StickBundle> bundles;
    std::string at;          // when this was written (UTC)
    bool final() const { return state != State::Working; }
};

const char* stick_state_name(StickResult::State s);
nlohmann::json to_json(const StickResult& r);
expected<StickResult, std::string> stick_result_from_json(const nlohmann::json& j);

// The file's text: a regular file (not followed through a link), at most
// kMaxStickFileBytes. nullopt when there is none; a reason for anything else.
expected<std::optional<std::string>, std::string> read_stick_file(const std::filesystem::path& file);
// Written whole or not at all: a new temporary file (O_EXCL, never through a link), fsync,
// rename over `file` (a link there is replaced, never followed), the folder fsync'd. `mode`
// for the new file. Also how the updater keeps its state (update/state.hpp).
expected<void, std::string> write_whole_file(const std::filesystem::path& file, const std::string& text, unsigned mode);

// Root's side: the partitions of removable or USB disks that may be a stick, as /dev
// paths, leaving out any disk with a partition in use (mounted, or under a device mapper:
// a box that boots from a USB disk never offers its own disk). `sys_block` and `mounts`
// are /sys/block and /proc/self/mounts, given for tests.
std::vector<std::string> stick_partitions(const std::filesystem::path& sys_block, std::string_view mounts);

// The bundles at a stick's top level (a mounted folder): regular files with a valid name,
// never through a link, at most kMaxStickBundles in name order. Their version and problem
// are left for the caller.
std::vector<StickBundle> bundles_on_stick(const std::filesystem::path& top);

// A stick mounted read-only at a folder only root may reach, unmounted when it goes (or by
// release()); or the folder that stands for one in tests (CONSULT_UPDATE_STICK_DIR), which
// is never mounted. Empty: none.
class MountedStick {
public:
    MountedStick() = default;
    MountedStick(std::filesystem::path top, bool mounted) : top_(std::move(top)), mounted_(mounted) {}
    MountedStick(MountedStick&& o) noexcept : top_(std::move(o.top_)), mounted_(std::exchange(o.mounted_, false)) {}
    MountedStick& operator=(MountedStick&&) = delete;
    ~MountedStick() { release(); }
    const std::filesystem::path& top() const { return top_; }
    explicit operator bool() const { return !top_.empty(); }
    void release();

private:
    std::filesystem::path top_;
    bool mounted_ = false;
};

// Root's side: the first stick that holds what `wanted` names (a bundle of that name, or
// any bundle when empty), mounted (vfat or exfat; ro, nosuid, nodev, noexec) at
// /run/consult-update-stick, each partition of stick_partitions() tried in turn. When none
// does, `why` says what was found: NoStick, or NoBundle (sticks without it). What it tried
// goes to stdout as "update: ..." lines.
MountedStick find_stick(const std::string& wanted, StickResult::State& why);

}  // namespace consult::update
