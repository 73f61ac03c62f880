// X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + sorted name/value pairs)).
// JSON bodies are signed through a bodySHA256 query parameter instead of their
// fields. The validator tries the URL as given, without its port and with the
// scheme's default port, as Twilio's own helper libraries do.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consult::twilio {

using FormParams = std::vector<std::pair<std::string, std::string>>;

// Splits an application/x-www-form-urlencoded body ('+' is a space, %XX decoded),
// keeping repeated names and their order.
FormParams parse_form(std::string_view body);

// The signature Twilio sends for `url` with these POST parameters.
std::string compute_signature(std::string_view auth_token, std::string_view url, const FormParams& params);

// Lower-case hex SHA-256 of a request body (the bodySHA256 query parameter).
std::string body_sha256_hex(std::string_view body);

// The URL with the scheme's default port added (https → 443, http → 80) when it has
// none, and with any port removed; each is unchanged when there is nothing to do.
std::string url_with_default_port(std::string_view url);
std::string url_without_port(std::string_view url);

struct SignedRequest {
    std::string url;           // the full URL Twilio requested, query included
    FormParams params;         // form fields (empty for a JSON body)
    std::string body;          // the raw body when it is not a form (JSON), else empty
    bool body_is_form = true;
};

// True when `signature` matches one of the URL variants and, for a non-form body,
// the URL's bodySHA256 matches the body. Comparisons are constant time.
bool signature_valid(std::string_view auth_token, const SignedRequest& request, std::string_view signature);

}  // namespace consult::twilio
