#!/usr/bin/env bash
# The image's root unit that applies the provisioned time zone and host name
# (image/mkosi.extra/usr/libexec/consult/system-settings), against a fake root: what it
# reads is consultd's file, so every hostile value must be left out and nothing outside
# the zoneinfo folder may become the time zone.
set -u
here="$(cd "$(dirname "$0")/../.." && pwd)"
script="$here/image/mkosi.extra/usr/libexec/consult/system-settings"
. "$(dirname "$0")/check.sh"

# A fake root: a zoneinfo folder with two zones, a link out of it, and a secret beside it.
fake_root() {
  rm -rf "$work/root"
  mkdir -p "$work/root/usr/share/zoneinfo/Europe" "$work/root/usr/share/zoneinfo/Etc" "$work/root/var/lib/consult"
  echo zone >"$work/root/usr/share/zoneinfo/Europe/Berlin"
  echo zone >"$work/root/usr/share/zoneinfo/Etc/UTC"
  echo secret >"$work/root/secret"
  ln -s ../../../secret "$work/root/usr/share/zoneinfo/Escape"
}
run() {   # run CONF_TEXT: applies it; prints the zone the link names, then the host name
  fake_root
  printf '%b' "$1" >"$work/root/var/lib/consult/system.conf"
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >"$work/out" 2>&1
  echo "$? $(readlink "$work/root/var/lib/consult-system/localtime" | sed 's,^/usr/share/zoneinfo/,,')" \
       "$(sed -n 's/^TZ=//p' "$work/root/var/lib/consult-system/kiosk.env")" \
       "$(sed -n 's/^hostname //p' "$work/root/actions" 2>/dev/null | grep . || echo -)"
}

check "a good file"                 "$(run '[system]\ntime_zone=Europe/Berlin\nhostname=room-2\n')" "0 Europe/Berlin Europe/Berlin room-2"
check "no file: UTC, no name"       "$(fake_root; CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >/dev/null 2>&1; echo "$? $(readlink "$work/root/var/lib/consult-system/localtime")")" \
                                    "0 /usr/share/zoneinfo/Etc/UTC"
check "a zone climbing out"         "$(run '[system]\ntime_zone=../../../secret\n')" "0 Etc/UTC Etc/UTC -"
check "an absolute path"            "$(run '[system]\ntime_zone=/secret\n')" "0 Etc/UTC Etc/UTC -"
check "a link out of zoneinfo"      "$(run '[system]\ntime_zone=Escape\n')" "0 Etc/UTC Etc/UTC -"
check "a folder"                    "$(run '[system]\ntime_zone=Europe\n')" "0 Etc/UTC Etc/UTC -"
check "an unknown zone"             "$(run '[system]\ntime_zone=Mars/Olympus\n')" "0 Etc/UTC Etc/UTC -"
check "shell in the zone"           "$(run "[system]\\ntime_zone=Europe/Berlin;touch $work/ran\\n")" "0 Etc/UTC Etc/UTC -"
check "shell in the name"           "$(run "[system]\\nhostname=\$(touch $work/ran)\\n")" "0 Etc/UTC Etc/UTC -"
check "a name with a dot"           "$(run '[system]\nhostname=a.b\n')" "0 Etc/UTC Etc/UTC -"
check "a name too long"             "$(run "[system]\\nhostname=$(printf 'a%.0s' $(seq 64))\\n")" "0 Etc/UTC Etc/UTC -"
check "a name ending in a hyphen"   "$(run '[system]\nhostname=room-\n')" "0 Etc/UTC Etc/UTC -"
check "one bad value, one good"     "$(run '[system]\ntime_zone=../x\nhostname=room-3\n')" "0 Etc/UTC Etc/UTC room-3"
check "keys of another section"     "$(run '[other]\ntime_zone=Europe/Berlin\nhostname=x\n')" "0 Etc/UTC Etc/UTC -"
check "a line that is not a key"    "$(run '[system]\nEurope/Berlin\n')" "0 Etc/UTC Etc/UTC -"
check "binary junk"                 "$(run '\xff\xfe[system]\x00\ntime_zone=\x01\n')" "0 Etc/UTC Etc/UTC -"
check "it said why"                 "$(run '[system]\ntime_zone=../x\n' >/dev/null; grep -c "is not one this box knows" "$work/out")" "1"

# The kiosk's renderer: pixman and Chromium without its GPU process unless a GPU Mesa
# drives in hardware is there.
renderer() {   # renderer DRIVER...: the WLR_RENDERER and browser flags the kiosk gets with these cards, or -
  fake_root
  local i=0
  for d in "$@"; do
    mkdir -p "$work/root/sys/bus/pci/drivers/$d" "$work/root/sys/class/drm/card$i/device"
    ln -s "$work/root/sys/bus/pci/drivers/$d" "$work/root/sys/class/drm/card$i/device/driver"
    i=$((i + 1))
  done
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >/dev/null 2>&1
  echo "$(sed -n 's/^WLR_RENDERER=//p' "$work/root/var/lib/consult-system/kiosk.env" | grep . || echo -)" \
       "$(sed -n 's/^KIOSK_BROWSER_FLAGS=//p' "$work/root/var/lib/consult-system/kiosk.env" | grep . || echo -)"
}
check "renderer: no card"                "$(renderer)" "pixman --disable-gpu"
check "renderer: QEMU's virtio-gpu"      "$(renderer virtio-pci)" "pixman --disable-gpu"
check "renderer: an Intel GPU"           "$(renderer i915)" "- -"
check "renderer: an AMD GPU beside another" "$(renderer bochs-drm amdgpu)" "- -"

# SSH: off without a key; on with one (root's authorized_keys, a host key made once, port
# 22 in the firewall's set, ssh.service started); a key line out of shape keeps it off.
ed="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmKYJ0u9aBpyAQIRJp75y3YVZy6E9S6ao9r0yIN+GGe it@clinic"
ssh_run() {   # ssh_run KEY_FILE_TEXT: "<authorized_keys or -> | <actions>"
  fake_root
  printf '%b' "$1" >"$work/root/var/lib/consult/ssh-authorized-key"
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >"$work/out" 2>&1
  echo "$(cat "$work/root/var/lib/consult-system/ssh/authorized_keys" 2>/dev/null || echo -) |" \
       "$(grep -v '^hostname' "$work/root/actions" 2>/dev/null | cut -d' ' -f1-2 | paste -sd, -)"
}
on="ssh-keygen -q,nft add,systemctl start"
check "ssh: a key turns it on"          "$(ssh_run "$ed\n")" "$ed | $on"
check "ssh: its folder is root's alone" "$(stat -c %a "$work/root/var/lib/consult-system/ssh") $(stat -c %a "$work/root/var/lib/consult-system/ssh/authorized_keys")" "700 600"
check "ssh: an empty file keeps it off" "$(ssh_run '')" "- | "
check "ssh: two keys"                   "$(ssh_run "$ed\n$ed\n")" "- | "
check "ssh: options before the key"     "$(ssh_run "command=\"sh\" $ed\n")" "- | "
check "ssh: another type"               "$(ssh_run 'ssh-dss AAAAB3NzaC1kc3M= x\n')" "- | "
check "ssh: control characters"         "$(ssh_run "$ed\x1b[2J\n")" "- | "
check "ssh: a key turned off again"     "$(ssh_run "$ed\n" >/dev/null; printf '' >"$work/root/var/lib/consult/ssh-authorized-key"
  rm -f "$work/root/actions"; CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >/dev/null 2>&1
  ls "$work/root/var/lib/consult-system/ssh/authorized_keys" 2>/dev/null || echo gone)" "gone"
check "ssh: the host key is made once"  "$(fake_root; printf '%s\n' "$ed" >"$work/root/var/lib/consult/ssh-authorized-key"
  mkdir -p "$work/root/var/lib/consult-system/ssh"; echo key >"$work/root/var/lib/consult-system/ssh/ssh_host_ed25519_key"
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >/dev/null 2>&1; grep -c ssh-keygen "$work/root/actions")" "0"

# While the box runs (consult-system-settings-apply.service): the kiosk restarts only when
# its environment changed.
restarts() {   # restarts CONF_TEXT: applies it at boot, then again with --restart-kiosk after the conf becomes CONF_TEXT
  fake_root
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >/dev/null 2>&1
  printf '%b' "$1" >"$work/root/var/lib/consult/system.conf"
  rm -f "$work/root/actions"
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" --restart-kiosk >/dev/null 2>&1
  echo "$(cat "$work/root/actions" 2>/dev/null | grep -c 'try-restart --no-block consult-kiosk.service')" \
       "$(sed -n 's/^TZ=//p' "$work/root/var/lib/consult-system/kiosk.env")"
}
check "running: a new zone restarts the kiosk"   "$(restarts '[system]\ntime_zone=Europe/Berlin\n')" "1 Europe/Berlin"
check "running: the same zone does not"          "$(restarts '[system]\ntime_zone=Etc/UTC\n')" "0 Etc/UTC"
check "running: a hostile zone does not"         "$(restarts '[system]\ntime_zone=../../../secret\n')" "0 Etc/UTC"
check "at boot the kiosk is never restarted"     "$(fake_root; printf '[system]\ntime_zone=Europe/Berlin\n' >"$work/root/var/lib/consult/system.conf"
  CONSULT_SYSTEM_SETTINGS_ROOT="$work/root" sh "$script" >/dev/null 2>&1; cat "$work/root/actions" 2>/dev/null | grep -c try-restart)" "0"

[ ! -e "$work/ran" ] || { echo "FAIL a value was run as a command"; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] && echo "system-settings: all checks passed" || echo "system-settings: $failures failed"
exit $((failures > 0))
