// The signalling hub (docs/signalling.md): one connection per screen, authenticated
// by its first message; every message read into its typed form and dispatched by
// type; the waiting room's rules applied (room/waiting_room.hpp); and for every
// session with media, a room owning the media::Call and its webrtcbin peers. Runs
// on the main loop. Its dependencies are named in HubDeps and wired in daemon.cpp.
#pragma once

#include "appliance/config.hpp"
#include "appliance/live_rooms.hpp"
#include "appliance/metrics.hpp"
#include "appliance/room/room_events.hpp"
#include "appliance/room/waiting_room.hpp"
#include "appliance/signalling/messages.hpp"
#include "appliance/signalling/screen_link.hpp"
#include "appliance/store/records.hpp"
#include "appliance/store/write_queue.hpp"
#include "appliance/tokens/token_service.hpp"
#include "appliance/twilio/ice_servers.hpp"
#include "pipelines/call.hpp"

#include <libsoup/soup.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace consult::recording { class Recordings; }

namespace consult::signalling {

struct HubDeps {
    store::Database& db;
    store::WriteQueue& writes;
    const tokens::TokenService& tokens;
    Metrics& metrics;
    room::Events& events;
    const Config& config;
    // The call's media settings for these ICE servers; nothing while the box has no encoder.
    std::function<std::optional<media::CallSettings>(const twilio::IceServerList&)> call_settings;
    std::function<twilio::IceServerList()> ice_servers;
    std::function<bool()> content_available;
    // Tells the patient the doctor is ready (SMS or email), when messaging is on.
    std::function<void(const std::string& session_id)> doctor_ready;
    // Tells the rest of the daemon a session changed state (the hub hears it back).
    std::function<void(const store::SessionRow&)> session_changed;
    // Runs `f` on the main loop after `wait`.
    std::function<void(std::chrono::milliseconds wait, std::function<void()> f)> later;
    std::function<room::Clock::time_point()> now = [] { return room::Clock::now(); };
    // Recordings (with the patient's consent); null: recording is off on this box.
    recording::Recordings* recordings = nullptr;
};

class Hub {
public:
    explicit Hub(HubDeps deps);
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    // Serves /ws on this server.
    void attach(SoupServer* server);

    // A screen connected from `address`; returns its id. Then its messages and its end:
    std::string connect(std::unique_ptr<ScreenLink> link, const std::string& address);
    void receive(const std::string& screen, std::string_view text);
    void disconnected(const std::string& screen);
    // Closes a screen for something its transport saw (a binary frame).
    void refuse(const std::string& screen, CloseCode code, const std::string& reason);

    // A session changed state elsewhere (REST, the sweeper, the cloud).
    void session_changed(const store::SessionRow& row);
    // REST's admit on a consultation already in progress: lets the newest waiting
    // screen in. False when nobody waits.
    bool admit_waiting(const std::string& session_id);
    // A token was given up (sign-out): its screens are closed, and a doctor's calls
    // still running on this box end ("the doctor signed out"), the patient told.
    void signed_out(const tokens::Claims& claims);
    // The doctor's Record and Stop (REST or the signalling socket): asks the patient first.
    RecordResult record(const std::string& session_id, bool on, const std::string& actor, const std::string& address);
    // Ends every call cleanly and closes every socket with 1001 (daemon stop).
    void shutdown();

    std::size_t sockets() const { return sockets_.size(); }
    std::size_t calls() const;
    std::size_t occupied_rooms() const;   // a call, or a patient waiting or admitted
    std::string metrics_text() const;

    struct Socket;
    struct Room;

private:
    // Messages, each from a screen allowed to send it (hub.cpp).
    void hello(Socket& s, const msg::Hello& m);
    void handle(Socket& s, const msg::Any& m);
    void on(Socket& s, const msg::Ping&);
    void on(Socket& s, const msg::FirstFrame&);
    void on(Socket& s, const msg::Precheck& m);
    void on(Socket& s, const msg::Answer& m);
    void on(Socket& s, const msg::Ice& m);
    void on(Socket& s, const msg::Chat& m);
    void on(Socket& s, const msg::Media& m);
    void on(Socket& s, const msg::ReconnectMedia&);
    void on(Socket& s, const msg::Leave&);
    void on(Socket& s, const msg::Admit& m);
    void on(Socket& s, const msg::Decline& m);
    void on(Socket& s, const msg::End& m);
    void on(Socket& s, const msg::View& m);
    void on(Socket& s, const msg::Share& m);
    void on(Socket& s, const msg::Hello&);
    void on(Socket& s, const msg::Record& m);
    void on(Socket& s, const msg::Consent& m);

    // Recording with consent (recording.cpp).
    RecordResult start_part(Room& r, const std::string& actor);
    void stop_part(Room& r);
    void finish_part(Room& r);
    void consent_over(Room& r, const char* why);   // the admission the consent belonged to ended
    void withdrawn(Room& r);
    void recording_failed(Room& r, const std::string& why);
    void recording_broke(Room& r, const std::string& why);
    void tell_recording(Room& r, const nlohmann::json& extra = nlohmann::json::object());
    nlohmann::json recording_state(const Room& r) const;
    nlohmann::json consent_request() const;   // the question as the patient's page shows it
    unsigned call_kbps(const Room& r) const;
    void calls_changed();
    void everyone_left(Room& r);   // participant-disconnected for each still in the room
    // Join success (join_metrics.cpp): from the patient's admission to the first picture on each side.
    void join_started(Room& r);
    void join_over(Room& r);
    void call_dropped(Room& r);

    // The waiting room applied (waiting.cpp).
    bool ended(Socket& s, const store::SessionRow& row);
    void hello_patient(Socket& s, const store::SessionRow& row, const std::string& device);
    void hello_doctor(Socket& s, const std::optional<std::string>& session_id);
    store::SessionRow doctor_session(Socket& s, const std::optional<std::string>& session);
    bool admit_screen(Room& room, const std::optional<std::string>& which);
    void patient_dropped(Room& room, Socket& s);
    void patient_left(Room& room, Socket& s);
    void expire_rejoin(const std::string& session_id);
    void patient_gone(Room& room);
    void end_room(const std::string& session_id, const std::string& reason);
    nlohmann::json waiting_room(const std::string& session_id);
    void tell_doctors(const std::string& session_id);
    void publish(room::EventKind kind, const Room& room, const std::string& role, const std::string& participant,
                 const std::string& identity, const std::string& track = "");

    // Media (rooms.cpp).
    Room& room(const std::string& session_id);
    Room* find_room(const std::string& session_id);
    void start_media(Room& room, Socket& s, bool viewer);
    void stop_media(Room& room, Socket& s);
    nlohmann::json ice_json();

    // Sockets (hub.cpp).
    Socket* find_socket(const std::string& id);
    void send(Socket& s, const nlohmann::json& m);
    void close(Socket& s, CloseCode code, const std::string& reason);
    void to_session(const std::string& session_id, const nlohmann::json& m, const char* role = nullptr);
    void write(std::string what, store::WriteQueue::Write w) { deps_.writes.submit(std::move(what), std::move(w)); }
    // Audit rows go through the write queue: a busy store delays them, never loses them.
    void audit(store::AuditEntry entry) {
        write("audit " + entry.action, [e = std::move(entry)](store::Database& db) { store::write_audit(db, e); });
    }

    HubDeps deps_;
    std::map<std::string, std::unique_ptr<Socket>> sockets_;
    std::map<std::string, std::unique_ptr<Room>> rooms_;
    std::uint64_t next_socket_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    friend struct Room;
};

}  // namespace consult::signalling
