// The cloud's release offer (update/release.hpp): every way the answer can be hostile or
// broken is refused with its reason before the updater fetches anything it names.
#include "appliance/update/release.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace consult::update {
namespace {

using Why = ReleaseRefused::Why;

const std::string kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

nlohmann::json good_row() {
    return {{"version", "2.1.0+b7"}, {"bundle_url", "https://updates.example.org/consult/2.1.0.raucb"},
            {"sha256", kSha}, {"size_bytes", 734003200}, {"channel", "stable"}};
}

net::HttpResponse answer(long status, std::string body) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

net::HttpResponse rows(const nlohmann::json& array) { return answer(200, array.dump()); }

net::HttpResponse with(const char* key, nlohmann::json value) {
    auto row = good_row();
    row[key] = std::move(value);
    return rows(nlohmann::json::array({row}));
}

net::HttpResponse without(const char* key) {
    auto row = good_row();
    row.erase(key);
    return rows(nlohmann::json::array({row}));
}

std::optional<Why> refused(const net::HttpResponse& r) {
    const auto reply = parse_release_reply(r);
    if (const auto* no = std::get_if<ReleaseRefused>(&reply)) {
        EXPECT_FALSE(no->detail.empty());
        EXPECT_EQ(no->detail.find('\n'), std::string::npos) << "one line for the journal";
        return no->why;
    }
    return std::nullopt;
}

TEST(ReleaseReply, TheCloudsFailuresAndRefusalsAreToldApart) {
    net::HttpResponse down;
    down.error = "Connection refused";
    EXPECT_EQ(refused(down), Why::Unreachable);
    EXPECT_EQ(refused(answer(500, R"({"message":"boom"})")), Why::Unreachable);
    EXPECT_EQ(refused(answer(503, "")), Why::Unreachable);
    EXPECT_EQ(refused(answer(401, R"({"message":"JWT expired"})")), Why::KeyRefused);
    EXPECT_EQ(refused(answer(403, "")), Why::KeyRefused);
}

TEST(ReleaseReply, AnAnswerThatIsNotOneRowOfObjectsIsABadAnswer) {
    for (const auto& bad : {answer(200, "not json"), answer(200, "{}"), answer(200, "null"), answer(200, "[1]"),
                            answer(200, "[[]]"), answer(200, R"(["2.1.0"])"), answer(200, ""),
                            rows(nlohmann::json::array({good_row(), good_row()})),
                            answer(200, std::string(100 * 1024, ' ') + "[]"),
                            answer(200, std::string(30000, '[') + std::string(30000, ']'))})
        EXPECT_EQ(refused(bad), Why::BadAnswer) << bad.body.substr(0, 80);
}

TEST(ReleaseReply, EveryMissingOrMistypedFieldIsABadAnswer) {
    for (const char* key : {"version", "bundle_url", "sha256", "size_bytes", "channel"}) {
        EXPECT_EQ(refused(without(key)), Why::BadAnswer) << key;
        EXPECT_EQ(refused(with(key, nullptr)), Why::BadAnswer) << key;
        EXPECT_EQ(refused(with(key, nlohmann::json::array())), Why::BadAnswer) << key;
        EXPECT_EQ(refused(with(key, nlohmann::json::object())), Why::BadAnswer) << key;
        EXPECT_EQ(refused(with(key, true)), Why::BadAnswer) << key;
    }
    for (const char* key : {"version", "bundle_url", "sha256", "channel"}) EXPECT_EQ(refused(with(key, 7)), Why::BadAnswer) << key;
    EXPECT_EQ(refused(with("size_bytes", "734003200")), Why::BadAnswer) << "a size as text";
    EXPECT_EQ(refused(with("size_bytes", 734003200.5)), Why::BadAnswer) << "a fractional size";
    EXPECT_EQ(refused(with("size_bytes", 1e9)), Why::BadAnswer) << "a size as a float";
}

TEST(ReleaseReply, AVersionOutsideTheReleaseAlphabetIsABadAnswer) {
    for (const char* v : {"", "2.1.0 beta", "2.1.0\n", "../../etc", "2.1/0", "2.1.0;rm", "2.1.0\t", "v2.1.0_x", "é"})
        EXPECT_EQ(refused(with("version", v)), Why::BadAnswer) << v;
    EXPECT_EQ(refused(with("version", std::string(65, '1'))), Why::BadAnswer);
    EXPECT_FALSE(refused(with("version", std::string(64, '1'))));
    EXPECT_FALSE(refused(with("version", "2024.06.1~rc1+g0a1b-2")));
}

TEST(ReleaseReply, ABundleUrlThatIsNotPlainHttpsToAHostIsABadAnswer) {
    for (const char* url : {"http://updates.example.org/b.raucb", "ftp://updates.example.org/b.raucb",
                            "file:///etc/shadow", "HTTPS://updates.example.org/b.raucb", "https:///b.raucb",
                            "https://", "https://user:pw@updates.example.org/b.raucb", "https://@updates.example.org/b",
                            "https://updates.example.org /b.raucb", "https://updates.example.org/b raucb",
                            "https://updates.example.org/b\r\nX-Evil: 1", "https://updates.example.org/\x01",
                            "https://updates.example.org:/b", "https://updates.example.org:99999x/b",
                            "https://updates.example.org/é", "//updates.example.org/b", "updates.example.org/b",
                            "http://127.0.0.1/b.raucb"})
        EXPECT_EQ(refused(with("bundle_url", url)), Why::BadAnswer) << url;
    EXPECT_EQ(refused(with("bundle_url", "https://h.example.org/" + std::string(2048, 'a'))), Why::BadAnswer);
    for (const char* url : {"https://updates.example.org:8443/b.raucb?sig=abc%20d", "https://[2001:db8::1]/b.raucb",
                            "https://cdn.example.org"})
        EXPECT_FALSE(refused(with("bundle_url", url))) << url;
}

TEST(ReleaseReply, ADigestThatIsNotSixtyFourLowerCaseHexDigitsIsABadAnswer) {
    for (const std::string& sha : {kSha.substr(0, 63), kSha + "0", std::string(64, 'A'), "0123456789ABCDEF" + kSha.substr(16),
                                   std::string(64, 'g'), std::string(""), " " + kSha.substr(1)})
        EXPECT_EQ(refused(with("sha256", sha)), Why::BadAnswer) << sha;
}

TEST(ReleaseReply, ASizeOutsideOneByteToFourGibibytesIsABadAnswer) {
    for (const nlohmann::json& size : {nlohmann::json(0), nlohmann::json(-1), nlohmann::json(5LL << 30),
                                       nlohmann::json((4LL << 30) + 1), nlohmann::json(18446744073709551615ULL)})
        EXPECT_EQ(refused(with("size_bytes", size)), Why::BadAnswer) << size.dump();
    EXPECT_FALSE(refused(with("size_bytes", 1)));
    EXPECT_FALSE(refused(with("size_bytes", 4LL << 30)));
}

TEST(ReleaseReply, AChannelThatIsNotAShortLowerCaseNameIsABadAnswer) {
    for (const std::string& channel : {std::string(""), std::string("Stable"), std::string("-beta"), std::string("beta\n"),
                                       std::string("a b"), std::string(33, 'a')})
        EXPECT_EQ(refused(with("channel", channel)), Why::BadAnswer) << channel;
}

TEST(ReleaseReply, NoRowIsNoRelease) {
    EXPECT_TRUE(std::holds_alternative<NoRelease>(parse_release_reply(answer(200, "[]"))));
    EXPECT_TRUE(std::holds_alternative<NoRelease>(parse_release_reply(answer(200, " [ ] \n"))));
}

TEST(ReleaseReply, OneWellFormedRowIsTheRelease) {
    auto row = good_row();
    row["notes"] = "a column the box does not read";
    const auto reply = parse_release_reply(rows(nlohmann::json::array({row})));
    ASSERT_TRUE(std::holds_alternative<Release>(reply));
    EXPECT_EQ(std::get<Release>(reply),
              (Release{"2.1.0+b7", "https://updates.example.org/consult/2.1.0.raucb", kSha, 734003200, "stable"}));
}

TEST(ReleaseRequest, AsksTheRpcWithTheDeviceTokenAndTheApiKey) {
    const auto r = release_request({"https://p.supabase.co/rest/v1/", "api-key", "device.jwt.sig"});
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://p.supabase.co/rest/v1/rpc/consult_release_for_device");
    EXPECT_EQ(nlohmann::json::parse(r.body), nlohmann::json::object());
    bool apikey = false, bearer = false;
    for (const auto& [k, v] : r.headers) {
        apikey |= k == "apikey" && v == "api-key";
        bearer |= k == "Authorization" && v == "Bearer device.jwt.sig";
    }
    EXPECT_TRUE(apikey);
    EXPECT_TRUE(bearer);
}

TEST(BundleUrl, PlainHttpPassesOnlyToLoopbackAndOnlyWhenATestAllowsIt) {
    EXPECT_TRUE(bundle_url_problem("http://127.0.0.1:8080/b.raucb"));
    EXPECT_FALSE(bundle_url_problem("http://127.0.0.1:8080/b.raucb", true));
    EXPECT_FALSE(bundle_url_problem("http://localhost/b.raucb", true));
    EXPECT_TRUE(bundle_url_problem("http://example.org/b.raucb", true));
    EXPECT_TRUE(bundle_url_problem("http://127.0.0.1.example.org/b.raucb", true));
    EXPECT_TRUE(bundle_url_problem("http://user@127.0.0.1/b.raucb", true));
}

}  // namespace
}  // namespace consult::update
