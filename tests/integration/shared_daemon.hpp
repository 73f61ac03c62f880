// A suite whose tests share one consultd --demo (started with `Args`, media ready) and
// open WebSocket clients to it; a call with its patient admitted, for any daemon.
#pragma once

#include "api_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace consult::test::api {

inline std::unique_ptr<WsClient> open_socket(ApiDaemon& api) {
    std::string error;
    auto c = WsClient::connect(api.proc().port(), &error);
    if (!c) setup_failed("WebSocket connect failed: " + error);
    return c;
}

// A call in progress: the patient admitted (and offered media), doctor B's screen open.
struct AdmittedCall {
    Session s;
    std::unique_ptr<WsClient> patient, doctor;
};

inline AdmittedCall admitted_call(ApiDaemon& api, const std::string& device) {
    AdmittedCall c;
    c.s = api.scheduled_session();
    c.patient = open_socket(api);
    c.patient->send({{"type", "hello"}, {"token", c.s.patient_token}, {"device", device}});
    if (!c.patient->wait_for("waiting")) setup_failed("the patient did not wait");
    c.doctor = open_socket(api);
    c.doctor->send({{"type", "hello"}, {"token", api.doctor_b}, {"session", c.s.id}});
    if (!c.doctor->wait_for("welcome")) setup_failed("no welcome for the doctor");
    auto r = api.call("POST", kSessions + "/" + c.s.id + "/admit", api.doctor_b);
    if (r.status != 200) setup_failed("admit: " + r.text());
    if (!c.patient->wait_for("admitted")) setup_failed("not admitted");
    if (!c.patient->wait_for("offer", std::chrono::seconds(20))) setup_failed("no offer");
    return c;
}

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

    std::unique_ptr<WsClient> open() { return open_socket(api()); }

private:
    static inline ApiDaemon* daemon_ = nullptr;
};

}  // namespace consult::test::api
