#!/usr/bin/env bash
# Installs the Debian 12 packages the appliance needs to build, run and test.
# Idempotent: silent when everything is present. Usage: install-deps.sh [build|test|image]
# (test includes image: `make test` builds the appliance image and boots it in QEMU).
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config ninja-build dpkg-dev file
  libglib2.0-dev libsoup-3.0-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev
  libsystemd-dev nlohmann-json3-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-x gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-tools gstreamer1.0-vaapi
  libopenh264-7 systemd curl glib-networking ccache
)
test_pkgs=(
  postgresql python3
  libgtest-dev libgmock-dev iproute2 wrk sqlite3 procps openssl chromium firefox-esr fonts-dejavu-core
  clang-14 libclang-rt-14-dev
  prometheus
  wpasupplicant   # the Wi-Fi test reads the image's wpa_supplicant configuration with it
)
# The appliance disk image (`make image`, image/) and its QEMU boot test (tests/image/):
# mkosi 14 builds the root tree with debootstrap/apt; the disk is assembled by hand
# (erofs root, FAT ESP through mtools, GPT through systemd-repart); QEMU TCG with OVMF
# and a swtpm TPM2 boots it; cryptsetup reads the encrypted data partition from the host;
# ssh logs in with the key the test provisions; rauc (with mksquashfs) and openssl make
# and check the signed update bundles (make bundle); hostapd is the access point the box
# joins in the boot test (copied into the box for the test only; the image has none).
image_pkgs=(
  mkosi debootstrap debian-archive-keyring systemd-container
  erofs-utils dosfstools mtools fdisk e2fsprogs binutils systemd-boot-efi
  bmap-tools zstd xz-utils
  qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools curl cryptsetup-bin openssh-client
  rauc squashfs-tools openssl
  hostapd   # the boot test's Wi-Fi access point, run inside the box on a second simulated radio
)

case "${1:-build}" in
  build|test|image) ;;
  *) echo "install-deps: unknown set '$1' (build, test or image)" >&2; exit 64 ;;
esac
want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}" "${image_pkgs[@]}")
[ "${1:-build}" = image ] && want+=("${image_pkgs[@]}")
# The browser tests need Node.js with npm; Debian's packages when none is there.
[ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1 && want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
here="$(cd "$(dirname "$0")/.." && pwd)"
# The browser tests' npm packages (playwright-core, puppeteer-core, axe-core), exactly as locked.
browser_modules() {
  [ "${1:-build}" = test ] || return 0
  local dir="$here/tests/browser"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in tests/browser" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
      echo "install-deps: npm ci failed in tests/browser (is the npm registry reachable?)" >&2; exit 1; }
  fi
}
if [ ${#missing[@]} -eq 0 ]; then browser_modules "${1:-build}"; exit 0; fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: these Debian packages are missing and I am not root: ${missing[*]}" >&2
    echo "install-deps: run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq >/dev/null || \
   ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "install-deps: apt-get could not install: ${missing[*]} (is a Debian mirror reachable?)" >&2
  exit 1
fi
browser_modules "${1:-build}"
