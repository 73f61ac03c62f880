// Pairing by code (cloud/pairing_code.hpp): the code as a person types it, the claim sent
// with the anon key only, and the cloud's answer checked before the box keeps any of it.
#include "appliance/cloud/pairing_code.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace consult::cloud {
namespace {

net::HttpResponse answer(long status, std::string body) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

ClaimRefused::Why refused(const net::HttpResponse& r) {
    auto v = parse_claim_reply(r);
    EXPECT_TRUE(std::holds_alternative<ClaimRefused>(v)) << r.body;
    return std::holds_alternative<ClaimRefused>(v) ? std::get<ClaimRefused>(v).why : ClaimRefused::Why::WrongCode;
}

const std::string kRow = R"({"clinic_id":"c1a1c000-0000-4000-8000-000000000001","device_id":"box-room-3",)"
                         R"("device_token":"eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"})";

TEST(PairingCode, AsTypedItIsTenCharactersWithoutLookAlikes) {
    EXPECT_EQ(normalize_pairing_code("7KQ4M-Z9PXR"), "7KQ4MZ9PXR");
    EXPECT_EQ(normalize_pairing_code("7kq4m z9pxr"), "7KQ4MZ9PXR");
    EXPECT_EQ(normalize_pairing_code(" 7KQ4MZ9PXR "), "7KQ4MZ9PXR");
    for (const char* bad : {"", "7KQ4M", "7KQ4M-Z9PXR-A", "0KQ4M-Z9PXR", "OKQ4M-Z9PXR", "1KQ4M-Z9PXR", "IKQ4M-Z9PXR",
                            "7KQ4M_Z9PXR", "7KQ4M\nZ9PXR", "7KQ4M%Z9PXR", "ÄKQ4M-Z9PXR",
                            "----------7KQ4MZ9PXR----------------"})
        EXPECT_FALSE(normalize_pairing_code(bad)) << bad;
}

TEST(PairingCode, TheClaimCarriesTheAnonKeyAndTheCodeOnly) {
    auto r = claim_request("https://p.supabase.co/rest/v1/", "anon-key", "7KQ4MZ9PXR");
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://p.supabase.co/rest/v1/rpc/consult_claim_pairing_code");
    EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"code", "7KQ4MZ9PXR"}}));
    bool apikey = false;
    for (const auto& [k, v] : r.headers) apikey |= k == "apikey" && v == "anon-key";
    EXPECT_TRUE(apikey);
    EXPECT_EQ(claim_request("https://p.supabase.co", "k", "C").url, r.url);
}

TEST(PairingCode, OneWellFormedRowIsThePairing) {
    auto v = parse_claim_reply(answer(200, "[" + kRow + "]"));
    ASSERT_TRUE(std::holds_alternative<Claimed>(v));
    const auto& c = std::get<Claimed>(v);
    EXPECT_EQ(c.clinic_id, "c1a1c000-0000-4000-8000-000000000001");
    EXPECT_EQ(c.device_id, "box-room-3");
    EXPECT_EQ(c.device_token, "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln");
}

TEST(PairingCode, NoRowIsAWrongUsedOrExpiredCode) {
    EXPECT_EQ(refused(answer(200, "[]")), ClaimRefused::Why::WrongCode);
}

TEST(PairingCode, TheCloudsFailuresAndRefusalsAreToldApart) {
    net::HttpResponse down;
    down.error = "Connection refused";
    EXPECT_EQ(refused(down), ClaimRefused::Why::Unreachable);
    EXPECT_EQ(refused(answer(500, "{}")), ClaimRefused::Why::Unreachable);
    EXPECT_EQ(refused(answer(503, "")), ClaimRefused::Why::Unreachable);
    EXPECT_EQ(refused(answer(401, R"({"message":"Invalid API key"})")), ClaimRefused::Why::KeyRefused);
    EXPECT_EQ(refused(answer(403, "")), ClaimRefused::Why::KeyRefused);
}

TEST(PairingCode, AHostileAnswerIsNeverKept) {
    auto row = nlohmann::json::parse(kRow);
    auto with = [&](const char* key, nlohmann::json value) {
        auto r = row;
        r[key] = std::move(value);
        return answer(200, nlohmann::json::array({r}).dump());
    };
    for (const auto& bad : {answer(200, "not json"), answer(200, "{}"), answer(200, "[1]"), answer(200, "[[]]"),
                            answer(200, "[" + kRow + "," + kRow + "]"), answer(200, std::string(70000, ' ') + "[]"),
                            with("clinic_id", "../../etc"), with("clinic_id", 7), with("clinic_id", nullptr),
                            with("device_id", ""), with("device_id", std::string(65, 'a')), with("device_id", "a b"),
                            with("device_id", "box\n[cloud]"), with("device_token", "not a jwt"),
                            with("device_token", "a.b.c\nclinic_id=x"), with("device_token", std::string(9000, 'a') + ".b.c"),
                            with("device_token", nlohmann::json::array())})
        EXPECT_EQ(refused(bad), ClaimRefused::Why::BadAnswer) << bad.body.substr(0, 200);
}

}  // namespace
}  // namespace consult::cloud
