#include "appliance/metrics.hpp"

#include "appliance/fleet/failure_window.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace consult {

namespace {

struct ProcessStats { double cpu_seconds = 0; double rss_bytes = 0; double vsize_bytes = 0; int fds = 0; };

ProcessStats read_process() {
    ProcessStats s;
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close != std::string::npos) {
        std::istringstream in(line.substr(close + 2));
        std::string field;
        std::vector<std::string> f;
        while (in >> field) f.push_back(field);
        // After "(comm)": state is field 0, utime 11, stime 12, vsize 20, rss 21.
        if (f.size() > 21) {
            const double tick = double(sysconf(_SC_CLK_TCK));
            s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / tick;
            s.vsize_bytes = std::stod(f[20]);
            s.rss_bytes = std::stod(f[21]) * double(sysconf(_SC_PAGESIZE));
        }
    }
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++s.fds;
        closedir(d);
        s.fds -= 3;  // ".", ".." and the directory handle itself
    }
    return s;
}

std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

std::string label_set(const std::vector<std::pair<std::string, std::string>>& labels) {
    std::string out;
    for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=\"" + prometheus_escape(v) + "\"";
    return out;
}

}  // namespace

std::string prometheus_escape(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

Metrics::Metrics()
    : bucket_bounds_{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
      start_time_(double(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count()) / 1000.0) {}

void Metrics::http_request(const std::string& route, const std::string& method, int status, double seconds) {
    std::lock_guard lock(mu_);
    ++requests_[{route, method, status}];
    auto& b = route_buckets_[route];
    if (b.empty()) b.assign(bucket_bounds_.size(), 0);
    for (size_t i = 0; i < bucket_bounds_.size(); ++i)
        if (seconds <= bucket_bounds_[i]) ++b[i];
    auto& [sum, n] = route_sums_[route];
    sum += seconds;
    ++n;
}

void Metrics::count(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels, double by) {
    {
        std::lock_guard lock(mu_);
        counters_[name][label_set(labels)] += by;
    }
    fleet::note_count(name, labels, by);   // the fleet report's failures of the last day
}

void Metrics::observe(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
                      double value, const std::vector<double>& bounds) {
    std::lock_guard lock(mu_);
    const auto& b = histogram_bounds_.try_emplace(name, bounds).first->second;
    Histogram& h = histograms_[name][label_set(labels)];
    if (h.buckets.empty()) h.buckets.assign(b.size(), 0);
    for (std::size_t i = 0; i < b.size(); ++i)
        if (value <= b[i]) {
            ++h.buckets[i];
            break;
        }
    h.sum += value;
    ++h.count;
}

void Metrics::set_help(const std::string& name, const std::string& type, const std::string& help) {
    std::lock_guard lock(mu_);
    help_[name] = {type, help};
}

std::string Metrics::render(const std::string& version) const {
    std::lock_guard lock(mu_);
    const auto p = read_process();
    std::string o;
    auto head = [&](const std::string& n, const std::string& type, const std::string& help) {
        o += "# HELP " + n + " " + help + "\n# TYPE " + n + " " + type + "\n";
    };
    head("consult_build_info", "gauge", "Build of consultd; always 1.");
    o += "consult_build_info{version=\"" + prometheus_escape(version) + "\"} 1\n";
    head("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    o += "process_cpu_seconds_total " + fmt(p.cpu_seconds) + "\n";
    head("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    o += "process_resident_memory_bytes " + fmt(p.rss_bytes) + "\n";
    head("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    o += "process_virtual_memory_bytes " + fmt(p.vsize_bytes) + "\n";
    head("process_open_fds", "gauge", "Number of open file descriptors.");
    o += "process_open_fds " + std::to_string(p.fds) + "\n";
    head("process_start_time_seconds", "gauge", "Start time of the process since the epoch in seconds.");
    o += "process_start_time_seconds " + fmt(start_time_) + "\n";

    head("consult_http_requests_total", "counter", "HTTP requests by route, method and status.");
    for (const auto& [key, n] : requests_) {
        const auto& [route, method, status] = key;
        o += "consult_http_requests_total{route=\"" + prometheus_escape(route) + "\",method=\"" + method +
             "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
    head("consult_http_request_duration_seconds", "histogram", "HTTP request handling time by route.");
    for (const auto& [route, buckets] : route_buckets_) {
        const std::string r = "route=\"" + prometheus_escape(route) + "\"";
        for (size_t i = 0; i < bucket_bounds_.size(); ++i)
            o += "consult_http_request_duration_seconds_bucket{" + r + ",le=\"" + fmt(bucket_bounds_[i]) + "\"} " +
                 std::to_string(buckets[i]) + "\n";
        const auto& [sum, n] = route_sums_.at(route);
        o += "consult_http_request_duration_seconds_bucket{" + r + ",le=\"+Inf\"} " + std::to_string(n) + "\n";
        o += "consult_http_request_duration_seconds_sum{" + r + "} " + fmt(sum) + "\n";
        o += "consult_http_request_duration_seconds_count{" + r + "} " + std::to_string(n) + "\n";
    }
    for (const auto& [name, series] : counters_) {
        auto h = help_.find(name);
        head(name, h != help_.end() ? h->second.first : "counter", h != help_.end() ? h->second.second : name);
        for (const auto& [labels, v] : series)
            o += name + (labels.empty() ? "" : "{" + labels + "}") + " " + fmt(v) + "\n";
    }
    for (const auto& [name, series] : histograms_) {
        auto h = help_.find(name);
        head(name, "histogram", h != help_.end() ? h->second.second : name);
        const auto& bounds = histogram_bounds_.at(name);
        for (const auto& [labels, hist] : series) {
            const std::string sep = labels.empty() ? "" : labels + ",";
            long cumulative = 0;
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                cumulative += hist.buckets[i];
                o += name + "_bucket{" + sep + "le=\"" + fmt(bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
            }
            o += name + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(hist.count) + "\n";
            const std::string braces = labels.empty() ? "" : "{" + labels + "}";
            o += name + "_sum" + braces + " " + fmt(hist.sum) + "\n";
            o += name + "_count" + braces + " " + std::to_string(hist.count) + "\n";
        }
    }
    return o;
}

}  // namespace consult
