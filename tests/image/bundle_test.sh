#!/usr/bin/env bash
# Update bundles (tools/image/build-bundle.sh, verify-bundle.sh) from a small fake slot: the
# bundle a box accepts, and each one it must refuse: signed by another CA, a bad signature, signed by a
# certificate of the right CA that is not for code signing, cut short, a byte changed,
# another hardware family, the plain (unsigned-payload) format, a hostile version name.
# The real slot's bundle is installed in QEMU by the image's update test.
set -u
here="$(cd "$(dirname "$0")/../.." && pwd)"
for tool in rauc mksquashfs openssl objcopy objdump; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (tools/install-deps.sh test)"; exit 77; }
done
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$stub" ] || { echo "SKIP: $stub missing (systemd-boot-efi)"; exit 77; }
. "$(dirname "$0")/check.sh"
refused() {   # refused DESCRIPTION BUNDLE [KEYRING] [REASON]: verify-bundle must refuse it, saying REASON
  local out rc
  out="$("$here/tools/image/verify-bundle.sh" "$2" "${3:-$ours/dev-ca.cert.pem}" 2>&1)"; rc=$?
  if [ "$rc" -ne 0 ] && { [ -z "${4:-}" ] || echo "$out" | grep -qi -- "$4"; }; then echo "ok   $1"
  else echo "FAIL $1: rc=$rc, said: $(echo "$out" | tail -n1)"; failures=$((failures + 1)); fi
}

# A slot as build-image.sh packs it, small.
slot="$work/slot"
mkdir -p "$slot"
cp "$stub" "$slot/linuxx64.efi.stub"
head -c 200000 /dev/urandom >"$slot/vmlinuz"
head -c 100000 /dev/urandom >"$slot/initrd"
head -c 400000 /dev/urandom >"$slot/root.erofs"
echo "2.0.0" >"$slot/version"
ours="$work/keys-ours" theirs="$work/keys-theirs"

# --- The bundle a box accepts ---------------------------------------------------------------
CONSULT_SIGNING_DIR="$ours" "$here/tools/image/build-bundle.sh" "$slot" "$work/out" >"$work/build.log" 2>&1
check "make bundle succeeds"                 "$?" "0"
b="$work/out/consult-appliance-2.0.0.raucb"
info="$("$here/tools/image/verify-bundle.sh" "$b" "$ours/dev-ca.cert.pem" 2>&1)"
check "it verifies against our CA"           "$?" "0"
check "its version"                          "$(echo "$info" | sed -n "s/^RAUC_MF_VERSION=//p")" "'2.0.0'"
check "its family"                           "$(echo "$info" | sed -n "s/^RAUC_MF_COMPATIBLE=//p")" \
  "'$(sed -n 's/^compatible=//p' "$here/image/mkosi.extra/etc/rauc/system.conf")'"
check "one image: the root file system"      "$(echo "$info" | grep -E "^RAUC_IMAGE_(NAME|CLASS)_0=" | tr '\n' ' ')" \
  "RAUC_IMAGE_NAME_0='rootfs.img' RAUC_IMAGE_CLASS_0='rootfs' "
check "the root image's digest is the slot's" "$(echo "$info" | sed -n "s/^RAUC_IMAGE_DIGEST_0=//p")" \
  "'$(sha256sum "$slot/root.erofs" | cut -c1-64)'"
check "a checksum file beside it"            "$(cd "$work/out" && sha256sum -c --quiet consult-appliance-2.0.0.raucb.sha256 && echo ok)" "ok"
printf '[system]\ncompatible=x\nbootloader=noop\n[keyring]\npath=%s\ncheck-purpose=codesign\n' "$ours/dev-ca.cert.pem" >"$work/x.conf"
rauc -c "$work/x.conf" --mount="$work/mnt" extract "$b" "$work/extract" >/dev/null 2>&1
for s in a b; do
  objcopy -O binary --only-section=.cmdline "$work/extract/uki-$s.efi" "$work/cmdline-$s" 2>/dev/null
  check "uki-$s.efi boots root slot $s"        "$(grep -o "root=PARTLABEL=consult-root-[ab] rootfstype=erofs ro rauc.slot=[ab]" "$work/cmdline-$s")" \
    "root=PARTLABEL=consult-root-$s rootfstype=erofs ro rauc.slot=$s"
  objcopy -O binary --only-section=.osrel "$work/extract/uki-$s.efi" "$work/osrel-$s" 2>/dev/null
  check "uki-$s.efi carries no version (systemd-boot orders by name)" \
    "$(grep -cE '^(VERSION|VERSION_ID|IMAGE_VERSION|BUILD_ID)=' "$work/osrel-$s")" "0"
done
check "the development keys are outside the clone" "$(find "$here" -name 'dev-*.pem' | wc -l)" "0"

# --- Bundles a box refuses ---------------------------------------------------------------------
CONSULT_SIGNING_DIR="$theirs" "$here/tools/image/build-bundle.sh" "$slot" "$work/theirs" >/dev/null 2>&1
refused "signed by another CA"                "$work/theirs/consult-appliance-2.0.0.raucb" "" "signature"

# A certificate from our own CA, but for e-mail, not code signing.
(cd "$work" && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mail" \
   -keyout mail.key -out mail.csr 2>/dev/null &&
 printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n' >mail.ext &&
 openssl x509 -req -in mail.csr -CA "$ours/dev-ca.cert.pem" -CAkey "$ours/dev-ca.key.pem" -CAcreateserial \
   -days 30 -extfile mail.ext -out mail.cert 2>/dev/null)
CONSULT_BUNDLE_CERT="$work/mail.cert" CONSULT_BUNDLE_KEY="$work/mail.key" CONSULT_BUNDLE_KEYRING="$ours/dev-ca.cert.pem" \
  "$here/tools/image/build-bundle.sh" "$slot" "$work/mail" >"$work/mail.log" 2>&1
check "make bundle will not sign with a non-code-signing certificate" "$?" "1"
mkdir -p "$work/mailb"
cp -r "$work/extract" "$work/mailb/content"
rauc bundle --cert="$work/mail.cert" --key="$work/mail.key" --mksquashfs-args="-noI -noD -noF -noX" \
  "$work/mailb/content" "$work/mailb/mail.raucb" >/dev/null 2>&1
refused "signed by our CA for e-mail, not code" "$work/mailb/mail.raucb" "" "purpose"

head -c $(( $(stat -c %s "$b") - 4096 )) "$b" >"$work/short.raucb"
refused "cut short (a broken download)"       "$work/short.raucb"

cp "$b" "$work/flipped.raucb"
# The byte at 1000, complemented: always a change, whatever it was.
printf "\\$(printf '%03o' $(( 255 - $(od -An -tu1 -j1000 -N1 "$b") )))" \
  | dd of="$work/flipped.raucb" bs=1 seek=1000 conv=notrunc status=none
check "a changed byte fails the checksum"     "$(cd "$work" && sha256sum "flipped.raucb" | cut -c1-64 | grep -c "$(cut -c1-64 "$b.sha256")")" "0"
# The signature covers the manifest and the verity root hash; the block that changed is
# refused by dm-verity when the box reads it. The updater checks the release's SHA-256 first.

# A bad signature: a verity bundle ends with its CMS signature and the signature's size
# (8 bytes, big-endian); the signature value itself is the CMS's last bytes. One of them,
# complemented, leaves a well-formed CMS whose signature no longer matches.
cp "$b" "$work/badsig.raucb"
badsig_at=$(( $(stat -c %s "$b") - 8 - 16 ))
printf "\\$(printf '%03o' $(( 255 - $(od -An -tu1 -j$badsig_at -N1 "$b") )))" \
  | dd of="$work/badsig.raucb" bs=1 seek=$badsig_at conv=notrunc status=none
refused "a bad signature (a byte of the signature value changed)" "$work/badsig.raucb" "" "signature"

sed -i 's/^compatible=.*/compatible=another-family/' "$work/extract/manifest.raucm"
mkdir -p "$work/other"
rauc bundle --cert="$ours/dev-signer.cert.pem" --key="$ours/dev-signer.key.pem" \
  --mksquashfs-args="-noI -noD -noF -noX" "$work/extract" "$work/other/other.raucb" >/dev/null 2>&1
refused "made for another hardware family"    "$work/other/other.raucb" "" "compatible"

sed -i -e 's/^compatible=.*/compatible=consult-appliance-x86_64/' -e 's/^format=verity/format=plain/' "$work/extract/manifest.raucm"
rauc bundle --cert="$ours/dev-signer.cert.pem" --key="$ours/dev-signer.key.pem" \
  "$work/extract" "$work/other/plain.raucb" >/dev/null 2>&1
refused "the plain format"                    "$work/other/plain.raucb" "" "format"

CONSULT_SIGNING_DIR="$ours" CONSULT_BUNDLE_VERSION='2.0;reboot' "$here/tools/image/build-bundle.sh" "$slot" "$work/v" >/dev/null 2>&1
check "a hostile version name is refused"     "$? $(ls "$work/v" 2>/dev/null | grep -c raucb)" "1 0"
CONSULT_SIGNING_DIR="$here/build/keys" "$here/tools/image/build-bundle.sh" "$slot" "$work/v" >/dev/null 2>&1
check "keys inside the clone are refused"     "$?" "1"

echo "$failures failed"
[ "$failures" -eq 0 ]
