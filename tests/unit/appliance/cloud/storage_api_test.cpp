// Supabase Storage's request and response forms: where the API is, the TUS requests'
// headers, the upload URL accepted only under our own endpoint, an object's deletion, and
// the error shapes the storage API, its TUS server and the gateway answer with.
#include "appliance/cloud/storage_api.hpp"

#include <glib.h>
#include <gtest/gtest.h>

#include <map>

namespace consult::cloud::storage {
namespace {

const Endpoint kEndpoint{"https://xyz.supabase.co/storage/v1", "anon-key", "device.jwt.token"};

std::string header(const net::HttpRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "<absent>";
}

net::HttpResponse answer(long status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

std::string unbase64(const std::string& s) {
    gsize n = 0;
    guchar* d = g_base64_decode(s.c_str(), &n);
    std::string out(reinterpret_cast<char*>(d), n);
    g_free(d);
    return out;
}

TEST(StorageApi, TheStorageApiSitsBesideTheRestApiOfTheSameProject) {
    EXPECT_EQ(storage_url("https://xyz.supabase.co/rest/v1"), "https://xyz.supabase.co/storage/v1");
    EXPECT_EQ(storage_url("https://xyz.supabase.co/rest/v1/"), "https://xyz.supabase.co/storage/v1");
    EXPECT_EQ(storage_url("http://127.0.0.1:5000"), "http://127.0.0.1:5000/storage/v1");
}

TEST(StorageApi, ACreateCarriesTheLengthTheObjectsNameAndItsHashAsMetadata) {
    NewUpload u{"consult-recordings", "clinic/session/RT1.mp4", 123456, "video/mp4", {{"sha256", "ab"}}, false};
    auto r = create_request(kEndpoint, u);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://xyz.supabase.co/storage/v1/upload/resumable");
    EXPECT_EQ(header(r, "apikey"), "anon-key");
    EXPECT_EQ(header(r, "Authorization"), "Bearer device.jwt.token");
    EXPECT_EQ(header(r, "Tus-Resumable"), "1.0.0");
    EXPECT_EQ(header(r, "Upload-Length"), "123456");
    EXPECT_EQ(header(r, "x-upsert"), "false");
    std::map<std::string, std::string> meta;   // "key base64,key base64,..."
    const std::string m = header(r, "Upload-Metadata");
    for (size_t from = 0; from < m.size();) {
        const size_t comma = std::min(m.find(',', from), m.size()), space = m.find(' ', from);
        meta[m.substr(from, space - from)] = unbase64(m.substr(space + 1, comma - space - 1));
        from = comma + 1;
    }
    EXPECT_EQ(meta["bucketName"], "consult-recordings");
    EXPECT_EQ(meta["objectName"], "clinic/session/RT1.mp4");
    EXPECT_EQ(meta["contentType"], "video/mp4");
    EXPECT_EQ(nlohmann::json::parse(meta["metadata"])["sha256"], "ab");
}

TEST(StorageApi, AChunkIsAPatchAtItsOffsetReadFromTheFile) {
    auto r = chunk_request(kEndpoint, "https://xyz.supabase.co/storage/v1/upload/resumable/abc", "/r/f.mp4", 6291456, 100);
    EXPECT_EQ(r.method, "PATCH");
    EXPECT_EQ(header(r, "Upload-Offset"), "6291456");
    EXPECT_EQ(header(r, "Content-Type"), "application/offset+octet-stream");
    ASSERT_TRUE(r.body_file);
    EXPECT_EQ(r.body_file->offset, 6291456u);
    EXPECT_EQ(r.body_file->length, 100u);
    EXPECT_TRUE(r.body.empty());
    EXPECT_GT(r.stall_timeout.count(), 0);
}

TEST(StorageApi, InfoAndDownloadEscapeEachSegmentOfTheObjectsName) {
    EXPECT_EQ(info_request(kEndpoint, "b", "c 1/s/RT.mp4").url,
              "https://xyz.supabase.co/storage/v1/object/info/authenticated/b/c%201/s/RT.mp4");
    auto d = download_request(kEndpoint, "b", "c/s/RT.mp4");
    EXPECT_EQ(d.url, "https://xyz.supabase.co/storage/v1/object/authenticated/b/c/s/RT.mp4");
    EXPECT_TRUE(d.digest_only);
}

TEST(StorageApi, ADeletionIsABodylessDeleteOfTheObjectsEscapedPathWithTheDevicesCredentials) {
    auto r = delete_request(kEndpoint, "consult-recordings", "c 1/s/RT1.mp4");
    EXPECT_EQ(r.method, "DELETE");
    EXPECT_EQ(r.url, "https://xyz.supabase.co/storage/v1/object/consult-recordings/c%201/s/RT1.mp4");
    EXPECT_EQ(header(r, "apikey"), "anon-key");
    EXPECT_EQ(header(r, "Authorization"), "Bearer device.jwt.token");
    EXPECT_EQ(header(r, "Content-Type"), "<absent>");
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(r.body_file);
    EXPECT_GT(r.timeout.count(), 0);
}

TEST(StorageApi, OnlyTheStorageApiItselfSaysAnObjectIsNotThere) {
    EXPECT_TRUE(object_absent(answer(400, R"({"statusCode":"404","code":"NoSuchKey","error":"not_found","message":"Object not found"})")));
    EXPECT_TRUE(object_absent(answer(400, R"({"statusCode":"404","code":"NoSuchBucket","message":"Bucket not found"})")));
    EXPECT_FALSE(object_absent(answer(404, R"({"message":"no Route matched with those values"})")))
        << "the gateway's 404 is a wrong URL, not a deleted object";
    EXPECT_FALSE(object_absent(answer(400, R"({"statusCode":"403","code":"AccessDenied","message":"invalid signature"})")));
    EXPECT_FALSE(object_absent(answer(200, R"({"message":"Successfully deleted"})")));
    EXPECT_FALSE(object_absent(net::HttpResponse{}));
}

TEST(StorageApi, TheUploadUrlIsAcceptedOnlyUnderOurOwnEndpoint) {
    auto with = [](std::string location) { return answer(201, "", {{"location", std::move(location)}}); };
    EXPECT_EQ(upload_url(kEndpoint, with("https://xyz.supabase.co/storage/v1/upload/resumable/YWJj")).value_or(""),
              "https://xyz.supabase.co/storage/v1/upload/resumable/YWJj");
    EXPECT_EQ(upload_url(kEndpoint, with("/storage/v1/upload/resumable/YWJj")).value_or(""),
              "https://xyz.supabase.co/storage/v1/upload/resumable/YWJj");
    EXPECT_FALSE(upload_url(kEndpoint, with("https://elsewhere.example/storage/v1/upload/resumable/YWJj")))
        << "the device's credentials go nowhere else";
    EXPECT_FALSE(upload_url(kEndpoint, with("https://xyz.supabase.co/storage/v1/upload/resumable/")));
    EXPECT_FALSE(upload_url(kEndpoint, answer(201, "")));
    EXPECT_EQ(upload_offset(answer(204, "", {{"upload-offset", "6291456"}})).value_or(0), 6291456u);
    EXPECT_FALSE(upload_offset(answer(204, "", {{"upload-offset", "-1"}})));
}

TEST(StorageApi, ErrorsAreReadInTheApisTheTusServersAndTheGatewaysShapes) {
    // The storage API: HTTP 400 with the real status in the body.
    auto jwt = answer(400, R"({"statusCode":"403","code":"AccessDenied","error":"Unauthorized","message":"invalid signature"})");
    EXPECT_EQ(classify(jwt), Outcome::Unauthorized);
    EXPECT_EQ(parse_error(jwt).summary(), "HTTP 400 (403 AccessDenied): invalid signature");
    EXPECT_EQ(classify(answer(400, R"({"statusCode":"409","code":"KeyAlreadyExists","error":"Duplicate","message":"The resource already exists"})")),
              Outcome::Exists);
    EXPECT_EQ(classify(answer(400, R"({"statusCode":"413","code":"EntityTooLarge","message":"too big"})")), Outcome::TooLarge);
    EXPECT_EQ(classify(answer(400, R"({"statusCode":"404","code":"NoSuchBucket","message":"Bucket not found"})")), Outcome::Gone);
    EXPECT_EQ(classify(answer(400, R"({"statusCode":"400","code":"InvalidKey","message":"Invalid key"})")), Outcome::Rejected);
    EXPECT_EQ(classify(answer(500, R"({"statusCode":"500","code":"InternalError","message":"x"})")), Outcome::Retry);
    EXPECT_EQ(classify(answer(429, R"({"statusCode":"429","code":"SlowDown"})")), Outcome::Retry);
    // The TUS server: plain text, the real status.
    EXPECT_EQ(classify(answer(409, "Upload-Offset header and current offset do not match\n")), Outcome::Exists);
    EXPECT_EQ(classify(answer(413, "Maximum size exceeded\n")), Outcome::TooLarge);
    EXPECT_EQ(classify(answer(410, "The file for this url no longer exists\n")), Outcome::Gone);
    EXPECT_EQ(parse_error(answer(413, "Maximum size exceeded\n")).message, "Maximum size exceeded");
    // The gateway.
    EXPECT_EQ(classify(answer(401, R"({"message":"Invalid API key"})")), Outcome::Unauthorized);
    // No answer.
    net::HttpResponse dropped;
    dropped.error = "Recv failure: Connection reset by peer";
    EXPECT_EQ(classify(dropped), Outcome::Retry);
    EXPECT_EQ(classify(answer(204, "")), Outcome::Done);
}

}  // namespace
}  // namespace consult::cloud::storage
