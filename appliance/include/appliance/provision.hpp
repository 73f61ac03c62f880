// The provisioning file clinic IT drops on the box's boot partition (ESP, FAT: writable
// from any laptop) as consult-provision.conf, before or after flashing. First boot
// applies it (consult-provision.service runs `consultctl provision`), and the file is
// then erased from the ESP, applied or not: its secrets must not stay on an unencrypted
// partition.
//
//   [cloud]                      # all four, or none: pairs the box with the clinic cloud
//   url=https://<project>.supabase.co
//   clinic_id=<uuid>
//   api_key=<the project's anon key>
//   device_token=<this device's JWT>
//   [cloud]                      # or, instead of clinic_id and device_token, a code
//   url=https://<project>.supabase.co
//   api_key=<the project's anon key>
//   pairing_code=K7QM2-XR9TD     # from clinic IT's cloud; consultd trades it for the
//                                # clinic and a device token once the cloud answers
//                                # (cloud/code_claimer.hpp)
//   [kiosk]
//   admin_pin_hash=scrypt$...    # `consultctl hash-pin` makes one from a PIN
//   [system]
//   time_zone=Europe/Berlin      # a name from the tz database (/usr/share/zoneinfo)
//   hostname=consult-room-2      # the box's name on the clinic's network
//   [ssh]
//   authorized_key=ssh-ed25519 AAAA... it@clinic   # SSH for clinic IT (root, this key
//                                # only); "none" turns it off again. Off by default.
//   [wifi]                       # a WPA2/WPA3-Personal network, beside the wired port
//   ssid=Clinic Staff            # 1-32 bytes of text (\s for a space at either end)
//   passphrase=...               # 8-63 printable ASCII characters, or 64 hex digits
//                                # (\s for a space at either end, \\ for a backslash)
//   hidden=no                    # yes: the network does not announce itself
//   [wifi]                       # or, alone in its section: forget the network
//   off=yes
//
// A file is checked whole before anything is applied: an unknown section or key, a value
// out of shape, a partial [cloud] section, a file too large or not UTF-8 is refused with
// the key and the reason, and nothing changes on the box. Applying writes
// <state-dir>/provisioned.conf (read by consultd and consultctl after the configuration's
// drop-ins, before devices.conf), the cloud credentials (0600, in the encrypted state
// folder) and <state-dir>/provisioned-admin-pin, which consultd moves into its store at
// start, <state-dir>/ssh-authorized-key ([ssh]; empty: off), and
// <state-dir>/system.conf ([system]), <state-dir>/wifi.conf ([wifi]: the SSID in hex, its
// passphrase as the credential wifi-passphrase), all of which the image's
// consult-system-settings.service applies as root at every boot, checking it again. The
// outcome is kept in <state-dir>/provision-result.json for the kiosk.
#pragma once

#include "hwconfig/expected.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace consult::store { class Database; }

namespace consult::provision {

inline constexpr std::size_t kMaxFileBytes = 16 * 1024;

struct Cloud {
    std::string url, clinic_id, api_key, device_token;
};

// Pairing by a code: the project and its key now, the clinic and the device token when
// consultd has claimed the code (kept until then as the credential cloud-pairing-code).
struct CloudByCode {
    std::string url, api_key, code;   // code: normalized, 10 characters
};

inline constexpr const char* kPairingCodeCredential = "cloud-pairing-code";

struct System {
    std::optional<std::string> time_zone, hostname;
};

// A Wi-Fi network; an empty ssid forgets the one the box had.
struct Wifi {
    std::string ssid, passphrase;
    bool hidden = false;
};

inline constexpr const char* kWifiPassphraseCredential = "wifi-passphrase";

struct Provision {
    std::optional<Cloud> cloud;
    std::optional<CloudByCode> cloud_by_code;   // never both
    std::optional<std::string> admin_pin_hash;
    std::optional<System> system;
    std::optional<std::string> ssh_key;   // an OpenSSH public key line, or "" for off
    std::optional<Wifi> wifi;
};

// Why a time zone name is not one this box has (nothing when it is): letters, digits and
// "/_+-." in parts that do not start with a dot, at most 64 characters, naming a file
// under `zoneinfo`.
std::optional<std::string> time_zone_problem(const std::string& zone,
                                             const std::filesystem::path& zoneinfo = "/usr/share/zoneinfo");

// Why a line is not one OpenSSH public key this box takes (nothing when it is): its type
// (ssh-ed25519, ecdsa-sha2-nistp256/384/521, sk-ssh-ed25519@openssh.com, or ssh-rsa of at
// least 3072 bits), the key in base64 whose own first field names the same type, and an
// optional comment of printable characters; no options (from=, command=...) before it.
std::optional<std::string> ssh_key_problem(const std::string& line);

// Why a Wi-Fi network name or passphrase is not one this box joins (nothing when it is):
// an SSID is 1-32 bytes of UTF-8 text without control characters; a passphrase is WPA's,
// 8-63 printable ASCII characters or a 64-hex-digit key. Open networks are not joined.
std::optional<std::string> ssid_problem(std::string_view ssid);
std::optional<std::string> wifi_passphrase_problem(std::string_view passphrase);

// Printable ASCII with no spaces, 1 to max characters (an API key).
bool printable_token(std::string_view v, std::size_t max);
// A JWT's shape: three base64url parts (the cloud checks the signature).
bool jwt_shaped(std::string_view v);

// Why a host name is not one (nothing when it is): one DNS label, 1-63 letters, digits and
// hyphens, not starting or ending with a hyphen.
std::optional<std::string> hostname_problem(const std::string& name);

// Checks a provisioning file's text; the error starts with the section.key it is about.
expected<Provision, std::string> parse(std::string_view text);

// Applies a checked file to the state folder, all of it or (on an error) none of it.
expected<void, std::string> apply(const Provision& p, const std::filesystem::path& state_dir);

// The time zone and host name the state folder holds for the system (system.conf), each
// only when well formed.
System system_settings(const std::filesystem::path& state_dir);

// consultctl provision FILE: reads (a regular file, at most kMaxFileBytes), checks,
// applies, records the outcome; prints what it did or why not. 0, 65 for a refused file,
// 2 when the box could not apply a good one.
int run(const std::filesystem::path& state_dir, const std::filesystem::path& file);

// Records an outcome for the kiosk (provision-result.json): the file's, or later the
// claim of its pairing code.
void record_result(const std::filesystem::path& state_dir, bool ok, const std::string& message);

// The last provisioning's outcome ({ok, message, at}) for the kiosk, or nothing when no
// file was ever applied or the record cannot be read.
std::optional<nlohmann::json> last_result(const std::filesystem::path& state_dir);

// consultd at start: a PIN hash the provisioning left becomes the admin PIN (audited),
// and its file goes. Nothing when there is none.
void import_admin_pin(store::Database& db, const std::filesystem::path& state_dir);

}  // namespace consult::provision
