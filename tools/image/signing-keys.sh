#!/usr/bin/env bash
# The keys that sign update bundles (make bundle) and the keyring an image trusts
# (/etc/rauc/keyring.pem). Prints three lines: CERT KEY KEYRING (paths).
#
#   tools/image/signing-keys.sh
#
# Production: CONSULT_BUNDLE_CERT, CONSULT_BUNDLE_KEY and CONSULT_BUNDLE_KEYRING name the
# release signer's certificate, its key (a file or a PKCS#11 URL) and the CA certificate(s)
# boxes trust; all three or none.
# Development (none given): a CA and a signing certificate it issued are made once in
# $CONSULT_SIGNING_DIR (default /var/lib/consult-build/signing), outside any clone, never
# committed. Images built here trust that CA only: a bundle signed anywhere else is refused.
set -euo pipefail

die() { echo "signing-keys: $*" >&2; exit 1; }
here="$(cd "$(dirname "$0")/../.." && pwd)"

cert="${CONSULT_BUNDLE_CERT:-}" key="${CONSULT_BUNDLE_KEY:-}" keyring="${CONSULT_BUNDLE_KEYRING:-}"
if [ -n "$cert$key$keyring" ]; then
  [ -n "$cert" ] && [ -n "$key" ] && [ -n "$keyring" ] || \
    die "CONSULT_BUNDLE_CERT, CONSULT_BUNDLE_KEY and CONSULT_BUNDLE_KEYRING go together"
  [ -s "$cert" ] || die "no certificate at $cert"
  [ -s "$keyring" ] || die "no keyring at $keyring"
  case "$key" in pkcs11:*) ;; *) [ -s "$key" ] || die "no key at $key";; esac
  printf '%s\n' "$cert" "$key" "$keyring"
  exit 0
fi

dir="${CONSULT_SIGNING_DIR:-/var/lib/consult-build/signing}"
case "$dir/" in "$here"/*) die "CONSULT_SIGNING_DIR must be outside the clone ($dir)";; esac
if [ ! -s "$dir/dev-ca.cert.pem" ] || [ ! -s "$dir/dev-signer.cert.pem" ] || [ ! -s "$dir/dev-signer.key.pem" ]; then
  command -v openssl >/dev/null || die "openssl is missing: run tools/install-deps.sh image"
  echo "signing-keys: making a development CA and bundle signer in $dir (never for a clinic)" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (umask 077
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
     -subj "/O=Consult Room Appliance development/CN=development release CA" \
     -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
     -keyout "$work/dev-ca.key.pem" -out "$work/dev-ca.cert.pem" 2>/dev/null
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
     -subj "/O=Consult Room Appliance development/CN=development bundle signer" \
     -keyout "$work/dev-signer.key.pem" -out "$work/dev-signer.csr" 2>/dev/null
   printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$work/ext"
   openssl x509 -req -in "$work/dev-signer.csr" -CA "$work/dev-ca.cert.pem" -CAkey "$work/dev-ca.key.pem" \
     -CAcreateserial -days 3650 -extfile "$work/ext" -out "$work/dev-signer.cert.pem" 2>/dev/null
  ) || die "openssl could not make the development keys"
  mkdir -p "$dir"; chmod 0700 "$dir"
  for f in dev-ca.key.pem dev-ca.cert.pem dev-signer.key.pem dev-signer.cert.pem; do
    install -m 0600 "$work/$f" "$dir/$f"
  done
fi
printf '%s\n' "$dir/dev-signer.cert.pem" "$dir/dev-signer.key.pem" "$dir/dev-ca.cert.pem"
