// The composed file on disk: mode 0600 from its first byte, and visible under its name
// only once complete. It is written as an unnamed file (O_TMPFILE) in the target's
// directory and linked into place at the end, so a composition that is killed leaves
// nothing a reader could take for a finished file. On file systems without O_TMPFILE it
// is created under its name (O_CREAT|O_EXCL, 0600) and removed again on failure.
#pragma once

#include "hwconfig/expected.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace consult::media::composition {

class OutputFile {
public:
    static expected<std::unique_ptr<OutputFile>, std::string> create(const std::string& path);
    ~OutputFile();   // unless published: nothing is left at the path, nor the scratch file
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    int fd() const { return fd_; }
    std::uint64_t size() const;
    // A 0600 scratch file beside the output (mp4mux's faststart data), removed with it.
    expected<std::string, std::string> scratch();
    // Flushes to disk and gives the file its name. Fails if the name was taken meanwhile.
    expected<void, std::string> publish();

private:
    OutputFile(std::string path, int fd, bool named) : path_(std::move(path)), fd_(fd), named_(named) {}

    std::string path_;
    int fd_ = -1;
    bool named_ = false;      // created under its name (no O_TMPFILE)
    bool published_ = false;
    std::string scratch_;
};

}  // namespace consult::media::composition
