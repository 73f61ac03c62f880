#include "appliance/provision.hpp"

#include "appliance/cloud/pairing_code.hpp"
#include "appliance/credentials.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/hex.hpp"
#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/log.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/pin_store.hpp"
#include "appliance/store/records.hpp"
#include "hwconfig/gref.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <vector>

namespace consult::provision {

namespace fs = std::filesystem;

bool printable_token(std::string_view v, std::size_t max) {
    if (v.empty() || v.size() > max) return false;
    for (unsigned char c : v)
        if (c <= 0x20 || c >= 0x7f) return false;
    return true;
}

// A JWT's shape: three base64url parts (the signature may not be checked here: the cloud does).
bool jwt_shaped(std::string_view v) {
    if (!printable_token(v, 8192)) return false;
    int dots = 0;
    for (char c : v) {
        if (c == '.') ++dots;
        else if (!g_ascii_isalnum(c) && c != '-' && c != '_') return false;
    }
    return dots == 2 && v.front() != '.' && v.back() != '.';
}

namespace {

constexpr const char* kConfFile = "provisioned.conf";
constexpr const char* kPinFile = "provisioned-admin-pin";
constexpr const char* kResultFile = "provision-result.json";
constexpr const char* kSystemFile = "system.conf";
constexpr const char* kSshKeyFile = "ssh-authorized-key";
constexpr const char* kWifiFile = "wifi.conf";
constexpr const char* kApiKey = "cloud-api-key";
constexpr const char* kDeviceToken = "cloud-device-token";

// What this version applies, by section; anything else is refused by name.
const std::map<std::string, std::vector<std::string>> kKnown{
    {"cloud", {"url", "clinic_id", "api_key", "device_token", "pairing_code"}},
    {"kiosk", {"admin_pin_hash"}},
    {"system", {"time_zone", "hostname"}},
    {"ssh", {"authorized_key"}},
    {"wifi", {"ssid", "passphrase", "hidden", "off"}},
};

std::string known_list() {
    std::string out;
    for (const auto& [section, keys] : kKnown)
        for (const auto& k : keys) out += (out.empty() ? "" : ", ") + section + "." + k;
    return out;
}

// https, or http to this box itself; no user, query or fragment.
std::optional<std::string> url_problem(const std::string& v) {
    GError* err = nullptr;
    GUri* uri = g_uri_parse(v.c_str(), G_URI_FLAGS_NONE, &err);
    if (!uri) {
        std::string why = err ? err->message : "not a URL";
        if (err) g_error_free(err);
        return "is not a valid URL (" + why + ")";
    }
    const std::string scheme = g_uri_get_scheme(uri) ? g_uri_get_scheme(uri) : "";
    const std::string host = g_uri_get_host(uri) ? g_uri_get_host(uri) : "";
    const bool extras = g_uri_get_userinfo(uri) || g_uri_get_query(uri) || g_uri_get_fragment(uri);
    g_uri_unref(uri);
    if (host.empty()) return std::string("has no host");
    if (extras) return std::string("must not carry a user, a query or a fragment");
    const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "::1";
    if (scheme != "https" && !(scheme == "http" && loopback))
        return std::string("must be https:// (the device token would travel in clear)");
    return std::nullopt;
}

}  // namespace

std::optional<std::string> time_zone_problem(const std::string& zone, const fs::path& zoneinfo) {
    if (zone.empty() || zone.size() > 64) return std::string("must be 1-64 characters");
    bool part_start = true;
    for (char c : zone) {
        if (part_start && (c == '.' || c == '/')) return std::string("is not a time zone name (like Europe/Berlin)");
        if (!g_ascii_isalnum(c) && c != '/' && c != '_' && c != '+' && c != '-' && c != '.')
            return std::string("is not a time zone name (like Europe/Berlin)");
        part_start = c == '/';
    }
    if (part_start) return std::string("is not a time zone name (like Europe/Berlin)");
    struct stat st {};
    if (::stat((zoneinfo / zone).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return "is not a time zone this box knows (no " + (zoneinfo / zone).string() + ")";
    return std::nullopt;
}

namespace {

// SSH's wire format: a big-endian 32-bit length, then that many bytes.
std::optional<std::string_view> ssh_string(std::string_view& in) {
    if (in.size() < 4) return std::nullopt;
    const std::uint32_t n = (std::uint32_t(std::uint8_t(in[0])) << 24) | (std::uint32_t(std::uint8_t(in[1])) << 16) |
                            (std::uint32_t(std::uint8_t(in[2])) << 8) | std::uint32_t(std::uint8_t(in[3]));
    if (n > in.size() - 4) return std::nullopt;
    const auto out = in.substr(4, n);
    in.remove_prefix(4 + n);
    return out;
}

}  // namespace

std::optional<std::string> ssh_key_problem(const std::string& line) {
    static const std::vector<std::string> kTypes{"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "ssh-rsa"};
    if (line.size() > 8192) return std::string("is longer than a public key");
    for (unsigned char c : line)
        if (c < 0x20 || c >= 0x7f) return std::string("holds characters a public key line does not");
    const auto space = line.find(' ');
    const std::string type = line.substr(0, space);
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end())
        return "is not a public key of a type this box takes (" + type.substr(0, 40) +
               "; options before the key are not taken either)";
    if (space == std::string::npos) return std::string("has no key after its type");
    const auto end = line.find(' ', space + 1);
    const std::string b64 = line.substr(space + 1, end == std::string::npos ? std::string::npos : end - space - 1);
    if (b64.empty() || b64.size() % 4 != 0 ||
        b64.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != std::string::npos)
        return std::string("has a key that is not base64");
    gsize n = 0;
    std::unique_ptr<guchar, GFreeDeleter> raw(g_base64_decode(b64.c_str(), &n));
    std::string_view blob(reinterpret_cast<const char*>(raw.get()), n);
    const auto inner = ssh_string(blob);
    if (!inner || *inner != type) return std::string("has a key whose own type is not " + type);
    if (type == "ssh-rsa") {
        const auto e = ssh_string(blob);
        auto modulus = ssh_string(blob);
        if (!e || !modulus) return std::string("has an RSA key cut short");
        while (!modulus->empty() && modulus->front() == '\0') modulus->remove_prefix(1);
        if (modulus->size() * 8 < 3072) return std::string("is an RSA key under 3072 bits");
    } else if (!ssh_string(blob)) {
        return std::string("has a key cut short");
    }
    return std::nullopt;
}

std::optional<std::string> hostname_problem(const std::string& name) {
    if (name.empty() || name.size() > 63) return std::string("must be 1-63 characters");
    for (char c : name)
        if (!g_ascii_isalnum(c) && c != '-') return std::string("may hold only letters, digits and hyphens");
    if (name.front() == '-' || name.back() == '-') return std::string("must not start or end with a hyphen");
    return std::nullopt;
}

std::optional<std::string> ssid_problem(std::string_view ssid) {
    if (ssid.empty() || ssid.size() > 32) return std::string("must be 1-32 bytes");
    if (!g_utf8_validate(ssid.data(), gssize(ssid.size()), nullptr)) return std::string("is not UTF-8 text");
    for (unsigned char c : ssid)
        if (c < 0x20 || c == 0x7f) return std::string("holds a control character");
    return std::nullopt;
}

std::optional<std::string> wifi_passphrase_problem(std::string_view passphrase) {
    const bool hex_key = passphrase.size() == 64 &&
                         std::all_of(passphrase.begin(), passphrase.end(), [](char c) { return g_ascii_isxdigit(c); });
    if (hex_key) return std::nullopt;
    if (passphrase.size() < 8 || passphrase.size() > 63)
        return std::string("must be 8-63 characters (or a key of 64 hex digits)");
    for (unsigned char c : passphrase)
        if (c < 0x20 || c >= 0x7f) return std::string("may hold only printable ASCII characters (WPA's rule)");
    return std::nullopt;
}

namespace {

unexpected<std::string> refuse(const std::string& where, const std::string& why) {
    return unexpected(where + ": " + why);
}

// Writes `text` to dir/.name.tmp (0600, flushed); the caller renames it into place.
expected<fs::path, std::string> stage(const fs::path& dir, const std::string& name, const std::string& text) {
    const fs::path tmp = dir / ("." + name + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected("cannot write " + tmp.string() + ": " + std::strerror(errno));
    const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return unexpected("cannot write " + tmp.string());
    }
    return tmp;
}

// One [section] of key=value lines under a comment, as GKeyFile writes them; keys without
// a value are left out.
std::string key_file_text(const char* comment, const char* section,
                          const std::vector<std::pair<const char*, std::optional<std::string>>>& values) {
    GKeyFilePtr kf(g_key_file_new());
    g_key_file_set_comment(kf.get(), nullptr, nullptr, comment, nullptr);
    for (const auto& [key, value] : values)
        if (value) g_key_file_set_string(kf.get(), section, key, value->c_str());
    gsize len = 0;
    GCharPtr data(g_key_file_to_data(kf.get(), &len, nullptr));
    return std::string(data.get(), len);
}

std::string conf_text(const Cloud& c) {
    return key_file_text(" Written by consultctl provision from the box's provisioning file; read after\n"
                         " consultd.conf and its drop-ins, before devices.conf.",
                         "cloud", {{"url", c.url}, {"clinic_id", c.clinic_id}});
}

// What an earlier provisioning left in system.conf; what is not well formed is left out.
System read_system(const fs::path& file) {
    System sys;
    GKeyFilePtr kf(g_key_file_new());
    if (!g_key_file_load_from_file(kf.get(), file.c_str(), G_KEY_FILE_NONE, nullptr)) return sys;
    if (GCharPtr zone(g_key_file_get_string(kf.get(), "system", "time_zone", nullptr)); zone && !time_zone_problem(zone.get()))
        sys.time_zone = zone.get();
    if (GCharPtr name(g_key_file_get_string(kf.get(), "system", "hostname", nullptr)); name && !hostname_problem(name.get()))
        sys.hostname = name.get();
    return sys;
}

std::string system_text(const System& sys) {
    return key_file_text(" Written by consultctl provision from the box's provisioning file; applied as\n"
                         " root at every boot by consult-system-settings.service, which checks it again.",
                         "system", {{"time_zone", sys.time_zone}, {"hostname", sys.hostname}});
}

// The network for the image's root unit (system-settings), which checks it again: the SSID
// as hex, so that no byte of it can be read as anything but the name.
std::string wifi_text(const Wifi& w) {
    return key_file_text(" Written by consultctl provision from the box's provisioning file; turned into\n"
                         " wpa_supplicant's configuration as root at every boot by consult-system-settings.\n"
                         " The passphrase is the credential wifi-passphrase.",
                         "wifi", {{"ssid_hex", to_hex(w.ssid)}, {"hidden", std::string(w.hidden ? "yes" : "no")}});
}

std::string conf_text(const CloudByCode& c) {
    return key_file_text(" Written by consultctl provision from the box's provisioning file: the project to\n"
                         " claim its pairing code from. Read after consultd.conf and its drop-ins.",
                         "cloud", {{"url", c.url}, {"anon_key", c.api_key}});
}

}  // namespace

void record_result(const fs::path& state_dir, bool ok, const std::string& message) {
    const nlohmann::json j{{"ok", ok}, {"message", message}, {"at", domain::now_iso()}};
    if (auto tmp = stage(state_dir, kResultFile, j.dump() + "\n"))
        ::rename(tmp->c_str(), (state_dir / kResultFile).c_str());
}

expected<Provision, std::string> parse(std::string_view text) {
    if (text.size() > kMaxFileBytes) return unexpected("the file is larger than " + std::to_string(kMaxFileBytes) + " bytes");
    if (!g_utf8_validate(text.data(), gssize(text.size()), nullptr)) return unexpected(std::string("the file is not UTF-8 text"));
    GKeyFilePtr kf(g_key_file_new());
    GError* err = nullptr;
    if (!g_key_file_load_from_data(kf.get(), text.data(), text.size(), G_KEY_FILE_NONE, &err)) {
        std::string why = err ? err->message : "unreadable";
        if (err) g_error_free(err);
        return unexpected("the file is not in the key=value format with [sections]: " + why);
    }
    gsize n_groups = 0;
    GStrvPtr groups(g_key_file_get_groups(kf.get(), &n_groups));
    for (gsize i = 0; i < n_groups; ++i) {
        const std::string section = groups.get()[i];
        const auto known = kKnown.find(section);
        if (known == kKnown.end()) return refuse("[" + section + "]", "unknown section (this version applies " + known_list() + ")");
        gsize n_keys = 0;
        GStrvPtr keys(g_key_file_get_keys(kf.get(), section.c_str(), &n_keys, nullptr));
        for (gsize k = 0; k < n_keys; ++k) {
            const std::string key = keys.get()[k];
            if (std::find(known->second.begin(), known->second.end(), key) == known->second.end())
                return refuse(section + "." + key, "unknown key (this version applies " + known_list() + ")");
        }
    }
    auto get = [&](const char* section, const char* key) -> std::optional<std::string> {
        GCharPtr v(g_key_file_get_string(kf.get(), section, key, nullptr));
        if (!v) return std::nullopt;
        std::string s = v.get();
        while (!s.empty() && g_ascii_isspace(s.back())) s.pop_back();
        return s;
    };

    Provision p;
    if (g_key_file_has_group(kf.get(), "cloud") && get("cloud", "pairing_code")) {
        if (get("cloud", "clinic_id") || get("cloud", "device_token"))
            return refuse("cloud.pairing_code", "goes without clinic_id and device_token: the code stands for both");
        CloudByCode c;
        for (auto [key, out] : {std::pair{"url", &c.url}, std::pair{"api_key", &c.api_key}}) {
            auto v = get("cloud", key);
            if (!v || v->empty())
                return refuse(std::string("cloud.") + key, "missing: a [cloud] with a pairing_code needs url and api_key too");
            *out = *v;
        }
        if (auto why = url_problem(c.url)) return refuse("cloud.url", *why);
        if (!printable_token(c.api_key, 4096)) return refuse("cloud.api_key", "is not a key (no spaces, at most 4096 characters)");
        auto code = cloud::normalize_pairing_code(*get("cloud", "pairing_code"));
        if (!code) return refuse("cloud.pairing_code", "is not a pairing code (10 letters and digits, as the clinic cloud gave it)");
        c.code = *code;
        p.cloud_by_code = std::move(c);
    } else if (g_key_file_has_group(kf.get(), "cloud")) {
        Cloud c;
        for (auto [key, out] : {std::pair{"url", &c.url}, std::pair{"clinic_id", &c.clinic_id},
                                std::pair{"api_key", &c.api_key}, std::pair{"device_token", &c.device_token}}) {
            auto v = get("cloud", key);
            if (!v || v->empty())
                return refuse(std::string("cloud.") + key, "missing: [cloud] needs url, clinic_id, api_key and device_token together");
            *out = *v;
        }
        if (auto why = url_problem(c.url)) return refuse("cloud.url", *why);
        if (!store::is_uuid(c.clinic_id)) return refuse("cloud.clinic_id", "is not a UUID");
        if (!printable_token(c.api_key, 4096)) return refuse("cloud.api_key", "is not a key (no spaces, at most 4096 characters)");
        if (!jwt_shaped(c.device_token)) return refuse("cloud.device_token", "is not a device token (a JWT: three parts joined by dots)");
        p.cloud = std::move(c);
    }
    if (auto hash = get("kiosk", "admin_pin_hash")) {
        if (!kiosk::well_formed_hash(*hash))
            return refuse("kiosk.admin_pin_hash", "is not a PIN hash from `consultctl hash-pin` (scrypt$N$r$p$salt$hash)");
        p.admin_pin_hash = *hash;
    }
    if (g_key_file_has_group(kf.get(), "system")) {
        System sys;
        if (auto zone = get("system", "time_zone")) {
            if (auto why = time_zone_problem(*zone)) return refuse("system.time_zone", *why);
            sys.time_zone = *zone;
        }
        if (auto name = get("system", "hostname")) {
            if (auto why = hostname_problem(*name)) return refuse("system.hostname", *why);
            sys.hostname = *name;
        }
        if (sys.time_zone || sys.hostname) p.system = std::move(sys);
    }
    if (auto key = get("ssh", "authorized_key")) {
        if (*key == "none") {
            p.ssh_key = "";
        } else {
            if (auto why = ssh_key_problem(*key)) return refuse("ssh.authorized_key", *why);
            p.ssh_key = *key;
        }
    }
    if (g_key_file_has_group(kf.get(), "wifi")) {
        // The name and passphrase as written: \s keeps a space at either end.
        auto raw = [&](const char* key) -> std::optional<std::string> {
            GCharPtr v(g_key_file_get_string(kf.get(), "wifi", key, nullptr));
            return v ? std::optional<std::string>(v.get()) : std::nullopt;
        };
        auto yes_no = [&](const char* key) -> expected<bool, std::string> {
            auto v = get("wifi", key);
            if (!v) return false;
            if (*v == "yes" || *v == "true") return true;
            if (*v == "no" || *v == "false") return false;
            return refuse(std::string("wifi.") + key, "must be yes or no");
        };
        auto off = yes_no("off");
        if (!off) return unexpected(off.error());
        auto hidden = yes_no("hidden");
        if (!hidden) return unexpected(hidden.error());
        const auto ssid = raw("ssid");
        const auto passphrase = raw("passphrase");
        if (*off) {
            if (ssid || passphrase || *hidden) return refuse("wifi.off", "goes alone: it forgets the box's network");
            p.wifi = Wifi{};
        } else if (get("wifi", "off") || ssid || passphrase || *hidden) {
            if (!ssid) return refuse("wifi.ssid", "missing: [wifi] needs the network's name (ssid) and passphrase");
            if (auto why = ssid_problem(*ssid)) return refuse("wifi.ssid", *why);
            if (!passphrase || passphrase->empty())
                return refuse("wifi.passphrase", "missing: this box joins only networks with a passphrase (WPA2/WPA3-Personal)");
            if (auto why = wifi_passphrase_problem(*passphrase)) return refuse("wifi.passphrase", *why);
            p.wifi = Wifi{*ssid, *passphrase, *hidden};
        }
    }
    if (!p.cloud && !p.cloud_by_code && !p.admin_pin_hash && !p.system && !p.ssh_key && !p.wifi) return unexpected(std::string("the file sets nothing (this version applies ") + known_list() + ")");
    return p;
}

expected<void, std::string> apply(const Provision& p, const fs::path& state_dir) {
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    // Everything is staged first: a failure here leaves the box as it was.
    std::vector<std::pair<fs::path, fs::path>> staged;   // temp -> final
    auto discard = [&] {
        for (const auto& [tmp, final_path] : staged) ::unlink(tmp.c_str());
    };
    if (p.cloud || p.cloud_by_code) {
        auto conf = stage(state_dir, kConfFile, p.cloud ? conf_text(*p.cloud) : conf_text(*p.cloud_by_code));
        if (!conf) return unexpected(conf.error());
        staged.emplace_back(*conf, state_dir / kConfFile);
    }
    if (p.admin_pin_hash) {
        auto pin = stage(state_dir, kPinFile, *p.admin_pin_hash + "\n");
        if (!pin) {
            discard();
            return unexpected(pin.error());
        }
        staged.emplace_back(*pin, state_dir / kPinFile);
    }
    if (p.system) {
        // A file sets what it names: a later one with only the host name keeps the time zone.
        System merged = read_system(state_dir / kSystemFile);
        if (p.system->time_zone) merged.time_zone = p.system->time_zone;
        if (p.system->hostname) merged.hostname = p.system->hostname;
        auto sys = stage(state_dir, kSystemFile, system_text(merged));
        if (!sys) {
            discard();
            return unexpected(sys.error());
        }
        staged.emplace_back(*sys, state_dir / kSystemFile);
    }
    if (p.ssh_key) {
        auto key = stage(state_dir, kSshKeyFile, p.ssh_key->empty() ? "" : *p.ssh_key + "\n");
        if (!key) {
            discard();
            return unexpected(key.error());
        }
        staged.emplace_back(*key, state_dir / kSshKeyFile);
    }
    if (p.wifi && !p.wifi->ssid.empty()) {
        auto wifi = stage(state_dir, kWifiFile, wifi_text(*p.wifi));
        if (!wifi) {
            discard();
            return unexpected(wifi.error());
        }
        staged.emplace_back(*wifi, state_dir / kWifiFile);
    }
    // The credentials, with what they replace kept to put back if a later one fails.
    std::optional<std::string> passphrase_before;
    if (p.wifi && !p.wifi->ssid.empty()) {
        Credentials creds(state_dir);
        if (auto old = creds.read(kWifiPassphraseCredential)) passphrase_before = *old;
        if (auto stored = creds.store(kWifiPassphraseCredential, p.wifi->passphrase); !stored) {
            discard();
            return unexpected(stored.error());
        }
    }
    // Put back if a later step fails: the old passphrase, or none.
    auto restore_passphrase = [&] {
        if (!p.wifi || p.wifi->ssid.empty()) return;
        Credentials creds(state_dir);
        if (passphrase_before) (void)creds.store(kWifiPassphraseCredential, *passphrase_before);
        else ::unlink((creds.local_dir() / kWifiPassphraseCredential).c_str());
    };
    // A code replaces the device token: the box is paired again when it is claimed.
    if (p.cloud || p.cloud_by_code) {
        Credentials creds(state_dir);
        std::vector<std::pair<std::string, std::optional<std::string>>> before;
        for (const char* name : {kApiKey, kDeviceToken, kPairingCodeCredential}) {
            auto old = creds.read(name);
            before.emplace_back(name, old ? *old : std::nullopt);
        }
        const std::vector<std::pair<const char*, const std::string*>> values =
            p.cloud ? std::vector<std::pair<const char*, const std::string*>>{{kApiKey, &p.cloud->api_key},
                                                                             {kDeviceToken, &p.cloud->device_token}}
                    : std::vector<std::pair<const char*, const std::string*>>{{kApiKey, &p.cloud_by_code->api_key},
                                                                             {kPairingCodeCredential, &p.cloud_by_code->code}};
        for (auto [name, value] : values) {
            if (auto stored = creds.store(name, *value); !stored) {
                for (const auto& [n, old] : before) {
                    if (old) (void)creds.store(n, *old);
                    else ::unlink((creds.local_dir() / n).c_str());
                }
                restore_passphrase();
                discard();
                return unexpected(stored.error());
            }
        }
    }
    for (const auto& [tmp, final_path] : staged) {
        if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
            restore_passphrase();
            discard();
            return unexpected("cannot put " + final_path.string() + " in place: " + std::strerror(errno));
        }
    }
    // A forgotten network: its file and passphrase go.
    if (p.wifi && p.wifi->ssid.empty()) {
        ::unlink((state_dir / kWifiFile).c_str());
        ::unlink((Credentials(state_dir).local_dir() / kWifiPassphraseCredential).c_str());
    }
    // What the new pairing replaces: an old code, or the token a code will bring anew.
    if (p.cloud) ::unlink((Credentials(state_dir).local_dir() / kPairingCodeCredential).c_str());
    if (p.cloud_by_code) ::unlink((Credentials(state_dir).local_dir() / kDeviceToken).c_str());
    return {};
}

int run(const fs::path& state_dir, const fs::path& file) {
    auto fail = [&](int code, const std::string& why) {
        std::fprintf(stderr, "consultctl provision: %s: %s; nothing was applied\n", file.c_str(), why.c_str());
        record_result(state_dir, false, why);
        return code;
    };
    const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return fail(66, std::string("cannot open it: ") + std::strerror(errno));
    struct stat st {};
    std::string text;
    bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular) {
        std::array<char, 4096> buf{};
        ssize_t n = 0;
        while ((n = ::read(fd, buf.data(), buf.size())) > 0 && text.size() <= kMaxFileBytes) text.append(buf.data(), std::size_t(n));
        regular = n >= 0;
    }
    ::close(fd);
    if (!regular) return fail(66, "not a regular file that can be read");
    auto parsed = parse(text);
    if (!parsed) return fail(65, parsed.error());
    if (auto applied = apply(*parsed, state_dir); !applied) return fail(2, applied.error());
    std::string done;
    auto said = [&done](const std::string& what) { done += (done.empty() ? "" : "; ") + what; };
    if (parsed->cloud) said("paired with the clinic cloud at " + parsed->cloud->url + " (clinic " + parsed->cloud->clinic_id + ")");
    if (parsed->cloud_by_code)
        said("pairing code for the clinic cloud at " + parsed->cloud_by_code->url + " kept; consultd claims it once the cloud answers");
    if (parsed->admin_pin_hash) said("admin PIN set");
    if (parsed->system && parsed->system->time_zone) said("time zone " + *parsed->system->time_zone);
    if (parsed->system && parsed->system->hostname) said("host name " + *parsed->system->hostname);
    if (parsed->ssh_key)
        said(parsed->ssh_key->empty() ? "SSH off" : "SSH on for a " + parsed->ssh_key->substr(0, parsed->ssh_key->find(' ')) + " key");
    if (parsed->wifi)
        said(parsed->wifi->ssid.empty() ? "Wi-Fi network forgotten" : "Wi-Fi network \"" + parsed->wifi->ssid + "\" kept");
    std::printf("consultctl provision: %s\n", done.c_str());
    record_result(state_dir, true, done);
    return 0;
}

std::optional<nlohmann::json> last_result(const fs::path& state_dir) {
    std::error_code ec;
    const fs::path path = state_dir / kResultFile;
    if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > 8192) return std::nullopt;
    std::ifstream in(path);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) return std::nullopt;
    nlohmann::json out{{"ok", j["ok"]}};
    for (const char* k : {"message", "at"})
        out[k] = j.contains(k) && j[k].is_string() ? j[k] : nlohmann::json(nullptr);
    return out;
}

System system_settings(const fs::path& state_dir) { return read_system(state_dir / kSystemFile); }

void import_admin_pin(store::Database& db, const fs::path& state_dir) {
    const fs::path path = state_dir / kPinFile;
    std::error_code ec;
    if (!fs::exists(path, ec)) return;
    char line[256] = {};
    std::string hash;
    if (std::FILE* f = std::fopen(path.c_str(), "re")) {
        if (std::fgets(line, sizeof line, f)) hash = line;
        std::fclose(f);
    }
    while (!hash.empty() && g_ascii_isspace(hash.back())) hash.pop_back();
    if (!kiosk::well_formed_hash(hash)) {
        log::warning("the provisioned admin PIN is not a PIN hash; left out");
        fs::remove(path, ec);
        return;
    }
    // A store that refuses the write must not stop consultd: the file stays for the next start.
    try {
        store::PinStore(db).set(store::PinStore::kAdmin, hash);
        store::write_audit(db, {"provisioning", "system", "kiosk.pin_set", std::nullopt, "", {{"subject", "admin"}}});
    } catch (const std::exception& e) {
        log::warning(std::string("the provisioned admin PIN could not be stored; tried again at the next start: ") + e.what());
        return;
    }
    log::info("admin PIN set from the provisioning file");
    fs::remove(path, ec);
}

}  // namespace consult::provision
