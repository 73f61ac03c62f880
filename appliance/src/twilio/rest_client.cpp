#include "appliance/twilio/rest_client.hpp"

#include "appliance/log.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <random>

namespace consult::twilio {

namespace {

constexpr int kRateLimited = 20429;

std::string account_path(const Settings& s, const char* resource) {
    std::string base = s.api_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/2010-04-01/Accounts/" + net::url_escape(s.account_sid) + "/" + resource;
}

net::HttpRequest post_form(const Settings& s, std::string url, std::vector<std::pair<std::string, std::string>> fields) {
    net::HttpRequest r;
    r.method = "POST";
    r.url = std::move(url);
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    r.body = net::form_encode(fields);
    r.basic_user = s.username;
    r.basic_password = s.password;
    r.timeout = s.request_timeout;
    return r;
}

std::optional<long> retry_after_seconds(const net::HttpResponse& r) {
    auto h = r.header("retry-after");
    if (!h) return std::nullopt;
    long v = 0;
    auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
    if (ec != std::errc() || p != h->data() + h->size() || v < 0) return std::nullopt;   // HTTP dates: back off instead
    return v;
}

std::chrono::milliseconds backoff(int attempt, const Settings& s) {
    // base * 2^(attempt-1), capped, with up to a quarter of jitter so many boxes do not retry in step.
    auto wait = s.backoff_base * (1LL << std::min(attempt - 1, 20));
    wait = std::min<std::chrono::milliseconds>(wait, s.backoff_max);
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<long long> jitter(0, wait.count() / 4);
    return wait + std::chrono::milliseconds(jitter(rng));
}

}  // namespace

Error parse_error(const net::HttpResponse& r) {
    Error e;
    e.http_status = r.status;
    if (r.transport_failed()) {
        e.message = r.error.empty() ? "no response from Twilio" : r.error;
        return e;
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object()) {
        if (j.contains("code") && j["code"].is_number_integer()) e.code = j["code"].get<int>();
        if (j.contains("message") && j["message"].is_string()) e.message = j["message"];
        if (e.message.empty() && j.contains("detail") && j["detail"].is_string()) e.message = j["detail"];   // RFC 9457 form
        if (j.contains("more_info") && j["more_info"].is_string()) e.more_info = j["more_info"];
    }
    if (e.message.empty()) e.message = "Twilio answered HTTP " + std::to_string(r.status);
    return e;
}

Verdict judge(const net::HttpResponse& r, int attempt, const Settings& s) {
    const bool last = attempt >= s.max_attempts;
    if (r.status >= 200 && r.status < 300) return {Verdict::Done, {}};
    const bool rate_limited = r.status == 429 || (r.status >= 400 && parse_error(r).code == kRateLimited);
    if (rate_limited || r.transport_failed() || r.status >= 500) {
        if (last) return {Verdict::Give_up, {}};
        std::chrono::milliseconds wait = backoff(attempt, s);
        if (auto after = retry_after_seconds(r))
            wait = std::min<std::chrono::milliseconds>(std::chrono::seconds(*after), s.backoff_max);
        return {Verdict::Retry, wait};
    }
    return {Verdict::Give_up, {}};   // 4xx: retrying would get the same answer
}

net::HttpRequest message_request(const Settings& s, const std::string& to, const std::string& body) {
    std::vector<std::pair<std::string, std::string>> f{{"To", to}, {"Body", body}};
    if (!s.messaging_service_sid.empty()) f.emplace_back("MessagingServiceSid", s.messaging_service_sid);
    else f.emplace_back("From", s.from_number);
    if (!s.status_callback_url.empty()) f.emplace_back("StatusCallback", s.status_callback_url);
    return post_form(s, account_path(s, "Messages.json"), std::move(f));
}

net::HttpRequest token_request(const Settings& s, std::optional<int> ttl_seconds) {
    std::vector<std::pair<std::string, std::string>> f;
    if (ttl_seconds) f.emplace_back("Ttl", std::to_string(*ttl_seconds));
    return post_form(s, account_path(s, "Tokens.json"), std::move(f));
}

struct RestClient::Call {
    net::HttpRequest request;
    std::function<void(Result)> done;
    int attempts = 0;
    const char* what;
};

RestClient::RestClient(Settings settings, net::HttpClient& http) : settings_(std::move(settings)), http_(http) {}

RestClient::~RestClient() {
    *alive_ = false;
    for (guint t : timers_) g_source_remove(t);
}

void RestClient::create_message(const std::string& to, const std::string& body, std::function<void(Result)> done) {
    attempt(std::make_shared<Call>(Call{message_request(settings_, to, body), std::move(done), 0, "message"}));
}

void RestClient::create_token(std::optional<int> ttl_seconds, std::function<void(Result)> done) {
    attempt(std::make_shared<Call>(Call{token_request(settings_, ttl_seconds), std::move(done), 0, "token"}));
}

void RestClient::attempt(std::shared_ptr<Call> call) {
    ++call->attempts;
    http_.send(call->request, [this, call, alive = std::weak_ptr<bool>(alive_)](net::HttpResponse r) {
        if (alive.expired()) return;
        const Verdict v = judge(r, call->attempts, settings_);
        if (v.kind == Verdict::Retry) {
            log::warning(std::string("Twilio ") + call->what + " request failed; retrying",
                         {{"HTTP_STATUS", std::to_string(r.status)}, {"ATTEMPT", std::to_string(call->attempts)},
                          {"RETRY_MS", std::to_string(v.wait.count())}});
            // The timer owns a copy of the call; it is dropped with the client if never fired.
            struct Pending { RestClient* self; std::shared_ptr<Call> call; guint id = 0; };
            auto* p = new Pending{this, call};
            p->id = g_timeout_add_full(G_PRIORITY_DEFAULT, guint(v.wait.count()), [](gpointer data) -> gboolean {
                auto* pending = static_cast<Pending*>(data);
                auto& timers = pending->self->timers_;
                timers.erase(std::remove(timers.begin(), timers.end(), pending->id), timers.end());
                pending->self->attempt(pending->call);
                return G_SOURCE_REMOVE;
            }, p, [](gpointer data) { delete static_cast<Pending*>(data); });
            timers_.push_back(p->id);
            return;
        }
        Result out;
        out.attempts = call->attempts;
        out.ok = v.kind == Verdict::Done;
        if (!out.ok) out.error = parse_error(r);
        out.response = std::move(r);
        call->done(std::move(out));
    });
}

}  // namespace consult::twilio
