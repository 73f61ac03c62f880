// The signalling hub's private parts, shared by its files: hub.cpp (sockets, hello,
// the message table), waiting.cpp (the waiting room applied) and rooms.cpp (a
// session's media).
#pragma once

#include "appliance/domain/session_lifecycle.hpp"
#include "appliance/recording/recordings.hpp"
#include "appliance/room/recording_consent.hpp"
#include "appliance/signalling/hub.hpp"
#include "appliance/store/session_store.hpp"
#include "pipelines/call.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace consult::signalling {

// The patient's media peer in a room's call; a kiosk's is "view-<socket id>".
inline constexpr const char* kPatientPeer = "patient";

inline std::optional<domain::SessionStatus> status_of(const store::SessionRow& row) {
    return domain::parse_session_status(row.status);
}

inline bool closed(const store::SessionRow& row) {
    auto st = status_of(row);
    return !st || domain::is_closed(*st);
}

struct Hub::Socket {
    std::string id;
    std::unique_ptr<ScreenLink> link;
    std::string address;
    bool authenticated = false;
    tokens::Claims claims;
    std::optional<std::string> session_id;       // patient: always; doctor: when opened with one
    std::optional<std::string> participant_id;
    std::optional<std::string> peer;             // this screen's webrtcbin peer, when it has media
    bool offered = false;                        // an offer went out for the current peer
    bool closing = false;
    FloodGuard flood;

    bool patient() const { return authenticated && claims.role == tokens::Role::Patient; }
    bool doctor() const { return authenticated && claims.role == tokens::Role::Doctor; }
    const char* role() const { return patient() ? "patient" : "doctor"; }
};

struct Hub::Room : media::CallListener {
    Room(Hub& h, std::string session, std::string doctor, std::chrono::seconds rejoin)
        : hub(h), session_id(std::move(session)), doctor_id(std::move(doctor)), waiting(rejoin) {}

    Hub& hub;
    std::string session_id, doctor_id;
    room::WaitingRoom waiting;
    std::optional<std::string> patient_participant;   // the patient's row while they are present
    std::string patient_id;
    std::optional<std::string> pending_admit;          // which waiting screen an admit over REST lets in
    std::unique_ptr<media::Call> call;
    std::map<std::string, std::string> peer_socket;   // media peer → socket id
    nlohmann::json media_state{{"doctor", {{"audio", true}, {"video", true}}}, {"patient", {{"audio", true}, {"video", true}}}};
    bool audio_only = false;
    bool content_on = false;
    std::int64_t last_quality_write_us = 0;
    std::map<std::string, media::PeerStats> last_stats;

    // Recording (recording.cpp): the patient's consent, the doctor's wish, the part being written.
    room::RecordingConsent consent;
    std::optional<std::string> consent_row;             // the request's row in the store
    bool record_wanted = false;                         // the doctor asked; starts once the patient says yes
    std::string record_actor;                           // who asked
    std::optional<recording::Recordings::Part> part;    // the file being written
    bool part_stopping = false;                         // stop asked, waiting for the file to close
    bool restart_part = false;                          // a new part once the patient's media is back
    unsigned patient_peers = 0;                         // the patient's media peers so far (one per admission or rejoin)
    unsigned part_peer = 0;                             // … the one the part being written records
    bool delete_after_stop = false;                     // withdrawn with the clinic's policy "delete"
    std::vector<room::Clock::time_point> part_restarts; // after recorder errors, within the last minute

    // Join success (join_metrics.cpp): since the patient was let in, has each side shown
    // the other's first picture?
    struct Join {
        std::optional<room::Clock::time_point> admitted_at;
        bool patient_saw = false, doctor_saw = false, counted = false;
    } join;

    Socket* socket_for(const std::string& peer);

    // media::CallListener: what the call says, told to the screens and kept in the store.
    void local_description(const std::string& peer, media::SdpType type, const std::string& sdp) override;
    void local_candidate(const std::string& peer, unsigned mline, const std::string& candidate) override;
    void peer_state(const std::string& peer, const std::string& state) override;
    void stats(const std::string& peer, const media::PeerStats& st) override;
    void event(const std::string& peer, media::MediaEvent e, const std::string& detail) override;
    // An answer the appliance cannot use: that screen is closed 4400, the doctor told.
    void answer_refused(const std::string& peer, const std::string& why);
};

}  // namespace consult::signalling
