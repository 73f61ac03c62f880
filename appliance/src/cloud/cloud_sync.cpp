#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/provision.hpp"

#include "appliance/cloud/pull.hpp"
#include "appliance/credentials.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/store/cloud_rows.hpp"

#include <algorithm>
#include <map>

namespace consult::cloud {

namespace ch = std::chrono;

namespace {

constexpr size_t kApplyChunk = 100;   // pulled rows per transaction (bounds how long the write lock is held)
constexpr int kPushWindow = 500;    // outbox entries looked at per round (bounds the work per main-loop turn)

std::string cursor_id(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }


}  // namespace

struct CloudSync::Run {
    Endpoint endpoint;
    int pulled = 0, pushed = 0;
    std::map<std::string, std::set<std::string>> missing_columns;   // late columns this cloud lacks, by table
};

CloudSync::CloudSync(store::Database& db, std::filesystem::path state_dir, SyncSettings settings, GMainContext* context)
    : db_(db), state_dir_(std::move(state_dir)), settings_(std::move(settings)),
      context_(context ? g_main_context_ref(context) : g_main_context_ref_thread_default()), http_(context_),
      writer_(db.filename(), context_),
      outbox_(db), state_(SyncState::load(state_dir_)) {
    settings_.page_size = std::clamp(settings_.page_size, 1, 1000);
    settings_.poll_seconds = std::max(1, settings_.poll_seconds);
}

CloudSync::~CloudSync() {
    if (timer_)
        if (GSource* s = g_main_context_find_source_by_id(context_, timer_)) g_source_destroy(s);
    g_main_context_unref(context_);
}

std::optional<std::string> CloudSync::off_reason() {
    if (settings_.url.empty()) return "no [cloud] url configured";
    if (settings_.clinic_id.empty()) return "no [cloud] clinic_id configured";
    Credentials creds(state_dir_);
    for (const char* name : {"cloud-api-key", "cloud-device-token"}) {
        auto v = creds.read(name);
        if (!v) return std::string(name) + ": " + v.error();
        if (!*v) return std::string("not paired: no ") + name + " credential (run consultctl pair)";
    }
    return std::nullopt;
}

std::optional<Endpoint> CloudSync::endpoint() {
    Credentials creds(state_dir_);
    auto key = creds.read("cloud-api-key");
    auto token = creds.read("cloud-device-token");
    if (!key || !*key || !token || !*token) return std::nullopt;
    return Endpoint{settings_.url, **key, **token, settings_.request_timeout};
}

bool CloudSync::enabled() { return !off_reason(); }

void CloudSync::start() { schedule(ch::milliseconds(0)); }

void CloudSync::sync_now() {
    if (running_) again_ = true;
    else schedule(ch::milliseconds(0));
}

void CloudSync::schedule(ch::milliseconds delay) {
    if (timer_) {
        if (GSource* s = g_main_context_find_source_by_id(context_, timer_)) g_source_destroy(s);
        timer_ = 0;
    }
    GSource* source = g_timeout_source_new(guint(std::max<long>(0, delay.count())));
    g_source_set_callback(source, [](gpointer p) -> gboolean {
        auto* self = static_cast<CloudSync*>(p);
        self->timer_ = 0;
        self->timed([self] { self->begin_run(); });
        return G_SOURCE_REMOVE;
    }, this, nullptr);
    timer_ = g_source_attach(source, context_);
    g_source_unref(source);
}

template <typename F>
void CloudSync::timed(F step) {
    const auto t0 = ch::steady_clock::now();
    step();
    longest_step_ = std::max(longest_step_, ch::duration_cast<ch::microseconds>(ch::steady_clock::now() - t0));
}

void CloudSync::save_state() {
    // Written (and fsynced) by the store worker, in order with the rows it describes.
    writer_.post([state = state_, dir = state_dir_](store::Database&) {
                     if (!state.save(dir)) log::warning("cloud sync: cannot write " + SyncState::file(dir).string());
                 },
                 [](const std::string&) {});
}

void CloudSync::pair_with(std::string url, std::string clinic_id) {
    settings_.url = std::move(url);
    settings_.clinic_id = std::move(clinic_id);
    log::info("cloud sync: paired with clinic " + settings_.clinic_id + " at " + settings_.url);
    sync_now();
}

void CloudSync::record_error(const std::string& what) {
    state_.last_error = what;
    state_.last_error_at = domain::now_iso();
    log::warning("cloud sync: " + what);
}

void CloudSync::need_repair(const ServerError& e) {
    state_.repair_needed = true;
    state_.repair_reason = e.summary();
    if (run_) state_.paired_fingerprint = credentials_fingerprint(run_->endpoint.api_key, run_->endpoint.device_token);
    record_error("the cloud refused this appliance's credentials (" + e.summary() + "); re-pair with consultctl pair");
}

void CloudSync::begin_run() {
    if (running_) { again_ = true; return; }
    if (off_reason()) {   // off: nothing to do; check again later in case it gets paired
        schedule(ch::seconds(settings_.poll_seconds));
        return;
    }
    auto ep = endpoint();
    if (!ep) { schedule(ch::seconds(settings_.poll_seconds)); return; }
    const std::string fingerprint = credentials_fingerprint(ep->api_key, ep->device_token);
    if (state_.repair_needed) {
        if (fingerprint == state_.paired_fingerprint) {   // same refused credentials: wait for pairing
            schedule(ch::seconds(settings_.poll_seconds));
            return;
        }
        state_.repair_needed = false;
        state_.repair_reason.clear();
        log::info("cloud sync: new credentials; resuming");
    }
    state_.paired_fingerprint = fingerprint;
    running_ = true;
    run_ = std::make_unique<Run>(Run{*ep});
    push_next();
}

void CloudSync::end_run(const std::optional<std::string>& error) {
    ch::milliseconds delay = ch::seconds(settings_.poll_seconds);
    if (error) {
        delay = std::min(delay, backoff(push_failures_, std::uniform_real_distribution<double>(0, 1)(random_)));
        if (push_not_before_) {
            auto wait = ch::duration_cast<ch::milliseconds>(*push_not_before_ - ch::steady_clock::now());
            delay = std::max(delay, wait);   // Retry-After may be longer than the poll interval
        }
    } else {
        push_failures_ = 0;
        push_not_before_.reset();
        next_attempt_at_.reset();
    }
    if (run_ && (run_->pulled || run_->pushed))
        log::info("cloud sync: pushed " + std::to_string(run_->pushed) + ", pulled " + std::to_string(run_->pulled) + " rows");
    run_.reset();
    running_ = false;
    save_state();
    if (state_.repair_needed) delay = ch::seconds(settings_.poll_seconds);
    else if (again_) delay = ch::milliseconds(0);
    again_ = false;
    schedule(delay);
    if (on_run_end_) on_run_end_();
}

void CloudSync::push_next() {
    if (push_not_before_ && ch::steady_clock::now() < *push_not_before_) return pull_table(0);
    // Read on the writer's connection: it sees its own deletes, whatever the main connection holds open.
    auto entries = std::make_shared<std::vector<OutboxEntry>>();
    writer_.post([entries](store::Database& db) { *entries = store::OutboxStore(db).pending(kPushWindow); },
                 [this, entries](const std::string& error) {
                     timed([&] {
                         if (!error.empty()) {
                             record_error("outbox: " + error);
                             return end_run(state_.last_error);
                         }
                         send_window(std::move(*entries));
                     });
                 });
}

void CloudSync::send_window(std::vector<OutboxEntry> entries) {
    if (entries.empty()) return pull_table(0);
    size_t max_rows = size_t(settings_.page_size);
    if (entries.front().seq <= solo_until_seq_) {   // find the row the cloud refused: one at a time
        std::erase_if(entries, [&](const OutboxEntry& e) { return e.seq > solo_until_seq_; });
        max_rows = 1;
    }
    send_batch(std::make_shared<std::vector<PushBatch>>(plan_batches(entries, max_rows)), 0);
}

void CloudSync::send_batch(std::shared_ptr<std::vector<PushBatch>> batches, size_t index) {
    if (index >= batches->size()) return push_next();
    const PushBatch& b = (*batches)[index];
    net::HttpRequest req;
    if (b.is_delete) {
        std::vector<std::string> ids;
        for (const auto& row : b.rows) ids.push_back(row.value("id", ""));
        req = delete_request(run_->endpoint, b.table, ids);
    } else {
        req = upsert_request(run_->endpoint, b.table, b.rows);
    }
    http_.send(std::move(req), [this, batches, index](net::HttpResponse r) {
        timed([&] { on_push_reply(batches, index, r); });
    });
}

void CloudSync::on_push_reply(std::shared_ptr<std::vector<PushBatch>> batches, size_t index, const net::HttpResponse& r) {
    const PushBatch& b = (*batches)[index];
    // Outbox writes go through the store worker; the next step waits for their commit.
    auto then = [this](std::function<void()> next) {
        return [this, next = std::move(next)](const std::string& error) {
            timed([&] {
                if (error.empty()) return next();
                record_error("outbox: " + error);
                end_run(state_.last_error);
            });
        };
    };
    switch (classify(r)) {
    case Outcome::Done:
        return writer_.post([seqs = b.seqs](store::Database& db) { store::OutboxStore(db).delivered(seqs); },
                            then([this, batches, index] {
                                const auto rows = long((*batches)[index].rows.size());
                                run_->pushed += int(rows);
                                state_.pushed_rows += rows;
                                state_.last_push_at = domain::now_iso();
                                push_failures_ = 0;
                                send_batch(batches, index + 1);
                            }));
    case Outcome::Retry: {
        const ServerError e = parse_error(r);
        auto delay = backoff(push_failures_++, std::uniform_real_distribution<double>(0, 1)(random_));
        if (auto ra = retry_after(r, std::time(nullptr))) delay = std::max<ch::milliseconds>(delay, *ra);
        push_not_before_ = ch::steady_clock::now() + delay;
        next_attempt_at_ = domain::iso_in(delay);
        record_error("push " + b.table + ": " + e.summary() + "; retrying at " + *next_attempt_at_);
        return writer_.post([seqs = b.seqs, why = e.summary(), at = *next_attempt_at_](store::Database& db) {
                                store::OutboxStore(db).failed(seqs, why, at);
                            },
                            then([this] { end_run(state_.last_error); }));
    }
    case Outcome::Unauthorized:
        need_repair(parse_error(r));
        return end_run(state_.last_error);
    case Outcome::Rejected: {
        if (b.rows.size() > 1) {   // which row? send them one by one
            solo_until_seq_ = std::max(solo_until_seq_, *std::max_element(b.seqs.begin(), b.seqs.end()));
            return push_next();
        }
        const ServerError e = parse_error(r);
        const std::string detail = e.summary() + (e.details.empty() ? "" : " (" + e.details.substr(0, 300) + ")");
        const std::string row_id = b.rows.empty() ? "" : b.rows[0].value("id", "");
        log::warning("cloud sync: the cloud refused a row; parked", {{"TABLE", b.table}, {"ROW_ID", row_id},
                                                                      {"ERROR", e.summary()}});
        state_.last_error = "parked " + b.table + " " + row_id + ": " + e.summary();
        state_.last_error_at = domain::now_iso();
        return writer_.post([seqs = b.seqs, detail](store::Database& db) {
                                store::OutboxStore outbox(db);
                                for (auto seq : seqs) outbox.park(seq, detail);
                            },
                            then([this, batches, index] { send_batch(batches, index + 1); }));
    }
    }
}

void CloudSync::pull_table(size_t index) {
    const auto& tables = pulled_tables();
    if (index >= tables.size()) {
        state_.last_pull_at = domain::now_iso();
        return end_run(std::nullopt);
    }
    const PulledTable& t = tables[index];
    ReadQuery q;
    q.table = t.table;
    q.select = t.select_without(run_->missing_columns[t.table]);
    q.page_size = settings_.page_size;
    q.after = state_.cursors[t.table];
    q.filters.emplace_back(t.clinic_column, "eq." + settings_.clinic_id);
    q.filters.insert(q.filters.end(), t.filters.begin(), t.filters.end());
    http_.send(read_request(run_->endpoint, q), [this, index](net::HttpResponse r) {
        timed([&] { on_pull_reply(index, r); });
    });
}

void CloudSync::on_pull_reply(size_t index, const net::HttpResponse& r) {
    const PulledTable& t = pulled_tables()[index];
    switch (classify(r)) {
    case Outcome::Done: break;
    case Outcome::Unauthorized:
        need_repair(parse_error(r));
        return end_run(state_.last_error);
    case Outcome::Retry:
        ++push_failures_;
        [[fallthrough]];
    case Outcome::Rejected: {
        const ServerError e = parse_error(r);
        if (const auto* late = t.missing_late_column(e.code, e.message)) {   // a cloud not migrated yet: read without it
            const auto& [column, migration] = *late;
            if (run_->missing_columns[t.table].insert(column).second) {
                if (warned_missing_.insert(t.table + "." + column).second)
                    log::warning("cloud sync: the clinic's cloud has no " + t.table + "." + column +
                                     "; reading without it until cloud/migrations/" + migration + " is applied",
                                 {{"TABLE", t.table}});
                return pull_table(index);
            }
        }
        record_error("pull " + t.table + ": " + e.summary());
        return end_run(state_.last_error);
    }
    }
    apply_page_body(index, std::make_shared<std::string>(r.body));
}

// The store worker parses the page and writes it, a chunk per transaction, so neither the
// main loop nor the API's own writes wait for a whole page.
void CloudSync::apply_page_body(size_t index, std::shared_ptr<std::string> body) {
    auto page = std::make_shared<PageResult>();
    writer_.post(
        [table = pulled_tables()[index].table, body, page](store::Database& db) {
            auto rows = nlohmann::json::parse(*body, nullptr, false);
            if (!rows.is_array()) throw std::runtime_error("the answer is not a JSON array");
            page->rows = rows.size();
            if (!rows.empty()) {
                const auto& last = rows.back();
                page->last = Cursor{last.value("updated_at", ""), cursor_id(last.contains("id") ? last["id"] : nullptr)};
            }
            for (size_t from = 0; from < rows.size(); from += kApplyChunk) {
                const size_t to = std::min(rows.size(), from + kApplyChunk);
                nlohmann::json chunk(rows.begin() + std::ptrdiff_t(from), rows.begin() + std::ptrdiff_t(to));
                ApplyResult r = apply_page(db, table, chunk);
                page->applied.applied += r.applied;
                page->applied.skipped += r.skipped;
                page->applied.kept_local += r.kept_local;
                page->applied.deleted += r.deleted;
                page->cancelled += cancel_sessions_of(db, r.cancelled_appointments);
            }
        },
        [this, index, page](const std::string& error) { timed([&] { on_page_applied(index, *page, error); }); });
}

void CloudSync::on_page_applied(size_t index, const PageResult& page, const std::string& error) {
    const PulledTable& t = pulled_tables()[index];
    if (!error.empty()) {
        record_error("pull " + t.table + ": " + error);
        return end_run(state_.last_error);
    }
    if (page.cancelled > 0)
        log::info("cloud sync: cancelled " + std::to_string(page.cancelled) +
                  " session(s) of appointments cancelled in the cloud");
    if (page.applied.skipped > 0)
        log::warning("cloud sync: " + std::to_string(page.applied.skipped) + " row(s) do not fit the local schema",
                     {{"TABLE", t.table}});
    run_->pulled += page.applied.applied + page.applied.deleted;
    state_.pulled_rows += page.applied.applied + page.applied.deleted;
    if (page.last) {   // the cursor moves only once the whole page is stored
        state_.cursors[t.table] = *page.last;
        save_state();
    }
    if (page.rows >= size_t(settings_.page_size)) return pull_table(index);   // another page
    pull_table(index + 1);
}

nlohmann::json CloudSync::status() {
    auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    const auto reason = off_reason();
    std::string state = reason ? "off" : state_.repair_needed ? "repair_needed" : running_ ? "syncing"
                      : push_failures_ > 0 ? "retrying" : "idle";
    nlohmann::json j{{"enabled", !reason},
                     {"state", state},
                     {"off_reason", reason ? nlohmann::json(*reason) : nlohmann::json(nullptr)},
                     {"url", settings_.url},
                     {"clinic_id", settings_.clinic_id},
                     {"poll_seconds", settings_.poll_seconds},
                     {"repair_needed", state_.repair_needed},
                     {"repair_reason", state_.repair_reason},
                     {"last_pull_at", opt(state_.last_pull_at)},
                     {"last_push_at", opt(state_.last_push_at)},
                     {"last_error", opt(state_.last_error)},
                     {"last_error_at", opt(state_.last_error_at)},
                     {"next_attempt_at", opt(next_attempt_at_)},
                     {"pulled_rows", state_.pulled_rows},
                     {"pushed_rows", state_.pushed_rows},
                     {"longest_step_ms", double(longest_step_.count()) / 1000.0}};
    // Clinic IT's provisioning file, which pairs the box: its outcome, for the kiosk.
    if (auto provisioned = provision::last_result(state_dir_)) j["provisioning"] = *provisioned;
    try {
        j["outbox_depth"] = outbox_.depth();
        j["parked_rows"] = outbox_.parked();
    } catch (const store::StoreError&) {
        j["outbox_depth"] = nullptr;
        j["parked_rows"] = nullptr;
    }
    return j;
}

}  // namespace consult::cloud
