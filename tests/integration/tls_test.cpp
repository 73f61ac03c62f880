// HTTPS for the patients' browsers: the same routes on [http] tls_port with the
// clinic's certificate, plain HTTP unchanged; a bad certificate stops start-up (78).
#include "consultd_process.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace consult::test {
namespace {

using namespace std::chrono_literals;

// A throwaway self-signed certificate for 127.0.0.1.
void make_certificate(const fs::path& cert, const fs::path& key) {
    auto r = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                          "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "1", "-subj",
                          "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                         30s);
    ASSERT_EQ(r.code(), 0) << r.err;
    ::chmod(key.c_str(), 0600);
}

TEST(Tls, TheSameRoutesAnswerOverHttpsBesidePlainHttp) {
    TempDir dir;
    make_certificate(dir / "cert.pem", dir / "key.pem");
    const int tls_port = free_port();
    ConsultdProcess p({.args = {"--set", "http.tls_certificate=" + (dir / "cert.pem").string(), "--set",
                                "http.tls_key=" + (dir / "key.pem").string(), "--set",
                                "http.tls_port=" + std::to_string(tls_port)}});
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(30)) << p.stderr_text();
    const std::string base = "https://127.0.0.1:" + std::to_string(tls_port);
    auto healthz = run_command({"/usr/bin/curl", "-sS", "--max-time", "10", "--cacert", (dir / "cert.pem").string(), "-o",
                                "/dev/null", "-w", "%{http_code}", base + "/healthz"},
                               20s);
    EXPECT_EQ(healthz.out, "200") << healthz.err;
    auto page = run_command({"/usr/bin/curl", "-sS", "--max-time", "10", "--cacert", (dir / "cert.pem").string(),
                             base + "/v/some-room"},
                            20s);
    EXPECT_NE(page.out.find("patient.js"), std::string::npos) << page.err;
    // Plain HTTP still answers (the kiosk on the box uses it).
    EXPECT_EQ(http_request(p.port(), "GET", "/healthz").status, 200);
    // And HTTPS is not plain HTTP.
    auto plain = run_command({"/usr/bin/curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                              "http://127.0.0.1:" + std::to_string(tls_port) + "/healthz"},
                             20s);
    EXPECT_NE(plain.out, "200");
}

TEST(Tls, AnUnreadableCertificateStopsStartUpWithExit78) {
    TempDir dir;
    write_file(dir / "cert.pem", "not a certificate\n");
    write_file(dir / "key.pem", "not a key\n");
    ConsultdProcess p({.args = {"--set", "http.tls_certificate=" + (dir / "cert.pem").string(), "--set",
                                "http.tls_key=" + (dir / "key.pem").string(), "--set",
                                "http.tls_port=" + std::to_string(free_port())}});
    ASSERT_TRUE(p.start()) << p.start_error();
    auto st = p.wait_exit(20s);
    ASSERT_TRUE(st.exited) << st.describe();
    EXPECT_EQ(st.code, 78);
    EXPECT_NE(p.stderr_text().find("cert.pem"), std::string::npos) << p.stderr_text();
}

TEST(Tls, ACertificateWithoutAKeyIsAConfigurationError) {
    ConsultdProcess p({.args = {"--set", "http.tls_certificate=/nonexistent/cert.pem"}});
    ASSERT_TRUE(p.start()) << p.start_error();
    auto st = p.wait_exit(20s);
    ASSERT_TRUE(st.exited) << st.describe();
    EXPECT_EQ(st.code, 78);
    EXPECT_NE(p.stderr_text().find("tls_key"), std::string::npos) << p.stderr_text();
}

}  // namespace
}  // namespace consult::test
