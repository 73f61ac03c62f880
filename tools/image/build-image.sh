#!/usr/bin/env bash
# Builds the appliance disk image from the project's .deb.
#
#   tools/image/build-image.sh DEB_DIR OUT_DIR
#
# DEB_DIR holds consult-room_<version>_amd64.deb (cpack's output); OUT_DIR receives
# consult-appliance-<version>.img, .img.bmap, .img.zst and .sha256.
#
# Three stages, each cached outside the clone in $CONSULT_IMAGE_CACHE
# (default /var/cache/consult-image), keyed by a hash of what goes into it:
#   1. base tree   mkosi 14 (image/mkosi.conf, mkosi.extra, mkosi.postinst) plus the
#                  .deb's dependencies; apt's downloads stay in mkosi/ for the next build
#   2. slot A      the base tree + the .deb (dpkg in systemd-nspawn), units enabled,
#                  packed: erofs root (with /var's factory contents in
#                  /usr/share/factory/var: the data partition ships empty and is made
#                  LUKS2 on first boot), kernel and initrd
#   3. the disk    ESP (systemd-boot + one UKI per slot) and GPT by systemd-repart:
#                  always redone, it takes seconds
# Needs root (mkosi, nspawn). Packages: tools/install-deps.sh image.
#
# CONSULT_IMAGE_INSECURE_NO_TPM=1 makes a development image that boots without a TPM2:
# its data partition is still LUKS2, but keyed with a file in the read-only root
# (/usr/lib/consult/insecure-data.key), so it protects nothing. It is named
# consult-appliance-<version>-insecure-no-tpm.img and says so on every first boot.
#
# CONSULT_CLOUD_URL (https) and CONSULT_CLOUD_ANON_KEY name one clinic's cloud project in
# the image (/etc/consult/consultd.conf.d/50-clinic-cloud.conf): a box flashed with it and
# given no provisioning file pairs on its setup screen by a code from clinic IT. The anon
# key is public by Supabase's design; no secret goes into an image.
set -euo pipefail

die() { echo "build-image: $*" >&2; exit 1; }
log() { echo "build-image: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ $# -eq 2 ] || die "usage: $0 DEB_DIR OUT_DIR"
[ "$(id -u)" -eq 0 ] || die "needs root (mkosi and systemd-nspawn build the tree)"
here="$(cd "$(dirname "$0")/../.." && pwd)"
image_dir="$here/image"
deb_dir="$(cd "$1" && pwd)" || die "no such directory: $1"
out_dir="$2"
cache="${CONSULT_IMAGE_CACHE:-/var/cache/consult-image}"
case "$cache/" in "$here"/*) die "CONSULT_IMAGE_CACHE must be outside the clone ($cache)";; esac

for tool in mkosi systemd-nspawn unshare mkfs.erofs mkfs.ext4 mkfs.vfat mmd mcopy objcopy \
            systemd-repart bmaptool zstd sha256sum dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool is missing: run tools/install-deps.sh image"
done

deb="$(ls -t "$deb_dir"/consult-room_*_amd64.deb 2>/dev/null | head -n1 || true)"
[ -n "$deb" ] || die "no consult-room_*_amd64.deb in $deb_dir (cpack -G DEB makes it)"
version="$(dpkg-deb -f "$deb" Version)"
insecure="${CONSULT_IMAGE_INSECURE_NO_TPM:-0}"
case "$insecure" in
  0|"") insecure=0 variant="" ;;
  1) insecure=1 variant="-insecure-no-tpm"
     log "CONSULT_IMAGE_INSECURE_NO_TPM=1: a DEVELOPMENT image whose data partition is not protected (no TPM2 needed)" ;;
  *) die "CONSULT_IMAGE_INSECURE_NO_TPM must be 0 or 1 (got '$insecure')" ;;
esac
cloud_url="${CONSULT_CLOUD_URL:-}" cloud_key="${CONSULT_CLOUD_ANON_KEY:-}"
if [ -n "$cloud_url$cloud_key" ]; then
  [ -n "$cloud_url" ] && [ -n "$cloud_key" ] || die "CONSULT_CLOUD_URL and CONSULT_CLOUD_ANON_KEY go together"
  printf '%s' "$cloud_url" | grep -Eq '^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$' \
    || die "CONSULT_CLOUD_URL must be an https URL with no query (got '$cloud_url')"
  printf '%s' "$cloud_key" | grep -Eq '^[!-~]{1,4096}$' \
    || die "CONSULT_CLOUD_ANON_KEY must be printable with no spaces, at most 4096 characters"
  log "the clinic cloud project $cloud_url is in the image: boxes pair by code on their setup screen"
fi
log "package $(basename "$deb"), image version $version$variant"
# The CA whose bundles the image installs (tools/image/signing-keys.sh: development keys
# outside the clone unless CONSULT_BUNDLE_* name the release signer's).
mapfile -t signing < <("$here/tools/image/signing-keys.sh")
[ "${#signing[@]}" -eq 3 ] || die "no bundle signing keyring"
keyring="${signing[2]}"

t_start=$(now)
mkdir -p "$cache/mkosi" "$cache/base" "$cache/slot" "$cache/work" "$out_dir"
# A build interrupted half-way leaves its work directory; it is never reused.
rm -rf "${cache:?}/work/"*

# Runs a command in a private mount namespace with a tmpfs on /run/systemd/nspawn,
# where systemd-nspawn keeps its per-container state (the host may have no systemd).
in_private_mounts() {
  mkdir -p /run/systemd/nspawn
  unshare --mount --propagation private -- sh -c \
    'mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn && exec "$@"' in_private_mounts "$@"
}

# Runs a command inside a tree, without network, and leaving the tree's /etc/localtime
# (a link into /var: mkosi.postinst) and resolv.conf as they are: nspawn's default would
# point them at the build host's.
in_tree() {
  local tree="$1"; shift
  in_private_mounts systemd-nspawn --quiet --directory="$tree" --as-pid2 --register=no --keep-unit \
    --private-network --link-journal=no --timezone=off --resolv-conf=off --setenv=SYSTEMD_OFFLINE=1 "$@"
}

# The .deb's run-time dependencies, by name (versions and alternatives after the first
# dropped): they go into the base tree, so installing a new .deb needs no network.
deb_depends() {
  dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' \
    | grep -v '^$' | sort -u
}
mapfile -t depends < <(deb_depends)

# --- 1. The base tree ---------------------------------------------------------------------
base_key="$(
  { echo "base-v1"; cat "$image_dir/mkosi.conf" "$image_dir/mkosi.postinst"
    (cd "$image_dir/mkosi.extra" && find . -print0 | LC_ALL=C sort -z \
       | xargs -0 stat -c '%n %a %s' && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    printf '%s\n' "${depends[@]}"
  } | sha256sum | cut -c1-16)"
base="$cache/base/$base_key/root"
timings=()   # stage and seconds (or "cached"), for tests/bench/image_bench.sh
if [ -d "$base" ]; then
  log "base tree $base_key: cached"
  timings+=("base cached")
else
  log "base tree $base_key: building with mkosi (cold cache: ~15 min; log in $cache/base/$base_key.log)"
  t=$(now)
  work="$cache/work/base-$base_key"
  mkdir -p "$work"
  pkg_args=()
  for p in "${depends[@]}"; do pkg_args+=(--package "$p"); done
  if ! (cd "$image_dir" && in_private_mounts mkosi --force --cache "$cache/mkosi" \
          --workspace-dir "$work" --output "$work/root" "${pkg_args[@]}" build) \
          >"$cache/base/$base_key.log" 2>&1; then
    tail -n 40 "$cache/base/$base_key.log" >&2
    die "mkosi failed (full log: $cache/base/$base_key.log)"
  fi
  mkdir -p "$cache/base/$base_key"
  mv "$work/root" "$base"
  log "base tree built in $(since "$t") s"
  timings+=("base $(since "$t") s")
  # Keep the two newest base trees (the previous one helps when switching branches).
  ls -1dt "$cache/base"/*/ | tail -n +3 | xargs -r rm -rf
fi

# --- 2. Slot A: the base tree + the .deb, packed ------------------------------------------------
# The key uses the .deb's control file and file checksums, not the .deb itself: cpack
# writes a new archive (new time stamps) on every run even when nothing changed.
deb_key="$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./control ./md5sums | sha256sum | cut -c1-16)"
slot_key="$(cat "$0" "$keyring" <(echo "$base_key $deb_key insecure=$insecure cloud=$cloud_url $cloud_key") | sha256sum | cut -c1-16)"
slot="$cache/slot/$slot_key"
if [ -f "$slot/done" ]; then
  log "slot A $slot_key: cached"
  timings+=("slot cached")
else
  log "slot A $slot_key: installing the .deb and packing the file systems"
  t=$(now)
  work="$cache/work/slot-$slot_key"
  tree="$work/root"
  mkdir -p "$work"
  cp -a "$base" "$tree"
  in_tree "$tree" --bind-ro="$deb:/run/consult-room.deb" dpkg --install /run/consult-room.deb \
    >"$work/dpkg.log" 2>&1 || {
    cat "$work/dpkg.log" >&2; die "dpkg could not install $(basename "$deb") into the base tree"; }
  # The image enables these units (the .deb's postinst enables consultd only on a running
  # system, never the kiosk, since a workstation must keep its tty1, and never the updater,
  # which only an image with RAUC's slots can use).
  in_tree "$tree" systemctl enable consultd.service consult-kiosk.service consult-update.timer consult-update-stick.path >/dev/null 2>&1
  # What is in the image, for clinic IT and for the update's changelog.
  mkdir -p "$tree/usr/share/consult"
  in_tree "$tree" dpkg-query -W -f '${Package} ${Version}\n' >"$tree/usr/share/consult/image-packages.txt"
  {
    echo "IMAGE_ID=consult-appliance"
    echo "IMAGE_VERSION=$version"
  } >>"$tree/usr/lib/os-release"
  # Updates: RAUC installs only bundles signed under this CA (image/README.md, "Updates").
  install -D -m 0644 "$keyring" "$tree/etc/rauc/keyring.pem"
  # No machine ID in the image, and not "uninitialized" either (mkosi's choice): on a
  # read-only /etc that would make every boot a first boot. Empty: systemd makes a
  # transient one per boot (image/README.md, "Not done yet").
  : >"$tree/etc/machine-id"
  if [ -n "$cloud_url" ]; then
    mkdir -p "$tree/etc/consult/consultd.conf.d"
    printf '%s\n' "# Written by build-image.sh: this clinic's cloud project, so that a box with no" \
      "# provisioning file pairs on its setup screen by a code from clinic IT." \
      "[cloud]" "url=$cloud_url" "anon_key=$cloud_key" >"$tree/etc/consult/consultd.conf.d/50-clinic-cloud.conf"
  fi
  if [ "$insecure" = 1 ]; then
    # The opt-out (image/README.md): a flag for consult-data-setup, a key file instead of
    # the TPM2 in /etc/crypttab, and the variant in os-release.
    mkdir -p "$tree/usr/lib/consult"
    echo "built with CONSULT_IMAGE_INSECURE_NO_TPM=1: the data partition is not protected" \
      >"$tree/usr/lib/consult/insecure-no-tpm"
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tree/usr/lib/consult/insecure-data.key")
    sed -i 's|^consult-data .*|consult-data  /dev/disk/by-partlabel/consult-data  /usr/lib/consult/insecure-data.key  luks|' \
      "$tree/etc/crypttab"
    echo "IMAGE_VARIANT=insecure-no-tpm" >>"$tree/usr/lib/os-release"
  fi
  # Boot files go to the ESP (inside the UKIs), not into the root file system.
  kernel="$(ls "$tree"/boot/vmlinuz-* | sort -V | tail -n1)"
  [ -f "$tree/boot/consult-initrd.img" ] || die "the base tree has no initrd (mkosi.postinst)"
  mkdir -p "$work/out"
  cp "$kernel" "$work/out/vmlinuz"
  cp "$tree/boot/consult-initrd.img" "$work/out/initrd"
  cp "$tree/usr/lib/systemd/boot/efi/linuxx64.efi.stub" "$tree/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$work/out/"
  rm -rf "${tree:?}"/boot/* "$tree"/var/cache/apt/* "$tree"/var/lib/apt/lists/* "$tree"/var/log/* \
         "$tree"/var/cache/debconf/*-old "$tree"/var/lib/dpkg/*-old "$tree"/tmp/* "$tree"/var/tmp/*
  # /var is the data partition, which the image ships empty: first boot makes it LUKS2
  # and copies these factory contents in (consult-data-setup). / is the read-only erofs.
  mkdir -p "$tree/usr/share/factory"
  rm -rf "$tree/usr/share/factory/var"
  mv "$tree/var" "$tree/usr/share/factory/var"
  install -d -m 0755 "$tree/var"
  # The ESP's mount point (etc/fstab): the provisioning file is /efi/consult-provision.conf.
  install -d -m 0700 "$tree/efi"
  nice mkfs.erofs -zlz4hc "$work/out/root.erofs" "$tree" >"$work/erofs.log" 2>&1 \
    || { cat "$work/erofs.log" >&2; die "mkfs.erofs failed"; }
  echo "$version" >"$work/out/version"
  rm -rf "$tree"
  rm -rf "$slot"; mv "$work/out" "$slot"; touch "$slot/done"
  log "slot A built in $(since "$t") s"
  timings+=("slot $(since "$t") s")
  ls -1dt "$cache/slot"/*/ | tail -n +3 | xargs -r rm -rf
fi

# --- 3. The disk ----------------------------------------------------------------------------
t=$(now)
"$here/tools/image/assemble-disk.sh" "$slot" "$image_dir/mkosi.extra/usr/lib/repart.d" \
  "$out_dir/consult-appliance-$version$variant.img"
# Where this image's slot is, for make bundle (tools/image/build-bundle.sh).
echo "$slot" >"$out_dir/slot-dir"
timings+=("disk $(since "$t") s" "total $(since "$t_start") s")
printf '%s\n' "${timings[@]}" >"$out_dir/build-timings.txt"
log "image ready in $(since "$t_start") s"
