// Fetching a release's bundle (blocking, libcurl): run by consultctl, never on consultd's
// main loop. Bytes go to "<dest>.part", resumed with an HTTP Range request after a cut;
// `dest` appears only when the whole file has the release's size and SHA-256, so a
// refused download never leaves a file under that name.
#pragma once

#include "appliance/update/release.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>

namespace consult::update {

struct DownloadRequest {
    std::string url;                                 // https (see bundle_url_problem)
    std::filesystem::path dest;                      // replaced: an earlier file here is removed first
    std::uint64_t size_bytes = 0;                    // the release's: exactly this many bytes
    std::string sha256;                              // the release's, lower-case hex
    std::uint64_t max_bytes = kMaxBundleBytes;       // the box's own cap: a bigger release is not fetched
    std::chrono::seconds connect_timeout{20};
    // No limit on the whole transfer (a big bundle on a slow clinic line may take hours):
    // it is given up when under low_speed_bytes a second arrive for stall_timeout.
    std::chrono::seconds stall_timeout{60};
    long low_speed_bytes = 1024;
    bool allow_loopback_http = false;                // tests only: plain http to 127.0.0.1 / localhost
};

struct Downloaded {
    std::filesystem::path file;                      // dest
    std::uint64_t resumed_from = 0;                  // bytes of an earlier .part that were kept
    std::uint64_t transferred = 0;                   // bytes this call received
};

struct DownloadRefused {
    enum class Why {
        BadRequest,     // the URL, size or digest given is unusable, or a redirect left https
        Network,        // no connection, cut or stalled: the .part is kept for a resume
        Http,           // an answer other than 200/206, or a 206 that does not continue the .part
        TooBig,         // the release exceeds the cap, or the server announced or sent more than size_bytes
        SizeMismatch,   // the server says its file (or what remains of it) has another size than size_bytes
        ShaMismatch,    // the whole file's SHA-256 is not the release's
        Disk,           // the .part could not be written, flushed or renamed
    } why;
    long http_status = 0;                            // with Http
    std::string detail;                              // one line for `update status` and the report
};

using DownloadResult = std::variant<Downloaded, DownloadRefused>;

DownloadResult download_bundle(const DownloadRequest& request);

std::filesystem::path part_path(const std::filesystem::path& dest);   // dest + ".part"

}  // namespace consult::update
