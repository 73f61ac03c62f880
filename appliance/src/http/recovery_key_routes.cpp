// /api/system/recovery-key: the data partition's recovery key, shown once to clinic IT on
// the kiosk. First boot (image/mkosi.extra/usr/libexec/consult/data-setup) leaves it in
// <state-dir>/recovery-key, on the encrypted partition itself; it stays there until an
// admin has read it and proved it was written down by typing its last group back. Then
// the file is overwritten and removed, and only the fact that it was, and when, is kept
// (<state-dir>/recovery-key.removed). Every reading and the removal are audited.
//
//   GET  /api/system/recovery-key/status   {state: none | pending | removed, removed_at?}
//   GET  /api/system/recovery-key          {key, groups, created_at}; 404 no_recovery_key,
//                                          410 recovery_key_removed
//   POST /api/system/recovery-key/confirm  {last_group}: 204; 422 recovery_key_mismatch
#include "appliance/http/routes.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/http/auth.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

namespace consult::http {

namespace {

using tokens::Role;
constexpr const char* kKeyFile = "recovery-key";
constexpr const char* kRemovedFile = "recovery-key.removed";
constexpr std::size_t kGroups = 8, kGroupLength = 8;
// systemd-cryptenroll's recovery keys: 8 groups of 8 "modhex" characters.
constexpr std::string_view kModhex = "cbdefghijklnrtuv";

struct KeyFile {
    std::string key;
    std::time_t created = 0;
};

bool well_formed(std::string_view key) {
    if (key.size() != kGroups * kGroupLength + kGroups - 1) return false;
    for (std::size_t i = 0; i < key.size(); ++i) {
        const bool dash = i % (kGroupLength + 1) == kGroupLength;
        if (dash ? key[i] != '-' : kModhex.find(key[i]) == std::string_view::npos) return false;
    }
    return true;
}

// The key file as first boot wrote it: a regular file (never followed through a link),
// small, and a well-formed key. nullopt: there is none.
std::optional<KeyFile> read_key(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw ApiError(500, "recovery_key_unreadable", std::string("the recovery key cannot be read: ") + std::strerror(errno));
    }
    struct stat st {};
    std::array<char, 256> buf{};
    ssize_t n = -1;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) n = ::read(fd, buf.data(), buf.size());
    ::close(fd);
    std::string key(buf.data(), n > 0 ? std::size_t(n) : 0);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    if (n < 0 || n == ssize_t(buf.size()) || !well_formed(key))
        throw ApiError(500, "recovery_key_unreadable", "the recovery key file is not one first boot wrote");
    return KeyFile{key, st.st_mtime};
}

std::optional<std::time_t> removed_at(const std::filesystem::path& state_dir) {
    struct stat st {};
    if (::lstat((state_dir / kRemovedFile).c_str(), &st) != 0) return std::nullopt;
    return st.st_mtime;
}

// Overwrites the key where it lies, then removes it; the marker says when.
void remove_key(const std::filesystem::path& state_dir) {
    const auto path = state_dir / kKeyFile;
    const int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        const std::string zeros(256, '\0');
        const bool wiped = ::write(fd, zeros.data(), zeros.size()) == ssize_t(zeros.size()) && ::fsync(fd) == 0;
        ::close(fd);
        if (!wiped) log::warning("the recovery key could not be overwritten before its removal");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw ApiError(500, "recovery_key_not_removed", std::string("the recovery key could not be removed: ") + std::strerror(errno));
    const auto marker = state_dir / kRemovedFile;
    const int m = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (m >= 0) {
        const std::string when = domain::iso_utc(std::time(nullptr)) + "\n";
        (void)!::write(m, when.data(), when.size());
        ::fsync(m);
        ::close(m);
    }
}

std::string normalised_group(std::string typed) {
    std::string out;
    for (char c : typed)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != '-') out += char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

nlohmann::json status_json(const std::filesystem::path& state_dir) {
    if (read_key(state_dir / kKeyFile)) return {{"state", "pending"}};
    if (auto at = removed_at(state_dir)) return {{"state", "removed"}, {"removed_at", domain::iso_utc(*at)}};
    return {{"state", "none"}};
}

}  // namespace

void add_recovery_key_routes(Router& r, const DeviceDeps& deps) {
    r.add("GET", "/api/system/recovery-key/status", [deps](const Request& req) {
        authenticate(deps, req, {Role::Admin});
        return Response::json(200, status_json(deps.state_dir));
    });
    r.add("GET", "/api/system/recovery-key", [deps](const Request& req) {
        const Caller c = authenticate(deps, req, {Role::Admin});
        auto key = read_key(deps.state_dir / kKeyFile);
        if (!key) {
            if (removed_at(deps.state_dir))
                throw ApiError(410, "recovery_key_removed", "the recovery key was written down and removed from the appliance");
            throw ApiError(404, "no_recovery_key", "this appliance's data partition has no recovery key here");
        }
        audit(deps, c, "recovery_key.shown", std::nullopt);
        nlohmann::json groups = nlohmann::json::array();
        for (std::size_t i = 0; i < kGroups; ++i) groups.push_back(key->key.substr(i * (kGroupLength + 1), kGroupLength));
        auto resp = Response::json(200, {{"key", key->key}, {"groups", groups}, {"created_at", domain::iso_utc(key->created)}});
        resp.headers.emplace_back("Cache-Control", "no-store");
        return resp;
    });
    r.add("POST", "/api/system/recovery-key/confirm", [deps](const Request& req) {
        const Caller c = authenticate(deps, req, {Role::Admin});
        const auto body = req.json_body();
        const std::string typed = normalised_group(require_string(body, "last_group", 64));
        auto key = read_key(deps.state_dir / kKeyFile);
        if (!key) {
            if (removed_at(deps.state_dir))
                throw ApiError(410, "recovery_key_removed", "the recovery key was written down and removed already");
            throw ApiError(404, "no_recovery_key", "this appliance's data partition has no recovery key here");
        }
        if (typed != key->key.substr(key->key.size() - kGroupLength)) {
            audit(deps, c, "recovery_key.confirm_refused", std::nullopt);
            throw ApiError(422, "recovery_key_mismatch", "that is not the key's last group: check what was written down",
                           "last_group");
        }
        remove_key(deps.state_dir);
        audit(deps, c, "recovery_key.removed", std::nullopt);
        log::info("the recovery key was written down and removed from the appliance");
        return Response{204, "application/json", "", {}, {}};
    });
}

}  // namespace consult::http
