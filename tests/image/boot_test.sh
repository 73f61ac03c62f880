#!/usr/bin/env bash
# Boots the appliance disk image in QEMU and checks that it comes up by itself.
#
#   tests/image/boot_test.sh IMAGE_DIR ARTIFACTS_DIR
#
# IMAGE_DIR holds consult-appliance-<version>.img (make image). The image itself is
# never written: the box boots a copy-on-write overlay bigger than the image, so first
# boot has room to grow the data partition. QEMU runs with TCG (no KVM needed), OVMF,
# a swtpm TPM2, virtio-gpu (the kiosk's screen), an i6300esb watchdog and user
# networking restricted to a port forward on 127.0.0.1 (the guest reaches nothing).
#
# Checks, each under a hard timeout:
#   - the box boots to multi-user and prints its boot report on the serial console
#     (systemd stops printing status once the serial getty starts: the report says it);
#   - consultd is active and /healthz answers 200 through the forwarded port;
#   - / is the read-only erofs of slot A; /var is the data partition (ext4), grown;
#   - consult-kiosk.service is enabled; no unit failed.
# Serial log, timings and QEMU's own log go to ARTIFACTS_DIR.
set -euo pipefail

die() { echo "boot_test: FAIL: $*" >&2; exit 1; }
log() { echo "boot_test: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ $# -eq 2 ] || die "usage: $0 IMAGE_DIR ARTIFACTS_DIR"
image_dir="$1" artifacts="$2"
BOOT_TIMEOUT="${BOOT_TIMEOUT:-600}"      # seconds from QEMU start to the boot report
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"  # seconds from the report to /healthz 200
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

for tool in qemu-system-x86_64 qemu-img swtpm curl python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing: run tools/install-deps.sh image"
done
for f in "$OVMF_CODE" "$OVMF_VARS"; do [ -f "$f" ] || die "$f is missing (package ovmf)"; done
img="$(ls -t "$image_dir"/consult-appliance-*.img 2>/dev/null | head -n1 || true)"
[ -n "$img" ] || die "no consult-appliance-*.img in $image_dir (make image)"

mkdir -p "$artifacts"
artifacts="$(cd "$artifacts" && pwd)"
serial="$artifacts/serial.log" timings="$artifacts/timings.txt"
rm -f "$serial" "$timings" "$artifacts/qemu.log" "$artifacts/swtpm.log"
work="$(mktemp -d "$artifacts/.run.XXXXXX")"
qemu_pid="" swtpm_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null || true
  [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {   # fail MESSAGE: the serial log's tail, then the failure
  log "last 60 lines of $serial:"
  tail -n 60 "$serial" >&2 2>/dev/null || true
  die "$1"
}

# A free TCP port on 127.0.0.1 for the forward to consultd's 8080.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# --- The disk (overlay), firmware variables, TPM -----------------------------------------------
timeout 60 qemu-img create -q -f qcow2 -b "$(cd "$(dirname "$img")" && pwd)/$(basename "$img")" -F raw \
  "$work/disk.qcow2" 8G || die "qemu-img could not create the overlay"
cp "$OVMF_VARS" "$work/vars.fd"
mkdir -p "$work/tpm"
swtpm socket --tpm2 --tpmstate dir="$work/tpm" --ctrl type=unixio,path="$work/swtpm.sock" \
  --log file="$artifacts/swtpm.log" --flags startup-clear &
swtpm_pid=$!
for _ in $(seq 50); do [ -S "$work/swtpm.sock" ] && break; sleep 0.1; done
[ -S "$work/swtpm.sock" ] || die "swtpm did not start (see $artifacts/swtpm.log)"

# --- Boot ----------------------------------------------------------------------------------------
log "booting $(basename "$img") (TCG; /healthz forwarded to 127.0.0.1:$port)"
t0=$(now)
nice timeout "$((BOOT_TIMEOUT + HEALTH_TIMEOUT + 120))" qemu-system-x86_64 \
  -machine q35 -accel tcg -cpu Nehalem-v2 -smp 2 -m 3072 \
  -drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE" \
  -drive if=pflash,format=raw,unit=1,file="$work/vars.fd" \
  -drive if=none,id=disk,format=qcow2,file="$work/disk.qcow2" -device virtio-blk-pci,drive=disk \
  -chardev socket,id=chrtpm,path="$work/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
  -device tpm-tis,tpmdev=tpm0 \
  -netdev user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:"$port"-:8080 -device virtio-net-pci,netdev=net0 \
  -device virtio-gpu-pci -display none -device i6300esb \
  -serial file:"$serial" -monitor unix:"$work/monitor.sock",server,nowait \
  -no-reboot >"$artifacts/qemu.log" 2>&1 &
qemu_pid=$!

alive() { kill -0 "$qemu_pid" 2>/dev/null; }
# Waits for an extended regex in the serial log; prints the seconds since QEMU started.
wait_serial() {   # wait_serial REGEX DEADLINE_SECONDS
  while ! grep -qaE "$1" "$serial" 2>/dev/null; do
    alive || fail "QEMU exited before the serial console showed /$1/ (qemu.log: $(tail -n 3 "$artifacts/qemu.log" 2>/dev/null))"
    awk -v e="$(elapsed)" -v d="$2" 'BEGIN { exit !(e > d) }' && fail "no /$1/ on the serial console within $2 s"
    sleep 1
  done
  elapsed
}

t_kernel=$(wait_serial 'Linux version' 180)
log "kernel started after $t_kernel s"
t_report=$(wait_serial 'consult-boot-report:' "$BOOT_TIMEOUT")
report="$(grep -a -m1 -o 'consult-boot-report:.*' "$serial" | tr -d '\r')"
log "boot report after $t_report s: $report"

field() { echo "$report" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# /healthz through the forwarded port (consultd may answer a moment after it is active).
t_health=""
deadline=$(awk -v a="$(elapsed)" -v b="$HEALTH_TIMEOUT" 'BEGIN { print a + b }')
while :; do
  code="$(curl -s -o "$work/healthz" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/healthz" || true)"
  if [ "$code" = 200 ]; then t_health=$(elapsed); break; fi
  alive || fail "QEMU exited while waiting for /healthz"
  awk -v e="$(elapsed)" -v d="$deadline" 'BEGIN { exit !(e > d) }' && \
    fail "/healthz did not answer 200 within $HEALTH_TIMEOUT s after the boot report (last: HTTP $code)"
  sleep 2
done
log "/healthz 200 after $t_health s: $(head -c 200 "$work/healthz")"

{
  echo "image $(basename "$img")"
  echo "kernel_started_s $t_kernel"
  echo "boot_report_s $t_report"
  echo "healthz_200_s $t_health"
  echo "report $report"
} >"$timings"

# --- The checks -----------------------------------------------------------------------------------
failures=0 checks=0
check() {   # check DESCRIPTION ACTUAL EXPECTED_REGEX
  checks=$((checks + 1))
  if echo "$2" | grep -qE "^($3)\$"; then log "ok   $1 ($2)"
  else log "FAIL $1: got '$2', want /$3/"; failures=$((failures + 1)); fi
}
img_var_bytes=$((256 * 1024 * 1024))
check "multi-user.target is reached"          "$(field multi_user)" 'active'
check "root is slot A"                        "$(field slot)" 'consult-root-a'
check "root is read-only"                     "$(field root_mode)" 'ro'
check "root is erofs"                         "$(field root_fstype)" 'erofs'
check "/var is the data partition (ext4)"     "$(field var_fstype)" 'ext4'
check "consultd is active"                    "$(field consultd)" 'active'
check "the kiosk unit is enabled"             "$(field kiosk_enabled)" 'enabled'
check "nftables is active"                    "$(field nftables)" 'active'
check "timesyncd is active"                   "$(field timesyncd)" 'active'
check "the watchdog is armed"                 "$(field watchdog)" '30s'
check "no unit failed"                        "$(field failed)" ''
var_part=$(field var_part_bytes) var_fs=$(field var_fs_bytes)
check "the data partition grew past the image's 256 MiB" \
  "$([ "${var_part:-0}" -gt $((4 * img_var_bytes)) ] && echo grown || echo "not grown: $var_part bytes")" 'grown'
check "its file system grew with it" \
  "$([ "${var_fs:-0}" -gt $((var_part * 8 / 10)) ] && echo grown || echo "not grown: $var_fs of $var_part bytes")" 'grown'

# --- Clean power-off (ACPI), then the verdict -------------------------------------------------------
python3 - "$work/monitor.sock" <<'EOF' || true
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); s.sendall(b"system_powerdown\n")
EOF
for _ in $(seq 90); do alive || break; sleep 1; done
if alive; then log "no power-off within 90 s (ACPI): stopping QEMU"; kill "$qemu_pid"; else
  echo "powered_off_s $(elapsed)" >>"$timings"; fi
log "timings and serial log in $artifacts"
[ "$failures" -eq 0 ] || { echo "image boot test: $((checks + 1 - failures)) passed, $failures failed"; fail "$failures check(s) failed"; }
echo "image boot test: $((checks + 1)) passed, $failures failed"   # + /healthz
