#include "appliance/notify/smtp_sender.hpp"

#include "appliance/hex.hpp"

#include "hwconfig/main_loop.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace consult::notify {

namespace {

struct CurlEasyDeleter { void operator()(CURL* c) const { curl_easy_cleanup(c); } };
struct CurlSlistDeleter { void operator()(curl_slist* l) const { curl_slist_free_all(l); } };
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// A header value on one line: CR and LF would let a value start new headers.
std::string one_line(std::string s) {
    for (char& c : s) if (c == '\r' || c == '\n') c = ' ';
    return s;
}

std::string encoded_word(const std::string& text) {
    bool ascii = true;
    for (unsigned char c : text) ascii &= c >= 0x20 && c < 0x7f;
    if (ascii) return text;
    std::string out(4 * ((text.size() + 2) / 3), '\0');
    out.resize(size_t(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()), int(text.size()))));
    return "=?UTF-8?B?" + out + "?=";
}

std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

struct Upload {
    std::string data;
    size_t pos = 0;
};

size_t read_upload(char* buf, size_t size, size_t n, void* user) {
    auto* u = static_cast<Upload*>(user);
    const size_t take = std::min(size * n, u->data.size() - u->pos);
    std::memcpy(buf, u->data.data() + u->pos, take);
    u->pos += take;
    return take;
}

std::string random_id() {
    unsigned char b[12];
    RAND_bytes(b, sizeof b);
    return to_hex(b);
}

bool is_loopback_url(const std::string& url) {
    for (const char* h : {"://127.0.0.1", "://localhost", "://[::1]"})
        if (url.find(h) != std::string::npos) return true;
    return false;
}

}  // namespace

std::string format_email(const Email& e, const std::string& from, std::time_t date, const std::string& message_id) {
    char when[64];
    std::tm tm{};
    gmtime_r(&date, &tm);
    std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    std::string body;
    // Lines end in CRLF; a line of a lone '.' is doubled by curl itself.
    for (size_t i = 0; i < e.body.size(); ++i) {
        if (e.body[i] == '\n' && (i == 0 || e.body[i - 1] != '\r')) body += '\r';
        body += e.body[i];
    }
    return "Date: " + std::string(when) + "\r\n" +
           "From: " + one_line(from) + "\r\n" +
           "To: " + one_line(e.to) + "\r\n" +
           "Message-ID: <" + one_line(message_id) + ">\r\n" +
           "Subject: " + encoded_word(one_line(e.subject)) + "\r\n" +
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "Auto-Submitted: auto-generated\r\n"
           "\r\n" + body + (body.ends_with("\r\n") ? "" : "\r\n");
}

namespace {

int abort_when_stopping(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return flag && static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

SmtpResult perform(const SmtpSettings& s, const Email& e, const std::atomic<bool>* cancel) {
    CurlEasyPtr easy(curl_easy_init());
    if (!easy) return {false, "libcurl could not start"};
    CURL* c = easy.get();
    Upload upload{format_email(e, s.from, std::time(nullptr), random_id() + "@" + domain_of(s.from)), 0};
    CurlSlistPtr rcpt(curl_slist_append(nullptr, ("<" + one_line(e.to) + ">").c_str()));
    const std::string mail_from = "<" + one_line(s.from) + ">";
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(s.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(long(s.timeout.count()), 10000L));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
    // The password never crosses the network in clear: STARTTLS is required off this box.
    if (!s.url.starts_with("smtps://"))
        curl_easy_setopt(c, CURLOPT_USE_SSL, is_loopback_url(s.url) ? long(CURLUSESSL_TRY) : long(CURLUSESSL_ALL));
    if (!s.password.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s.username.empty() ? s.from.c_str() : s.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, s.password.c_str());
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) return {true, {}};
    return {false, error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))};
}

}  // namespace

SmtpResult SmtpSender::send_blocking(const SmtpSettings& settings, const Email& email) {
    return perform(settings, email, nullptr);
}

struct SmtpSender::Worker {
    SmtpSettings settings;
    GMainContext* context;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::pair<Email, std::function<void(SmtpResult)>>> queue;
    std::atomic<bool> stopping = false;
    std::thread thread;

    void run(std::shared_ptr<Worker> self) {
        for (;;) {
            std::pair<Email, std::function<void(SmtpResult)>> job;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) return;
                job = std::move(queue.front());
                queue.pop_front();
            }
            auto result = perform(settings, job.first, &stopping);
            // Delivered on the owner's context; skipped when the sender is gone by then.
            std::weak_ptr<Worker> worker = self;
            consult::post(context, std::weak_ptr<void>(worker),
                          [worker, cb = std::move(job.second), r = std::make_shared<SmtpResult>(std::move(result))] {
                              if (auto w = worker.lock(); w && !w->stopping) cb(std::move(*r));
                          }, "email sent");
        }
    }
};

SmtpSender::SmtpSender(SmtpSettings settings, GMainContext* deliver_on) : worker_(std::make_shared<Worker>()) {
    worker_->settings = std::move(settings);
    worker_->context = deliver_on ? deliver_on : g_main_context_ref_thread_default();
    if (deliver_on) g_main_context_ref(deliver_on);
    worker_->thread = std::thread([w = worker_.get(), self = std::weak_ptr<Worker>(worker_)] {
        if (auto s = self.lock()) w->run(s);
    });
}

SmtpSender::~SmtpSender() {
    {
        std::lock_guard lock(worker_->mutex);
        worker_->stopping = true;
        worker_->queue.clear();
    }
    worker_->wake.notify_all();
    if (worker_->thread.joinable()) worker_->thread.join();
    g_main_context_unref(worker_->context);
}

void SmtpSender::send(Email email, std::function<void(SmtpResult)> done) {
    {
        std::lock_guard lock(worker_->mutex);
        worker_->queue.emplace_back(std::move(email), std::move(done));
    }
    worker_->wake.notify_one();
}

}  // namespace consult::notify
