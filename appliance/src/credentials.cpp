#include "appliance/credentials.hpp"

#include "appliance/hex.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace consult {

namespace fs = std::filesystem;

namespace {

bool valid_name(const std::string& name) {
    return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

expected<std::string, std::string> slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return unexpected("cannot read credential " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string v = ss.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    if (v.empty()) return unexpected("credential " + p.string() + " is empty");
    return v;
}

}  // namespace

Credentials::Credentials(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

expected<std::optional<std::string>, std::string> Credentials::read(const std::string& name) const {
    if (!valid_name(name)) return unexpected("bad credential name '" + name + "'");
    // systemd has already checked ownership and mode of what it hands us.
    if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
        fs::path p = fs::path(dir) / name;
        if (fs::exists(p)) return slurp(p);
    }
    fs::path p = local_dir() / name;
    struct stat st{};
    if (::stat(p.c_str(), &st) != 0) return std::optional<std::string>{};
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return unexpected("credential " + p.string() + " is readable by others (mode " +
                               std::to_string(st.st_mode & 0777) + "); chmod 600 it");
    return slurp(p);
}

expected<std::string, std::string> Credentials::read_or_create(const std::string& name,
                                                                     size_t random_bytes) const {
    auto existing = read(name);
    if (!existing) return unexpected(existing.error());
    if (*existing) return **existing;
    std::string buf(random_bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), int(buf.size())) != 1)
        return unexpected("no randomness available to create " + name);
    std::string value = to_hex(buf);
    if (auto stored = store(name, value); !stored) return unexpected(stored.error());
    return value;
}

expected<void, std::string> Credentials::store(const std::string& name, const std::string& value) const {
    if (!valid_name(name)) return unexpected("bad credential name '" + name + "'");
    std::error_code ec;
    fs::create_directories(local_dir(), ec);
    if (ec) return unexpected("cannot create " + local_dir().string() + ": " + ec.message());
    ::chmod(local_dir().c_str(), 0700);
    fs::path final_path = local_dir() / name;
    fs::path tmp = local_dir() / ("." + name + ".tmp");
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected("cannot write " + tmp.string());
    std::string data = value + "\n";
    bool ok = ::write(fd, data.data(), data.size()) == ssize_t(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return unexpected("cannot store credential " + name);
    }
    return {};
}

}  // namespace consult
