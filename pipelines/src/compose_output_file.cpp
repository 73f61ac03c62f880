#include "compose_output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace consult::media::composition {

namespace {

std::string error_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

expected<std::unique_ptr<OutputFile>, std::string> OutputFile::create(const std::string& path) {
    if (path.empty()) return unexpected(std::string("no output path"));
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return unexpected("output " + path + " exists already");
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) return std::unique_ptr<OutputFile>(new OutputFile(path, fd, false));
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return unexpected(error_text("cannot write in " + dir));
    fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected(error_text("cannot create " + path));
    return std::unique_ptr<OutputFile>(new OutputFile(path, fd, true));
}

OutputFile::~OutputFile() {
    if (!scratch_.empty()) ::unlink(scratch_.c_str());
    if (fd_ >= 0) ::close(fd_);
    if (named_ && !published_) ::unlink(path_.c_str());
}

std::uint64_t OutputFile::size() const {
    struct stat st {};
    return ::fstat(fd_, &st) == 0 ? std::uint64_t(st.st_size) : 0;
}

expected<std::string, std::string> OutputFile::scratch() {
    if (!scratch_.empty()) return scratch_;
    std::string tmpl = path_ + ".scratch-XXXXXX";
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);   // 0600
    if (fd < 0) return unexpected(error_text("cannot create a scratch file beside " + path_));
    ::close(fd);
    scratch_ = tmpl;
    return scratch_;
}

expected<void, std::string> OutputFile::publish() {
    if (::fsync(fd_) != 0) return unexpected(error_text("cannot flush " + path_));
    if (!named_) {
        const std::string self = "/proc/self/fd/" + std::to_string(fd_);
        if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW) != 0)
            return unexpected(error_text("cannot name " + path_));
    }
    published_ = true;
    return {};
}

}  // namespace consult::media::composition
