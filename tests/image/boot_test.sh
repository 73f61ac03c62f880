#!/usr/bin/env bash
# Boots the appliance disk image in QEMU and checks that it comes up by itself, with its
# data partition encrypted at rest.
#
#   tests/image/boot_test.sh IMAGE_DIR ARTIFACTS_DIR
#
# IMAGE_DIR holds consult-appliance-<version>.img (make image). The image itself is
# never written: each box boots a copy-on-write overlay bigger than the image, so first
# boot has room to grow the data partition. QEMU runs with TCG (no KVM needed), OVMF,
# a swtpm TPM2, virtio-gpu as the only display (the kiosk's screen; -vga none: one GPU, as on a box), an i6300esb watchdog and user
# networking restricted to a port forward on 127.0.0.1 (the guest reaches nothing).
# consultd's token-signing-key comes in as a systemd credential (SMBIOS type 11, which
# systemd imports only in a VM), so the test can sign an admin token for the API.
#
# Five stages, each under a hard timeout:
#   1. first boot (swtpm), with clinic IT's provisioning file put on the ESP first: the
#      file is applied (cloud URL, clinic, credentials, admin PIN), multi-user, the boot
#      report on the serial console, /healthz 200; / is the read-only erofs of slot A; /var is dm-crypt on the data partition,
#      grown; the LUKS2 volume has a TPM2 and a recovery token; the recovery key file is
#      consult:consult 0600; no unit failed; consultd's systemd-analyze security exposure
#      at most 2.0; the kiosk's sign-in screen on the display (screendump, tests/image/screen_check.py). Then,
#      through the API with an admin token
#      whose identity is a patient-like name: the recording settings are changed and
#      the token signed out (both audited with that name, stored in SQLite on /var).
#   2. from the host, after the power-off: the provisioning file is gone from the ESP and
#      its device token is nowhere in the ESP's bytes; the data partition of the disk is LUKS2
#      (cryptsetup on its header, read out of the overlay with qemu-img dd), its TPM2
#      token sealed to PCR 7; the name is nowhere in the image or the overlay (grep -a).
#   3. second boot of the same disk, firmware variables and TPM, with a USB stick of
#      update bundles (tests/image/make-test-release.sh): the journal shows both boots
#      (each boot has a new transient machine ID: journal-dir), no passphrase prompt, no
#      second encryption, slot A kept by its boot check. Updates from the stick
#      (image/README.md, "Updates"): the kiosk's API looks at the stick (root lists v2 and
#      v3 as installable, the other two with the reason); bundles signed by another CA or
#      for another family refused by consultctl with the ESP untouched; v2 installed into
#      slot B through the kiosk's request, which restarts the box by itself; the box
#      restarts into v2, passes its boot check, is blessed and marked good, and still has
#      the first boot's settings and sign-out; a v3 that migrates the store (a migration
#      v2 does not know) and whose consultd never finishes starting, installed into A with
#      one try, fails its boot check, restarts, and the box is back on v2 by itself with A
#      marked bad; v2's consultd opens the store v3 migrated (from the copy v3 took before
#      migrating, v3's rows re-applied) and the first boot's settings are still there.
#      The clinic cloud is a PostgREST stand-in on the host's loopback (with a bundle
#      server), reached from the box's own loopback through SSH remote forwards: the box
#      reports v2 installed; v3 is offered by the cloud while a call runs (the update
#      service postpones it, downloads nothing), then downloaded, checked and installed by
#      consult-update.service while the next appointment's patient waits (the restart waits
#      until the patient leaves, then comes by itself); back on v2 the box reports it rolled
#      back and does not fetch it again.
#   4. a fresh copy of the image with no TPM: first boot refuses with its message on
#      the serial console, and the data partition stays untouched.
#   5. a fresh copy with a TPM of its own and no provisioning file: the box comes up,
#      refuses the setup API from outside, and the kiosk shows its setup screen.
# Serial logs (serial-<stage>.log), timings and QEMU's and swtpm's logs go to ARTIFACTS_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

die() { echo "boot_test: FAIL: $*" >&2; exit 1; }
log() { echo "boot_test: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ $# -eq 2 ] || die "usage: $0 IMAGE_DIR ARTIFACTS_DIR"
image_dir="$1" artifacts="$2"
BOOT_TIMEOUT="${BOOT_TIMEOUT:-600}"      # seconds from QEMU start to the boot report
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"  # seconds from the report to /healthz 200
REFUSE_TIMEOUT="${REFUSE_TIMEOUT:-300}"  # seconds from QEMU start to the no-TPM refusal
SCREEN_TIMEOUT="${SCREEN_TIMEOUT:-300}"  # seconds from the API checks to the kiosk on the screen (kiosk-session restarts a browser that has not reached consultd in 120 s)
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

for tool in qemu-system-x86_64 qemu-img qemu-io swtpm curl python3 timeout cryptsetup sfdisk mcopy mdir; do
  command -v "$tool" >/dev/null || die "$tool is missing: run tools/install-deps.sh image"
done
for f in "$OVMF_CODE" "$OVMF_VARS"; do [ -f "$f" ] || die "$f is missing (package ovmf)"; done
# The clinic image, not a development one built with CONSULT_IMAGE_INSECURE_NO_TPM=1.
img="$(ls -t "$image_dir"/consult-appliance-*.img 2>/dev/null | grep -v -- '-insecure-no-tpm\.img$' | head -n1 || true)"
[ -n "$img" ] || die "no consult-appliance-*.img in $image_dir (make image)"
img="$(cd "$(dirname "$img")" && pwd)/$(basename "$img")"

mkdir -p "$artifacts"
artifacts="$(cd "$artifacts" && pwd)"
timings="$artifacts/timings.txt"
rm -f "$artifacts"/serial*.log "$timings" "$artifacts"/qemu*.log "$artifacts"/swtpm*.log
work="$(mktemp -d "$artifacts/.run.XXXXXX")"
qemu_pid="" swtpm_pid=""
stop_vm() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null || true
  [ -n "$qemu_pid" ] && wait "$qemu_pid" 2>/dev/null || true
  [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null || true
  [ -n "$swtpm_pid" ] && wait "$swtpm_pid" 2>/dev/null || true
  qemu_pid="" swtpm_pid=""
}
tunnel_pid=""
stop_tunnel() { [ -n "$tunnel_pid" ] && kill "$tunnel_pid" 2>/dev/null; [ -n "$tunnel_pid" ] && wait "$tunnel_pid" 2>/dev/null; tunnel_pid=""; }
cleanup() {
  stop_tunnel || true
  stop_vm
  for f in "$work"/*.standin-pid; do [ -f "$f" ] && kill -- "-$(cat "$f")" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

serial="$artifacts/serial.log"
fail() {   # fail MESSAGE: the current serial log's tail, then the failure
  log "last 60 lines of $serial:"
  tail -n 60 "$serial" >&2 2>/dev/null || true
  die "$1"
}

failures=0 checks=0
check() {   # check DESCRIPTION ACTUAL EXPECTED_REGEX
  checks=$((checks + 1))
  if echo "$2" | grep -qE "^($3)\$"; then log "ok   $1 ($2)"
  else log "FAIL $1: got '$2', want /$3/"; failures=$((failures + 1)); fi
}
t_all=$(now)
echo "image $(basename "$img")" >"$timings"
timing() { echo "$1 $2" >>"$timings"; }

# A free TCP port on 127.0.0.1 for the forward to consultd's 8080.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
ssh_port="$(free_port)"   # to the box's 22: SSH for clinic IT, on with the provisioned key
api="http://127.0.0.1:$port"

# consultd's token-signing-key for this run, and the name that must never be readable
# on the disk (random, so nothing else on the disk can match it).
signing_key="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
marker="Zelda Quackenbush-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
retention_days=$((1000 + RANDOM % 2000))
# Clinic IT's provisioning file (appliance/include/appliance/provision.hpp): a random
# clinic, cloud URL (unreachable: the guest has no network), device token and admin PIN.
admin_pin="$(printf '%06d' $((RANDOM % 1000000)))"
clinic_id="$(cat /proc/sys/kernel/random/uuid)"
box_name="consult-test-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# The clinic cloud: the PostgREST stand-in (tests/standins/postgrest_standin.py) and a
# bundle server on the host's 127.0.0.1; the box reaches them at its own 127.0.0.1
# ($guest_cloud_port, $guest_bundle_port) through the SSH remote forwards of open_tunnel.
start_standin() {   # start_standin NAME SCRIPT [ARGS...]: prints the port it listens on
  setsid /usr/bin/python3 "$here/../standins/$2" "${@:3}" >"$work/$1.port" 2>"$artifacts/standin-$1.log" &
  echo $! >"$work/$1.standin-pid"
  for _ in $(seq 100); do grep -q '^PORT ' "$work/$1.port" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/^PORT //p' "$work/$1.port" | head -n1
}
anon_key="anon-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cloud_port="$(start_standin cloud postgrest_standin.py --api-key "$anon_key" --jwt-secret "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')")"
bundle_port="$(start_standin bundles bundle_server.py)"
[ -n "$cloud_port" ] && [ -n "$bundle_port" ] || die "the cloud stand-ins did not start"
guest_cloud_port=18443 guest_bundle_port=18444
cloud_url="http://127.0.0.1:$guest_cloud_port"
cloud() {   # cloud CONTROL [JSON]: the stand-in's test control (POST with JSON, else GET)
  if [ $# -ge 2 ]; then curl -s --max-time 60 -X POST -d "$2" "http://127.0.0.1:$cloud_port/_control/$1"
  else curl -s --max-time 60 "http://127.0.0.1:$cloud_port/_control/$1"; fi
}
# Clinic IT's pairing code for this box (consult_new_pairing_code in the cloud): the
# provisioning file carries the code, and consultd trades it for the device token.
pairing_code="$(cloud pairing_code "{\"clinic_id\": \"$clinic_id\", \"device_id\": \"$box_name\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')" || die "the cloud stand-in gave no pairing code"
device_status() {   # device_status PYTHON_EXPR: that expression of this box's consult_device_status row (d)
  cloud 'rows?table=consult_device_status' | python3 -c "import json, sys
rows = [r for r in json.load(sys.stdin) if r.get('device_id') == '$box_name']
d = rows[0] if rows else {}
print($1)" 2>/dev/null || echo "no row"
}
open_tunnel() {   # the box's 127.0.0.1 ports to the stand-ins, over clinic IT's SSH, while the box runs
  stop_tunnel || true
  ssh -i "$work/it_key" -p "$ssh_port" -o BatchMode=yes -o ConnectTimeout=30 -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$work/known_hosts" -o ExitOnForwardFailure=yes \
    -o ServerAliveInterval=10 -N -R "127.0.0.1:$guest_cloud_port:127.0.0.1:$cloud_port" \
    -R "127.0.0.1:$guest_bundle_port:127.0.0.1:$bundle_port" root@127.0.0.1 2>"$artifacts/tunnel.log" &
  tunnel_pid=$!
  sleep 3
  kill -0 "$tunnel_pid" 2>/dev/null || fail "the SSH forwards to the cloud stand-ins did not open"
}
wait_device_status() {   # wait_device_status PYTHON_EXPR EXPECTED SECONDS: until this box's row says it
  local got="" deadline=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    got="$(device_status "$1")"
    [ "$got" = "$2" ] && break
    sleep 5
  done
  echo "$got"
}
pin_hash="$(python3 - "$admin_pin" <<'EOF'
import hashlib, os, sys
salt = os.urandom(16)
h = hashlib.scrypt(sys.argv[1].encode(), salt=salt, n=4096, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
print("scrypt$4096$8$1$" + salt.hex() + "$" + h.hex())
EOF
)"
token_for() {   # token_for ROLE IDENTITY: an HS256 token with the box's key (as consultctl token makes)
  python3 - "$signing_key" "$2" "$1" <<'EOF'
import base64, hashlib, hmac, json, os, sys, time
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key, sub, role, now = sys.argv[1], sys.argv[2], sys.argv[3], int(time.time())
h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
p = b64(json.dumps({"sub": sub, "role": role, "iat": now - 60, "exp": now + 1800,
                    "jti": b64(os.urandom(16))}, separators=(",", ":")).encode())
print(h + "." + p + "." + b64(hmac.new(key.encode(), (h + "." + p).encode(), hashlib.sha256).digest()))
EOF
}
admin_token() { token_for admin "$marker"; }   # an admin token whose identity is the marker name
api_json() {   # api_json METHOD PATH TOKEN [JSON]: the whole answer's body (call keeps 400 bytes)
  local args=(-s --max-time 20 -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' -d "$4")
  curl "${args[@]}" "$api$2" || true
}
call() {   # call METHOD PATH TOKEN [JSON]: prints "<http code> <body>"
  local args=(-s -o "$work/body" -w '%{http_code}' --max-time 20 -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' -d "$4")
  local code; code="$(curl "${args[@]}" "$api$2" || echo 000)"
  echo "$code $(head -c 400 "$work/body" 2>/dev/null)"
}

# --- QEMU ------------------------------------------------------------------------------------
start_swtpm() {   # the box's TPM: its state stays in $work/tpm from one boot to the next
  mkdir -p "$work/tpm"
  rm -f "$work/swtpm.sock"
  swtpm socket --tpm2 --tpmstate dir="$work/tpm" --ctrl type=unixio,path="$work/swtpm.sock" \
    --log file="$artifacts/swtpm-$1.log" --flags startup-clear &
  swtpm_pid=$!
  for _ in $(seq 50); do [ -S "$work/swtpm.sock" ] && break; sleep 0.1; done
  [ -S "$work/swtpm.sock" ] || die "swtpm did not start (see $artifacts/swtpm-$1.log)"
}
extra_args=()   # more QEMU arguments for the next boots (the update stick)
boot() {   # boot STAGE DISK VARS tpm|no-tpm
  local stage="$1" disk="$2" vars="$3" tpm_args=()
  serial="$artifacts/serial-$stage.log"
  if [ "$4" = tpm ]; then
    start_swtpm "$stage"
    tpm_args=(-chardev socket,id=chrtpm,path="$work/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm
              -device tpm-tis,tpmdev=tpm0)
  fi
  log "$stage boot of $(basename "$img") (TCG, $4; /healthz forwarded to 127.0.0.1:$port)"
  t0=$(now)
  # The hard limit of one boot; longer for the boots that install updates (stage 3).
  nice timeout "$((BOOT_TIMEOUT + HEALTH_TIMEOUT + 300 + ${#extra_args[@]} * 600))" qemu-system-x86_64 \
    -machine q35 -accel tcg -cpu Nehalem-v2 -smp 2 -m 3072 \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE" \
    -drive if=pflash,format=raw,unit=1,file="$vars" \
    -drive if=none,id=disk,format=qcow2,file="$disk" -device virtio-blk-pci,drive=disk \
    "${tpm_args[@]}" "${extra_args[@]}" \
    -smbios type=11,value=io.systemd.credential:token-signing-key="$signing_key" \
    -netdev user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:"$port"-:8080,hostfwd=tcp:127.0.0.1:"$ssh_port"-:22 -device virtio-net-pci,netdev=net0 \
    -vga none -device virtio-gpu-pci -display none -device i6300esb \
    -serial file:"$serial" -monitor unix:"$work/monitor.sock",server,nowait \
    -no-reboot >"$artifacts/qemu-$stage.log" 2>&1 &
  qemu_pid=$!
}
alive() { [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; }
# Waits for an extended regex in the serial log; prints the seconds since QEMU started.
wait_serial() {   # wait_serial REGEX DEADLINE_SECONDS
  while ! grep -qaE "$1" "$serial" 2>/dev/null; do
    alive || fail "QEMU exited before the serial console showed /$1/"
    awk -v e="$(elapsed)" -v d="$2" 'BEGIN { exit !(e > d) }' && fail "no /$1/ on the serial console within $2 s"
    sleep 1
  done
  elapsed
}
wait_health() {   # /healthz through the forwarded port (consultd may answer a moment after it is active)
  local deadline code
  deadline=$(awk -v a="$(elapsed)" -v b="$HEALTH_TIMEOUT" 'BEGIN { print a + b }')
  while :; do
    code="$(curl -s -o "$work/healthz" -w '%{http_code}' --max-time 10 "$api/healthz" || true)"
    [ "$code" = 200 ] && { elapsed; return; }
    alive || fail "QEMU exited while waiting for /healthz"
    awk -v e="$(elapsed)" -v d="$deadline" 'BEGIN { exit !(e > d) }' && \
      fail "/healthz did not answer 200 within $HEALTH_TIMEOUT s after the boot report (last: HTTP $code)"
    sleep 2
  done
}
power_off() {   # ACPI power-off, so the disk is consistent before the host reads it
  python3 - "$work/monitor.sock" <<'EOF' || true
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); s.sendall(b"system_powerdown\n")
EOF
  for _ in $(seq 45); do alive || break; sleep 1; done
  # The power button's event is sometimes not acted on under TCG; where clinic IT's SSH
  # key works (stage 1 on), the box is asked to power off through it instead.
  if alive && [ -f "$work/it_key" ]; then
    log "no power-off within 45 s (ACPI): asking through SSH"
    ssh_timeout=20 box_ssh "$work/it_key" 'systemctl --no-block poweroff' || true
    for _ in $(seq 60); do alive || break; sleep 1; done
  fi
  if alive; then log "no power-off (ACPI, SSH): stopping QEMU"; fi
  stop_vm
}
screendump() {   # screendump FILE.ppm: the guest's screen, through the QEMU monitor
  rm -f "$1"
  python3 - "$work/monitor.sock" "$1" <<'EOF' || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(("screendump " + sys.argv[2] + "\n").encode())
time.sleep(1)
EOF
  for _ in $(seq 20); do [ -s "$1" ] && break; sleep 0.5; done
}
# The kiosk on the box's display (virtio-gpu): screendumps until screen_check.py finds the
# kiosk's sign-in (or setup) screen by its colours and text regions, or the deadline passes.
wait_kiosk_screen() {   # wait_kiosk_screen STAGE SECONDS [signin|setup]
  local deadline verdict="" want="${3:-signin}"
  deadline=$(awk -v a="$(elapsed)" -v b="$2" 'BEGIN { print a + b }')
  while :; do
    screendump "$work/screen.ppm"
    if [ -s "$work/screen.ppm" ]; then
      if verdict="$(python3 "$here/screen_check.py" "$work/screen.ppm" "$artifacts/screen-$1.png" "$want")"; then
        echo "kiosk $verdict after $(elapsed) s"; return
      fi
    fi
    alive || { echo "QEMU exited ($verdict)"; return; }
    awk -v e="$(elapsed)" -v d="$deadline" 'BEGIN { exit !(e > d) }' && { echo "no kiosk on the screen ($verdict)"; return; }
    sleep 5
  done
}
report="" expect_slot=a
field() { echo "$report" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
boot_to_report() {   # the kernel, the boot report, /healthz; timings under STAGE
  local t_kernel t_report t_health
  t_kernel=$(wait_serial 'Linux version' 180)
  t_report=$(wait_serial 'consult-boot-report:' "$BOOT_TIMEOUT")
  report="$(grep -a -m1 -o 'consult-boot-report:.*' "$serial" | tr -d '\r')"
  log "boot report after $t_report s (kernel at $t_kernel s): $report"
  t_health=$(wait_health)
  log "/healthz 200 after $t_health s: $(head -c 200 "$work/healthz")"
  timing "$1_kernel_started_s" "$t_kernel"
  timing "$1_boot_report_s" "$t_report"
  timing "$1_healthz_200_s" "$t_health"
  echo "$1_report $report" >>"$timings"
}
check_box() {   # what every boot of the clinic image must show in its report
  check "multi-user.target is reached"          "$(field multi_user)" 'active'
  check "root is slot ${expect_slot^^}"                        "$(field slot)" "consult-root-$expect_slot"
  check "root is read-only"                     "$(field root_mode)" 'ro'
  check "root is erofs"                         "$(field root_fstype)" 'erofs'
  check "/var is ext4 ..."                      "$(field var_fstype)" 'ext4'
  check "... on dm-crypt"                       "$(field var)/$(field var_type)" '/dev/mapper/consult-data/crypt'
  check "the LUKS2 volume is complete"          "$(field luks_label)" 'consult-data'
  check "its keys: TPM2 and recovery key only"  "$(field luks_tokens)" 'systemd-tpm2,systemd-recovery'
  check "the recovery key file is consultd's, 0600" "$(field recovery_key)" 'consult:consult:600'
  check "consultd is active"                    "$(field consultd)" 'active'
  check "the kiosk unit is enabled"             "$(field kiosk_enabled)" 'enabled'
  check "the kiosk has not restarted (no crash loop)" "$(field kiosk_restarts)" '0'
  check "the provisioned host name is the box's"  "$(field hostname)" "$box_name"
  check "the provisioned time zone is the system's ..." "$(field tz) $(field tz_offset)" 'America/Chicago -0[56]00'
  check "... and the kiosk browser's"           "$(field kiosk_tz)" 'America/Chicago'
  check "SSH is on (the provisioned key)"       "$(field ssh)" 'active'
  check "clinic IT's key logs in over SSH (root; / is read-only)" "$(box_ssh "$work/it_key" 'findmnt -no OPTIONS / | cut -d, -f1')" 'ro'
  check "another key is refused"                "$(box_ssh "$work/other_key" true >/dev/null 2>&1; echo $?)" '255'
  check "nftables is active"                    "$(field nftables)" 'active'
  check "timesyncd is active"                   "$(field timesyncd)" 'active'
  check "the watchdog is armed"                 "$(field watchdog)" '30s'
  check "no unit failed"                        "$(field failed)" ''
  check "consultd's exposure (systemd-analyze security) is at most 2.0" \
    "$(awk -v s="$(field security)" 'BEGIN { print (s != "" && s + 0 <= 2.0) ? "ok" : "score " s }')" 'ok'
  check "no passphrase prompt on the console" \
    "$(grep -a -c -iE 'please enter (passphrase|recovery key)' "$serial" || true)" '0'
  local img_var_bytes=$((256 * 1024 * 1024)) var_part var_fs
  var_part=$(field var_part_bytes) var_fs=$(field var_fs_bytes)
  check "the data partition grew past the image's 256 MiB before encryption" \
    "$([ "${var_part:-0}" -gt $((4 * img_var_bytes)) ] && echo grown || echo "not grown: $var_part bytes")" 'grown'
  check "its file system fills it" \
    "$([ "${var_fs:-0}" -gt $((var_part * 8 / 10)) ] && echo grown || echo "not grown: $var_fs of $var_part bytes")" 'grown'
}

# The data partition's first 16 MiB (where a LUKS2 header lives), out of a qcow2 overlay.
# Its offset comes from the image's GPT: growing the partition moves only its end.
data_offset="$(sfdisk -J "$img" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
p = [p for p in t["partitions"] if p.get("name") == "consult-data"]
print(p[0]["start"] * t.get("sectorsize", 512) if p else "")')"
[ -n "$data_offset" ] && [ $((data_offset % 1048576)) -eq 0 ] || \
  die "no MiB-aligned partition consult-data in the image's GPT (offset '$data_offset')"
data_header() {   # data_header DISK.qcow2 OUT
  rm -f "$2"
  # qemu-img dd's count= counts from the start of the input, not from skip=.
  local skip=$((data_offset / 1048576))
  timeout 60 qemu-img dd -f qcow2 -O raw bs=1M skip=$skip count=$((skip + 16)) if="$1" of="$2" \
    || die "qemu-img dd could not read the data partition of $1"
  [ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -eq $((16 * 1048576)) ] || die "qemu-img dd read no header from $1"
}
# The ESP, where clinic IT puts the provisioning file: read out of an overlay, changed with
# mtools, and written back with qemu-io (the image itself is never written).
read -r esp_offset esp_bytes <<<"$(sfdisk -J "$img" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]; ss = t.get("sectorsize", 512)
p = [p for p in t["partitions"] if p.get("name") == "consult-esp"]
print(p[0]["start"] * ss, p[0]["size"] * ss) if p else print("", "")')"
[ -n "$esp_offset" ] && [ $((esp_offset % 1048576)) -eq 0 ] && [ $((esp_bytes % 1048576)) -eq 0 ] || \
  die "no MiB-aligned partition consult-esp in the image's GPT"
read_esp() {   # read_esp DISK.qcow2 OUT
  local skip=$((esp_offset / 1048576))
  rm -f "$2"
  timeout 60 qemu-img dd -f qcow2 -O raw bs=1M skip=$skip count=$((skip + esp_bytes / 1048576)) if="$1" of="$2" \
    || die "qemu-img dd could not read the ESP of $1"
}
put_on_esp() {   # put_on_esp DISK.qcow2 FILE NAME
  read_esp "$1" "$work/esp.img"
  MTOOLS_SKIP_CHECK=1 mcopy -o -i "$work/esp.img" "$2" "::$3" || die "mcopy could not put $3 on the ESP"
  timeout 120 qemu-io -f qcow2 -c "write -q -s $work/esp.img $esp_offset $esp_bytes" "$1" || die "qemu-io could not write the ESP"
}

# Counts the marker in a file; NULs become line ends so that grep never holds a huge "line".
count_marker() { tr '\0' '\n' <"$1" | grep -a -c -F -- "${2:-$marker}" || true; }
# The clinic's Wi-Fi in the provisioning file: its passphrase must not reach the disk in clear.
wifi_ssid='Clinic Staff'
wifi_passphrase="wifi-$(openssl rand -hex 12)"

cp "$OVMF_VARS" "$work/vars.fd"
timeout 60 qemu-img create -q -f qcow2 -b "$img" -F raw "$work/disk.qcow2" 8G || die "qemu-img could not create the overlay"

# --- 1. First boot, with a provisioning file on the ESP ----------------------------------------
# Clinic IT's SSH key (in the file) and one the box never saw.
ssh-keygen -q -t ed25519 -N '' -C clinic-it -f "$work/it_key"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$work/other_key"
box_ssh() {   # box_ssh KEY COMMAND: runs it on the box as root through the forward
  timeout "${ssh_timeout:-90}" ssh -i "$1" -p "$ssh_port" -o BatchMode=yes -o ConnectTimeout=30 -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$work/known_hosts" root@127.0.0.1 "$2" 2>/dev/null
}
cat >"$work/consult-provision.conf" <<EOF
# What clinic IT writes on the ESP from their laptop.
[cloud]
url=$cloud_url
api_key=$anon_key
pairing_code=$pairing_code
[kiosk]
admin_pin_hash=$pin_hash
[system]
time_zone=America/Chicago
hostname=$box_name
[ssh]
authorized_key=$(cat "$work/it_key.pub")
[wifi]
ssid=$wifi_ssid
passphrase=$wifi_passphrase
EOF
put_on_esp "$work/disk.qcow2" "$work/consult-provision.conf" consult-provision.conf
read_esp "$work/disk.qcow2" "$work/esp-before.img"
check "the provisioning file is on the ESP before first boot" \
  "$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$work/esp-before.img" :: 2>/dev/null | grep -ic 'consult-provision.conf' || true)" '1'
rm -f "$work/esp-before.img"
t_stage=$(now)
boot first "$work/disk.qcow2" "$work/vars.fd" tpm
boot_to_report first
check "first boot applied the provisioning file" \
  "$(grep -a -c -F "consultctl provision: pairing code for the clinic cloud at $cloud_url kept; consultd claims it once the cloud answers; admin PIN set; time zone America/Chicago; host name $box_name; SSH on for a ssh-ed25519 key; Wi-Fi network \"$wifi_ssid\" kept" "$serial" || true)" '1'
check "... and erased it from the ESP" \
  "$(grep -a -c 'consult-provision: the provisioning file was erased from the boot partition' "$serial" || true)" '1'
check "first boot encrypted the data partition" \
  "$(grep -a -c 'consult-data-setup: first boot: encrypting the data partition' "$serial" || true)" '1'
setup_s="$(grep -a -o 'data partition ready in [0-9]* s' "$serial" | grep -o '[0-9]*' | head -n1 || true)"
check "... and said it was ready" "${setup_s:+ready}" 'ready'
timing first_data_encryption_s "${setup_s:-?}"
log "the data partition's encryption took ${setup_s:-?} s of the first boot"
check_box
# The clinic cloud answers from here on: consultd, asking again while it did not, claims
# the file's pairing code (checked below, after the screen).
open_tunnel
t_tunnel=$(now)

token="$(admin_token)"
check "the API takes the admin token (recording settings changed)" \
  "$(call PUT /api/system/recording "$token" "{\"retention_days\": $retention_days}" | cut -d' ' -f1)" '200'
check "the token signs out (audited under its name)" \
  "$(call POST /api/kiosk/sign-out "$token" '{"reason":"tapped"}' | cut -d' ' -f1)" '204'
check "the signed-out token is refused" \
  "$(call GET /api/system/recording "$token" | grep -o '^401 .*token_revoked' | cut -d' ' -f1)" '401'
check "the provisioned admin PIN signs in (reports scope: the forward comes from outside the box)" \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' \
     -d "{\"pin\": \"$admin_pin\", \"scope\": \"reports\"}" "$api/api/kiosk/admin-sign-in" || echo 000)" '200'
screen="$(wait_kiosk_screen first "$SCREEN_TIMEOUT")"
log "$screen"
check "the kiosk's sign-in screen is on the box's display (screen_check.py; screen-first.png)" \
  "$(echo "$screen" | cut -d' ' -f1-2)" 'kiosk signin:'
if ! echo "$screen" | grep -q '^kiosk ' || [ "$(field kiosk_tz)" != America/Chicago ]; then
  # What the kiosk says, through clinic IT's SSH (no patient data: cage and Chromium).
  log "the kiosk's log: $(grep -a -m1 -o 'consult-kiosk-log:.*' "$serial" | cut -c1-900)"
  box_ssh "$work/it_key" 'journalctl -b _UID=$(id -u consult-kiosk) -n 60 -o short-monotonic --no-pager;
    ps -eo pid,ppid,etime,time,rss,args | grep -E "[c]age|[c]hrom" | cut -c1-200;
    systemctl show -p MainPID -p EnvironmentFiles -p Environment consult-kiosk.service; ls -la /var/lib/consult-system;
    tr "\0" "\n" </proc/$(systemctl show -P MainPID consult-kiosk.service)/environ | cut -d= -f1 | paste -sd" "' |
    sed 's/^/boot_test: kiosk: /' >&2 || true
fi
timing first_kiosk_on_screen_s "$(echo "$screen" | sed -n 's/.* after \([0-9.]*\) s$/\1/p')"
cloud_state() { curl -s --max-time 20 "$api/api/system/cloud" | python3 -c '
import json, sys; c = json.load(sys.stdin); print("%s %s %s" % (c.get("url"), c.get("clinic_id"), c.get("enabled")))' 2>/dev/null || echo unreadable; }
for _ in $(seq 90); do [ "$(cloud_state)" = "$cloud_url $clinic_id True" ] && break; sleep 5; done
check "consultd claimed the file's pairing code: paired with the clinic, from the file's cloud URL" \
  "$(cloud_state)" "$cloud_url $clinic_id True"
timing first_pairing_after_tunnel_s "$(since "$t_tunnel")"
check "... with one claim of the code at the clinic cloud" \
  "$(cloud stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["served"].get("pairing_claims", 0))')" '1'
check "... and the code is erased from the box" \
  "$(box_ssh "$work/it_key" 'cd /var/lib/consult/credentials && ls cloud-pairing-code cloud-device-token 2>&1 | tr "\n" " "')" \
  '.*cannot access .cloud-pairing-code.: No such file.* cloud-device-token '
# Wi-Fi: QEMU's box has no radio, so the test gives it two of the kernel's simulated ones
# (mac80211_hwsim: they share one air). udev starts consult-wifi@ on both, and their
# wpa_supplicant holds the provisioned network (asked back with wpa_cli). The second radio
# then becomes the clinic's access point (Debian's hostapd, copied into /run for this test
# only: the image has none) with the provisioned name and passphrase, and the box joins
# it on the first: WPA2-PSK's handshake passes only if the passphrase reached
# wpa_supplicant as clinic IT wrote it.
check "a Wi-Fi device gets wpa_supplicant with the provisioned network (mac80211_hwsim)" \
  "$(box_ssh "$work/it_key" 'modprobe mac80211_hwsim radios=2 || exit 0; for i in $(seq 60); do
       w=$(ls /sys/class/net | grep "^wlan" | head -n1)
       if [ -n "$w" ] && systemctl -q is-active "consult-wifi@$w.service"; then
         s=$(wpa_cli -i "$w" get_network 0 ssid 2>/dev/null | tr -d "\"") && [ -n "$s" ] && echo "$s" && exit 0
       fi; sleep 1; done
     echo "none: $(ip -br link | tr "\n" " ") $(systemctl status "consult-wifi@$w.service" --no-pager -n 8 2>&1 | tr "\n" " ")"' || true)" \
  "$wifi_ssid"
printf 'driver=nl80211\nssid=%s\nhw_mode=g\nchannel=6\nwpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=%s\n' \
  "$wifi_ssid" "$wifi_passphrase" >"$work/hostapd.conf"
{ box_ssh "$work/it_key" 'umask 077; cat >/run/consult-test-hostapd' </usr/sbin/hostapd \
  && box_ssh "$work/it_key" 'umask 077; cat >/run/consult-test-hostapd.conf' <"$work/hostapd.conf"; } \
  || fail "could not copy hostapd into the box"
check "... and joins the clinic's access point with the provisioned passphrase (WPA2-PSK, hostapd on the second radio)" \
  "$(box_ssh "$work/it_key" 'sta=$(ls /sys/class/net | grep "^wlan" | sed -n 1p); ap=$(ls /sys/class/net | grep "^wlan" | sed -n 2p)
     [ -n "$ap" ] || { echo "one radio only: $(ls /sys/class/net | tr "\n" " ")"; exit 0; }
     systemctl stop "consult-wifi@$ap.service"
     echo "interface=$ap" >>/run/consult-test-hostapd.conf
     /lib64/ld-linux-x86-64.so.2 /run/consult-test-hostapd -B -P /run/consult-test-hostapd.pid -f /run/consult-test-hostapd.log \
       /run/consult-test-hostapd.conf || { echo "hostapd: $(tail -n 5 /run/consult-test-hostapd.log | tr "\n" " ")"; exit 0; }
     for i in $(seq 90); do
       st=$(wpa_cli -i "$sta" status 2>/dev/null)
       echo "$st" | grep -q "^wpa_state=COMPLETED" && break; sleep 1; done
     echo "$st" | grep -E "^(wpa_state|ssid|key_mgmt)=" | cut -d= -f2- | tr "\n" " " | sed "s/ $//"
     kill "$(cat /run/consult-test-hostapd.pid)" 2>/dev/null' || true)" \
  "${wifi_ssid} WPA2-PSK(-SHA256)? COMPLETED"
# The same network as WPA3-Personal only (SAE, management frames protected, as WPA3
# requires), and the address the box takes on it: systemd-networkd serves DHCP on the
# access point's radio (its port opened in the box's firewall for this boot only), and the
# box's own 81-consult-wifi.network takes a lease once wpa_supplicant has joined.
printf 'driver=nl80211\nssid=%s\nhw_mode=g\nchannel=6\nwpa=2\nwpa_key_mgmt=SAE\nieee80211w=2\nrsn_pairwise=CCMP\nwpa_passphrase=%s\n' \
  "$wifi_ssid" "$wifi_passphrase" >"$work/hostapd-sae.conf"
box_ssh "$work/it_key" 'umask 077; cat >/run/consult-test-hostapd-sae.conf' <"$work/hostapd-sae.conf" \
  || fail "could not copy the WPA3 access point's configuration into the box"
check "... and joins it as WPA3-Personal (SAE only), then takes an address from its DHCP server" \
  "$(ssh_timeout=200 box_ssh "$work/it_key" 'sta=$(ls /sys/class/net | grep "^wlan" | sed -n 1p); ap=$(ls /sys/class/net | grep "^wlan" | sed -n 2p)
     [ -n "$ap" ] || { echo "one radio only"; exit 0; }
     printf "[Match]\nName=%s\n\n[Network]\nAddress=10.77.0.1/24\nDHCPServer=yes\n\n[DHCPServer]\nPoolOffset=100\nPoolSize=20\n" "$ap" \
       >/run/systemd/network/05-consult-test-ap.network
     networkctl reload
     nft insert rule inet consult input iifname "$ap" udp dport 67 accept
     echo "interface=$ap" >>/run/consult-test-hostapd-sae.conf
     /lib64/ld-linux-x86-64.so.2 /run/consult-test-hostapd -B -P /run/consult-test-hostapd.pid -f /run/consult-test-hostapd.log \
       /run/consult-test-hostapd-sae.conf || { echo "hostapd: $(tail -n 5 /run/consult-test-hostapd.log | tr "\n" " ")"; exit 0; }
     for i in $(seq 90); do
       st=$(wpa_cli -i "$sta" status 2>/dev/null)
       echo "$st" | grep -q "^wpa_state=COMPLETED" && break; sleep 1; done
     for i in $(seq 90); do
       a=$(ip -4 -o addr show dev "$sta" | grep -o "10\.77\.0\.[0-9]*/24")
       [ -n "$a" ] && break; sleep 1; done
     echo "$(echo "$st" | grep -E "^(key_mgmt|wpa_state)=" | cut -d= -f2- | tr "\n" " ")${a:-no address: $(networkctl status "$sta" --no-pager 2>&1 | tail -n 4 | tr "\n" " ")}"
     kill "$(cat /run/consult-test-hostapd.pid)" 2>/dev/null' || true)" \
  "SAE COMPLETED 10\.77\.0\.1[01][0-9]/24"
# The recovery key the kiosk shows clinic IT once (its card reads this admin API): checked
# from the host below, after power-off, against the data partition's header.
recovery_key="$(api_json GET /api/system/recovery-key "$(admin_token)" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])' 2>/dev/null || true)"
check "the recovery key for clinic IT: 8 groups of 8 modhex characters" \
  "$(echo "$recovery_key" | grep -cE '^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$' || true)" '1'
stop_tunnel || true
power_off
timing first_boot_total_s "$(since "$t_stage")"

# --- 2. The disk, read from the host ---------------------------------------------------------
t_stage=$(now)
read_esp "$work/disk.qcow2" "$work/esp-after.img"
check "the provisioning file is gone from the ESP" \
  "$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$work/esp-after.img" :: 2>/dev/null | grep -ic 'consult-provision' || true)" '0'
check "... and its pairing code is nowhere in the ESP's bytes" \
  "$(tr '\0' '\n' <"$work/esp-after.img" | grep -a -c -F -- "$pairing_code" || true)" '0'
check "... nor its Wi-Fi passphrase" "$(count_marker "$work/esp-after.img" "$wifi_passphrase")" '0'
rm -f "$work/esp-after.img"
data_header "$work/disk.qcow2" "$work/data-header.img"
check "the data partition is LUKS2 (cryptsetup isLuks, from the host)" \
  "$(cryptsetup isLuks --type luks2 "$work/data-header.img" && echo luks2 || echo 'not LUKS2')" 'luks2'
check "its TPM2 key is sealed to PCR 7 only" \
  "$(cryptsetup luksDump --dump-json-metadata "$work/data-header.img" 2>/dev/null | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["tokens"].values() if t["type"] == "systemd-tpm2"]
print(",".join(str(p) for p in t[0]["tpm2-pcrs"]) if len(t) == 1 else "%d TPM2 tokens" % len(t))' 2>/dev/null \
   || echo unreadable)" '7'
check "its key slots: TPM2 and recovery key (the setup key is gone)" \
  "$(cryptsetup luksDump --dump-json-metadata "$work/data-header.img" 2>/dev/null | python3 -c '
import json, sys; print(len(json.load(sys.stdin)["keyslots"]))' 2>/dev/null || echo unreadable)" '2'
check "the kiosk's recovery key opens the data partition (cryptsetup --test-passphrase on its header)" \
  "$(printf '%s' "$recovery_key" | cryptsetup open --test-passphrase --type luks2 --key-file=- "$work/data-header.img" \
     >/dev/null 2>&1 && echo opens || echo refused)" 'opens'
check "... and is nowhere on the disk in clear (qcow2 overlay)" "$(count_marker "$work/disk.qcow2" "${recovery_key:-no key}")" '0'
check "the name written through the API is not in the shipped image" "$(count_marker "$img")" '0'
check "... nor anywhere the box wrote on its disk (qcow2 overlay)" "$(count_marker "$work/disk.qcow2")" '0'
check "... nor the provisioned Wi-Fi passphrase" "$(count_marker "$work/disk.qcow2" "$wifi_passphrase")" '0'
timing host_disk_checks_s "$(since "$t_stage")"

# --- 3. Updates from a USB stick: refused bundles, v2 into slot B, a broken v3 rolled back ---------
# The releases (tests/image/make-test-release.sh): this image's slot with another version,
# and one whose consultd never starts; bundles a box must refuse. All on a FAT "stick".
t_stage=$(now)
slot_dir="$(cat "$image_dir/slot-dir" 2>/dev/null || true)"
[ -d "$slot_dir" ] || die "no slot-dir beside the image (make image writes it)"
base_version="$(cat "$slot_dir/version")"
v2="$base_version+update2" v3="$base_version+broken3"
mkdir -p "$work/stick"
"$here/make-test-release.sh" "$slot_dir" "$v2" ok "$work/stick" >/dev/null || die "could not make the v2 release"
"$here/make-test-release.sh" "$slot_dir" "$v3" broken "$work/stick" >/dev/null || die "could not make the broken v3 release"
timing update_bundle_bytes "$(stat -c %s "$work/stick/consult-appliance-$v2.raucb")"
hostile_bundle() {   # hostile_bundle NAME COMPATIBLE SIGNING_DIR: a small bundle the box must refuse
  mkdir -p "$work/hostile/$1"
  head -c 1048576 /dev/urandom >"$work/hostile/$1/rootfs.img"
  printf '[update]\ncompatible=%s\nversion=9.9.9\n[bundle]\nformat=verity\n[image.rootfs]\nfilename=rootfs.img\n' "$2" \
    >"$work/hostile/$1/manifest.raucm"
  mapfile -t k < <(CONSULT_SIGNING_DIR="$3" "$here/../../tools/image/signing-keys.sh" 2>/dev/null)
  rauc bundle --cert="${k[0]}" --key="${k[1]}" "$work/hostile/$1" "$work/stick/$1.raucb" >/dev/null 2>&1 \
    || die "could not make the hostile bundle $1"
}
other_keys="$(mktemp -d /tmp/consult-other-ca.XXXXXX)"   # outside the clone, as signing-keys.sh wants
hostile_bundle other-ca "$(sed -n 's/^compatible=//p' "$here/../../image/mkosi.extra/etc/rauc/system.conf")" "$other_keys"
rm -rf "$other_keys"
hostile_bundle other-family another-family-x86_64 "${CONSULT_SIGNING_DIR:-/var/lib/consult-build/signing}"
stick_mib=$(( $(du -cm "$work/stick"/*.raucb | tail -n1 | cut -f1) + 64 ))
mkfs.vfat -F 32 -n CONSULTUPD -C "$work/stick.img" $((stick_mib * 1024)) >/dev/null || die "mkfs.vfat failed for the stick"
MTOOLS_SKIP_CHECK=1 mcopy -i "$work/stick.img" "$work/stick"/*.raucb :: || die "mcopy could not fill the stick"
mv "$work/stick/consult-appliance-$v3.raucb" "$work/v3.raucb"   # the cloud offers v3 later
rm -rf "$work/stick" "$work/hostile"
# A USB stick, as clinic IT puts one into the box: removable, on an xHCI controller.
extra_args=(-drive if=none,id=stick,format=raw,readonly=on,file="$work/stick.img" -device qemu-xhci,id=xhci
            -device usb-storage,bus=xhci.0,drive=stick,removable=on)
timing update_releases_made_s "$(since "$t_stage")"

t_stage=$(now)
boot second "$work/disk.qcow2" "$work/vars.fd" tpm
boot_to_report second
check "the journal holds both boots (one folder whatever the boot's machine ID)" \
  "$(field journal_boots)" '[2-9]'
check "the second boot did not encrypt again" \
  "$(grep -a -c 'consult-data-setup: first boot' "$serial" || true)" '0'
check_box
esp_list() { box_ssh "$work/it_key" 'ls /efi/EFI/Linux | sort | tr "\n" " "' | sed 's/ $//'; }
wait_kept() {   # the boot check passed and RAUC marked the booted slot good: prints the unit's state
  local state=""
  for _ in $(seq 60); do
    state="$(box_ssh "$work/it_key" 'systemctl is-active consult-mark-good' || true)"
    [ "$state" = active ] && break
    sleep 3
  done
  echo "${state:-unknown}"
}
check "slot A passed its boot check and RAUC marked it good" "$(wait_kept)" 'active'
check "the ESP: slot A's UKI, primary and kept; none for B" "$(esp_list)" 'consult-1-a.efi'
mount_stick() {   # mount_stick [COMMAND]: the stick on /run/stick (read-only), then COMMAND on the box
  box_ssh "$work/it_key" "mkdir -p /run/stick && mount -o ro /dev/disk/by-label/CONSULTUPD /run/stick ${1:+&& $1}" \
    || fail "the update stick could not be mounted on the box"
}
restart_box() {   # the box restarts itself; QEMU exits on the guest's reboot (-no-reboot)
  box_ssh "$work/it_key" 'umount /run/stick; systemctl --no-block reboot' || true
  for _ in $(seq 120); do alive || break; sleep 1; done
  alive && fail "the box did not restart within 120 s of the reboot"
  stop_vm
}
# The kiosk's Settings looks for the stick (POST /api/system/update/stick): root's
# consult-update-stick.service mounts it read-only and checks every bundle with rauc info.
stick_state() {   # stick_state TOKEN PYTHON_EXPR: that expression of root's answer (r) to the last request
  curl -s --max-time 20 -H "Authorization: Bearer $1" "$api/api/system/update/stick" \
    | python3 -c "import json, sys; j = json.load(sys.stdin); r = j.get('result') or {}; print($2)" 2>/dev/null \
    || echo "no answer"
}
wait_stick() {   # wait_stick TOKEN SECONDS: until root's answer is final; prints its state
  local s="" deadline=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    s="$(stick_state "$1" 'r.get("state", "unanswered")')"
    case "$s" in working|unanswered|"no answer") sleep 2 ;; *) break ;; esac
  done
  echo "$s"
}
ktoken="$(admin_token)"
t_look=$(now)
check "the kiosk asks the box to look for a USB stick" \
  "$(call POST /api/system/update/stick "$ktoken" '{"action":"look"}' | cut -d' ' -f1)" '202'
check "... root finds the stick and its bundles" "$(wait_stick "$ktoken" 300)" 'found'
timing update_stick_look_s "$(since "$t_look")"
check "... v3 and v2 can be installed; the other CA's bundle and the other family's cannot, with the reason" \
  "$(stick_state "$ktoken" '" ".join("ok" if not b["problem"] else "signature" if "signature" in b["problem"] else "family" if "made for" in b["problem"] else b["problem"] for b in sorted(r["bundles"], key=lambda b: b["name"]))')" \
  'ok ok signature family'
check "... and the stick is unmounted again" \
  "$(box_ssh "$work/it_key" 'findmnt -n /run/consult-update-stick | wc -l')" '0'
mount_stick
# Clinic IT's install from a stick: `consultctl update install` (it checks the bundle with
# rauc info, its family, that nobody is in a consultation, then RAUC installs it), run as
# consult-update.service runs it, with consultd's key as a credential to ask consultd.
install_from_stick() {   # install_from_stick FILE: prints the exit code, then what it said on one line
  ssh_timeout=960 box_ssh "$work/it_key" "timeout 900 systemd-run --wait --pipe --quiet -p LoadCredential=token-signing-key \
    consultctl update install /run/stick/$1 >/tmp/update.log 2>&1; echo \$? \$(tr '\n' ' ' </tmp/update.log)"
}
update_status() {   # update_status PYTHON_EXPR: that expression of `consultctl update status --json` (j)
  box_ssh "$work/it_key" 'consultctl update status --json 2>/dev/null' \
    | python3 -c "import json, sys; j = json.load(sys.stdin); print($1)" 2>/dev/null || echo "no status"
}
out="$(install_from_stick other-ca.raucb)"
check "a bundle signed by another CA is refused"  "$(echo "$out" | cut -d' ' -f1) $(echo "$out" | grep -oi 'signature' | head -n1)" '1 signature'
check "... and update status says why" "$(update_status 'j["last"]["result"], "signature" in j["last"]["reason"]')" "refused True"
out="$(install_from_stick other-family.raucb)"
check "a bundle for another hardware family is refused" "$(echo "$out" | cut -d' ' -f1) $(echo "$out" | grep -o "made for 'another-family-x86_64'" | head -n1)" "1 made for 'another-family-x86_64'"
check "... and the boot partition is untouched" "$(esp_list)" 'consult-1-a.efi'
# v2 from the kiosk: root installs it into slot B and restarts the box at once, since
# nobody is in a consultation (QEMU exits on the guest's reboot).
box_ssh "$work/it_key" 'umount /run/stick' || true
t_install=$(now)
check "the kiosk asks the box to install v2 from the stick" \
  "$(call POST /api/system/update/stick "$ktoken" "{\"action\":\"install\",\"file\":\"consult-appliance-$v2.raucb\"}" | cut -d' ' -f1)" '202'
for _ in $(seq 900); do alive || break; sleep 1; done
alive && fail "the box did not install v2 from the stick and restart within 900 s"
stop_vm
timing update_v2_install_s "$(since "$t_install")"
log "v2 installed from the stick through the kiosk's request, and the box restarted ($(since "$t_install") s)"
timing update_v2_before_reboot_s "$(since "$t_stage")"

# The box restarts into v2: slot B, its first try, kept after its health check.
t_stage=$(now)
expect_slot=b
boot v2 "$work/disk.qcow2" "$work/vars.fd" tpm
boot_to_report v2
check_box
check "the box runs v2"                          "$(box_ssh "$work/it_key" '. /usr/lib/os-release; echo "$IMAGE_VERSION"')" "${v2//+/\\+}"
check "v2 passed its boot check and RAUC marked slot B good" "$(wait_kept)" 'active'
check "the kiosk's request was answered: v2 installed from the stick" \
  "$(stick_state "$(admin_token)" '" ".join((r["state"], r["version"]))')" "installed ${v2//+/\\+}"
check "update status: v2 installed, marked good in this boot, nothing pending" \
  "$(update_status 'j["last"]["result"], j["last"]["version"], j["marked_good_this_boot"], j["pending"]')" \
  "installed ${v2//+/\\+} True None"
check "systemd-bless-boot kept B's UKI (no tries left to count); A stays as the fallback" "$(esp_list)" 'consult-0-a.efi consult-1-b.efi'
check "RAUC: booted from B, B primary" \
  "$(box_ssh "$work/it_key" 'rauc status --output-format=shell' | grep -E "^RAUC_(SYSTEM_BOOTED_BOOTNAME|BOOT_PRIMARY)=" | tr '\n' ' ')" \
  "RAUC_SYSTEM_BOOTED_BOOTNAME='b' RAUC_BOOT_PRIMARY='rootfs.1' "
check "RAUC: slot B holds the v2 bundle" \
  "$(box_ssh "$work/it_key" 'rauc status --detailed --output-format=shell' | grep -c "^RAUC_SLOT_STATUS_BUNDLE_VERSION_[0-9]*='$v2'\$")" '1'
token2="$(admin_token)"
check "the recording settings from the first boot are still there" \
  "$(call GET /api/system/recording "$token2" | grep -o "\"retention_days\":$retention_days" || echo missing)" \
  "\"retention_days\":$retention_days"
check "the first boot's sign-out is still there (its token stays refused)" \
  "$(call GET /api/system/recording "$token" | grep -o '^401 .*token_revoked' | cut -d' ' -f1)" '401'
# The clinic cloud becomes reachable: the box reports v2 installed on slot B, marked good.
# (Its update timer is stopped: this test starts the check itself, with plain http allowed.)
box_ssh "$work/it_key" 'systemctl stop consult-update.timer' || fail "could not stop the update timer"
open_tunnel
check "the box syncs with the clinic cloud now that it answers" \
  "$(call POST /api/system/cloud/sync "$token2" '{}' | cut -d' ' -f1)" '202'
t_report=$(now)
check "the clinic cloud's fleet status: v2 installed, on slot B, marked good" \
  "$(wait_device_status '" ".join(str(d.get(k)) for k in ("last_update_result", "last_update_version", "version", "booted_slot", "slot_marked_good"))' \
     "installed $v2 $v2 b True" 300)" "installed ${v2//+/\\+} ${v2//+/\\+} b True"
timing update_v2_reported_s "$(since "$t_report")"

# A broken v3 into slot A, with one try: it fails its health check, restarts, and the box
# comes back to v2 by itself.
# The cloud offers v3 (the release row: its bundle on the bundle server, SHA-256, size);
# consult-update.service downloads it, checks it, installs it into A and restarts the box.
# Its check runs with --now (the window is the box's night) and plain http to its loopback.
v3_sha="$(curl -s --max-time 120 -X POST -d "{\"path\": \"$work/v3.raucb\"}" "http://127.0.0.1:$bundle_port/_control/path" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["sha256"])')" || fail "the bundle server cannot serve v3"
cloud release "{\"version\": \"$v3\", \"bundle_url\": \"http://127.0.0.1:$guest_bundle_port/bundle.raucb\", \"sha256\": \"$v3_sha\", \"size_bytes\": $(stat -c %s "$work/v3.raucb")}" >/dev/null
box_ssh "$work/it_key" 'systemctl set-environment CONSULT_BOOT_TRIES=1 && systemctl stop rauc.service
  mkdir -p /run/systemd/system/consult-update.service.d
  printf "[Service]\nEnvironment=CONSULT_UPDATE_TEST_LOOPBACK_HTTP=1\nExecStart=\nExecStart=/usr/bin/consultctl update check --now\n" \
    >/run/systemd/system/consult-update.service.d/test.conf
  systemctl daemon-reload' || fail "could not set the update service up"

# The calls below run at 320x240, 10 frames a second: TCG runs the box's CPU at a small
# fraction of its speed, and x264 at the box's 1280x720@30 keeps both emulated cores busy
# from the admit on (once consultd's main loop then missed its 30 s watchdog and was
# restarted). consultd restarts with the smaller picture (a runtime drop-in).
box_ssh "$work/it_key" 'mkdir -p /run/systemd/system/consultd.service.d
  printf "[Service]\nExecStart=\nExecStart=/usr/bin/consultd --config /etc/consult/consultd.conf --state-dir /var/lib/consult --set media.max_width=320 --set media.max_height=240 --set media.max_fps=10\n" \
    >/run/systemd/system/consultd.service.d/test-media.conf
  systemctl daemon-reload && systemctl restart consultd' || fail "could not restart consultd with the test's picture size"
code=""
for _ in $(seq 60); do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$api/healthz" || true)"
  [ "$code" = 200 ] && break
  sleep 2
done
check "consultd is back after its restart (/healthz)" "$code" '200'

# First a call: while v3 is offered, a consultation is in progress with the patient's
# signalling socket open (the clinic cloud's appointment, pulled by the box; the doctor's
# Start, the patient's join, the admit). The update service downloads and installs nothing
# and says why; the call then ends and the update goes ahead.
t_call=$(now)
doctor_id="$(cat /proc/sys/kernel/random/uuid)" patient_id="$(cat /proc/sys/kernel/random/uuid)"
appointment_id="$(cat /proc/sys/kernel/random/uuid)" appointment2_id="$(cat /proc/sys/kernel/random/uuid)"
starts_at="$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) + d.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:00+00:00"))')"
starts2_at="$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) + d.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:00+00:00"))')"
cloud seed "{\"clinics\": [{\"id\": \"$clinic_id\", \"name\": \"Test Clinic\", \"timezone\": \"America/Chicago\"}],
  \"profiles\": [{\"id\": \"$doctor_id\", \"clinic_id\": \"$clinic_id\", \"full_name\": \"Dr Update\", \"role\": \"doctor\", \"is_active\": true}],
  \"patients\": [{\"id\": \"$patient_id\", \"clinic_id\": \"$clinic_id\", \"full_name\": \"Pat Update\", \"phone\": \"+15550100042\", \"email\": null}],
  \"appointments\": [{\"id\": \"$appointment_id\", \"clinic_id\": \"$clinic_id\", \"doctor_id\": \"$doctor_id\", \"patient_id\": \"$patient_id\",
    \"starts_at\": \"$starts_at\", \"duration_minutes\": 30, \"consultation_type\": \"video\", \"status\": \"scheduled\"},
    {\"id\": \"$appointment2_id\", \"clinic_id\": \"$clinic_id\", \"doctor_id\": \"$doctor_id\", \"patient_id\": \"$patient_id\",
    \"starts_at\": \"$starts2_at\", \"duration_minutes\": 30, \"consultation_type\": \"video\", \"status\": \"scheduled\"}]}" >/dev/null
call POST /api/system/cloud/sync "$token2" '{}' >/dev/null
pulled=""
for _ in $(seq 40); do
  pulled="$(api_json GET /api/appointments "$token2" | grep -o -e "\"id\":\"$appointment_id\"" -e "\"id\":\"$appointment2_id\"" | wc -l || true)"
  [ "$pulled" = 2 ] && break
  sleep 3
done
check "the box pulls the clinic cloud's two video appointments" "$pulled" '2'
doctor_token="$(token_for doctor "$doctor_id")"
# The doctor's Start on an appointment, the patient's token and join, and the patient's
# page holding the signalling socket open in the waiting room (tests/image/ws_hold.py,
# printing what it hears to OUT). Sets joined_session (the session's id) and ws_pid.
patient_joins() {   # patient_joins APPOINTMENT_ID OUT WHO
  local ptoken
  joined_session="$(api_json POST /api/video-consultations/sessions "$doctor_token" "{\"appointment_id\": \"$1\", \"duration_minutes\": 30}" \
    | python3 -c 'import json, sys; j = json.load(sys.stdin); print((j.get("session") or j).get("id", ""))' 2>/dev/null || true)"
  ptoken="$(api_json POST "/api/video-consultations/sessions/$joined_session/token" "$token2" "{\"user_type\": \"patient\", \"user_id\": \"$patient_id\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' 2>/dev/null || true)"
  check "$3 joins the doctor's session" \
    "$(call POST "/api/video-consultations/sessions/$joined_session/join" "$ptoken" | cut -d' ' -f1)" '200'
  python3 "$here/ws_hold.py" 127.0.0.1 "$port" "$ptoken" >"$2" 2>&1 &
  ws_pid=$!
  for _ in $(seq 30); do grep -q '^waiting$' "$2" && break; sleep 1; done
  check "... and waits in the waiting room, the signalling socket open" "$(grep -c '^waiting$' "$2")" '1'
}
patient_joins "$appointment_id" "$work/ws.out" "the patient"
session_id="$joined_session"
# consultd's worst main-loop stall (consult_main_loop_stall_max_seconds, in ms) before the
# admit and once the call runs: a number for the benchmark, not a check.
loop_stall_ms() { curl -s --max-time 20 "$api/metrics" | awk '$1 == "consult_main_loop_stall_max_seconds" { printf "%.0f", $2 * 1000 }'; }
stall_before_admit="$(loop_stall_ms || true)"
check "... and is admitted" \
  "$(call POST "/api/video-consultations/sessions/$session_id/admit" "$token2" | cut -d' ' -f1)" '200'
activity=""
for _ in $(seq 60); do
  activity="$(api_json GET /api/system/activity "$token2" | python3 -c 'import json, sys; j = json.load(sys.stdin)
print(j["busy"], j["call_running"], j["sessions_in_progress"])' 2>/dev/null || echo "no answer")"
  [ "$activity" = "True True 1" ] && break
  sleep 2
done
check "the box counts the call (busy, a call running, a session in progress)" "$activity" 'True True 1'
timing admit_main_loop_stall_ms "${stall_before_admit:-?} $(loop_stall_ms || true)"
[ "$activity" = "True True 1" ] || box_ssh "$work/it_key" 'journalctl -b -u consultd -o short-monotonic --no-pager | tail -n 30' || true
served_before="$(curl -s --max-time 20 "http://127.0.0.1:$bundle_port/_control/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_served"])')"
check "the update service runs during the call (postponed: exit 4, a success for the unit)" \
  "$(ssh_timeout=400 box_ssh "$work/it_key" 'timeout 300 systemctl start consult-update.service; echo $?')" '0'
postponed="$(update_status '" ".join([j["last"]["result"], j["last"]["version"], str("a call is running" in j["last"]["reason"])])')"
check "... installs nothing and says why" "$postponed" "postponed ${v3//+/\\+} True"
[ "$postponed" = "postponed $v3 True" ] ||
  box_ssh "$work/it_key" 'journalctl -b -u consult-update -o short-monotonic --no-pager | tail -n 30' || true
check "... without downloading the bundle" \
  "$(curl -s --max-time 20 "http://127.0.0.1:$bundle_port/_control/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_served"])')" \
  "$served_before"
check "... the boot partition untouched" "$(esp_list)" 'consult-0-a.efi consult-1-b.efi'
check "... and the clinic cloud's fleet status says postponed" \
  "$(wait_device_status '" ".join(str(d.get(k)) for k in ("last_update_result", "last_update_version"))' "postponed $v3" 120)" \
  "postponed ${v3//+/\\+}"
check "the call ends" "$(call POST "/api/video-consultations/sessions/$session_id/end" "$token2" '{}' | cut -d' ' -f1)" '200'
for _ in $(seq 30); do grep -q '^CLOSED' "$work/ws.out" && break; sleep 1; done
check "... and the patient's socket hears it" "$(grep -c -E '^(admitted|ended)$' "$work/ws.out")" '2'
kill "$ws_pid" 2>/dev/null || true
wait "$ws_pid" 2>/dev/null || true
timing update_call_postponed_s "$(since "$t_call")"

# Then the update goes ahead, and a patient arrives for the doctor's next appointment
# while v3 is being written into slot A: the install finishes (a slot is not left half
# written), but the restart waits until nobody is in a consultation, and comes by itself
# once the session ends.
journal_count() {   # journal_count TEXT: how often this boot's update service said TEXT
  box_ssh "$work/it_key" "journalctl -b -u consult-update -o cat | grep -c -F '$1'" 2>/dev/null || true
}
box_ssh "$work/it_key" 'systemctl start --no-block consult-update.service' || fail "could not start the update service"
t_install=$(now)
installing=""
for _ in $(seq 300); do
  alive || break
  installing="$(journal_count "installing $v3 into the other slot")"
  [ "$installing" = 1 ] && break
  sleep 2
done
check "the update service downloads v3, checks it and starts writing it into slot A" "$installing" '1'
timing update_v3_download_s "$(since "$t_install")"
patient_joins "$appointment2_id" "$work/ws2.out" "meanwhile the patient of the next appointment"
session2_id="$joined_session"
pending=""
for _ in $(seq 300); do
  alive || break
  pending="$(update_status 'j["pending"]["version"] if j.get("pending") else "none"')"
  [ "$pending" = "$v3" ] && break
  sleep 2
done
check "v3 is installed while the patient waits (update status: pending the restart)" "$pending" "${v3//+/\\+}"
waits=""
for _ in $(seq 20); do
  waits="$(journal_count "the restart into $v3 waits")"
  [ "$waits" = 1 ] && break
  sleep 2
done
check "... the update service says, as it happens, that the restart waits for the patient" "$waits" '1'
check "... the boot partition: slot A primary with its one try, B the fallback" "$(esp_list)" 'consult-0-b.efi consult-1-a\+1.efi'
sleep 40   # longer than the update service's 30 s between looks at the box
check "the box has not restarted while the patient waits" "$(alive && echo running)" 'running'
# The patient closes the page: nobody is waiting any more, and the box restarts by itself.
kill "$ws_pid" 2>/dev/null || true
wait "$ws_pid" 2>/dev/null || true
t_held=$(now)
for _ in $(seq 300); do alive || break; sleep 1; done
alive && fail "the box did not restart into v3 within 300 s of the waiting patient leaving"
timing update_v3_restart_after_call_s "$(since "$t_held")"
stop_tunnel || true
stop_vm
timing update_v3_download_install_s "$(since "$t_install")"
check "the box downloaded all of v3 from the release's URL" \
  "$(curl -s --max-time 20 "http://127.0.0.1:$bundle_port/_control/stats" \
     | python3 -c "import json, sys; print(json.load(sys.stdin)['bytes_served'] >= $(stat -c %s "$work/v3.raucb"))")" "True"
timing update_v2_total_s "$(since "$t_stage")"

t_stage=$(now)
boot v3-try "$work/disk.qcow2" "$work/vars.fd" tpm
# v3's consultd comes up and migrates the store to a schema of its own; its boot check
# fails (the slot expects the old schema). Meanwhile the doctor's notes of the call are
# written and acknowledged: they must outlive the way back to v2.
v3_health=""
for _ in $(seq 200); do
  alive || break
  v3_health="$(curl -s --max-time 10 "$api/healthz" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["status"], j["schema_version"])' 2>/dev/null || true)"
  [ -n "$v3_health" ] && break
  sleep 3
done
log "v3's consultd answers: $v3_health"
v3_notes="Notes written while v3 ran: $(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
check "v3's consultd answers and the doctor's notes of the call are acknowledged" \
  "$(call PUT "/api/video-consultations/sessions/$session_id/notes" "$(token_for doctor "$doctor_id")" \
     "{\"notes\": \"$v3_notes\"}" | cut -d' ' -f1)" '200'
t_failed=$(wait_serial 'consult-boot-check: this slot failed its health check on a try: restarting' "$((BOOT_TIMEOUT + 240))")
log "v3 failed its health check after $t_failed s and restarts"
for _ in $(seq 120); do alive || break; sleep 1; done
alive && fail "the box did not restart after the failed health check"
stop_vm
check "v3 ran from slot A (the kernel's command line)" "$(grep -a -o 'Command line: .*' "$serial" | grep -o 'rauc\.slot=[ab]' | head -n1)" 'rauc\.slot=a'
timing update_v3_failed_s "$(since "$t_stage")"

t_stage=$(now)
boot fallback "$work/disk.qcow2" "$work/vars.fd" tpm
boot_to_report fallback
check_box
check "after the failed try the box is back on v2 by itself" \
  "$(box_ssh "$work/it_key" '. /usr/lib/os-release; echo "$IMAGE_VERSION"')" "${v2//+/\\+}"
check "the ESP: A out of tries (bad), B primary" "$(esp_list)" 'consult-0-b.efi consult-1-a\+0-1.efi'
check "RAUC: slot A bad, the primary is B" \
  "$(box_ssh "$work/it_key" 'b=/usr/libexec/consult/rauc-bootloader; echo "$($b get-state a) $($b get-primary)"')" 'bad b'
check "update status: v3 rolled back, never offered again" \
  "$(update_status 'j["last"]["result"], j["last"]["version"], j["rolled_back"]')" \
  "rolled-back ${v3//+/\\+} \\['${v3//+/\\+}'\\]"
check "v3 kept a copy of the store before it migrated it" \
  "$(box_ssh "$work/it_key" 'ls /var/lib/consult/db-snapshots' | tr '\n' ' ')" 'schema-[0-9]+\.sqlite '
check "back on v2, consultd went back from v3's schema (its journal)" \
  "$(box_ssh "$work/it_key" 'journalctl -b -u consultd -o cat | grep -c "the store came back from a newer version"' || true)" \
  '[1-9][0-9]*'
check "... and kept v3's store whole beside it" \
  "$(box_ssh "$work/it_key" 'ls /var/lib/consult | grep -c "^consult\.db\.schema-"' || true)" '1'
token3="$(admin_token)"
session_notes() { api_json GET "/api/video-consultations/sessions/$session_id" "$token3" \
  | python3 -c 'import json, sys; j = json.load(sys.stdin); print((j.get("session") or j).get("notes"))' 2>/dev/null || echo unreadable; }
check "... the notes acknowledged while v3 ran are still there" "$(session_notes)" "$v3_notes"
check "... and the first boot's settings are still there" \
  "$(call GET /api/system/recording "$token3" | grep -o "\"retention_days\":$retention_days" || echo missing)" \
  "\"retention_days\":$retention_days"
check "the journal: v3 was downloaded and installed by the update service" \
  "$(box_ssh "$work/it_key" "journalctl -u consult-update -o cat | grep -c -F -e 'downloading $v3' -e '$v3 installed'" || true)" '[2-9]'
box_ssh "$work/it_key" 'systemctl stop consult-update.timer' || fail "could not stop the update timer"
open_tunnel
call POST /api/system/cloud/sync "$token3" '{}' >/dev/null
cloud_notes() { cloud 'rows?table=video_consultation_sessions' | python3 -c "import json, sys
print([r.get('notes') for r in json.load(sys.stdin) if r.get('id') == '$session_id'])" 2>/dev/null || echo unreadable; }
for _ in $(seq 40); do [ "$(cloud_notes)" = "['$v3_notes']" ] && break; sleep 3; done
check "... and the outbox pushes them to the clinic cloud" "$(cloud_notes)" "\\['$v3_notes'\\]"
check "the clinic cloud's fleet status: v3 rolled back, the box on v2" \
  "$(wait_device_status '" ".join(str(d.get(k)) for k in ("last_update_result", "last_update_version", "version", "booted_slot"))' \
     "rolled_back $v3 $v2 b" 300)" "rolled_back ${v3//+/\\+} ${v2//+/\\+} b"
served_before="$(curl -s --max-time 20 "http://127.0.0.1:$bundle_port/_control/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_served"])')"
out="$(ssh_timeout=300 box_ssh "$work/it_key" 'timeout 240 systemd-run --wait --pipe --quiet -p LoadCredential=token-signing-key \
  -p LoadCredential=cloud-api-key -p LoadCredential=cloud-device-token -E CONSULT_UPDATE_TEST_LOOPBACK_HTTP=1 \
  consultctl update check --now 2>&1; echo "exit $?"' | tr '\n' ' ')"
check "the cloud still offers v3: the box does not try it again" \
  "$(echo "$out" | grep -o -E 'failed its boot check on this box before; it is not tried again|exit [0-9]+' | tr '\n' ' ')" \
  'failed its boot check on this box before; it is not tried again exit 0 '
check "... nor downloads it again" \
  "$(curl -s --max-time 20 "http://127.0.0.1:$bundle_port/_control/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_served"])')" \
  "$served_before"
stop_tunnel || true
power_off
timing update_fallback_total_s "$(since "$t_stage")"
extra_args=()
expect_slot=a

# --- 4. No TPM: a fresh copy of the image refuses its first boot --------------------------------
t_stage=$(now)
cp "$OVMF_VARS" "$work/vars-notpm.fd"
timeout 60 qemu-img create -q -f qcow2 -b "$img" -F raw "$work/notpm.qcow2" 8G || die "qemu-img could not create the overlay"
boot no-tpm "$work/notpm.qcow2" "$work/vars-notpm.fd" no-tpm
t_refused=$(wait_serial 'FIRST START STOPPED - NO TPM 2.0' "$REFUSE_TIMEOUT")
log "no TPM: first boot refused after $t_refused s"
timing no_tpm_refused_s "$t_refused"
check "without a TPM the box says why on the console" \
  "$(grep -a -c 'This box has no TPM 2.0 security chip' "$serial" || true)" '[1-9][0-9]*'
check "... and does not come up" "$(grep -a -c 'consult-boot-report:' "$serial" || true)" '0'
# It stops in emergency mode, whose drop-in says it again just above sulogin's words.
t_again=$(wait_serial 'You are in emergency mode' "$(awk -v t="$t_refused" 'BEGIN { print t + 60 }')")
check "... and says it again in emergency mode" \
  "$(grep -a -c '^CONSULT ROOM: FIRST START STOPPED - NO TPM 2.0' "$serial" || true)" '[1-9][0-9]*'
log "emergency mode after $t_again s"
stop_vm
data_header "$work/notpm.qcow2" "$work/notpm-header.img"
check "... and leaves the data partition untouched" \
  "$(cryptsetup isLuks "$work/notpm-header.img" && echo LUKS || echo untouched)" 'untouched'
timing no_tpm_total_s "$(since "$t_stage")"

# --- 5. No provisioning file: a fresh box with a TPM of its own shows the setup screen -----------
t_stage=$(now)
rm -rf "$work/tpm"
cp "$OVMF_VARS" "$work/vars-setup.fd"
timeout 60 qemu-img create -q -f qcow2 -b "$img" -F raw "$work/setup.qcow2" 8G || die "qemu-img could not create the overlay"
boot setup "$work/setup.qcow2" "$work/vars-setup.fd" tpm
boot_to_report setup
check "with no provisioning file the box still comes up (consultd)" "$(field consultd)" 'active'
check "... with SSH off"                       "$(field ssh)" 'inactive'
check "... and the setup API refuses a caller from outside the box" \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$api/api/kiosk/setup" || echo 000)" '403'
screen="$(wait_kiosk_screen setup "$SCREEN_TIMEOUT" setup)"
log "$screen"
check "with no provisioning file the kiosk shows its setup screen (screen_check.py setup; screen-setup.png)" \
  "$(echo "$screen" | cut -d' ' -f1-2)" 'kiosk setup:'
timing setup_kiosk_on_screen_s "$(echo "$screen" | sed -n 's/.* after \([0-9.]*\) s$/\1/p')"
stop_vm
timing setup_total_s "$(since "$t_stage")"

timing image_test_total_s "$(since "$t_all")"
log "timings and serial logs in $artifacts (total $(since "$t_all") s)"
[ "$failures" -eq 0 ] || { echo "image boot test: $((checks - failures)) passed, $failures failed"; die "$failures check(s) failed"; }
echo "image boot test: $checks passed, $failures failed"
