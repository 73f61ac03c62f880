#!/usr/bin/env bash
# Wi-Fi from clinic IT's provisioning file, end to end on the host: consultctl provision
# keeps the network (wifi.conf, the SSID in hex; the passphrase as a 0600 credential), the
# image's root unit (image/mkosi.extra/usr/libexec/consult/system-settings) turns it into
# wpa_supplicant's configuration, and Debian's own wpa_supplicant reads that configuration
# (on a veth in a network namespace of this test: the wired driver parses the file and
# takes the network as a Wi-Fi driver would). Names and passphrases that look like
# wpa_supplicant's syntax must stay data; what consultd's user could have written by hand
# is checked again and left out.
# Usage: wifi_test.sh CONSULTCTL
set -u
here="$(cd "$(dirname "$0")/../.." && pwd)"
script="$here/image/mkosi.extra/usr/libexec/consult/system-settings"
consultctl="${1:?usage: wifi_test.sh CONSULTCTL}"
. "$(dirname "$0")/check.sh"
wpa="$work/root/var/lib/consult-system/wifi/wpa_supplicant.conf"

fresh_root() {
  rm -rf "$work/root"
  mkdir -p "$work/root/usr/share/zoneinfo/Etc" "$work/root/var/lib/consult"
  echo zone >"$work/root/usr/share/zoneinfo/Etc/UTC"
}
provision() {   # provision FILE_TEXT: consultctl provision, then the root unit; prints its exit code
  printf '%b' "$1" >"$work/provision.conf"
  "$consultctl" --state-dir "$work/root/var/lib/consult" provision "$work/provision.conf" >"$work/out" 2>&1
  local rc=$?
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >>"$work/out" 2>&1
  echo "$rc"
}
# wpa_supplicant with the written file, asked back through its control socket: the
# network's ssid (quoted when it is text, else hex), key_mgmt and scan_ssid, or "refused" when it would not read it.
wpa_reads() {
  command -v wpa_supplicant >/dev/null || { echo "no wpa_supplicant"; return; }
  local conf="$work/wpa.conf" ctrl="$work/ctrl"
  # The box's file, with the control socket moved into this test's folder.
  sed "s,^ctrl_interface=.*,ctrl_interface=$ctrl," "$wpa" >"$conf"
  timeout 90 unshare -n sh -c '
    ip link add w0 type veth peer name w1 && ip link set w0 up || exit 1
    wpa_supplicant -D wired -i w0 -c "$1" >"$2/wpa.log" 2>&1 &
    for i in $(seq 50); do [ -S "$3/w0" ] && break; sleep 0.1; done
    [ -S "$3/w0" ] || { echo refused; exit 0; }
    # The socket comes before the answers: on a loaded machine a first question timed out.
    for i in $(seq 5); do wpa_cli -p "$3" -i w0 ping 2>/dev/null | grep -q PONG && break; done
    echo "$(wpa_cli -p "$3" -i w0 get_network 0 ssid) $(wpa_cli -p "$3" -i w0 get_network 0 key_mgmt | tr " " +)" \
         "$(wpa_cli -p "$3" -i w0 get_network 0 scan_ssid) $(wpa_cli -p "$3" -i w0 list_networks | tail -n +2 | wc -l)"
    wpa_cli -p "$3" -i w0 terminate >/dev/null' sh "$conf" "$work" "$ctrl"
}

# A name and a passphrase full of what wpa_supplicant's files use as syntax.
ssid=' Clinic "Staff" #2 }'
passphrase='pa$$ "word" #1 } '
fresh_root
check "provisioned"            "$(provision '[wifi]\nssid=\\sClinic "Staff" #2 }\npassphrase=pa$$ "word" #1 }\\s\nhidden=yes\n')" "0"
check "root-only file"         "$(stat -c %a "$wpa" 2>/dev/null)" "600"
check "the name only as hex"   "$(grep -c 'Staff' "$wpa")" "0"
check "the passphrase quoted"  "$(grep -cxF "	psk=\"$passphrase\"" "$wpa") $(grep -cxF "	sae_password=\"$passphrase\"" "$wpa")" "1 1"
check "wpa_supplicant reads it" "$(wpa_reads)" "\"$ssid\" WPA-PSK+WPA-PSK-SHA256+SAE 1 1"

# A raw 64-hex-digit key: WPA2 only (SAE needs the passphrase).
fresh_root
key="$(printf 'ab%.0s' $(seq 32))"
check "a raw key"              "$(provision "[wifi]\\nssid=Staff\\npassphrase=$key\\n")" "0"
check "the key unquoted"       "$(grep -cxF "	psk=$key" "$wpa") $(grep -c sae_password "$wpa")" "1 0"
check "wpa_supplicant reads it" "$(wpa_reads)" '"Staff" WPA-PSK+WPA-PSK-SHA256 0 1'
# A name that is not text (here a byte wpa_supplicant's files cannot quote) it shows as hex.
fresh_root
mkdir -p "$work/root/var/lib/consult/credentials"
printf '[wifi]\nssid_hex=4100220a7d\n' >"$work/root/var/lib/consult/wifi.conf"
printf 'long enough\n' >"$work/root/var/lib/consult/credentials/wifi-passphrase"
CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >"$work/out" 2>&1
check "a name of any bytes"    "$(wpa_reads)" "4100220a7d WPA-PSK+WPA-PSK-SHA256+SAE 0 1"

# Forgotten: the configuration goes, so consult-wifi@ does not start.
check "off=yes"                "$(provision '[wifi]\noff=yes\n')" "0"
check "no configuration left"  "$(test -e "$wpa" && echo left || echo gone)" "gone"

# What the root unit reads is consultd's: hand-made files out of shape give no Wi-Fi.
hostile() {   # hostile WIFI_CONF PASSPHRASE: prints whether a configuration was written
  fresh_root
  mkdir -p "$work/root/var/lib/consult/credentials"
  printf '%b' "$1" >"$work/root/var/lib/consult/wifi.conf"
  printf '%b' "$2" >"$work/root/var/lib/consult/credentials/wifi-passphrase"
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >"$work/out" 2>&1
  test -e "$wpa" && echo written || echo none
}
check "a good hand-made file"   "$(hostile '[wifi]\nssid_hex=5374616666\n' 'long enough\n')" "written"
check "a name not in hex"       "$(hostile '[wifi]\nssid_hex=Staff\n' 'long enough\n')" "none"
check "a name with syntax"      "$(hostile '[wifi]\nssid_hex=41\n}\nnetwork={\n' 'long enough\n')" "written"
check "  ...only its first line" "$(grep -c 'network={' "$wpa")" "1"
check "a name too long"         "$(hostile "[wifi]\\nssid_hex=$(printf '41%.0s' $(seq 33))\\n" 'long enough\n')" "none"
check "an odd number of digits" "$(hostile '[wifi]\nssid_hex=537\n' 'long enough\n')" "none"
check "a passphrase of 2 lines" "$(hostile '[wifi]\nssid_hex=41\n' 'long enough\n"\n}\nnetwork={\n')" "none"
check "a passphrase too short"  "$(hostile '[wifi]\nssid_hex=41\n' 'short\n')" "none"
check "a passphrase not ASCII"  "$(hostile '[wifi]\nssid_hex=41\n' 'caf\xc3\xa9 au lait\n')" "none"
check "a control character"     "$(hostile '[wifi]\nssid_hex=41\n' 'long\tenough\n')" "none"
check "no passphrase"           "$(hostile '[wifi]\nssid_hex=41\n' '')" "none"
check "it said why"             "$(hostile '[wifi]\nssid_hex=41\n' 'short\n' >/dev/null; grep -c 'passphrase is missing or not one' "$work/out")" "1"

[ "$failures" -eq 0 ] && echo "wifi: all checks passed"
[ "$failures" -eq 0 ]
