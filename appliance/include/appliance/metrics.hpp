// Counters and histograms rendered in the Prometheus text exposition format.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace consult {

class Metrics {
public:
    Metrics();

    void http_request(const std::string& route, const std::string& method, int status, double seconds);

    // A named counter with one label set, e.g. ("consult_token_refusals_total", {{"reason","expired"}}).
    void count(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
               double by = 1);
    void set_help(const std::string& name, const std::string& type, const std::string& help);
    // A named histogram with one label set; `bounds` (ascending upper bounds, +Inf added)
    // are fixed by the first observation of that name.
    void observe(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
                 double value, const std::vector<double>& bounds);

    // The full exposition: process, build info, HTTP, and the named counters.
    std::string render(const std::string& version) const;

private:
    mutable std::mutex mu_;
    std::map<std::tuple<std::string, std::string, int>, long> requests_;
    std::vector<double> bucket_bounds_;
    std::map<std::string, std::vector<long>> route_buckets_;
    std::map<std::string, std::pair<double, long>> route_sums_;
    std::map<std::string, std::map<std::string, double>> counters_;  // name → rendered labels → value
    struct Histogram {
        std::vector<long> buckets;   // one per bound, cumulative when rendered
        double sum = 0;
        long count = 0;
    };
    std::map<std::string, std::vector<double>> histogram_bounds_;
    std::map<std::string, std::map<std::string, Histogram>> histograms_;   // name → rendered labels → values
    std::map<std::string, std::pair<std::string, std::string>> help_;
    double start_time_;
};

std::string prometheus_escape(const std::string& value);

}  // namespace consult
