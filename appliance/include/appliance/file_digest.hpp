// The SHA-256 of a file, read in 1 MiB blocks (run it off the main loop for big files).
#pragma once

#include <filesystem>
#include <string>

namespace consult {

// Lower-case hex; empty when the file cannot be read to its end.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace consult
