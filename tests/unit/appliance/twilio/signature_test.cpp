// X-Twilio-Signature: the helper libraries' own cases (tests/contracts) and ours for
// ports, repeated names, non-ASCII URLs and values, and JSON bodies. Expected values
// of our cases were computed independently (Python hmac/hashlib).
#include "appliance/twilio/signature.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace consult::twilio {
namespace {

using json = nlohmann::json;

json load_cases() {
    std::ifstream in(CONSULT_CONTRACTS_DIR "/twilio_signature_cases.json");
    return json::parse(in);
}

SignedRequest request_of(const json& c) {
    SignedRequest r;
    r.url = c["url"];
    for (const auto& [k, v] : c["params"].items()) r.params.emplace_back(k, v.get<std::string>());
    if (!c["body"].is_null()) {
        r.body = c["body"];
        r.body_is_form = false;
    }
    return r;
}

TEST(TwilioSignature, HelperLibraryCasesFromTheContract) {
    const json cases = load_cases();
    ASSERT_EQ(cases["vectors"].size(), 5u);
    for (const auto& c : cases["vectors"]) {
        SCOPED_TRACE(c["id"].get<std::string>());
        const auto r = request_of(c);
        EXPECT_EQ(signature_valid(c["auth_token"].get<std::string>(), r, c["expected_signature"].get<std::string>()),
                  c["expected_valid"].get<bool>());
        if (!c["body_sha256_expected"].is_null()) {
            EXPECT_EQ(body_sha256_hex(r.body), c["body_sha256_expected"].get<std::string>());
        }
    }
}

TEST(TwilioSignature, BaseCaseComputesTheSameSignature) {
    const json c = load_cases()["vectors"][0];
    const auto r = request_of(c);
    EXPECT_EQ(compute_signature("12345", r.url, r.params), c["expected_signature"].get<std::string>());
}

TEST(TwilioSignature, WrongTokenOrTamperedParameterIsRefused) {
    const json c = load_cases()["vectors"][0];
    auto r = request_of(c);
    const std::string sig = c["expected_signature"];
    EXPECT_FALSE(signature_valid("54321", r, sig));
    r.params[0].second += "0";
    EXPECT_FALSE(signature_valid("12345", r, sig));
    EXPECT_FALSE(signature_valid("", request_of(c), sig));
    EXPECT_FALSE(signature_valid("12345", request_of(c), ""));
}

TEST(TwilioSignature, NonStandardPortIsPartOfTheSignedUrl) {
    const FormParams p{{"MessageSid", "SM1"}, {"MessageStatus", "delivered"}};
    const std::string sig = "RrVOv7gEjbWE1/QjCDie01AS9nE=";
    EXPECT_TRUE(signature_valid("12345", {"https://clinic.example:8443/api/webhooks/twilio/message-status", p, "", true}, sig));
    EXPECT_FALSE(signature_valid("12345", {"https://clinic.example:9443/api/webhooks/twilio/message-status", p, "", true}, sig));
}

TEST(TwilioSignature, DefaultPortEitherWay) {
    const FormParams p{{"MessageSid", "SM1"}};
    const std::string plain = "https://clinic.example/hook", ported = "https://clinic.example:443/hook";
    // Signed with the port, received without it, and the reverse.
    EXPECT_TRUE(signature_valid("12345", {plain, p, "", true}, compute_signature("12345", ported, p)));
    EXPECT_TRUE(signature_valid("12345", {ported, p, "", true}, compute_signature("12345", plain, p)));
    EXPECT_EQ(url_with_default_port("http://a.example/x?y=1"), "http://a.example:80/x?y=1");
    EXPECT_EQ(url_with_default_port("https://u@a.example:8443/x"), "https://u@a.example:8443/x");
    EXPECT_EQ(url_without_port("https://u@a.example:8443/x?p=:1"), "https://u@a.example/x?p=:1");
    EXPECT_EQ(url_without_port("http://[::1]:8080/x"), "http://[::1]/x");
    EXPECT_EQ(url_with_default_port("http://[::1]/x"), "http://[::1]:80/x");
    // The scheme is part of what is signed: http is not https.
    EXPECT_FALSE(signature_valid("12345", {"http://clinic.example/hook", p, "", true}, compute_signature("12345", plain, p)));
}

TEST(TwilioSignature, RepeatedNamesAreSortedByValue) {
    const FormParams p{{"MediaUrl", "b"}, {"MediaUrl", "a"}, {"Body", "x"}};
    EXPECT_EQ(compute_signature("12345", "https://clinic.example/hook", p), "YgM3IkUjZiHT0xcYUZLp5M+vbQA=");
    EXPECT_TRUE(signature_valid("12345", {"https://clinic.example/hook", p, "", true}, "YgM3IkUjZiHT0xcYUZLp5M+vbQA="));
    // An exact repeat: accepted whether the signer kept it or dropped it.
    const FormParams twice{{"MediaUrl", "a"}, {"MediaUrl", "a"}};
    const FormParams once{{"MediaUrl", "a"}};
    EXPECT_TRUE(signature_valid("12345", {"https://clinic.example/hook", twice, "", true},
                                compute_signature("12345", "https://clinic.example/hook", once)));
    EXPECT_TRUE(signature_valid("12345", {"https://clinic.example/hook", twice, "", true},
                                compute_signature("12345", "https://clinic.example/hook", twice)));
}

TEST(TwilioSignature, NonAsciiUrlAndValuesAreSignedAsUtf8) {
    const auto p = parse_form("Body=Gr%C3%BC%C3%9Fe+%F0%9F%98%80&From=%2B14158675309");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].second, "Grüße 😀");
    EXPECT_EQ(p[1].second, "+14158675309");
    EXPECT_TRUE(signature_valid("12345", {"https://clinic.example/h%C3%A9?x=%E2%9C%93", p, "", true},
                                "6Fo91c/zLQ85VnaO/1J7Zv0fWLg="));
    // The URL as requested (percent-encoded), not a decoded form of it.
    EXPECT_FALSE(signature_valid("12345", {"https://clinic.example/hé?x=✓", p, "", true}, "6Fo91c/zLQ85VnaO/1J7Zv0fWLg="));
}

TEST(TwilioSignature, JsonBodyIsCoveredByItsHash) {
    const std::string body = R"({"MessageSid":"SM1","MessageStatus":"delivered"})";
    const std::string hash = "ce8c3c8da52a17f7dd3e526b3b67d41402b438513f6b2faf55189573f2873f02";
    const std::string url = "https://clinic.example/api/webhooks/twilio/message-status?bodySHA256=" + hash;
    const std::string sig = "SWY6IcV2NsVd4AQ7wMVyyjCh3X4=";
    EXPECT_EQ(body_sha256_hex(body), hash);
    EXPECT_TRUE(signature_valid("12345", {url, {}, body, false}, sig));
    EXPECT_FALSE(signature_valid("12345", {url, {}, body + " ", false}, sig));   // body changed
    EXPECT_FALSE(signature_valid("12345", {url + "0", {}, body, false}, sig));   // hash changed
}

TEST(TwilioSignature, FormParsingKeepsOrderRepeatsAndEmptyValues) {
    const auto p = parse_form("a=1&b=&c&a=2&&d=%zz");
    ASSERT_EQ(p.size(), 5u);
    EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"a", "1"}));
    EXPECT_EQ(p[1], (std::pair<std::string, std::string>{"b", ""}));
    EXPECT_EQ(p[2], (std::pair<std::string, std::string>{"c", ""}));
    EXPECT_EQ(p[3], (std::pair<std::string, std::string>{"a", "2"}));
    EXPECT_EQ(p[4], (std::pair<std::string, std::string>{"d", "%zz"}));
}

}  // namespace
}  // namespace consult::twilio
