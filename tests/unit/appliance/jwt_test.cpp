#include "appliance/tokens/jwt.hpp"
#include "appliance/tokens/token_service.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace consult::tokens {
namespace {

TEST(Jws, MatchesRfc7515AppendixA1) {
    std::ifstream in(CONSULT_CONTRACTS_DIR "/jws_hs256_rfc7515_a1.json");
    ASSERT_TRUE(in) << "contract file missing";
    auto v = nlohmann::json::parse(in)["vector"];
    auto key = base64url_decode(v["jwk_k_b64url"].get<std::string>());
    ASSERT_TRUE(key.has_value());
    const std::string input = v["header_b64"].get<std::string>() + "." + v["payload_b64"].get<std::string>();
    EXPECT_EQ(hs256_signature(input, *key), v["expected_signature_b64url"].get<std::string>());
    // And the verifier accepts it (its exp is in 2011, so check at a time before that).
    auto claims = verify(input + "." + v["expected_signature_b64url"].get<std::string>(), *key, 1300819000);
    ASSERT_TRUE(claims.has_value());
    EXPECT_EQ((*claims)["iss"], "joe");
}

TEST(Base64Url, RoundTripsEveryLength) {
    std::string s;
    for (int n = 0; n < 40; ++n) {
        auto back = base64url_decode(base64url_encode(s));
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(*back, s);
        s += char(n * 37);
    }
    EXPECT_FALSE(base64url_decode("ab+c").has_value());
    EXPECT_FALSE(base64url_decode("a").has_value());
    EXPECT_FALSE(base64url_decode("ab=").has_value());
}

TEST(Jws, RefusesWrongKeyTamperingAndOtherAlgorithms) {
    const std::int64_t now = 1'800'000'000;
    const std::string token = sign({{"sub", "u"}, {"exp", now + 60}, {"iat", now}}, "key-one");
    EXPECT_TRUE(verify(token, "key-one", now).has_value());
    EXPECT_EQ(verify(token, "key-two", now).error(), VerifyError::BadSignature);

    auto d1 = token.find('.'), d2 = token.rfind('.');
    const std::string forged_payload = base64url_encode(R"({"sub":"admin","exp":1900000000,"iat":1800000000})");
    EXPECT_EQ(verify(token.substr(0, d1 + 1) + forged_payload + token.substr(d2), "key-one", now).error(),
              VerifyError::BadSignature);

    const std::string none_header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
    EXPECT_EQ(verify(none_header + token.substr(d1), "key-one", now).error(), VerifyError::BadAlgorithm);
    EXPECT_EQ(verify("a.b", "key-one", now).error(), VerifyError::Malformed);
    EXPECT_EQ(verify("a.b.c.d", "key-one", now).error(), VerifyError::Malformed);
    EXPECT_EQ(verify("", "key-one", now).error(), VerifyError::Malformed);
}

TEST(Jws, ExpiryAndIssueTimeAreChecked) {
    const std::int64_t now = 1'800'000'000;
    const std::string token = sign({{"sub", "u"}, {"exp", now + 60}, {"iat", now}}, "k");
    EXPECT_TRUE(verify(token, "k", now + 59).has_value());
    EXPECT_EQ(verify(token, "k", now + 60 + 30).error(), VerifyError::Expired);
    EXPECT_EQ(verify(token, "k", now - 120).error(), VerifyError::NotYetValid);
    const std::string no_exp = sign({{"sub", "u"}}, "k");
    EXPECT_EQ(verify(no_exp, "k", now).error(), VerifyError::Malformed);
}

TEST(TokenService, IssuesTokensThatCheckBackToTheSameClaims) {
    TokenService svc("secret");
    const std::int64_t now = 1'800'000'000;
    auto issued = svc.issue("patient-7", Role::Patient, "session-1", 600, now);
    ASSERT_TRUE(issued.has_value());
    auto c = svc.check(issued->token, now + 10);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->identity, "patient-7");
    EXPECT_EQ(c->role, Role::Patient);
    EXPECT_EQ(c->session_id, "session-1");
    EXPECT_EQ(c->expires_at, now + 600);
    EXPECT_FALSE(c->jti.empty());
}

TEST(TokenService, NeverIssuesForMoreThanTheCeiling) {
    TokenService svc("secret", 900);
    auto issued = svc.issue("d", Role::Doctor, std::nullopt, 7200, 0);
    ASSERT_TRUE(issued.has_value());
    EXPECT_EQ(issued->claims.expires_at, 900);
    TokenService hour("secret", 99999);
    EXPECT_EQ(hour.issue("d", Role::Doctor, std::nullopt, 99999, 0)->claims.expires_at, 3600);
}

TEST(TokenService, RefusesPatientTokensWithoutASession) {
    TokenService svc("secret");
    EXPECT_FALSE(svc.issue("p", Role::Patient, std::nullopt, 60, 0).has_value());
    EXPECT_FALSE(svc.issue("", Role::Doctor, std::nullopt, 60, 0).has_value());
    EXPECT_FALSE(svc.issue("d", Role::Doctor, std::nullopt, 0, 0).has_value());
}

TEST(TokenService, RefusesTokensSignedWithAnotherKeyOrExpired) {
    TokenService a("key-a"), b("key-b");
    auto t = a.issue("d", Role::Doctor, std::nullopt, 60, 1000);
    EXPECT_EQ(b.check(t->token, 1000).error(), VerifyError::BadSignature);
    EXPECT_EQ(a.check(t->token, 1000 + 60 + 31).error(), VerifyError::Expired);
    // Each token has its own id.
    EXPECT_NE(a.issue("d", Role::Doctor, std::nullopt, 60, 1000)->claims.jti, t->claims.jti);
}

TEST(TokenService, RefusesSignedTokensWithImpossibleClaims) {
    TokenService svc("k");
    EXPECT_EQ(svc.check(sign({{"sub", "x"}, {"role", "nurse"}, {"jti", "j"}, {"iat", 0}, {"exp", 60}}, "k"), 1).error(),
              VerifyError::Malformed);
    EXPECT_EQ(svc.check(sign({{"sub", "x"}, {"role", "admin"}, {"jti", "j"}, {"iat", 0}, {"exp", 7200}}, "k"), 1).error(),
              VerifyError::Malformed) << "lifetime above an hour";
    EXPECT_EQ(svc.check(sign({{"sub", "x"}, {"role", "patient"}, {"jti", "j"}, {"iat", 0}, {"exp", 60}}, "k"), 1).error(),
              VerifyError::Malformed) << "patient without session";
}

}  // namespace
}  // namespace consult::tokens

namespace consult::tokens {
namespace {

TEST(Jws, AHeaderWhoseAlgIsNotAStringIsRefusedNotThrown) {
    for (const char* header : {R"({"alg":1})", R"({"alg":null})", R"({"alg":["HS256"]})", R"({"alg":{"x":1}})"}) {
        const std::string token = base64url_encode(header) + "." + base64url_encode(R"({"exp":4000000000})") + ".c2ln";
        auto r = verify(token, "k", 1'800'000'000);
        ASSERT_FALSE(r) << header;
        EXPECT_EQ(r.error(), VerifyError::BadAlgorithm) << header;
    }
    const std::string deep = base64url_encode(std::string(100, '[') + std::string(100, ']')) + ".e30.x";
    EXPECT_FALSE(verify(deep, "k", 1'800'000'000));
}

TEST(Jws, ClaimsOfTheWrongTypeAreMalformed) {
    const std::int64_t now = 1'800'000'000;
    EXPECT_EQ(verify(sign({{"exp", "soon"}}, "k"), "k", now).error(), VerifyError::Malformed);
    EXPECT_EQ(verify(sign({{"exp", now + 60}, {"iat", "then"}}, "k"), "k", now).error(), VerifyError::Malformed);
    EXPECT_EQ(verify(sign({{"exp", -5}}, "k"), "k", now).error(), VerifyError::Malformed);
}

TEST(Jws, ATokenStopsWorkingTheSecondItExpires) {
    const std::int64_t now = 1'800'000'000;
    const std::string token = sign({{"exp", now}, {"iat", now - 60}}, "k");
    EXPECT_TRUE(verify(token, "k", now - 1));
    EXPECT_EQ(verify(token, "k", now).error(), VerifyError::Expired) << "no leeway: one box, one clock";
}

TEST(TokenService, ARevokedTokenIsRefusedUntilItWouldHaveExpired) {
    TokenService s("key");
    const std::int64_t now = 1'800'000'000;
    auto t = s.issue("dr", Role::Doctor, std::nullopt, 600, now);
    ASSERT_TRUE(t);
    ASSERT_TRUE(s.check(t->token, now + 1));
    s.revoke(t->claims.jti, t->claims.expires_at, now + 1);
    EXPECT_EQ(s.check(t->token, now + 2).error(), VerifyError::Revoked);
    auto other = s.issue("dr", Role::Doctor, std::nullopt, 600, now);
    EXPECT_TRUE(s.check(other->token, now + 2)) << "only that token";
}

}  // namespace
}  // namespace consult::tokens
