#include "appliance/update/state.hpp"

#include "appliance/update/release.hpp"
#include "appliance/update/stick.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace consult::update {

namespace {

constexpr const char* kNames[] = {"installed", "rolled-back", "refused", "failed", "postponed"};
constexpr std::size_t kMaxText = 512;

std::optional<Result> parse_result(const std::string& name) {
    for (std::size_t i = 0; i < std::size(kNames); ++i)
        if (name == kNames[i]) return Result(i);
    return std::nullopt;
}

// A string field of at most kMaxText bytes; absent gives "".
expected<std::string, std::string> text_field(const nlohmann::json& o, const char* key) {
    if (!o.contains(key)) return std::string();
    const auto& v = o[key];
    if (!v.is_string()) return unexpected(std::string(key) + " is not a string");
    auto s = v.get<std::string>();
    if (s.size() > kMaxText) return unexpected(std::string(key) + " is too long");
    return s;
}

bool version_or_empty(const std::string& v) { return v.empty() || is_release_version(v); }

std::string with_errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

const char* result_name(Result r) { return kNames[static_cast<int>(r)]; }

UpdaterMemory UpdateState::memory() const {
    UpdaterMemory m;
    m.rolled_back = rolled_back;
    if (pending) m.pending = pending->version;
    return m;
}

std::filesystem::path state_file(const std::filesystem::path& state_dir) { return state_dir / "update" / "state.json"; }

nlohmann::json to_json(const UpdateState& s) {
    nlohmann::json j = nlohmann::json::object();
    j["pending"] = s.pending ? nlohmann::json{{"version", s.pending->version},
                                              {"from_version", s.pending->from_version},
                                              {"boot_id", s.pending->boot_id}}
                             : nlohmann::json(nullptr);
    j["rolled_back"] = s.rolled_back;
    j["good_boot_id"] = s.good_boot_id;
    j["last"] = s.last ? nlohmann::json{{"at", s.last->at},
                                        {"version", s.last->version},
                                        {"result", result_name(s.last->result)},
                                        {"reason", s.last->reason}}
                       : nlohmann::json(nullptr);
    return j;
}

expected<UpdateState, std::string> state_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return unexpected(std::string("not a JSON object"));
    UpdateState s;
    if (j.contains("pending") && !j["pending"].is_null()) {
        const auto& p = j["pending"];
        if (!p.is_object()) return unexpected(std::string("pending is not an object"));
        PendingInstall pending;
        for (auto [key, out] : {std::pair{"version", &pending.version}, std::pair{"from_version", &pending.from_version},
                                std::pair{"boot_id", &pending.boot_id}}) {
            auto v = text_field(p, key);
            if (!v) return unexpected("pending." + v.error());
            *out = *v;
        }
        if (!is_release_version(pending.version)) return unexpected(std::string("pending.version is not a version"));
        s.pending = pending;
    }
    if (j.contains("rolled_back")) {
        const auto& r = j["rolled_back"];
        if (!r.is_array() || r.size() > kMaxRolledBack) return unexpected(std::string("rolled_back is not a list of versions"));
        for (const auto& v : r) {
            if (!v.is_string() || !is_release_version(v.get<std::string>()))
                return unexpected(std::string("rolled_back holds something that is not a version"));
            s.rolled_back.insert(v.get<std::string>());
        }
    }
    if (auto good = text_field(j, "good_boot_id"); good) s.good_boot_id = *good;
    else return unexpected(good.error());
    if (j.contains("last") && !j["last"].is_null()) {
        const auto& l = j["last"];
        if (!l.is_object()) return unexpected(std::string("last is not an object"));
        Attempt a;
        std::string result;
        for (auto [key, out] : {std::pair{"at", &a.at}, std::pair{"version", &a.version},
                                std::pair{"result", &result}, std::pair{"reason", &a.reason}}) {
            auto v = text_field(l, key);
            if (!v) return unexpected("last." + v.error());
            *out = *v;
        }
        auto parsed = parse_result(result);
        if (!parsed) return unexpected("last.result '" + result + "' is not a result");
        if (!version_or_empty(a.version)) return unexpected(std::string("last.version is not a version"));
        a.result = *parsed;
        s.last = a;
    }
    return s;
}

expected<UpdateState, std::string> load_state(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (errno == ENOENT || !std::filesystem::exists(file)) return UpdateState{};
        return unexpected(with_errno("cannot read " + file.string()));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > 64 * 1024) return unexpected(file.string() + " is too big to be the updater's");
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) return unexpected(file.string() + " is not JSON");
    auto s = state_from_json(j);
    if (!s) return unexpected(file.string() + ": " + s.error());
    return s;
}

expected<void, std::string> save_state(const std::filesystem::path& file, const UpdateState& s) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return unexpected("cannot create " + file.parent_path().string() + ": " + ec.message());
    return write_whole_file(file, to_json(s).dump(1) + "\n", 0644);   // no secret in it; consultd reports it
}

std::optional<Attempt> settle_pending(UpdateState& s, const std::string& running_version, const std::string& boot_id,
                                      const std::string& now) {
    if (!s.pending) return std::nullopt;
    const PendingInstall p = *s.pending;
    Attempt a{now, p.version, Result::Installed, ""};
    if (running_version == p.version) {
        a.reason = "running since the restart (was " + p.from_version + ")";
    } else if (boot_id != p.boot_id) {
        a.result = Result::RolledBack;
        a.reason = "it did not pass its boot check; the box came back on " + running_version + " by itself";
        if (s.rolled_back.size() >= kMaxRolledBack) s.rolled_back.erase(s.rolled_back.begin());
        s.rolled_back.insert(p.version);
    } else {
        return std::nullopt;   // still waiting for its restart
    }
    s.pending.reset();
    s.last = a;
    return a;
}

}  // namespace consult::update
