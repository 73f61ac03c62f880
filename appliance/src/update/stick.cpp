#include "appliance/update/stick.hpp"

#include "appliance/update/rauc.hpp"
#include "appliance/update/release.hpp"

#include <glib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace consult::update {

namespace {

namespace fs = std::filesystem;

constexpr const char* kStates[] = {"working", "found", "no_stick", "no_bundle", "installed", "refused", "failed", "postponed"};
constexpr std::size_t kMaxText = 600;

std::string with_errno(const std::string& what) { return what + ": " + std::strerror(errno); }

expected<std::string, std::string> text(const nlohmann::json& o, const char* key, bool required = false) {
    if (!o.contains(key)) {
        if (required) return unexpected(std::string(key) + " is missing");
        return std::string();
    }
    if (!o[key].is_string()) return unexpected(std::string(key) + " is not a string");
    auto s = o[key].get<std::string>();
    if (s.size() > kMaxText) return unexpected(std::string(key) + " is too long");
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return unexpected(std::string(key) + " holds a control character");
    return s;
}

bool version_or_empty(const std::string& v) { return v.empty() || is_release_version(v); }

// Runs a program (no shell) with its output dropped; its stderr in `err_text`. Whether it ran and exited 0.
bool run_quietly(std::vector<std::string> args, std::string* err_text = nullptr) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    gchar* err_out = nullptr;
    gint wait_status = 0;
    const bool ran = g_spawn_sync(nullptr, argv.data(), nullptr, GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL),
                                  nullptr, nullptr, nullptr, &err_out, &wait_status, nullptr);
    if (err_text && err_out) *err_text = err_out;
    g_free(err_out);
    return ran && g_spawn_check_wait_status(wait_status, nullptr);
}

std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    return line;
}

}  // namespace

fs::path stick_dir(const fs::path& state_dir) { return state_dir / "update-stick"; }

bool valid_bundle_name(std::string_view name) {
    constexpr std::string_view kSuffix = ".raucb";
    if (name.size() <= kSuffix.size() || name.size() > 100 || !name.ends_with(kSuffix)) return false;
    if (name.front() == '.' || name.front() == '-') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '+' || c == '-';
    });
}

bool valid_stick_request_id(std::string_view id) {
    return id.size() == 16 &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

nlohmann::json to_json(const StickRequest& r) {
    nlohmann::json j{{"id", r.id}, {"action", r.action == StickRequest::Action::Look ? "look" : "install"}, {"at", r.at}};
    if (r.action == StickRequest::Action::Install) j["file"] = r.file;
    return j;
}

expected<StickRequest, std::string> stick_request_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return unexpected(std::string("the request is not an object"));
    StickRequest r;
    auto id = text(j, "id", true);
    if (!id) return unexpected(id.error());
    if (!valid_stick_request_id(*id)) return unexpected(std::string("id is not 16 hex digits"));
    r.id = *id;
    auto action = text(j, "action", true);
    if (!action) return unexpected(action.error());
    if (*action == "look") {
        r.action = StickRequest::Action::Look;
    } else if (*action == "install") {
        r.action = StickRequest::Action::Install;
        auto file = text(j, "file", true);
        if (!file) return unexpected(file.error());
        if (!valid_bundle_name(*file)) return unexpected(std::string("file is not a bundle's name"));
        r.file = *file;
    } else {
        return unexpected("action '" + action->substr(0, 40) + "' is neither look nor install");
    }
    auto at = text(j, "at");
    if (!at) return unexpected(at.error());
    r.at = *at;
    return r;
}

const char* stick_state_name(StickResult::State s) { return kStates[static_cast<int>(s)]; }

nlohmann::json to_json(const StickResult& r) {
    nlohmann::json bundles = nlohmann::json::array();
    for (const auto& b : r.bundles)
        bundles.push_back({{"name", b.name}, {"size_bytes", b.size_bytes}, {"version", b.version}, {"problem", b.problem}});
    return {{"id", r.id}, {"state", stick_state_name(r.state)}, {"message", r.message}, {"version", r.version},
            {"bundles", bundles}, {"at", r.at}};
}

expected<StickResult, std::string> stick_result_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return unexpected(std::string("the result is not an object"));
    StickResult r;
    auto id = text(j, "id", true);
    if (!id) return unexpected(id.error());
    if (!id->empty() && !valid_stick_request_id(*id)) return unexpected(std::string("id is not 16 hex digits"));
    r.id = *id;
    auto state = text(j, "state", true);
    if (!state) return unexpected(state.error());
    const auto* found = std::find(std::begin(kStates), std::end(kStates), *state);
    if (found == std::end(kStates)) return unexpected(std::string("state is not one of the stick's states"));
    r.state = StickResult::State(found - std::begin(kStates));
    for (auto [key, out] : {std::pair{"message", &r.message}, std::pair{"version", &r.version}, std::pair{"at", &r.at}}) {
        auto v = text(j, key);
        if (!v) return unexpected(v.error());
        *out = *v;
    }
    if (!version_or_empty(r.version)) return unexpected(std::string("version is not a release version"));
    if (j.contains("bundles")) {
        const auto& list = j["bundles"];
        if (!list.is_array() || list.size() > kMaxStickBundles) return unexpected(std::string("bundles is not a short list"));
        for (const auto& b : list) {
            if (!b.is_object()) return unexpected(std::string("a bundle is not an object"));
            StickBundle sb;
            auto name = text(b, "name", true);
            if (!name) return unexpected("bundle " + name.error());
            if (!valid_bundle_name(*name)) return unexpected(std::string("a bundle's name is not a bundle's name"));
            sb.name = *name;
            if (!b.contains("size_bytes") || !b["size_bytes"].is_number_unsigned())
                return unexpected(std::string("a bundle's size_bytes is not a size"));
            sb.size_bytes = b["size_bytes"].get<std::uint64_t>();
            auto version = text(b, "version"), problem = text(b, "problem");
            if (!version) return unexpected("bundle " + version.error());
            if (!problem) return unexpected("bundle " + problem.error());
            if (!version_or_empty(*version)) return unexpected(std::string("a bundle's version is not a release version"));
            sb.version = *version;
            sb.problem = *problem;
            r.bundles.push_back(std::move(sb));
        }
    }
    return r;
}

expected<std::optional<std::string>, std::string> read_stick_file(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<std::string>();
        return unexpected(with_errno("cannot read " + file.string()));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return unexpected(file.string() + " is not a regular file");
    }
    std::string out(kMaxStickFileBytes + 1, '\0');
    std::size_t got = 0;
    for (;;) {
        const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            errno = err;
            return unexpected(with_errno("cannot read " + file.string()));
        }
        if (n == 0) break;
        got += std::size_t(n);
        if (got == out.size()) break;
    }
    ::close(fd);
    if (got > kMaxStickFileBytes) return unexpected(file.string() + " is too big");
    out.resize(got);
    return std::optional<std::string>(std::move(out));
}

expected<void, std::string> write_whole_file(const fs::path& file, const std::string& text, unsigned mode) {
    std::random_device rd;
    const fs::path tmp = file.parent_path() / ("." + file.filename().string() + "." + std::to_string(rd()) + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return unexpected(with_errno("cannot write " + tmp.string()));
    bool ok = ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
    int err = ok ? 0 : errno;
    ::close(fd);
    if (ok && ::rename(tmp.c_str(), file.c_str()) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        errno = err == 0 ? EIO : err;
        return unexpected(with_errno("cannot write " + file.string()));
    }
    if (int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

std::vector<std::string> stick_partitions(const fs::path& sys_block, std::string_view mounts) {
    // Every block device named as a mount's source (/dev/NAME).
    std::set<std::string> mounted;
    std::istringstream lines{std::string(mounts)};
    for (std::string line; std::getline(lines, line);) {
        const std::string source = line.substr(0, line.find(' '));
        if (source.rfind("/dev/", 0) == 0) mounted.insert(source.substr(5));
    }
    std::vector<std::string> out;
    std::error_code ec;
    std::vector<fs::path> disks;
    for (const auto& e : fs::directory_iterator(sys_block, ec)) disks.push_back(e.path());
    std::sort(disks.begin(), disks.end());
    for (const auto& disk : disks) {
        const std::string name = disk.filename().string();
        if (name.rfind("loop", 0) == 0 || name.rfind("ram", 0) == 0 || name.rfind("zram", 0) == 0 ||
            name.rfind("dm-", 0) == 0 || name.rfind("md", 0) == 0 || name.rfind("sr", 0) == 0)
            continue;
        const std::string device_path = fs::weakly_canonical(disk, ec).string();
        const bool usb = device_path.find("/usb") != std::string::npos;
        if (first_line(disk / "removable") != "1" && !usb) continue;
        if (first_line(disk / "size") == "0") continue;   // a card reader with no card
        std::vector<std::string> parts;
        bool in_use = mounted.contains(name) || !fs::is_empty(disk / "holders", ec);
        for (const auto& p : fs::directory_iterator(disk, ec)) {
            if (!fs::exists(p.path() / "partition", ec)) continue;
            const std::string part = p.path().filename().string();
            if (mounted.contains(part) || (fs::exists(p.path() / "holders", ec) && !fs::is_empty(p.path() / "holders", ec)))
                in_use = true;
            parts.push_back(part);
        }
        if (in_use) continue;
        std::sort(parts.begin(), parts.end());
        if (parts.empty()) parts.push_back(name);   // a stick formatted without a partition table
        for (const auto& p : parts) out.push_back("/dev/" + p);
    }
    return out;
}

std::vector<StickBundle> bundles_on_stick(const fs::path& top) {
    std::vector<StickBundle> out;
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(top, ec)) {
        const std::string name = e.path().filename().string();
        if (!valid_bundle_name(name)) continue;
        if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
        names.push_back(name);
        if (names.size() > 4 * kMaxStickBundles) break;   // a stick of a million files is not read to its end
    }
    std::sort(names.begin(), names.end());
    if (names.size() > kMaxStickBundles) names.resize(kMaxStickBundles);
    for (const auto& name : names) {
        struct stat st {};
        if (::lstat((top / name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        out.push_back({name, std::uint64_t(st.st_size), "", ""});
    }
    return out;
}

void MountedStick::release() {
    if (mounted_ && !run_quietly({"umount", top_.string()}))
        std::fprintf(stderr, "consultctl update: the USB stick at %s could not be unmounted\n", top_.c_str());
    mounted_ = false;
}

MountedStick find_stick(const std::string& wanted, StickResult::State& why) {
    why = StickResult::State::NoStick;
    auto holds = [&](const fs::path& top) {
        const auto list = bundles_on_stick(top);
        if (!list.empty()) why = StickResult::State::NoBundle;   // a stick with other bundles
        if (wanted.empty()) return !list.empty();
        return std::any_of(list.begin(), list.end(), [&](const StickBundle& b) { return b.name == wanted; });
    };
    if (const char* dir = std::getenv("CONSULT_UPDATE_STICK_DIR"); dir && *dir) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) return {};
        why = StickResult::State::NoBundle;
        return holds(dir) ? MountedStick(dir, false) : MountedStick();
    }
    const fs::path mount_point = "/run/consult-update-stick";
    ::mkdir(mount_point.c_str(), 0700);
    struct stat st {};
    if (::lstat(mount_point.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
        std::fprintf(stderr, "consultctl update: %s is not a folder of this user's\n", mount_point.c_str());
        return {};
    }
    std::ifstream in("/proc/self/mounts");
    const std::string mounts{std::istreambuf_iterator<char>(in), {}};
    for (const auto& device : stick_partitions("/sys/block", mounts)) {
        std::string err;
        // FAT and exFAT: what a clinic's laptop writes on a stick. Read-only, nothing on it runs.
        if (!run_quietly({"mount", "-t", "vfat,exfat", "-o", "ro,nosuid,nodev,noexec,noatime", device, mount_point.string()}, &err)) {
            std::printf("update: no stick's file system on %s%s\n", device.c_str(), err.empty() ? "" : (": " + rauc_reason(err)).c_str());
            continue;
        }
        MountedStick stick(mount_point, true);
        if (why == StickResult::State::NoStick) why = StickResult::State::NoBundle;
        if (holds(mount_point)) return stick;
    }
    return {};
}

}  // namespace consult::update
