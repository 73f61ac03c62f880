#include "appliance/twilio/signature.hpp"

#include "appliance/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <set>

namespace consult::twilio {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string form_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out += char(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

std::string base64(const unsigned char* data, size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, int(n));
    out.resize(size_t(len));
    return out;
}

bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Where the authority ("user@host:port") of an absolute URL starts and ends.
struct Authority { size_t begin = 0, end = 0; bool ok = false; };

Authority authority_of(std::string_view url) {
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {};
    const size_t begin = scheme_end + 3;
    size_t end = url.find_first_of("/?#", begin);
    if (end == std::string_view::npos) end = url.size();
    return {begin, end, true};
}

// Position of the ':' before the port inside the authority, or npos.
size_t port_colon(std::string_view authority) {
    const size_t at = authority.rfind('@');
    const size_t host = at == std::string_view::npos ? 0 : at + 1;
    const size_t bracket = authority.rfind(']');
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos || colon < host) return std::string_view::npos;
    if (bracket != std::string_view::npos && colon < bracket) return std::string_view::npos;
    return colon;
}

std::string query_value(std::string_view url, std::string_view name) {
    size_t q = url.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view query = url.substr(q + 1);
    query = query.substr(0, query.find('#'));
    for (const auto& [k, v] : parse_form(query))
        if (k == name) return v;
    return {};
}

bool has_query_param(std::string_view url, std::string_view name) {
    size_t q = url.find('?');
    if (q == std::string_view::npos) return false;
    std::string_view query = url.substr(q + 1);
    query = query.substr(0, query.find('#'));
    for (const auto& p : parse_form(query))
        if (p.first == name) return true;
    return false;
}

std::string signed_data(std::string_view url, FormParams params, bool dedupe) {
    // Names sorted, a repeated name's values sorted; one helper library also drops
    // exact repeats, so the validator accepts either form.
    std::sort(params.begin(), params.end());
    if (dedupe) params.erase(std::unique(params.begin(), params.end()), params.end());
    std::string data(url);
    for (const auto& [k, v] : params) data += k + v;
    return data;
}

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha1(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         mac.data(), &len);
    return base64(mac.data(), len);
}

}  // namespace

FormParams parse_form(std::string_view body) {
    FormParams out;
    size_t pos = 0;
    while (pos <= body.size()) {
        size_t amp = body.find('&', pos);
        if (amp == std::string_view::npos) amp = body.size();
        std::string_view pair = body.substr(pos, amp - pos);
        if (!pair.empty()) {
            const size_t eq = pair.find('=');
            if (eq == std::string_view::npos) out.emplace_back(form_decode(pair), "");
            else out.emplace_back(form_decode(pair.substr(0, eq)), form_decode(pair.substr(eq + 1)));
        }
        pos = amp + 1;
    }
    return out;
}

std::string compute_signature(std::string_view auth_token, std::string_view url, const FormParams& params) {
    return hmac_sha1_base64(auth_token, signed_data(url, params, false));
}

std::string body_sha256_hex(std::string_view body) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest.data());
    return to_hex(digest);
}

std::string url_with_default_port(std::string_view url) {
    const auto a = authority_of(url);
    if (!a.ok) return std::string(url);
    std::string_view authority = url.substr(a.begin, a.end - a.begin);
    if (port_colon(authority) != std::string_view::npos) return std::string(url);
    const std::string_view scheme = url.substr(0, a.begin - 3);
    const char* port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nullptr;
    if (!port) return std::string(url);
    return std::string(url.substr(0, a.end)) + port + std::string(url.substr(a.end));
}

std::string url_without_port(std::string_view url) {
    const auto a = authority_of(url);
    if (!a.ok) return std::string(url);
    std::string_view authority = url.substr(a.begin, a.end - a.begin);
    const size_t colon = port_colon(authority);
    if (colon == std::string_view::npos) return std::string(url);
    return std::string(url.substr(0, a.begin + colon)) + std::string(url.substr(a.end));
}

bool signature_valid(std::string_view auth_token, const SignedRequest& r, std::string_view signature) {
    if (auth_token.empty() || signature.empty()) return false;
    FormParams params = r.params;
    if (!r.body_is_form) {
        // A JSON body is covered by its hash in the URL, which the signature covers.
        if (!has_query_param(r.url, "bodySHA256")) return false;
        if (!same(body_sha256_hex(r.body), query_value(r.url, "bodySHA256"))) return false;
        params.clear();
    }
    bool has_repeats = false;
    {
        auto sorted = params;
        std::sort(sorted.begin(), sorted.end());
        has_repeats = std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
    }
    std::set<std::string> urls{r.url, url_with_default_port(r.url), url_without_port(r.url)};
    bool ok = false;
    for (const auto& u : urls) {
        ok |= same(hmac_sha1_base64(auth_token, signed_data(u, params, false)), signature);
        if (has_repeats) ok |= same(hmac_sha1_base64(auth_token, signed_data(u, params, true)), signature);
    }
    return ok;
}

}  // namespace consult::twilio
