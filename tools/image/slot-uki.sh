#!/usr/bin/env bash
# The UKI that boots one root slot, from a packed slot (build-image.sh stage 2): its kernel
# and initrd, a command line naming the slot, and an os-release for systemd-boot's menu.
# The disk (assemble-disk.sh) and the update bundles (build-bundle.sh) both make theirs here.
#
#   tools/image/slot-uki.sh SLOT_DIR a|b OUT.efi
#
# The os-release carries no version on purpose: systemd-boot orders UKIs of one ID by
# version before their file names, and the A/B switch (rauc-bootloader) works by file name
# alone. The version is in the menu's title.
set -euo pipefail

die() { echo "slot-uki: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 SLOT_DIR a|b OUT.efi"
slot="$1" s="$2" out="$3"
case "$s" in a|b) ;; *) die "slot must be a or b (got '$s')";; esac
here="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(cat "$slot/version")"
S="$(echo "$s" | tr a-z A-Z)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%s\n' 'NAME="Consult Room Appliance"' 'ID=consult-appliance' \
  "PRETTY_NAME=\"Consult Room Appliance $version (slot $S)\"" >"$work/os-release"
# Root by partition label: a UKI then fits any disk the image is written to. rauc.slot=
# tells RAUC which slot runs. console=ttyS0 last: systemd's status and the boot report go
# to the serial port; the screen is the kiosk's.
cmdline="root=PARTLABEL=consult-root-$s rootfstype=erofs ro rauc.slot=$s console=tty1 console=ttyS0,115200 rd.systemd.gpt_auto=0"
"$here/tools/image/make-uki.sh" "$slot/linuxx64.efi.stub" "$slot/vmlinuz" "$slot/initrd" \
  "$work/os-release" "$cmdline" "$out"
