// The updater's bundle download (update/download.hpp) against a bundle server stand-in
// (tests/standins/bundle_server.py): a clean download, a resume after a cut, and every way
// a server can hand over the wrong bytes, each refused without leaving a file named `dest`.
#include "appliance/file_digest.hpp"
#include "appliance/update/download.hpp"
#include "python_standin.hpp"

#include <gtest/gtest.h>

namespace consult::update {
namespace {

using namespace std::chrono_literals;
using Why = DownloadRefused::Why;

constexpr std::uint64_t kSize = 3 << 20;
constexpr std::uint64_t kCut = 1 << 20;

class BundleServer : public test::PythonStandin {
public:
    BundleServer() : PythonStandin("bundle_server.py", {}) {}

    struct File {
        std::uint64_t size;
        std::string sha256;
    };
    File serve(std::uint64_t size, int seed) const {
        const auto f = control("file", {{"size", size}, {"seed", seed}});
        return {f["size"].get<std::uint64_t>(), f["sha256"].get<std::string>()};
    }
    // The next `count` requests for the file (-1: all) go wrong as `mode` says.
    void mode(const std::string& mode, nlohmann::json with = nlohmann::json::object(), int count = 1) const {
        with["mode"] = mode;
        with["count"] = count;
        control("mode", with);
    }
    nlohmann::json requests() const { return get("/_control/stats")["requests"]; }
    std::string bundle_url() const { return url() + "/bundle.raucb"; }
};

class BundleDownload : public ::testing::Test {
protected:
    DownloadRequest request() const {
        DownloadRequest r;
        r.url = server_.bundle_url();
        r.dest = dest_;
        r.size_bytes = file_.size;
        r.sha256 = file_.sha256;
        r.connect_timeout = 2s;
        r.stall_timeout = 2s;
        r.allow_loopback_http = true;
        return r;
    }
    static DownloadRefused refused(const DownloadResult& result) {
        EXPECT_TRUE(std::holds_alternative<DownloadRefused>(result)) << "downloaded although it should not have";
        return std::holds_alternative<DownloadRefused>(result) ? std::get<DownloadRefused>(result)
                                                                : DownloadRefused{Why::BadRequest, 0, "downloaded"};
    }
    static Downloaded downloaded(const DownloadResult& result) {
        if (const auto* no = std::get_if<DownloadRefused>(&result)) ADD_FAILURE() << "refused: " << no->detail;
        return std::holds_alternative<Downloaded>(result) ? std::get<Downloaded>(result) : Downloaded{};
    }
    void expect_nothing_left() const {
        EXPECT_FALSE(std::filesystem::exists(dest_)) << "a refused download left dest";
        EXPECT_FALSE(std::filesystem::exists(part_path(dest_))) << "a refused download left its .part";
    }
    void expect_the_bundle() const {
        EXPECT_EQ(sha256_file(dest_), file_.sha256);
        EXPECT_FALSE(std::filesystem::exists(part_path(dest_)));
    }

    test::TempDir dir_;
    std::filesystem::path dest_ = dir_ / "consult-appliance-2.1.0.raucb";
    BundleServer server_;
    BundleServer::File file_ = server_.serve(kSize, 1);
};

TEST_F(BundleDownload, ACleanDownloadIsTheWholeVerifiedFile) {
    const auto done = downloaded(download_bundle(request()));
    EXPECT_EQ(done.file, dest_);
    EXPECT_EQ(done.resumed_from, 0u);
    EXPECT_EQ(done.transferred, kSize);
    expect_the_bundle();
    const auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_TRUE(requests[0]["range"].is_null());
}

TEST_F(BundleDownload, AfterACutOnlyTheRestIsFetchedWithARange) {
    server_.mode("cut", {{"bytes", kCut}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::Network);
    EXPECT_FALSE(std::filesystem::exists(dest_));
    EXPECT_EQ(std::filesystem::file_size(part_path(dest_)), kCut) << "what came before the cut is kept";

    const auto done = downloaded(download_bundle(request()));
    EXPECT_EQ(done.resumed_from, kCut);
    EXPECT_EQ(done.transferred, kSize - kCut);
    expect_the_bundle();
    const auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[1]["range"], "bytes=" + std::to_string(kCut) + "-");
    EXPECT_EQ(requests[1]["status"], 206);
    EXPECT_EQ(requests[1]["bytes"], kSize - kCut) << "only the rest was served";
}

TEST_F(BundleDownload, AServerThatIgnoresTheRangeIsReadFromTheStart) {
    server_.mode("cut", {{"bytes", kCut}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::Network);
    server_.mode("ignore_range");
    const auto done = downloaded(download_bundle(request()));
    EXPECT_EQ(done.resumed_from, 0u);
    EXPECT_EQ(done.transferred, kSize);
    expect_the_bundle();
    EXPECT_EQ(server_.requests()[1]["status"], 200);
}

TEST_F(BundleDownload, ARangeAnswerThatDoesNotContinueThePartIsRefused) {
    server_.mode("cut", {{"bytes", kCut}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::Network);
    server_.mode("wrong_range");
    const auto no = refused(download_bundle(request()));
    EXPECT_EQ(no.why, Why::Http);
    EXPECT_EQ(no.http_status, 206);
    expect_nothing_left();
}

TEST_F(BundleDownload, AFileChangedOnTheServerIsRefusedByItsDigest) {
    server_.serve(kSize, 2);
    const auto no = refused(download_bundle(request()));
    EXPECT_EQ(no.why, Why::ShaMismatch) << no.detail;
    expect_nothing_left();
}

TEST_F(BundleDownload, AFileChangedBetweenACutAndItsResumeIsRefusedByTheWholeDigest) {
    server_.mode("cut", {{"bytes", kCut}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::Network);
    server_.serve(kSize, 2);
    EXPECT_EQ(refused(download_bundle(request())).why, Why::ShaMismatch);
    expect_nothing_left();
}

TEST_F(BundleDownload, MoreBytesThanTheReleaseAreRefusedAsTheyArrive) {
    constexpr std::uint64_t kFlood = 256ull << 20;
    server_.mode("unframed_extra", {{"bytes", kFlood}});
    const auto started = std::chrono::steady_clock::now();
    const auto no = refused(download_bundle(request()));
    EXPECT_EQ(no.why, Why::TooBig) << no.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    expect_nothing_left();
    EXPECT_LT(server_.requests()[0]["bytes"].get<std::uint64_t>(), kSize + kFlood / 4) << "the flood was cut short";
}

TEST_F(BundleDownload, AnUnannouncedBodyEndingShortIsACutToResume) {
    server_.mode("cut", {{"bytes", kCut}, {"unframed", true}});   // no Content-Length: the end is the close
    EXPECT_EQ(refused(download_bundle(request())).why, Why::Network);
    EXPECT_EQ(std::filesystem::file_size(part_path(dest_)), kCut);
    EXPECT_EQ(downloaded(download_bundle(request())).resumed_from, kCut);
    expect_the_bundle();
}

TEST_F(BundleDownload, AServerFileShorterThanTheReleaseIsASizeMismatch) {
    file_ = {kSize + 1000, file_.sha256};   // the release says more than the server has
    server_.mode("normal", {{"unframed", true}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::Network) << "unannounced: it looks like a cut";
    const auto no = refused(download_bundle(request()));
    EXPECT_EQ(no.why, Why::SizeMismatch) << no.detail;   // the resume's range starts past the server's end
    expect_nothing_left();
}

TEST_F(BundleDownload, AnAnnouncedLengthOverTheReleaseIsRefusedBeforeAByteIsKept) {
    server_.mode("wrong_length", {{"bytes", kSize + 1}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::TooBig);
    expect_nothing_left();
    server_.mode("wrong_length", {{"bytes", kSize - 1}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::SizeMismatch);
    expect_nothing_left();
}

TEST_F(BundleDownload, BytesBeyondTheAnnouncedLengthAreNotKept) {
    server_.mode("extra", {{"bytes", 4096}});
    EXPECT_EQ(downloaded(download_bundle(request())).transferred, kSize);
    expect_the_bundle();
}

TEST_F(BundleDownload, AReleaseBiggerThanTheCapIsNotFetched) {
    auto r = request();
    r.max_bytes = kSize - 1;
    EXPECT_EQ(refused(download_bundle(r)).why, Why::TooBig);
    expect_nothing_left();
    EXPECT_TRUE(server_.requests().empty());
}

TEST_F(BundleDownload, AnHttpErrorIsRefusedWithItsStatus) {
    for (int status : {404, 500}) {
        server_.mode("status", {{"status", status}});
        const auto no = refused(download_bundle(request()));
        EXPECT_EQ(no.why, Why::Http);
        EXPECT_EQ(no.http_status, status);
        expect_nothing_left();
    }
}

TEST_F(BundleDownload, NothingListeningIsANetworkRefusal) {
    auto r = request();
    r.url = "http://127.0.0.1:" + std::to_string(test::free_port()) + "/bundle.raucb";
    EXPECT_EQ(refused(download_bundle(r)).why, Why::Network);
    expect_nothing_left();
}

TEST_F(BundleDownload, AStalledServerIsGivenUpAndWhatCameIsKept) {
    // A small start: curl averages the speed over the last few seconds, so a fast first
    // megabyte would hold the average over the limit for that long.
    server_.mode("trickle", {{"bytes", 1000}});
    auto r = request();
    r.stall_timeout = 1s;
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(refused(download_bundle(r)).why, Why::Network);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 6s);
    EXPECT_FALSE(std::filesystem::exists(dest_));
    EXPECT_GE(std::filesystem::file_size(part_path(dest_)), 1000u);
}

TEST_F(BundleDownload, PlainHttpIsRefusedUnlessATestAllowsIt) {
    auto r = request();
    r.allow_loopback_http = false;
    EXPECT_EQ(refused(download_bundle(r)).why, Why::BadRequest);
    expect_nothing_left();
    EXPECT_TRUE(server_.requests().empty());
}

TEST_F(BundleDownload, ARedirectToPlainHttpIsNotFollowed) {
    server_.mode("redirect", {{"location", server_.bundle_url()}});
    EXPECT_EQ(refused(download_bundle(request())).why, Why::BadRequest);
    expect_nothing_left();
    EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(BundleDownload, ACompletePartLeftBeforeItsRenameIsKeptWithoutARequest) {
    downloaded(download_bundle(request()));
    std::filesystem::rename(dest_, part_path(dest_));
    const auto done = downloaded(download_bundle(request()));
    EXPECT_EQ(done.resumed_from, kSize);
    EXPECT_EQ(done.transferred, 0u);
    expect_the_bundle();
    EXPECT_EQ(server_.requests().size(), 1u);
}

}  // namespace
}  // namespace consult::update
