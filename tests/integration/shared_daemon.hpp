// A suite whose tests share one consultd --demo (started with `Args`, media ready) and
// open WebSocket clients to it.
#pragma once

#include "api_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace consult::test::api {

template <const std::vector<std::string>& Args>
class SharedDaemonSuite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = new ApiDaemon(Args);
        daemon_->start();
        daemon_->wait_for_media();
    }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }

    static ApiDaemon& api() { return *daemon_; }

    std::unique_ptr<WsClient> open() {
        std::string error;
        auto c = WsClient::connect(api().proc().port(), &error);
        if (!c) setup_failed("WebSocket connect failed: " + error);
        return c;
    }

private:
    static inline ApiDaemon* daemon_ = nullptr;
};

}  // namespace consult::test::api
