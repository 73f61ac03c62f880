#include "appliance/net/public_url.hpp"

#include <gio/gio.h>

#include "hwconfig/gref.hpp"

#include <memory>

namespace consult::net {

namespace {

// Why `host` cannot be reached from a phone's mobile network, or nothing.
std::optional<std::string> unreachable(const std::string& host) {
    if (host == "localhost" || host.ends_with(".localhost")) return "it names this machine itself";
    if (GRef<GInetAddress> a = adopt(g_inet_address_new_from_string(host.c_str()))) {
        if (g_inet_address_get_is_loopback(a.get())) return "it is this machine's loopback address";
        if (g_inet_address_get_is_link_local(a.get())) return "it is a link-local address";
        if (g_inet_address_get_is_site_local(a.get())) return "it is a private address, reachable only inside the clinic";
        if (g_inet_address_get_family(a.get()) == G_SOCKET_FAMILY_IPV6) {
            const guint8* b = g_inet_address_to_bytes(a.get());
            if ((b[0] & 0xfe) == 0xfc) return "it is a private address, reachable only inside the clinic";
        }
        if (g_inet_address_get_is_any(a.get())) return "it is not an address anyone can open";
        return std::nullopt;
    }
    if (host.find('.') == std::string::npos) return "it is a name only the clinic's network knows";
    if (host.ends_with(".local") || host.ends_with(".lan") || host.ends_with(".internal") || host.ends_with(".home.arpa"))
        return "it is a name only the clinic's network knows";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> public_url_warning(const std::string& url) {
    GError* err = nullptr;
    std::unique_ptr<GUri, decltype(&g_uri_unref)> uri(g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, &err), &g_uri_unref);
    if (!uri) {
        if (err) g_error_free(err);
        return "Patients' links use \"" + url + "\", which is not a URL. Set [http] public_base_url.";
    }
    const char* raw_host = g_uri_get_host(uri.get());
    std::string host = raw_host ? raw_host : "";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (auto why = unreachable(host))
        return "Patients' phones cannot open their links: they point to " + host + ", and " + *why +
               ". Set [http] public_base_url to the address patients reach this appliance at.";
    if (std::string(g_uri_get_scheme(uri.get())) != "https")
        return "Patients' links use plain http: their browsers will not share the camera and microphone on it. "
               "Set [http] public_base_url to an https address.";
    return std::nullopt;
}

}  // namespace consult::net
