#include "appliance/http/report_routes.hpp"

#include "appliance/http/auth.hpp"
#include "appliance/http/report_format.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/log.hpp"
#include "appliance/off_loop.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace consult::http {

namespace {

using tokens::Role;
constexpr int kMaxDays = 366;
constexpr int kDefaultDays = 28;

struct Range {
    domain::Date from, to;
};

// from/to: local dates, `to` excluded. Without them: the last four weeks up to today.
Range range_of(const Request& req) {
    const auto to = query_date(req, "to").value_or(store::add_days(domain::local_date(domain::now_seconds()), 1));
    const auto from = query_date(req, "from").value_or(store::add_days(to, -kDefaultDays));
    for (const auto& [d, name] : {std::pair{from, "from"}, std::pair{to, "to"}})
        if (d.year < 1970 || d.year > 9998)
            throw ApiError(400, "invalid_date", std::string(name) + " must be a date between 1970 and 9998", name);
    const int days = store::days_between(from, to);
    if (days <= 0) throw ApiError(400, "invalid_range", "to must be after from (to is not included)", "to");
    if (days > kMaxDays)
        throw ApiError(400, "invalid_range", "a report covers at most " + std::to_string(kMaxDays) + " days", "from");
    return {from, to};
}

using MakeResponse = std::function<Response(const store::Report&)>;

// A year of rows takes longer to count than the main loop may wait: the report is made
// on GLib's thread pool with a read-only connection of its own, and answered (and
// audited) back on the loop.
Response report(const Access& deps, const Request& req, const char* format, MakeResponse make) {
    Caller c = authenticate(deps, req, {Role::Admin}, Scope::ReportsToo);
    const Range r = range_of(req);
    const std::filesystem::path db_path = deps.db.filename();
    const std::time_t now = domain::now_seconds();
    return Response::later([deps, c, r, db_path, now, format, make](std::function<void(Response)> reply) {
        auto made = std::make_shared<std::optional<store::Report>>();
        auto failure = std::make_shared<std::string>();
        run_off_loop(
            [r, db_path, now, made, failure] {
                try {
                    auto db = store::Database::open(db_path, store::Database::Mode::ReadOnly);
                    *made = store::build_report(db, r.from, r.to, now);
                    return true;
                } catch (const std::exception& e) {
                    *failure = e.what();
                    return false;
                }
            },
            [deps, c, format, make, made, failure, reply](bool ok) {
                try {
                    if (!ok || !*made) throw store::StoreError(0, *failure);
                    audit(deps, c, "reports.read", std::nullopt,
                          {{"from", (*made)->from}, {"to", (*made)->to}, {"format", format}});
                    reply(make(**made));
                } catch (const std::exception& e) {
                    log::error(std::string("report failed: ") + e.what());
                    reply(error_response(500, "store_error", "the report could not be counted"));
                }
            });
    });
}

}  // namespace

void add_report_routes(Router& r, const Access& deps) {
    r.add("GET", "/api/reports", [deps](const Request& req) {
        return report(deps, req, "json", [](const store::Report& made) {
            Response out = Response::json(200, report_json(made));
            out.headers.emplace_back("Cache-Control", "no-store");
            return out;
        });
    });
    r.add("GET", "/api/reports.csv", [deps](const Request& req) {
        return report(deps, req, "csv", [](const store::Report& made) {
            Response out = Response::text(200, "text/csv; charset=utf-8", report_csv(made));
            out.headers.emplace_back("Content-Disposition",
                                     "attachment; filename=\"consultations-" + made.from + "-to-" + made.to + ".csv\"");
            out.headers.emplace_back("Cache-Control", "no-store");
            return out;
        });
    });
}

}  // namespace consult::http
