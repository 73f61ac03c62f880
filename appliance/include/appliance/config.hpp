// consultd's configuration: INI (GKeyFile) plus drop-ins, every key with a default
// that works on a development machine. Secrets never live here (see credentials.hpp).
#pragma once

#include "appliance/update/window.hpp"
#include "hwconfig/expected.hpp"
#include <filesystem>
#include <string>
#include <vector>

namespace consult {

struct Config {
    struct Http {
        int port = 8080;
        std::string bind = "127.0.0.1";
        std::string public_base_url;          // default: http://127.0.0.1:<port>
        // HTTPS for patients' browsers (camera and microphone need a secure page):
        // PEM certificate chain and key; served on tls_port beside plain HTTP.
        std::string tls_certificate, tls_key;
        int tls_port = 8443;
        long max_body_bytes = 1 << 20;
        int rate_limit_per_minute = 60;       // token and join endpoints, per client address
        int rate_limit_burst = 20;
        // Connections: a cap (also held below the file limit less reserved_fds), a share
        // per client address, and how long each phase of a request may take.
        int max_connections = 1024;
        int max_connections_per_address = 64;
        int reserved_fds = 256;               // kept for SQLite, media, outbound HTTP
        int header_timeout_seconds = 10;
        int idle_timeout_seconds = 30;
        int body_timeout_seconds = 30;
    } http;
    struct Cloud {
        std::string url;                      // empty: cloud sync off
        std::string clinic_id;
        // The project's anon key (public by Supabase's design): with url, the kiosk's setup
        // screen pairs the box by a code from clinic IT (cloud/migrations/0005).
        std::string anon_key;
        int poll_seconds = 60;
        // Supabase Storage bucket for composed recordings; empty: recordings are not uploaded.
        std::string storage_bucket;
        // Its API; empty: `url`'s project with /storage/v1 (Supabase suggests the direct
        // storage host, https://PROJECT.storage.supabase.co/storage/v1, for large files).
        std::string storage_url;
    } cloud;
    struct Twilio {
        std::string api_base_url = "https://api.twilio.com";
        std::string account_sid;              // empty: SMS off
        std::string api_key_sid;
        std::string from_number;
        std::string messaging_service_sid;
    } twilio;
    // Status callbacks in Twilio Video's shape to the clinic's backend (signed with the
    // credential callback-auth-token): empty URLs send nothing.
    struct Callbacks {
        std::string room_status_url;
        std::string recording_status_url;
        std::string account_sid;              // AccountSid sent; default: twilio.account_sid, else one of this box's
        int retry_seconds = 5;                // the first retry after a 5xx or no answer; doubling, at most an hour
    } callbacks;
    struct Email {
        std::string smtp_url;                 // empty: email off
        std::string from;
    } email;
    // What patients hear and how (the patient's own choice, from the clinic's patient row,
    // comes first; `channels` is the clinic's default for patients who made none).
    struct Notify {
        std::string channels = "sms";         // sms | email | both | none (sms/email: the other only as a backup)
        bool prepare_at_booking = true;       // a video appointment gets its session and confirmation when booked
        int clock_seconds = 15;               // how often reminders and what is due after calls are looked for
    } notify;
    struct Media {
        std::string camera = "auto";
        std::string microphone = "auto";
        std::string speaker = "auto";
        std::string content_camera = "none";
        std::string encoder = "auto";
        int max_width = 1280;
        int max_height = 720;
        int max_fps = 30;
        std::vector<std::string> stun_servers;   // "stun:host:port", used when Twilio's TURN is off or unreachable
    } media;
    struct Sessions {
        int token_ttl_seconds = 3600;         // never more than an hour
        int grace_minutes = 10;
        int max_minutes = 240;
        int rejoin_seconds = 120;             // a dropped patient comes back without waiting again
    } sessions;
    struct Kiosk {
        int idle_seconds = 300;               // the touch screen signs out after this long untouched
        int token_ttl_seconds = 900;          // a kiosk sign-in's token; renewed while the screen is used
    } kiosk;
    struct Recording {
        bool enabled = true;                  // the doctor may ask the patient to record
        int retention_days = 30;              // recordings older than this are deleted (daily)
        std::string on_withdrawal = "delete"; // keep | delete what was recorded before a withdrawal
        bool include_patient = true;          // the patient's own picture and voice are recorded too
        int min_free_minutes = 30;            // refuse to start with less room than this on the disk
    } recording;
    struct Update {
        // Installs and reboots happen only inside it: HH:MM-HH:MM local time, may cross
        // midnight; 00:00-00:00 is always (update/window.hpp).
        std::string window{update::kDefaultWindow};   // 22:00-05:00
    } update;
    struct Log {
        std::string level = "info";
    } log;

    std::string public_base_url() const;     // http.public_base_url or the local default
};

struct ConfigError {
    std::string file;    // empty for a command-line override
    std::string key;     // "section.key", empty when the file itself is bad
    std::string reason;
    std::string describe() const;
};

struct LoadedConfig {
    Config config;
    std::vector<std::string> warnings;          // unknown keys and sections
    std::vector<std::filesystem::path> files;   // what was read, in order
};

struct ConfigSources {
    std::filesystem::path main = "/etc/consult/consultd.conf";
    bool main_required = false;                 // true when given with --config
    std::vector<std::string> overrides;         // "section.key=value", applied last
    // Optional, read in order after the drop-ins, before overrides: what the box itself
    // wrote in its state folder (provisioned.conf, then the kiosk's devices.conf).
    std::vector<std::filesystem::path> settings_files;
};

expected<LoadedConfig, ConfigError> load_config(const ConfigSources& sources);

}  // namespace consult
