// Method + path pattern → handler. Patterns are literal segments and {name}
// placeholders; the route's pattern doubles as its metrics label.
#pragma once

#include "appliance/http/types.hpp"

#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace consult::http {

using Handler = std::function<Response(const Request&)>;

struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
    std::vector<std::string> segments;
};

struct Matched {
    const Route* route;
    std::map<std::string, std::string> params;
};
struct NotFound {};
struct MethodNotAllowed { std::vector<std::string> allowed; std::string pattern; };

class Router {
public:
    void add(std::string method, std::string pattern, Handler handler);
    std::variant<Matched, NotFound, MethodNotAllowed> match(const std::string& method, const std::string& path) const;
    const std::vector<Route>& routes() const { return routes_; }
private:
    std::vector<Route> routes_;
};

}  // namespace consult::http
