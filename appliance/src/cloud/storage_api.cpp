#include "appliance/cloud/storage_api.hpp"

#include <glib.h>

#include <cstdlib>

namespace consult::cloud::storage {

namespace {

std::vector<std::pair<std::string, std::string>> auth_headers(const Endpoint& e) {
    return {{"apikey", e.api_key}, {"Authorization", "Bearer " + e.device_token}};
}

std::string base64(const std::string& s) {
    gchar* b = g_base64_encode(reinterpret_cast<const guchar*>(s.data()), s.size());
    std::string out(b);
    g_free(b);
    return out;
}

// Each segment escaped, the slashes between them kept.
std::string object_url_path(const std::string& bucket, const std::string& object) {
    std::string out = net::url_escape(bucket);
    size_t from = 0;
    while (from <= object.size()) {
        const size_t slash = object.find('/', from);
        const size_t end = slash == std::string::npos ? object.size() : slash;
        out += "/" + net::url_escape(std::string_view(object).substr(from, end - from));
        if (slash == std::string::npos) break;
        from = slash + 1;
    }
    return out;
}

std::string trimmed(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

constexpr const char* kTusVersion = "1.0.0";

}  // namespace

std::string storage_url(const std::string& cloud_url) {
    std::string base = trimmed(cloud_url);
    if (base.ends_with("/rest/v1")) base.resize(base.size() - 8);
    return base + "/storage/v1";
}

std::string upload_metadata(const NewUpload& u) {
    return "bucketName " + base64(u.bucket) + ",objectName " + base64(u.object) + ",contentType " +
           base64(u.content_type) + ",cacheControl " + base64("3600") + ",metadata " + base64(u.metadata.dump());
}

net::HttpRequest create_request(const Endpoint& e, const NewUpload& u) {
    net::HttpRequest r;
    r.method = "POST";
    r.url = trimmed(e.base_url) + "/upload/resumable";
    r.headers = auth_headers(e);
    r.headers.emplace_back("Tus-Resumable", kTusVersion);
    r.headers.emplace_back("Upload-Length", std::to_string(u.size));
    r.headers.emplace_back("Upload-Metadata", upload_metadata(u));
    r.headers.emplace_back("x-upsert", u.upsert ? "true" : "false");
    r.timeout = e.timeout;
    return r;
}

net::HttpRequest offset_request(const Endpoint& e, const std::string& upload_url) {
    net::HttpRequest r;
    r.method = "HEAD";
    r.url = upload_url;
    r.headers = auth_headers(e);
    r.headers.emplace_back("Tus-Resumable", kTusVersion);
    r.timeout = e.timeout;
    return r;
}

net::HttpRequest chunk_request(const Endpoint& e, const std::string& upload_url, const std::string& file,
                               std::uint64_t offset, std::uint64_t length) {
    net::HttpRequest r;
    r.method = "PATCH";
    r.url = upload_url;
    r.headers = auth_headers(e);
    r.headers.emplace_back("Tus-Resumable", kTusVersion);
    r.headers.emplace_back("Upload-Offset", std::to_string(offset));
    r.headers.emplace_back("Content-Type", "application/offset+octet-stream");
    r.body_file = net::HttpRequest::FileRange{file, offset, length};
    // 6 MiB over a slow uplink takes minutes; a stall is caught sooner.
    r.timeout = std::chrono::minutes(30);
    r.stall_timeout = std::chrono::seconds(60);
    return r;
}

net::HttpRequest info_request(const Endpoint& e, const std::string& bucket, const std::string& object) {
    net::HttpRequest r;
    r.url = trimmed(e.base_url) + "/object/info/authenticated/" + object_url_path(bucket, object);
    r.headers = auth_headers(e);
    r.headers.emplace_back("Accept", "application/json");
    r.timeout = e.timeout;
    return r;
}

net::HttpRequest download_request(const Endpoint& e, const std::string& bucket, const std::string& object) {
    net::HttpRequest r;
    r.url = trimmed(e.base_url) + "/object/authenticated/" + object_url_path(bucket, object);
    r.headers = auth_headers(e);
    r.digest_only = true;
    r.timeout = std::chrono::hours(6);
    r.stall_timeout = std::chrono::seconds(60);
    return r;
}

net::HttpRequest delete_request(const Endpoint& e, const std::string& bucket, const std::string& object) {
    net::HttpRequest r;
    r.method = "DELETE";
    r.url = trimmed(e.base_url) + "/object/" + object_url_path(bucket, object);
    r.headers = auth_headers(e);
    r.headers.emplace_back("Accept", "application/json");
    r.timeout = e.timeout;
    return r;
}

std::optional<std::string> upload_url(const Endpoint& e, const net::HttpResponse& created) {
    auto location = created.header("location");
    if (!location || location->empty()) return std::nullopt;
    std::string url = *location;
    const std::string base = trimmed(e.base_url);
    if (url.starts_with("/")) {   // relative to the host
        const auto scheme = base.find("://");
        const auto path = scheme == std::string::npos ? std::string::npos : base.find('/', scheme + 3);
        url = (path == std::string::npos ? base : base.substr(0, path)) + url;
    }
    const std::string prefix = base + "/upload/resumable/";
    if (!url.starts_with(prefix) || url.size() == prefix.size() || url.find_first_of(" \r\n#?") != std::string::npos)
        return std::nullopt;
    return url;
}

std::optional<std::uint64_t> upload_offset(const net::HttpResponse& r) {
    auto v = r.header("upload-offset");
    if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::strtoull(v->c_str(), nullptr, 10);
}

std::string Error::summary() const {
    std::string s = "HTTP " + std::to_string(http), inner = status != http ? std::to_string(status) : "";
    if (!code.empty()) inner += (inner.empty() ? "" : " ") + code;
    if (!inner.empty()) s += " (" + inner + ")";
    if (!message.empty()) s += ": " + message.substr(0, 300);
    return s;
}

Error parse_error(const net::HttpResponse& r) {
    Error e;
    e.http = e.status = r.status;
    if (r.transport_failed()) {
        e.message = r.error;
        return e;
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    auto text = [&](const char* k) { return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    if (j.is_object()) {
        if (auto sc = text("statusCode"); !sc.empty() && sc.find_first_not_of("0123456789") == std::string::npos) {
            e.status = std::strtol(sc.c_str(), nullptr, 10);
            e.from_api = true;
        }
        e.code = text("code").empty() ? text("error") : text("code");
        e.message = text("message");
    } else {
        e.message = r.body.substr(0, 200);   // the TUS server's plain text
        while (!e.message.empty() && (e.message.back() == '\n' || e.message.back() == '\r')) e.message.pop_back();
    }
    return e;
}

bool object_absent(const net::HttpResponse& r) {
    if (r.transport_failed()) return false;
    const Error e = parse_error(r);
    return e.from_api && e.status == 404;
}

Outcome classify(const net::HttpResponse& r) {
    if (r.transport_failed()) return Outcome::Retry;
    if (r.status >= 200 && r.status < 300) return Outcome::Done;
    const long s = parse_error(r).status;
    if (s == 401 || s == 403) return Outcome::Unauthorized;
    if (s == 409) return Outcome::Exists;
    if (s == 404 || s == 410) return Outcome::Gone;
    if (s == 413) return Outcome::TooLarge;
    if (s == 408 || s == 423 || s == 429 || s >= 500 || r.status >= 500) return Outcome::Retry;
    return Outcome::Rejected;
}

}  // namespace consult::cloud::storage
