#!/usr/bin/env bash
# Builds the signed update bundle of a packed slot (build-image.sh stage 2):
#
#   tools/image/build-bundle.sh SLOT_DIR OUT_DIR
#
# writes OUT_DIR/consult-appliance-<version>.raucb: a RAUC bundle in the verity format
# holding the root file system (rootfs.img, written raw into the other root slot) and one
# UKI per slot (uki-a.efi, uki-b.efi: rauc-post-install puts the target slot's on the ESP),
# signed with tools/image/signing-keys.sh's certificate (development keys unless
# CONSULT_BUNDLE_CERT/KEY/KEYRING name the release signer's). compatible= is the image's
# own (/etc/rauc/system.conf): a box of another family refuses the bundle.
# CONSULT_BUNDLE_VERSION overrides the version in the manifest and the file name (tests).
set -euo pipefail

die() { echo "build-bundle: $*" >&2; exit 1; }
log() { echo "build-bundle: $*" >&2; }
[ $# -eq 2 ] || die "usage: $0 SLOT_DIR OUT_DIR"
slot="$1" out_dir="$2"
here="$(cd "$(dirname "$0")/../.." && pwd)"
for f in vmlinuz initrd linuxx64.efi.stub root.erofs version; do
  [ -s "$slot/$f" ] || die "$slot/$f is missing: rebuild the slot (make image)"
done
command -v rauc >/dev/null && command -v mksquashfs >/dev/null || die "rauc and mksquashfs are needed: tools/install-deps.sh image"
version="${CONSULT_BUNDLE_VERSION:-$(cat "$slot/version")}"
printf '%s' "$version" | grep -Eq '^[0-9A-Za-z.+~-]{1,64}$' || die "the version '$version' is not a safe name"
compatible="$(sed -n 's/^compatible=//p' "$here/image/mkosi.extra/etc/rauc/system.conf")"
[ -n "$compatible" ] || die "no compatible= in image/mkosi.extra/etc/rauc/system.conf"
mapfile -t keys < <("$here/tools/image/signing-keys.sh")
[ "${#keys[@]}" -eq 3 ] || die "no signing keys"

mkdir -p "$out_dir"
work="$(mktemp -d "$out_dir/.bundle.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
# The root image keeps its own erofs compression; the bundle's squashfs stores it as it is.
ln "$slot/root.erofs" "$work/content/rootfs.img" 2>/dev/null || cp "$slot/root.erofs" "$work/content/rootfs.img"
for s in a b; do "$here/tools/image/slot-uki.sh" "$slot" "$s" "$work/content/uki-$s.efi"; done
cat >"$work/content/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version
description=Consult Room Appliance $version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.img
MANIFEST
out="$out_dir/consult-appliance-$version.raucb"
rm -f "$out"
rauc bundle --cert="${keys[0]}" --key="${keys[1]}" \
  --mksquashfs-args="-noI -noD -noF -noX" "$work/content" "$out" >"$work/rauc.log" 2>&1 \
  || { cat "$work/rauc.log" >&2; rm -f "$out"; die "rauc bundle failed"; }
# Checked as a box checks it: the keyring, code signing as the purpose (system.conf).
if ! "$here/tools/image/verify-bundle.sh" "$out" "${keys[2]}" >"$work/verify.log" 2>&1; then
  cat "$work/verify.log" >&2; rm -f "$out"; die "the new bundle does not verify against ${keys[2]}"
fi
sha256sum "$out" | sed "s|  .*/|  |" >"$out.sha256"
log "$out ($(( $(stat -c %s "$out") / 1048576 )) MiB, compatible $compatible, version $version)"
