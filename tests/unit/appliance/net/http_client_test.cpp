#include "appliance/net/http_client.hpp"

#include "loopback_http.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <thread>

namespace consult::net {
namespace {

using test::LoopbackHttp;
using test::RawRequest;

// Runs the default context until `done` or a hard limit of 15 s.
template <typename Pred>
bool iterate_until(Pred done) {
    const gint64 limit = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!done() && g_get_monotonic_time() < limit) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
    return done();
}

TEST(HttpClient, DeliversStatusHeadersAndBodyOnTheCreatingThread) {
    LoopbackHttp server([](const RawRequest&) {
        return LoopbackHttp::reply(200, "[1,2]", "Content-Range: 0-1/*\r\nX-Mixed-Case: yes\r\n");
    });
    HttpClient client;
    std::optional<HttpResponse> got;
    std::thread::id delivered_on;
    client.send({.url = server.url("/rest/v1/x")}, [&](HttpResponse r) {
        delivered_on = std::this_thread::get_id();
        got = std::move(r);
    });
    ASSERT_TRUE(iterate_until([&] { return got.has_value(); }));
    EXPECT_EQ(delivered_on, std::this_thread::get_id());
    EXPECT_EQ(got->status, 200);
    EXPECT_FALSE(got->transport_failed());
    EXPECT_EQ(got->body, "[1,2]");
    EXPECT_EQ(got->header("content-range").value_or(""), "0-1/*");
    EXPECT_EQ(got->header("x-mixed-case").value_or(""), "yes");
    EXPECT_FALSE(got->header("absent"));
    EXPECT_EQ(client.in_flight(), 0u);
}

TEST(HttpClient, SendsMethodHeadersBodyAndBasicAuth) {
    std::string seen_method, seen_target, seen_prefer, seen_auth, seen_body;
    LoopbackHttp server([&](const RawRequest& r) {
        seen_method = r.method();
        seen_target = r.target();
        seen_prefer = r.header("Prefer");
        seen_auth = r.header("Authorization");
        seen_body = r.body;
        return LoopbackHttp::reply(201, "");
    });
    HttpRequest req;
    req.method = "POST";
    req.url = server.url("/t?on_conflict=id");
    req.headers = {{"Prefer", "resolution=merge-duplicates, return=minimal"}, {"Content-Type", "application/json"}};
    req.body = R"([{"id":"a"}])";
    req.basic_user = "AC123";
    req.basic_password = "secret";
    auto r = HttpClient::send_blocking(req);
    EXPECT_EQ(r.status, 201) << r.error;
    EXPECT_EQ(seen_method, "POST");
    EXPECT_EQ(seen_target, "/t?on_conflict=id");
    EXPECT_EQ(seen_prefer, "resolution=merge-duplicates, return=minimal");
    EXPECT_EQ(seen_auth, "Basic QUMxMjM6c2VjcmV0");
    EXPECT_EQ(seen_body, R"([{"id":"a"}])");

    req.method = "PATCH";
    req.basic_user.clear();
    EXPECT_EQ(HttpClient::send_blocking(req).status, 201);
    EXPECT_EQ(seen_method, "PATCH");
    EXPECT_EQ(seen_auth, "");
    EXPECT_EQ(seen_body, R"([{"id":"a"}])");
}

TEST(HttpClient, TimesOutOnAServerThatNeverAnswers) {
    LoopbackHttp server([](const RawRequest&) { return std::string(LoopbackHttp::kHang); });
    HttpClient client;
    std::optional<HttpResponse> got;
    client.send({.url = server.url("/slow"), .timeout = std::chrono::milliseconds(300)},
                [&](HttpResponse r) { got = std::move(r); });
    ASSERT_TRUE(iterate_until([&] { return got.has_value(); }));
    EXPECT_TRUE(got->transport_failed());
    EXPECT_NE(got->error.find("timeout"), std::string::npos) << got->error;
}

TEST(HttpClient, ReportsADroppedConnectionAndARefusedOneAsTransportFailures) {
    LoopbackHttp server([](const RawRequest&) { return std::string(LoopbackHttp::kDrop); });
    auto dropped = HttpClient::send_blocking({.url = server.url("/x"), .timeout = std::chrono::milliseconds(3000)});
    EXPECT_TRUE(dropped.transport_failed());
    EXPECT_FALSE(dropped.error.empty());

    int closed_port = 0;
    { LoopbackHttp gone([](const RawRequest&) { return std::string(); }); closed_port = gone.port(); }
    auto refused = HttpClient::send_blocking(
        {.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/", .timeout = std::chrono::milliseconds(3000)});
    EXPECT_TRUE(refused.transport_failed());
    EXPECT_FALSE(refused.error.empty());
}

TEST(HttpClient, ManyRequestsRunSideBySide) {
    LoopbackHttp server([](const RawRequest& r) { return LoopbackHttp::reply(200, r.target()); });
    HttpClient client;
    std::vector<std::string> bodies;
    for (int i = 0; i < 20; ++i)
        client.send({.url = server.url("/n" + std::to_string(i))}, [&](HttpResponse r) { bodies.push_back(r.body); });
    ASSERT_TRUE(iterate_until([&] { return bodies.size() == 20; }));
    std::sort(bodies.begin(), bodies.end());
    EXPECT_EQ(bodies.front(), "/n0");
}

TEST(HttpClient, DestroyingTheClientDropsPendingCallbacks) {
    LoopbackHttp hang([](const RawRequest&) { return std::string(LoopbackHttp::kHang); });
    LoopbackHttp fast([](const RawRequest&) { return LoopbackHttp::reply(200, "ok"); });
    bool called = false;
    {
        HttpClient client;
        client.send({.url = hang.url("/")}, [&](HttpResponse) { called = true; });
        client.send({.url = fast.url("/")}, [&](HttpResponse) { called = true; });
        // Let the fast reply reach the queue without dispatching it.
        const gint64 limit = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (fast.requests() == 0 && g_get_monotonic_time() < limit) g_usleep(1000);
        g_usleep(50000);
    }
    for (int i = 0; i < 50; ++i) g_main_context_iteration(nullptr, FALSE);
    EXPECT_FALSE(called);
}

TEST(HttpClient, DeliversOnTheContextItWasGiven) {
    LoopbackHttp server([](const RawRequest&) { return LoopbackHttp::reply(204, ""); });
    GMainContext* ctx = g_main_context_new();
    std::optional<long> status;
    {
        HttpClient client(ctx);
        client.send({.url = server.url("/")}, [&](HttpResponse r) { status = r.status; });
        // Nothing arrives on the default context.
        for (int i = 0; i < 100 && !status; ++i) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
        EXPECT_FALSE(status);
        const gint64 limit = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
        while (!status && g_get_monotonic_time() < limit) g_main_context_iteration(ctx, FALSE), g_usleep(1000);
    }
    g_main_context_unref(ctx);
    EXPECT_EQ(status.value_or(-1), 204);
}

TEST(HttpClient, SendsAPartOfAFileAsTheBodyAndHashesAReplyInsteadOfKeepingIt) {
    const std::string path = ::testing::TempDir() + "/http_client_body_file";
    {
        FILE* f = std::fopen(path.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        std::fputs("0123456789abcdef", f);
        std::fclose(f);
    }
    std::string seen_method, seen_body, seen_length;
    LoopbackHttp server([&](const RawRequest& r) {
        seen_method = r.method();
        seen_body = r.body;
        seen_length = r.header("Content-Length");
        return LoopbackHttp::reply(200, "abc");
    });
    HttpRequest req;
    req.method = "PATCH";
    req.url = server.url("/upload/x");
    req.body_file = HttpRequest::FileRange{path, 4, 6};
    req.digest_only = true;
    auto r = HttpClient::send_blocking(req);
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(seen_method, "PATCH");
    EXPECT_EQ(seen_body, "456789");
    EXPECT_EQ(seen_length, "6");
    EXPECT_EQ(r.body, "") << "hashed, not kept";
    EXPECT_EQ(r.body_bytes, 3u);
    EXPECT_EQ(r.body_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");   // SHA-256("abc")

    // A range past the file's end sends nothing rather than a short body.
    req.body_file = HttpRequest::FileRange{path, 10, 100};
    auto short_file = HttpClient::send_blocking(req);
    EXPECT_TRUE(short_file.transport_failed());
    EXPECT_NE(short_file.error.find("file"), std::string::npos) << short_file.error;
    std::remove(path.c_str());
}

TEST(HttpClient, FormAndUrlEncoding) {
    EXPECT_EQ(url_escape("a b+c/é~"), "a%20b%2Bc%2F%C3%A9~");
    EXPECT_EQ(url_escape("2024-01-01T00:00:00+00:00"), "2024-01-01T00%3A00%3A00%2B00%3A00");
    EXPECT_EQ(form_encode({{"To", "+15551234567"}, {"Body", "Hi & bye"}}), "To=%2B15551234567&Body=Hi%20%26%20bye");
    EXPECT_EQ(form_encode({}), "");
}

}  // namespace
}  // namespace consult::net
