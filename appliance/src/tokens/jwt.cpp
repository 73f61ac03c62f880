#include "appliance/tokens/jwt.hpp"

#include "appliance/input/json_input.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace consult::tokens {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

}  // namespace

std::string base64url_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() * 4 + 2) / 3);
    size_t i = 0;
    auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
    }
    if (i + 1 == in.size()) {
        unsigned v = byte(i) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
    } else if (i + 2 == in.size()) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
        for (int s = 18; s >= 6; s -= 6) out += kAlphabet[(v >> s) & 63];
    }
    return out;
}

expected<std::string, std::string> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) return unexpected("invalid base64url length");
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = decode_char(c);
        if (v < 0) return unexpected("invalid base64url character");
        acc = (acc << 6) | unsigned(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xff);
        }
    }
    // Leftover bits must be zero, or two encodings would decode to the same bytes.
    if (bits > 0 && (acc & ((1u << bits) - 1))) return unexpected("non-canonical base64url");
    return out;
}

std::string hs256_signature(std::string_view input, std::string_view key) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned len = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac.data(), &len);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
}

std::string sign(const nlohmann::json& claims, std::string_view key) {
    static const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    std::string input = header + "." + base64url_encode(claims.dump());
    return input + "." + hs256_signature(input, key);
}

std::string_view describe(VerifyError e) {
    switch (e) {
    case VerifyError::Malformed: return "token is malformed";
    case VerifyError::BadAlgorithm: return "token algorithm is not HS256";
    case VerifyError::BadSignature: return "token signature is invalid";
    case VerifyError::Expired: return "token has expired";
    case VerifyError::NotYetValid: return "token is not valid yet";
    case VerifyError::Revoked: return "token was given up (signed out)";
    }
    return "token is invalid";
}

expected<nlohmann::json, VerifyError> verify(std::string_view token, std::string_view key,
                                                  std::int64_t now, std::int64_t leeway) {
    if (token.size() > 4096) return unexpected(VerifyError::Malformed);
    auto d1 = token.find('.');
    auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
        return unexpected(VerifyError::Malformed);
    auto header_raw = base64url_decode(token.substr(0, d1));
    auto payload_raw = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
    if (!header_raw || !payload_raw) return unexpected(VerifyError::Malformed);
    // Both parts come from whoever holds the token: parsed within limits, read by type.
    constexpr input::Limits kLimits{4096, 8};
    auto header = input::parse(*header_raw, kLimits);
    if (!header || !header->is_object()) return unexpected(VerifyError::Malformed);
    auto alg = header->find("alg");
    if (alg == header->end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256")
        return unexpected(VerifyError::BadAlgorithm);

    const std::string expected = hs256_signature(token.substr(0, d2), key);
    std::string_view given = token.substr(d2 + 1);
    if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0)
        return unexpected(VerifyError::BadSignature);

    auto parsed = input::parse(*payload_raw, kLimits);
    if (!parsed || !parsed->is_object()) return unexpected(VerifyError::Malformed);
    nlohmann::json& claims = *parsed;
    try {
        input::Fields f(claims);
        const auto exp = f.optional_int("exp", 0, INT64_MAX / 2);
        if (!exp) return unexpected(VerifyError::Malformed);
        if (*exp + leeway <= now) return unexpected(VerifyError::Expired);
        if (auto iat = f.optional_int("iat", 0, INT64_MAX / 2); iat && *iat - leeway > now)
            return unexpected(VerifyError::NotYetValid);
    } catch (const input::FieldError&) {
        return unexpected(VerifyError::Malformed);
    }
    return claims;
}

}  // namespace consult::tokens
