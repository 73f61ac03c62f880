#!/usr/bin/env bash
# Builds the .deb from an existing build dir into a temporary directory and checks
# that it carries what the image needs. Usage: check_deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls "$out"/*.deb)
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
pass=0 fail=0
for f in ./usr/bin/consultd ./usr/bin/consultctl ./usr/libexec/consult/consult-compose ./usr/lib/systemd/system/consultd.service \
         ./usr/lib/systemd/system/consult-kiosk.service ./usr/lib/systemd/system/consult-update.service \
         ./usr/lib/systemd/system/consult-update.timer ./usr/lib/sysusers.d/consult.conf \
         ./usr/lib/systemd/system/consult-update-stick.path ./usr/lib/systemd/system/consult-update-stick.service \
         ./usr/lib/tmpfiles.d/consult.conf ./etc/consult/consultd.conf ./usr/share/consult/prometheus/consult-alerts.yml \
         ./usr/libexec/consult/kiosk-session ./usr/share/consult/kiosk/starting.html; do
  if grep -qx -- "$f" <<<"$contents"; then pass=$((pass+1)); else echo "missing from package: $f"; fail=$((fail+1)); fi
done
listing=$(dpkg-deb -c "$deb")
if grep -q '^-rwxr-xr-x .* ./usr/libexec/consult/kiosk-session$' <<<"$listing"; then pass=$((pass+1))
else echo "kiosk-session is not executable"; fail=$((fail+1)); fi
control=$(dpkg-deb -I "$deb")
for field in 'Depends: .*gstreamer1.0-nice' 'Depends: .*libsoup-3.0-0'; do
  if grep -q -- "$field" <<<"$control"; then pass=$((pass+1)); else echo "control lacks: $field"; fail=$((fail+1)); fi
done
if dpkg-deb -e "$deb" "$out/ctl" && [ -x "$out/ctl/postinst" ] && grep -qx /etc/consult/consultd.conf "$out/ctl/conffiles"; then
  pass=$((pass+1)); else echo "postinst or conffiles missing"; fail=$((fail+1)); fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
