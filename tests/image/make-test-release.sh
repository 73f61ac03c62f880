#!/usr/bin/env bash
# Makes a release of the image for the update test from the image's own slot: the same
# kernel, initrd and root, with another IMAGE_VERSION in os-release, and for a "broken"
# release a consultd that migrates the store with a migration of its own and then fails
# its boot check (drop-ins in the root). Then its signed bundle
# (tools/image/build-bundle.sh, the development keys).
#
#   tests/image/make-test-release.sh SLOT_DIR VERSION ok|broken OUT_DIR
#
# Cached under $CONSULT_IMAGE_CACHE/test-releases by the slot and the arguments: the
# update test builds its releases once per image.
set -euo pipefail
die() { echo "make-test-release: $*" >&2; exit 1; }
[ $# -eq 4 ] || die "usage: $0 SLOT_DIR VERSION ok|broken OUT_DIR"
slot="$(cd "$1" && pwd)" version="$2" kind="$3" out_dir="$4"
here="$(cd "$(dirname "$0")/../.." && pwd)"
case "$kind" in ok|broken) ;; *) die "the kind is ok or broken (got '$kind')";; esac
printf '%s' "$version" | grep -Eq '^[0-9A-Za-z.+~-]{1,64}$' || die "unsafe version '$version'"
cache="${CONSULT_IMAGE_CACHE:-/var/cache/consult-image}/test-releases"
key="$(printf '%s %s %s' "$(basename "$slot")" "$version" "$kind" | cat - "$0" "$here/tools/image/build-bundle.sh" \
       "$here/tools/image/slot-uki.sh" | sha256sum | cut -c1-16)"
bundle="consult-appliance-$version.raucb"
mkdir -p "$out_dir"
if [ ! -s "$cache/$key/$bundle" ]; then
  work="$cache/work-$key"
  rm -rf "$work"; mkdir -p "$work/slot"
  for f in vmlinuz initrd linuxx64.efi.stub systemd-bootx64.efi; do ln -f "$slot/$f" "$work/slot/$f" 2>/dev/null || cp "$slot/$f" "$work/slot/$f"; done
  echo "$version" >"$work/slot/version"
  fsck.erofs --extract="$work/root" --preserve "$slot/root.erofs" >"$work/extract.log" 2>&1 \
    || { tail -n 20 "$work/extract.log" >&2; die "fsck.erofs could not extract the root"; }
  sed -i "s/^IMAGE_VERSION=.*/IMAGE_VERSION=$version/" "$work/root/usr/lib/os-release"
  if [ "$kind" = broken ]; then
    # A release whose consultd migrates the store (a migration of its own:
    # CONSULT_TEST_NEXT_SCHEMA) and answers with a schema its slot does not expect, so its
    # boot check fails (after 100 s here, not 300: a shorter test) while consultd serves
    # the API meanwhile; the box goes back to a consultd that does not know the new schema
    # and must keep what was written in between.
    mkdir -p "$work/root/etc/systemd/system/consultd.service.d" "$work/root/etc/systemd/system/consult-boot-check.service.d"
    printf '[Service]\nEnvironment=CONSULT_TEST_NEXT_SCHEMA=1\n' \
      >"$work/root/etc/systemd/system/consultd.service.d/broken.conf"
    printf '[Service]\nExecStart=\nExecStart=/usr/bin/consultctl boot-check --timeout 100\n' \
      >"$work/root/etc/systemd/system/consult-boot-check.service.d/broken.conf"
  fi
  nice mkfs.erofs -zlz4 "$work/slot/root.erofs" "$work/root" >"$work/erofs.log" 2>&1 \
    || { tail -n 20 "$work/erofs.log" >&2; die "mkfs.erofs failed"; }
  rm -rf "$work/root"
  "$here/tools/image/build-bundle.sh" "$work/slot" "$work/out" >&2
  mkdir -p "$cache/$key"
  mv "$work/out/$bundle" "$cache/$key/$bundle"
  rm -rf "$work"
  ls -1dt "$cache"/*/ | tail -n +5 | xargs -r rm -rf
fi
cp "$cache/$key/$bundle" "$out_dir/$bundle"
echo "$out_dir/$bundle"
