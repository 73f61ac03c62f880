#include "appliance/net/http_client.hpp"

#include "hwconfig/c_boundary.hpp"

#include "appliance/hex.hpp"
#include "appliance/net/context_queue.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

namespace consult::net {

namespace {

constexpr size_t kMaxResponseBytes = 64u << 20;   // a reply bigger than this is refused, not buffered
constexpr long kMaxConnectMs = 5000;

struct CurlEasyDeleter { void operator()(CURL* c) const { curl_easy_cleanup(c); } };
struct CurlSlistDeleter { void operator()(curl_slist* l) const { curl_slist_free_all(l); } };
struct CurlMultiDeleter { void operator()(CURLM* m) const { curl_multi_cleanup(m); } };
struct FileDeleter { void operator()(std::FILE* f) const { std::fclose(f); } };
struct DigestDeleter { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlMultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// One request on its way: the easy handle and everything curl points into.
struct Transfer {
    HttpRequest request;
    std::function<void(HttpResponse)> on_done;
    HttpResponse response;
    CurlEasyPtr easy;
    CurlSlistPtr headers;
    char error[CURL_ERROR_SIZE] = {0};
    bool too_big = false;
    std::unique_ptr<std::FILE, FileDeleter> upload;       // body_file, positioned at its offset
    std::uint64_t upload_left = 0;
    bool upload_failed = false;
    std::unique_ptr<EVP_MD_CTX, DigestDeleter> digest;    // digest_only
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    long code = 0;
    if (t->digest) curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &code);
    if (t->digest && code < 300) {   // an error's body is kept as usual, to be read
        EVP_DigestUpdate(t->digest.get(), p, size * n);
        t->response.body_bytes += size * n;
        return size * n;
    }
    if (t->response.body.size() + size * n > kMaxResponseBytes) {
        t->too_big = true;
        return 0;
    }
    t->response.body.append(p, size * n);
    return size * n;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (!t->upload) {
        t->upload_failed = true;
        return CURL_READFUNC_ABORT;
    }
    const size_t want = size_t(std::min<std::uint64_t>(t->upload_left, size * n));
    const size_t got = want ? std::fread(buffer, 1, want, t->upload.get()) : 0;
    if (got < want) {   // the file is shorter than the range: better no request than a wrong one
        t->upload_failed = true;
        return CURL_READFUNC_ABORT;
    }
    t->upload_left -= got;
    return got;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(p, size * n);
    if (line.starts_with("HTTP/")) {
        t->response.headers.clear();   // a new response (after 100 Continue): only the last one counts
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        t->response.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    return size * n;
}

// Sets up the easy handle for the request; the Transfer must outlive the transfer.
void prepare(Transfer& t) {
    t.easy.reset(curl_easy_init());
    CURL* c = t.easy.get();
    const HttpRequest& r = t.request;
    curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");   // loopback never goes through a proxy
    const long total = std::max<long>(1, long(r.timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(total, kMaxConnectMs));
    if (r.stall_timeout.count() > 0) {
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, long(r.stall_timeout.count()));
    }
    if (r.digest_only) {
        t.digest.reset(EVP_MD_CTX_new());
        if (t.digest) EVP_DigestInit_ex(t.digest.get(), EVP_sha256(), nullptr);
    }
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");

    const std::string method = [&] {
        std::string m = r.method;
        for (char& ch : m) ch = char(std::toupper(static_cast<unsigned char>(ch)));
        return m;
    }();
    if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (r.body_file) {
        // Opened here, on the client's thread: the caller's loop never waits for the disk.
        t.upload.reset(std::fopen(r.body_file->path.c_str(), "rb"));
        if (t.upload && fseeko(t.upload.get(), off_t(r.body_file->offset), SEEK_SET) != 0) t.upload.reset();
        t.upload_left = r.body_file->length;
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        if (method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, curl_off_t(r.body_file->length));
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
    } else if (method == "DELETE" && r.body.empty()) {
        // Nothing to send: no body, so no form Content-Type a server has no parser for.
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method != "GET" || !r.body.empty()) {
        if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(r.body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
    }
    if (!r.basic_user.empty()) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, r.basic_user.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, r.basic_password.c_str());
    }
    curl_slist* list = nullptr;
    for (const auto& [name, value] : r.headers)
        list = curl_slist_append(list, (name + (value.empty() ? ";" : ": " + value)).c_str());
    list = curl_slist_append(list, "Expect:");   // no 100-continue round trip for small bodies
    t.headers.reset(list);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
}

// Fills in status or error once curl is done with the transfer.
void finish(Transfer& t, CURLcode rc) {
    t.upload.reset();
    if (rc == CURLE_OK) {
        curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &t.response.status);
        if (t.digest) {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            EVP_DigestFinal_ex(t.digest.get(), md, &len);
            t.response.body_sha256 = to_hex(std::span<const unsigned char>(md, len));
        }
        return;
    }
    t.response.status = 0;
    t.response.body.clear();
    t.response.refused = rc == CURLE_COULDNT_CONNECT;
    if (t.upload_failed) t.response.error = "cannot read the request body from its file";
    else if (t.too_big) t.response.error = "response larger than " + std::to_string(kMaxResponseBytes) + " bytes";
    else if (rc == CURLE_OPERATION_TIMEDOUT) t.response.error = "timeout after " + std::to_string(t.request.timeout.count()) + " ms";
    else t.response.error = std::string(curl_easy_strerror(rc)) + (t.error[0] ? std::string(": ") + t.error : "");
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return v;
    return std::nullopt;
}

// The worker thread and what it shares with the owner. Deliveries hold a reference,
// so the state outlives the client until the last queued callback has run (or been dropped).
struct HttpClient::Worker {
    explicit Worker(GMainContext* c) : deliveries(c) {}
    ContextQueue deliveries;
    std::atomic<bool> alive{true};      // false once the client is gone: callbacks are dropped
    std::atomic<size_t> in_flight{0};
    std::mutex mutex;
    std::deque<std::unique_ptr<Transfer>> incoming;
    bool stopping = false;
    CurlMultiPtr multi{curl_multi_init()};
    std::thread thread;

    void run();
    void deliver(std::unique_ptr<Transfer> t, const std::shared_ptr<Worker>& self);
    std::weak_ptr<Worker> weak_self;
};

void HttpClient::Worker::deliver(std::unique_ptr<Transfer> t, const std::shared_ptr<Worker>& self) {
    t->easy.reset();
    t->headers.reset();
    std::shared_ptr<Transfer> done(std::move(t));
    deliveries.post([self, done] {
        if (!self->alive.load()) return;
        self->in_flight.fetch_sub(1);
        auto f = std::move(done->on_done);
        // Every caller's answer handler runs here, from the main loop: one that throws is
        // reported, never the end of the daemon.
        at_boundary("http response", [&] { f(std::move(done->response)); });
    });
}

void HttpClient::Worker::run() {
    std::vector<std::unique_ptr<Transfer>> active;
    for (;;) {
        {
            std::lock_guard lock(mutex);
            if (stopping) break;
            while (!incoming.empty()) {
                auto t = std::move(incoming.front());
                incoming.pop_front();
                prepare(*t);
                curl_easy_setopt(t->easy.get(), CURLOPT_PRIVATE, t.get());
                curl_multi_add_handle(multi.get(), t->easy.get());
                active.push_back(std::move(t));
            }
        }
        int running = 0;
        curl_multi_perform(multi.get(), &running);
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* easy = msg->easy_handle;
            const CURLcode rc = msg->data.result;
            curl_multi_remove_handle(multi.get(), easy);
            auto it = std::find_if(active.begin(), active.end(), [&](const auto& t) { return t->easy.get() == easy; });
            if (it == active.end()) continue;
            std::unique_ptr<Transfer> t = std::move(*it);
            active.erase(it);
            finish(*t, rc);
            if (auto self = weak_self.lock()) deliver(std::move(t), self);
        }
        curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
    }
    for (auto& t : active) curl_multi_remove_handle(multi.get(), t->easy.get());
}

HttpClient::HttpClient(GMainContext* deliver_on) : worker_(std::make_shared<Worker>(deliver_on)) {
    worker_->weak_self = worker_;
    worker_->thread = std::thread([w = worker_.get()] { w->run(); });
}

HttpClient::~HttpClient() {
    worker_->alive = false;
    {
        std::lock_guard lock(worker_->mutex);
        worker_->stopping = true;
    }
    curl_multi_wakeup(worker_->multi.get());
    if (worker_->thread.joinable()) worker_->thread.join();
    worker_->deliveries.drop_pending();   // results nobody will read: dropped with their callbacks
}

void HttpClient::send(HttpRequest request, std::function<void(HttpResponse)> on_done) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->on_done = std::move(on_done);
    worker_->in_flight.fetch_add(1);
    {
        std::lock_guard lock(worker_->mutex);
        worker_->incoming.push_back(std::move(t));
    }
    curl_multi_wakeup(worker_->multi.get());
}

size_t HttpClient::in_flight() const { return worker_->in_flight.load(); }

HttpResponse HttpClient::send_blocking(const HttpRequest& request) {
    Transfer t;
    t.request = request;
    prepare(t);
    finish(t, curl_easy_perform(t.easy.get()));
    return std::move(t.response);
}

std::string url_escape(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (alnum || c == '-' || c == '.' || c == '_' || c == '~') {
            out += char(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += url_escape(k);
        out += '=';
        out += url_escape(v);
    }
    return out;
}

}  // namespace consult::net
