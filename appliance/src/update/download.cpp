#include "appliance/update/download.hpp"

#include "appliance/cloud/postgrest.hpp"
#include "appliance/file_digest.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

namespace consult::update {

namespace fs = std::filesystem;

namespace {

using Why = DownloadRefused::Why;

struct CurlEasyDeleter { void operator()(CURL* c) const { curl_easy_cleanup(c); } };
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

// An open file descriptor, closed when it goes.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() { if (fd_ >= 0) ::close(fd_); }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    bool ok() const { return fd_ >= 0; }

private:
    int fd_;
};

DownloadRefused refusal(Why why, std::string detail, long status = 0) { return {why, status, std::move(detail)}; }
std::string with_errno(const std::string& what) { return what + ": " + std::strerror(errno); }
std::string bytes(std::uint64_t n) { return std::to_string(n) + " bytes"; }

// One transfer's state, shared with curl's callbacks.
struct Transfer {
    const DownloadRequest& request;
    int fd;
    std::uint64_t offset;                          // where the body goes: the kept .part, or 0 after a 200
    CURL* easy = nullptr;
    std::uint64_t received = 0;
    std::optional<std::uint64_t> content_length;   // of the response whose headers are being read
    std::string content_range;
    bool body_started = false;
    std::optional<DownloadRefused> refused;        // set by a callback that stopped the transfer
    bool discard_part = false;                     // the .part's bytes cannot be built on
};

// Returns false, which makes curl stop the transfer.
bool stop(Transfer& t, DownloadRefused why, bool discard_part) {
    t.refused = std::move(why);
    t.discard_part = discard_part;
    return false;
}

std::optional<std::string_view> header_value(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':' || ::strncasecmp(line.data(), name.data(), name.size()))
        return std::nullopt;
    std::string_view v = line.substr(name.size() + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    return v;
}

std::optional<std::uint64_t> whole_number(std::string_view s) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return n;
}

// A 206 must continue the .part exactly and describe a file of the release's size.
std::optional<DownloadRefused> range_problem(const Transfer& t) {
    const std::uint64_t size = t.request.size_bytes;
    const std::string_view value = t.content_range;
    const auto range = value.starts_with("bytes ") ? cloud::parse_content_range(std::string(value.substr(6)))
                                                   : std::nullopt;
    if (range && range->total && std::uint64_t(*range->total) != size)
        return refusal(Why::SizeMismatch, "the server's file is " + bytes(*range->total) + ", the release's " + bytes(size));
    if (!range || !range->first || std::uint64_t(*range->first) != t.offset || std::uint64_t(*range->last) != size - 1)
        return refusal(Why::Http, "a 206 whose Content-Range does not continue the .part at byte " + std::to_string(t.offset), 206);
    return std::nullopt;
}

// An announced length must be what remains: more is refused before a byte is written.
std::optional<DownloadRefused> length_problem(const Transfer& t) {
    const std::uint64_t remaining = t.request.size_bytes - t.offset;
    if (!t.content_length || *t.content_length == remaining) return std::nullopt;
    const std::string said = "the server announced " + bytes(*t.content_length) + " where " + bytes(remaining) + " remain";
    return refusal(*t.content_length > remaining ? Why::TooBig : Why::SizeMismatch, said);
}

bool restart_at(int fd, std::uint64_t offset) {
    return ::ftruncate(fd, off_t(offset)) == 0 && ::lseek(fd, off_t(offset), SEEK_SET) == off_t(offset);
}

// At the end of a response's headers: decides where its body goes, or stops.
bool start_body(Transfer& t) {
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    if (status / 100 == 1 || status / 100 == 3) return true;   // an interim answer, or a redirect curl follows
    if (status == 416)   // the .part reaches past the server's file: it is shorter than the release
        return stop(t, refusal(Why::SizeMismatch, "the server's file ends before byte " + std::to_string(t.offset)), true);
    if (status != 200 && status != 206) return stop(t, refusal(Why::Http, "HTTP " + std::to_string(status), status), false);
    if (status == 200) t.offset = 0;                          // the whole file after all: start over
    if (auto bad = status == 206 ? range_problem(t) : std::nullopt) return stop(t, *bad, true);
    if (auto bad = length_problem(t)) return stop(t, *bad, true);
    if (!restart_at(t.fd, t.offset)) return stop(t, refusal(Why::Disk, with_errno("cannot position the .part")), true);
    t.body_started = true;
    return true;
}

size_t on_header_checked(char* p, size_t size, size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const std::string_view line(p, size * n);
    if (line.starts_with("HTTP/")) {   // a new response (after a redirect): its own headers only
        t.content_length.reset();
        t.content_range.clear();
    } else if (auto v = header_value(line, "content-length")) {
        t.content_length = whole_number(*v);
    } else if (auto v = header_value(line, "content-range")) {
        t.content_range = *v;
    } else if (line == "\r\n" || line == "\n") {
        if (!start_body(t)) return 0;
    }
    return size * n;
}

size_t on_body_checked(char* p, size_t size, size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const size_t len = size * n;
    if (!t.body_started) {   // the body of an answer that was not a 200 or 206 (a redirect not followed)
        long status = 0;
        curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
        stop(t, refusal(Why::Http, "HTTP " + std::to_string(status), status), false);
        return 0;
    }
    if (t.offset + t.received + len > t.request.size_bytes) {   // refused before a byte too many is written
        stop(t, refusal(Why::TooBig, "the server sent more than the release's " + bytes(t.request.size_bytes)), true);
        return 0;
    }
    for (size_t done = 0; done < len;) {
        const ssize_t w = ::write(t.fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            stop(t, refusal(Why::Disk, with_errno("cannot write the .part")), true);
            return 0;
        }
        done += size_t(w);
    }
    t.received += len;
    return len;
}

// libcurl calls these from C: nothing may be thrown through it. An exception (out of
// memory) ends the transfer like any other refusal to take the bytes.
size_t on_header(char* p, size_t size, size_t n, void* user) noexcept {
    try { return on_header_checked(p, size, n, user); } catch (...) { return 0; }
}
size_t on_body(char* p, size_t size, size_t n, void* user) noexcept {
    try { return on_body_checked(p, size, n, user); } catch (...) { return 0; }
}

CurlEasyPtr prepare(Transfer& t, char* error) {
    CurlEasyPtr easy(curl_easy_init());
    CURL* c = t.easy = easy.get();
    if (!c) return easy;
    const DownloadRequest& r = t.request;
    curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, r.allow_loopback_http ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);            // bundles often sit behind a CDN's redirect
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");  // ... to https only, even in tests
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::chrono::milliseconds(r.connect_timeout).count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, r.low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, long(r.stall_timeout.count()));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    // CURLOPT_RANGE rather than RESUME_FROM: a 200 instead of a 206 is ours to handle (start over).
    const std::string range = std::to_string(t.offset) + "-";
    if (t.offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());   // curl copies it
    return easy;
}

// Why the transfer did not bring a body to its end, or nothing when it did.
std::optional<DownloadRefused> transfer_problem(const Transfer& t, CURLcode rc, const char* error) {
    if (t.refused) return t.refused;
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS)
        return refusal(Why::BadRequest, std::string("redirected away from https or too often: ") + error);
    if (rc != CURLE_OK) return refusal(Why::Network, curl_easy_strerror(rc) + (*error ? std::string(": ") + error : ""));
    if (t.body_started) return std::nullopt;
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    return refusal(Why::Http, "HTTP " + std::to_string(status), status);
}

void sync_directory(const fs::path& dir) {
    FileDescriptor d(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.ok()) ::fsync(d.get());
}

// A .part of the release's size becomes `dest` only with the release's SHA-256.
DownloadResult verify_and_commit(const DownloadRequest& r, const fs::path& part, std::uint64_t resumed, std::uint64_t received) {
    std::error_code ec;
    FileDescriptor f(::open(part.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f.ok() || ::fsync(f.get()) != 0) return refusal(Why::Disk, with_errno("cannot flush " + part.string()));
    const std::string sha256 = sha256_file(part);
    if (sha256 != r.sha256) {
        fs::remove(part, ec);
        return refusal(Why::ShaMismatch, "the bundle's SHA-256 is " + (sha256.empty() ? "unreadable" : sha256) +
                                             ", the release's " + r.sha256);
    }
    if (std::rename(part.c_str(), r.dest.c_str()) != 0) return refusal(Why::Disk, with_errno("cannot rename to " + r.dest.string()));
    sync_directory(r.dest.parent_path());
    return Downloaded{r.dest, resumed, received};
}

DownloadResult fetch(const DownloadRequest& r, const fs::path& part, std::uint64_t kept) {
    // O_NOFOLLOW: never written through a link planted under the .part's name.
    FileDescriptor fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.ok()) return refusal(Why::Disk, with_errno("cannot open " + part.string()));
    Transfer t{r, fd.get(), kept};
    char error[CURL_ERROR_SIZE] = {0};
    const CurlEasyPtr easy = prepare(t, error);
    if (!easy) return refusal(Why::Network, "libcurl could not start a transfer");
    const CURLcode rc = curl_easy_perform(easy.get());
    std::error_code ec;
    if (auto problem = transfer_problem(t, rc, error)) {
        if (t.discard_part || t.offset + t.received == 0) fs::remove(part, ec);   // nothing to resume from
        return *problem;
    }
    // Short without an announced length (a body that ends when the connection closes):
    // a cut like any other, kept for a resume. An announced one was checked in start_body.
    if (const std::uint64_t got = t.offset + t.received; got != r.size_bytes)
        return refusal(Why::Network, "the connection closed after " + bytes(got) + " of " + bytes(r.size_bytes));
    return verify_and_commit(r, part, t.offset, t.received);
}

std::optional<DownloadRefused> request_problem(const DownloadRequest& r) {
    if (auto why = bundle_url_problem(r.url, r.allow_loopback_http)) return refusal(Why::BadRequest, "the bundle URL is " + *why);
    if (!is_sha256_hex(r.sha256)) return refusal(Why::BadRequest, "the release's sha256 is not 64 lower-case hex digits");
    if (r.size_bytes == 0) return refusal(Why::BadRequest, "the release's size is 0");
    if (r.size_bytes > r.max_bytes)
        return refusal(Why::TooBig, "the release's " + bytes(r.size_bytes) + " exceed the cap of " + bytes(r.max_bytes));
    if (r.dest.filename().empty()) return refusal(Why::BadRequest, "no file name to download to");
    return std::nullopt;
}

}  // namespace

fs::path part_path(const fs::path& dest) { return fs::path(dest).concat(".part"); }

DownloadResult download_bundle(const DownloadRequest& r) {
    if (auto problem = request_problem(r)) return *problem;
    std::error_code ec;
    fs::remove(r.dest, ec);   // `dest` names only a file this call verified
    if (ec) return refusal(Why::Disk, "cannot remove the old " + r.dest.string() + ": " + ec.message());
    const fs::path part = part_path(r.dest);
    std::uint64_t kept = fs::file_size(part, ec);
    if (ec) kept = 0;
    if (kept == r.size_bytes) {   // complete already (cut before the rename): no request if it verifies
        auto done = verify_and_commit(r, part, kept, 0);
        if (std::holds_alternative<Downloaded>(done)) return done;
    }
    if (kept >= r.size_bytes) {   // complete but wrong, or longer than the release: start over
        fs::remove(part, ec);
        kept = 0;
    }
    return fetch(r, part, kept);
}

}  // namespace consult::update
