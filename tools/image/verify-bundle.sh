#!/usr/bin/env bash
# Checks a bundle as a box would before installing it: signature against a keyring with
# code signing as the certificate purpose, the verity format only (bundle-formats=), and the
# image's compatible=.
# Prints `rauc info`'s shell-style description; exits non-zero with RAUC's reason if not.
#
#   tools/image/verify-bundle.sh BUNDLE.raucb KEYRING.pem
set -euo pipefail
die() { echo "verify-bundle: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 BUNDLE.raucb KEYRING.pem"
here="$(cd "$(dirname "$0")/../.." && pwd)"
system_conf="$here/image/mkosi.extra/etc/rauc/system.conf"
compatible="$(sed -n 's/^compatible=//p' "$system_conf")"
purpose="$(sed -n 's/^check-purpose=//p' "$system_conf")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '[system]\ncompatible=%s\nbootloader=noop\nbundle-formats=verity\n[keyring]\npath=%s\ncheck-purpose=%s\n' \
  "$compatible" "$(realpath "$2")" "$purpose" >"$work/system.conf"
rauc -c "$work/system.conf" --mount="$work/mnt" info --output-format=shell "$1" >"$work/info" 2>"$work/err" \
  || die "refused: $(grep -v '^rauc-Message' "$work/err" | tail -n1)"
grep -qx "RAUC_MF_COMPATIBLE='$compatible'" "$work/info" || \
  die "refused: compatible $(sed -n 's/^RAUC_MF_COMPATIBLE=//p' "$work/info") is not this family's '$compatible'"
cat "$work/info"
