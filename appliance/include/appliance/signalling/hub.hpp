// The WebSocket signalling hub (docs/signalling.md): one socket per screen,
// authenticated by its first message; the waiting room; and for every session
// that has media, a Room owning the media::Call and its webrtcbin peers. Runs on
// the main loop; everything it learns goes to the store before it goes out.
#pragma once

#include "appliance/context.hpp"
#include "appliance/signalling/protocol.hpp"
#include "appliance/twilio/ice_servers.hpp"
#include "hwconfig/gref.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace consult::signalling {

class Hub {
public:
    explicit Hub(ApplianceContext& ctx);
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    // Serves /ws on this server.
    void attach(SoupServer* server);
    // Ends every call cleanly and closes every socket with 1001 (daemon stop).
    void shutdown();

    std::size_t sockets() const { return sockets_.size(); }
    std::size_t calls() const;
    std::string metrics_text() const;

    struct Socket;
    struct Room;

private:
    static void on_websocket(SoupServer*, SoupServerMessage*, const char*, SoupWebsocketConnection*, gpointer self);
    void on_text(Socket& s, std::string_view text);
    void on_closed(const std::string& socket_id);
    void on_session_changed(const store::SessionRow& row);

    void hello(Socket& s, const nlohmann::json& m);
    // A screen opening a consultation that is over: told so and closed (true).
    bool ended(Socket& s, const store::SessionRow& row);
    void hello_patient(Socket& s, const store::SessionRow& row);
    void hello_doctor(Socket& s, const std::optional<std::string>& session_id);
    void handle(Socket& s, const ClientMessage& m);

    // The session a doctor's message is about: its `session` field, else the socket's.
    store::SessionRow doctor_session(Socket& s, const nlohmann::json& m);
    void admit_patient(Room& room);
    void start_media(Room& room, Socket& s, bool viewer);
    void stop_media(Room& room, Socket& s);
    void patient_gone(Room& room, bool left);
    void end_room(const std::string& session_id, const std::string& reason);

    void send(Socket& s, const nlohmann::json& m);
    void close(Socket& s, CloseCode code, const std::string& reason);
    void to_session(const std::string& session_id, const nlohmann::json& m, const char* role = nullptr);
    void tell_doctors(const std::string& session_id);
    nlohmann::json waiting_room(const std::string& session_id);
    // The ICE servers handed to webrtcbin and to the pages: Twilio's TURN when it is
    // on and reachable, else the configured STUN servers.
    twilio::IceServerList ice_servers();
    nlohmann::json ice_json();
    Room& room(const std::string& session_id);
    Socket* find_socket(const std::string& id);

    ApplianceContext& ctx_;
    std::map<std::string, std::unique_ptr<Socket>> sockets_;
    std::map<std::string, std::unique_ptr<Room>> rooms_;
    std::uint64_t next_socket_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    friend struct Room;
};

}  // namespace consult::signalling
