#!/usr/bin/env bash
# RAUC's bootloader backend and post-install handler (image/mkosi.extra/usr/libexec/consult/
# rauc-bootloader, rauc-post-install) against a fake ESP: what systemd-boot will start after
# each step of an update, a failed update's fallback, the blessing, power cuts between
# renames, and hostile input (a bundle without the slot's UKI, a file that is no EFI
# program, unknown slots and states). systemd-boot's own choice is modelled by
# `sdboot_pick` below (bad entries last, then the highest file name); the QEMU update test
# checks the real one.
set -u
here="$(cd "$(dirname "$0")/../.." && pwd)"
backend="$here/image/mkosi.extra/usr/libexec/consult/rauc-bootloader"
post="$here/image/mkosi.extra/usr/libexec/consult/rauc-post-install"
. "$(dirname "$0")/check.sh"

export CONSULT_ESP="$work/esp" CONSULT_PROC_CMDLINE="$work/cmdline"
dir="$CONSULT_ESP/EFI/Linux"
esp() { (cd "$dir" && ls -1 | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'); }
fresh() {   # fresh BOOTED FILE...: an ESP holding these UKIs, booted from BOOTED
  rm -rf "$CONSULT_ESP"; mkdir -p "$dir"
  echo "root=PARTLABEL=consult-root-$1 rauc.slot=$1 ro" >"$CONSULT_PROC_CMDLINE"
  shift
  for f in "$@"; do printf 'MZuki' >"$dir/$f"; done
}
bl() { sh "$backend" "$@" 2>"$work/err"; }
# What systemd-boot starts with `default consult-*`: entries with no tries left last, then
# the highest name (its order for UKIs that carry no version: image/README.md).
sdboot_pick() {
  local good bad
  good="$(cd "$dir" && ls -1 consult-*.efi 2>/dev/null | grep -Ev '\+0(-[0-9]+)?\.efi$' | LC_ALL=C sort -r | head -n1)"
  bad="$(cd "$dir" && ls -1 consult-*.efi 2>/dev/null | grep -E '\+0(-[0-9]+)?\.efi$' | LC_ALL=C sort -r | head -n1)"
  echo "${good:-$bad}"
}
# One boot attempt as systemd-boot makes it: the picked entry's counter goes down by one.
sdboot_try() {
  local f left done_ name
  f="$(sdboot_pick)"
  if [[ "$f" =~ ^(consult-[01]-[ab])\+([0-9]+)(-([0-9]+))?\.efi$ ]]; then
    name="${BASH_REMATCH[1]}" left="${BASH_REMATCH[2]}" done_="${BASH_REMATCH[4]:-0}"
    if [ "$left" -gt 0 ]; then mv "$dir/$f" "$dir/$name+$((left - 1))-$((done_ + 1)).efi"; fi
  fi
  echo "$f" | sed -n 's/^consult-[01]-\([ab]\).*/\1/p'
}
# systemd-bless-boot after boot-complete.target: the booted entry loses its counter.
bless() { local f; f="$(cd "$dir" && ls consult-[01]-"$1"+*.efi 2>/dev/null)"; [ -z "$f" ] || mv "$dir/$f" "$dir/$(echo "$f" | sed 's/+.*\.efi$/.efi/')"; }

# --- The image as flashed: slot A good and primary, no UKI for B -------------------------------
fresh a consult-1-a.efi
check "flashed: primary"                 "$(bl get-primary)" "a"
check "flashed: A good"                  "$(bl get-state a)" "good"
check "flashed: B bad (no UKI)"          "$(bl get-state b)" "bad"
check "flashed: systemd-boot starts A"   "$(sdboot_pick)" "consult-1-a.efi"

# --- An update into B: RAUC marks B bad, writes it, the handler puts its UKI and its tries ---
bl set-state b bad
check "B marked bad before writing"      "$(esp)" "consult-1-a.efi"
mkdir -p "$work/bundle"
printf 'MZ new kernel for a' >"$work/bundle/uki-a.efi"
printf 'MZ new kernel for b' >"$work/bundle/uki-b.efi"
run_post() {   # run_post TARGET_BOOTNAME: the handler as rauc install runs it
  RAUC_BUNDLE_MOUNT_POINT="$work/bundle" RAUC_TARGET_SLOTS="1" RAUC_SLOT_CLASS_1=rootfs \
    RAUC_SLOT_BOOTNAME_1="$1" CONSULT_RAUC_BOOTLOADER="$backend" sh "$post" >"$work/post.out" 2>&1
}
run_post b; check "post-install succeeds"         "$?" "0"
check "B primary with three tries"       "$(esp)" "consult-0-a.efi consult-1-b+3.efi"
check "the UKI is the bundle's"          "$(cat "$dir/consult-1-b+3.efi")" "MZ new kernel for b"
check "RAUC sees B primary"              "$(bl get-primary)" "b"
check "systemd-boot starts B next"       "$(sdboot_pick)" "consult-1-b+3.efi"

# --- B boots and passes its health check: blessed, then RAUC's mark-good ---------------------
check "first try boots B"                "$(sdboot_try)" "b"
check "one try used"                     "$(esp)" "consult-0-a.efi consult-1-b+2-1.efi"
echo "root=PARTLABEL=consult-root-b rauc.slot=b ro" >"$CONSULT_PROC_CMDLINE"
bless b
bl set-state b good
check "B good for good"                  "$(esp)" "consult-0-a.efi consult-1-b.efi"
check "B stays on the next boot"         "$(sdboot_pick)" "consult-1-b.efi"

# --- The next update goes into A and fails three times: B comes back by itself --------------
bl set-state a bad
run_post a; check "post-install into A"           "$?" "0"
check "A primary with tries, B kept"     "$(esp)" "consult-0-b.efi consult-1-a+3.efi"
check "try 1 boots A"                    "$(sdboot_try)" "a"
check "try 2 boots A"                    "$(sdboot_try)" "a"
check "try 3 boots A"                    "$(sdboot_try)" "a"
check "A out of tries"                   "$(esp)" "consult-0-b.efi consult-1-a+0-3.efi"
check "then systemd-boot starts B"       "$(sdboot_pick)" "consult-0-b.efi"
check "RAUC sees A bad"                  "$(bl get-state a)" "bad"
check "RAUC sees B primary"              "$(bl get-primary)" "b"
# Back on B, RAUC's mark-active of the booted slot keeps it without a counter.
echo "root=PARTLABEL=consult-root-b rauc.slot=b ro" >"$CONSULT_PROC_CMDLINE"
bl set-primary b
check "B primary again, A demoted"       "$(esp)" "consult-0-a+0-3.efi consult-1-b.efi"

# --- Power cut between the two renames of set-primary -----------------------------------------
fresh a consult-1-a.efi consult-1-b+3.efi
check "cut after promoting B: B tried"   "$(sdboot_pick)" "consult-1-b+3.efi"
fresh b consult-1-a+3.efi consult-1-b.efi
check "cut after promoting A: B (good, higher) still starts" "$(sdboot_pick)" "consult-1-b.efi"
check "…and RAUC agrees"                 "$(bl get-primary)" "b"

# --- Hostile and broken input ---------------------------------------------------------------
fresh a consult-1-a.efi
bl set-primary c;           check "an unknown slot is refused"      "$? $(esp)" "1 consult-1-a.efi"
bl set-state a maybe;       check "an unknown state is refused"     "$? $(esp)" "1 consult-1-a.efi"
bl set-primary b;           check "a slot with no UKI cannot be primary" "$? $(esp)" "1 consult-1-a.efi"
bl set-state b good;        check "nor good"                         "$? $(esp)" "1 consult-1-a.efi"
bl get-state 'a;reboot';    check "a slot name with a command"       "$?" "1"
bl;                         check "no command"                       "$?" "1"
fresh a consult-1-a.efi consult-0-a+2.efi
bl get-state a;             check "two UKIs for one slot is an error" "$?" "1"
grep -q "two UKIs for slot a" "$work/err"; check "…and says so" "$?" "0"
rm -rf "$CONSULT_ESP"
bl get-primary;             check "no ESP mounted"                   "$?" "1"

fresh a consult-1-a.efi
rm "$work/bundle/uki-b.efi"
run_post b;                 check "a bundle without B's UKI fails"   "$? $(esp)" "1 consult-1-a.efi"
printf '#!/bin/sh\necho pwned\n' >"$work/bundle/uki-b.efi"
run_post b;                 check "a UKI that is no EFI program fails" "$? $(esp)" "1 consult-1-a.efi"
grep -q "not an EFI executable" "$work/post.out"; check "…and says so" "$?" "0"
printf 'MZ ok' >"$work/bundle/uki-b.efi"
RAUC_BUNDLE_MOUNT_POINT="$work/bundle" RAUC_TARGET_SLOTS="1" RAUC_SLOT_CLASS_1=rootfs \
  RAUC_SLOT_BOOTNAME_1='../../x' CONSULT_RAUC_BOOTLOADER="$backend" sh "$post" >/dev/null 2>&1
check "a hostile bootname is refused"    "$? $(esp)" "1 consult-1-a.efi"
RAUC_TARGET_SLOTS="1" RAUC_SLOT_CLASS_1=rootfs RAUC_SLOT_BOOTNAME_1=b sh "$post" >/dev/null 2>&1
check "not run by rauc: refused"         "$? $(esp)" "1 consult-1-a.efi"

echo "$failures failed"
[ "$failures" -eq 0 ]
