// A recorded consultation for the cloud tests: consultd in a small picture (so composing
// is quick), a call with the patient's screen admitted, the patient's yes, a few seconds
// recorded, then the call's end (which composes) and the doctor's look at the recording.
#pragma once

#include "cloud_fixture.hpp"
#include "ws_client.hpp"

namespace consult::test::cloud {

class CloudRecordingFixture : public CloudFixture {
protected:
    CloudRecordingFixture() {
        extra_args = {"--set", "media.max_width=320", "--set", "media.max_height=240", "--set", "media.max_fps=15"};
    }

    // Calls need the probe's encoder: waits until /healthz names it.
    void wait_for_media() {
        ASSERT_TRUE(wait_for([&] {
            auto h = json::parse(daemon->http("GET", "/healthz", "", {}, 5000).body, nullptr, false);
            return h.is_object() && h["encoder"].is_string() && h["encoder"] != "probing";
        }, 60s));
    }

    struct Recorded {
        std::string session, recording_sid;
    };

    // Session i: the patient admitted, asked and saying yes, `seconds` recorded, stopped.
    // With `end`, the call ends too (the recording is then composed).
    Recorded record_call(int i, std::chrono::seconds seconds, bool end) {
        const std::string doctor = token("doctor", kDoctor);
        auto created = create_session(i, doctor);
        Recorded out{created.first, ""};
        auto patient = open_ws();
        patient->send({{"type", "hello"}, {"token", created.second}, {"device", "phone-cloud"}});
        if (!patient->wait_for("waiting")) throw std::runtime_error("the patient did not wait");
        auto doc = open_ws();
        doc->send({{"type", "hello"}, {"token", doctor}, {"session", out.session}});
        if (!doc->wait_for("welcome")) throw std::runtime_error("no welcome for the doctor");
        if (post(kSessions + "/" + out.session + "/admit", doctor) != 200) throw std::runtime_error("admit refused");
        if (!patient->wait_for("admitted") || !patient->wait_for("offer", 20s)) throw std::runtime_error("no call");
        doc->send({{"type", "record"}, {"on", true}});
        if (!patient->wait_for("consent_request")) throw std::runtime_error("the patient was not asked");
        patient->send({{"type", "consent"}, {"given", true}});
        if (!recording_on(*doc)) throw std::runtime_error("the recording did not start");
        std::this_thread::sleep_for(seconds);
        doc->send({{"type", "record"}, {"on", false}});
        if (!wait_for([&] { return recording_json(doctor, out.session).value("state", "") == "paused"; }, 15s))
            throw std::runtime_error("the recording did not stop");
        if (end && post(kSessions + "/" + out.session + "/end", doctor) != 200) throw std::runtime_error("end refused");
        out.recording_sid = recording_json(doctor, out.session).value("recording_sid", "");   // a read: logged
        return out;
    }

    json recording_json(const std::string& doctor, const std::string& session) {
        auto r = daemon->http("GET", kSessions + "/" + session + "/recording", "", {"Authorization: Bearer " + doctor}, 10000);
        return r.status == 200 ? json::parse(r.body, nullptr, false) : json{{"status", r.status}};
    }

private:
    std::unique_ptr<WsClient> open_ws() {
        std::string error;
        auto c = WsClient::connect(daemon->port(), &error);
        if (!c) throw std::runtime_error("WebSocket: " + error);
        return c;
    }
    static bool recording_on(WsClient& c) {
        const auto until = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < until)
            if (auto m = c.wait_for("recording", 15s); !m || m->value("state", "") == "on") return m.has_value();
        return false;
    }
};

}  // namespace consult::test::cloud
