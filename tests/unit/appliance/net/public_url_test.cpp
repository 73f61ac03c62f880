// public_url_warning: what patients' phones cannot open, said plainly; a public https
// address says nothing.
#include "appliance/net/public_url.hpp"

#include <gtest/gtest.h>

namespace consult::net {
namespace {

TEST(PublicUrl, APublicHttpsAddressIsFine) {
    EXPECT_EQ(public_url_warning("https://consult.smile-dental.example.org"), std::nullopt);
    EXPECT_EQ(public_url_warning("https://clinic.example.org:8443/consult"), std::nullopt);
    EXPECT_EQ(public_url_warning("https://203.0.113.7"), std::nullopt);
    EXPECT_EQ(public_url_warning("https://[2001:db8::7]"), std::nullopt);
}

TEST(PublicUrl, WhatPhonesCannotReachIsNamedWithWhy) {
    for (const char* url : {"http://127.0.0.1:8080", "https://localhost", "https://[::1]:8443"}) {
        auto w = public_url_warning(url);
        ASSERT_TRUE(w) << url;
        EXPECT_NE(w->find("Patients' phones cannot open their links"), std::string::npos) << *w;
        EXPECT_NE(w->find("public_base_url"), std::string::npos) << *w;
    }
    for (const char* url : {"https://192.168.1.20", "https://10.0.0.5", "https://172.16.4.1", "https://[fd00::5]"})
        EXPECT_NE(public_url_warning(url).value_or("").find("private address"), std::string::npos) << url;
    EXPECT_NE(public_url_warning("https://169.254.3.3").value_or("").find("link-local"), std::string::npos);
    EXPECT_NE(public_url_warning("https://consult-box").value_or("").find("only the clinic's network"), std::string::npos);
    EXPECT_NE(public_url_warning("https://consult.local").value_or("").find("only the clinic's network"), std::string::npos);
}

TEST(PublicUrl, PlainHttpIsNamedBecauseBrowsersRefuseTheCamera) {
    auto w = public_url_warning("http://consult.example.org");
    ASSERT_TRUE(w);
    EXPECT_NE(w->find("camera"), std::string::npos) << *w;
    EXPECT_TRUE(public_url_warning("not a url"));
}

}  // namespace
}  // namespace consult::net
