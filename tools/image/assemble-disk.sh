#!/usr/bin/env bash
# Assembles the raw GPT disk from a packed slot (tools/image/build-image.sh stage 2):
#
#   tools/image/assemble-disk.sh SLOT_DIR REPART_DIR OUT.img
#
#  - the ESP: a FAT file system made with mkfs.vfat and filled with mtools (this kernel
#    need not know vfat): systemd-boot, loader.conf, the UKI of root slot A;
#  - the GPT: systemd-repart with the appliance's own definitions (the ones installed in
#    the image as /usr/lib/repart.d, which grow /var at first boot), plus CopyBlocks= for
#    the ESP and root A; root B and the data partition stay empty (sparse): the box makes
#    the data partition LUKS2 on first boot;
#  - OUT.img.bmap (bmaptool), OUT.img.zst and OUT.sha256; sizes printed.
set -euo pipefail

die() { echo "assemble-disk: $*" >&2; exit 1; }
log() { echo "assemble-disk: $*" >&2; }
[ $# -eq 3 ] || die "usage: $0 SLOT_DIR REPART_DIR OUT.img"
slot="$1" repart_dir="$2" img="$3"
here="$(cd "$(dirname "$0")/../.." && pwd)"
for f in vmlinuz initrd linuxx64.efi.stub systemd-bootx64.efi root.erofs version; do
  [ -s "$slot/$f" ] || die "$slot/$f is missing: rebuild the slot"
done
version="$(cat "$slot/version")"
# Absolute paths throughout: systemd-repart takes CopyBlocks= paths as they are.
out_dir="$(mkdir -p "$(dirname "$img")" && cd "$(dirname "$img")" && pwd)"
img="$out_dir/$(basename "$img")"
slot="$(cd "$slot" && pwd)"
work="$(mktemp -d "$out_dir/.assemble.XXXXXX")"
trap 'rm -rf "$work"' EXIT

size_of() { stat -c %s "$1"; }
bytes_of_def() {   # bytes_of_def FILE KEY: SizeMaxBytes=2G → 2147483648
  local v; v="$(sed -n "s/^$2=//p" "$1" | tail -n1)"
  numfmt --from=iec "${v:-0}"
}

# --- The ESP --------------------------------------------------------------------------------
esp_bytes="$(bytes_of_def "$repart_dir/00-esp.conf" SizeMaxBytes)"
[ "$esp_bytes" -gt 0 ] || die "00-esp.conf has no SizeMaxBytes="
esp="$work/esp.vfat"
mkfs.vfat -F 32 -n CONSULT-ESP -C "$esp" $((esp_bytes / 1024)) >/dev/null || die "mkfs.vfat failed"
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/EFI/Linux ::/loader
mcopy -i "$esp" "$slot/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$slot/systemd-bootx64.efi" ::/EFI/systemd/systemd-bootx64.efi
# The first good UKI in systemd-boot's order boots (rauc-bootloader: image/README.md,
# "Updates"); no menu unless a key is held; no editing of the kernel command line.
printf 'default consult-*\ntimeout 0\neditor no\nconsole-mode keep\n' >"$work/loader.conf"
mcopy -i "$esp" "$work/loader.conf" ::/loader/loader.conf
# Slot A, primary and good. Slot B is empty, so it has no UKI: an update puts one there.
"$here/tools/image/slot-uki.sh" "$slot" a "$work/consult-a.efi"
mcopy -i "$esp" "$work/consult-a.efi" "::/EFI/Linux/consult-1-a.efi"

# --- Root A must fit its slot -----------------------------------------------------------------
root_bytes="$(bytes_of_def "$repart_dir/10-root-a.conf" SizeMaxBytes)"
[ "$(size_of "$slot/root.erofs")" -le "$root_bytes" ] || \
  die "root.erofs ($(size_of "$slot/root.erofs") bytes) does not fit the $root_bytes-byte slot (10-root-a.conf)"

# --- The GPT ------------------------------------------------------------------------------------
defs="$work/repart.d"
mkdir -p "$defs"
cp "$repart_dir"/*.conf "$defs/"
echo "CopyBlocks=$esp" >>"$defs/00-esp.conf"
echo "CopyBlocks=$slot/root.erofs" >>"$defs/10-root-a.conf"
# The partition UUIDs follow from the seed: the same slot gives the same disk.
seed="$(printf '%s %s' "$(basename "$(cd "$slot" && pwd)")" "$version" | sha256sum | cut -c1-32 \
        | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')"
rm -f "$img.tmp"
systemd-repart --empty=create --size=auto --dry-run=no --no-pager --definitions="$defs" \
  --seed="$seed" "$img.tmp" >"$work/repart.log" 2>&1 || { cat "$work/repart.log" >&2; die "systemd-repart failed"; }
mv "$img.tmp" "$img"

# --- bmap, checksum, compressed copy, sizes ------------------------------------------------------
bmaptool -q create -o "$img.bmap" "$img" || die "bmaptool create failed"
rm -f "$img.zst"
nice zstd -q -T2 -6 --sparse -o "$img.zst" "$img" || die "zstd failed"
(cd "$out_dir" && sha256sum "$(basename "$img")" "$(basename "$img").bmap" "$(basename "$img").zst" \
   >"$(basename "$img" .img).sha256")
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }
raw=$(size_of "$img")
used=$(( $(stat -c %b "$img") * $(stat -c %B "$img") ))
zst=$(size_of "$img.zst")
log "$img"
log "  raw $(mib "$raw") (data in it: $(mib "$used")), zstd $(mib "$zst"), root erofs $(mib "$(size_of "$slot/root.erofs")"), UKI $(mib "$(size_of "$work/consult-a.efi")")"
[ "$zst" -le $((1024 * 1048576)) ] || die "the compressed image is over 1 GiB ($(mib "$zst"))"
