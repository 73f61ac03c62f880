#include "appliance/http/router.hpp"

#include <algorithm>

namespace consult::http {

namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') { ++i; continue; }
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        out.push_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}

bool is_placeholder(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }
bool is_tail(const std::string& s) { return s == "{*}"; }

bool match_segments(const Route& r, const std::vector<std::string>& parts, std::map<std::string, std::string>& params) {
    const auto& segs = r.segments;
    bool tail = !segs.empty() && is_tail(segs.back());
    if (tail ? parts.size() < segs.size() - 1 : parts.size() != segs.size()) return false;
    for (size_t i = 0; i < segs.size(); ++i) {
        if (is_tail(segs[i])) {
            std::string rest;
            for (size_t k = i; k < parts.size(); ++k) rest += (rest.empty() ? "" : "/") + parts[k];
            params["*"] = rest;
            return true;
        }
        if (is_placeholder(segs[i])) params[segs[i].substr(1, segs[i].size() - 2)] = parts[i];
        else if (segs[i] != parts[i]) return false;
    }
    return true;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
    Route r{std::move(method), std::move(pattern), std::move(handler), {}};
    r.segments = split_path(r.pattern);
    routes_.push_back(std::move(r));
}

std::variant<Matched, NotFound, MethodNotAllowed> Router::match(const std::string& method,
                                                                const std::string& path) const {
    const auto parts = split_path(path);
    MethodNotAllowed wrong_method;
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (!match_segments(r, parts, params)) continue;
        if (r.method == method || (method == "HEAD" && r.method == "GET")) return Matched{&r, std::move(params)};
        if (std::find(wrong_method.allowed.begin(), wrong_method.allowed.end(), r.method) == wrong_method.allowed.end())
            wrong_method.allowed.push_back(r.method);
        wrong_method.pattern = r.pattern;
    }
    if (!wrong_method.allowed.empty()) return wrong_method;
    return NotFound{};
}

}  // namespace consult::http
