#!/usr/bin/env bash
# screen_check.py, which the boot test uses to say whether the kiosk's sign-in screen (or
# its first-start setup screen) is on the box's display, against screens of the kiosk
# (fixtures/: QEMU screendumps of the booted image, the sign-in under cage and Xwayland
# and the all-white screen Chromium left on a Wayland surface under cage's pixman
# renderer; the setup screen as Chromium renders it at the box's 1280x800) and drawn
# screens it must refuse.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
expect() {   # expect RC NAME DUMP [signin|setup]
  local rc=0 out
  out="$(python3 "$here/screen_check.py" "$3" "$work/out.png" "${4:-signin}" 2>&1)" || rc=$?
  if [ "$rc" = "$1" ]; then echo "ok   $2: $out"; else echo "FAIL $2: exit $rc, want $1: $out"; failures=$((failures + 1)); fi
}
gunzip -c "$here/fixtures/kiosk-sign-in-qemu.ppm.gz" >"$work/sign-in.ppm"
gunzip -c "$here/fixtures/white-qemu.ppm.gz" >"$work/white.ppm"
expect 0 "the kiosk's sign-in screen in QEMU" "$work/sign-in.ppm"
expect 1 "the white screen of an unpainted Chromium window" "$work/white.ppm"
gunzip -c "$here/fixtures/kiosk-setup-chromium.ppm.gz" >"$work/setup.ppm"
expect 0 "the kiosk's setup screen" "$work/setup.ppm" setup
expect 1 "the setup screen is not the sign-in" "$work/setup.ppm" signin
expect 1 "the sign-in is not the setup screen" "$work/sign-in.ppm" setup
expect 1 "the white screen is not the setup screen" "$work/white.ppm" setup

# Drawn screens, 320x200: (r,g,b) fills of boxes given in fractions of the screen.
draw() {   # draw FILE BOX... where BOX is x0,x1,y0,y1,r,g,b over a black screen
  python3 - "$@" <<'PY'
import sys
w, h = 320, 200
px = bytearray(w * h * 3)
for box in sys.argv[2:]:
    x0, x1, y0, y1, r, g, b = (float(v) for v in box.split(","))
    for y in range(int(h * y0), int(h * y1)):
        for x in range(int(w * x0), int(w * x1)):
            px[(y * w + x) * 3:(y * w + x) * 3 + 3] = bytes((int(r), int(g), int(b)))
open(sys.argv[1], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + bytes(px))
PY
}
bar=0,1,0,0.09,17,24,39 title=0.40,0.60,0.12,0.16,255,255,255 about=0.03,0.18,0.92,0.95,220,220,220
draw "$work/drawn.ppm" "$bar" "$title" "$about"
expect 0 "a drawn sign-in screen" "$work/drawn.ppm"
draw "$work/black.ppm"
expect 1 "a black screen" "$work/black.ppm"
draw "$work/console.ppm" 0,0.6,0,0.02,170,170,170 0,0.4,0.03,0.05,170,170,170 0,0.5,0.06,0.08,170,170,170
expect 1 "a text console" "$work/console.ppm"
draw "$work/no-title.ppm" "$bar" "$about"
expect 1 "the top bar without the sign-in title" "$work/no-title.ppm"
draw "$work/grey.ppm" "$bar" "$title" "$about" 0,1,0.2,0.85,60,60,60
expect 1 "the top bar over a page that is not black" "$work/grey.ppm"
head -c 100 "$work/sign-in.ppm" >"$work/cut.ppm"
expect 1 "a dump cut short" "$work/cut.ppm"
[ "$failures" = 0 ] || { echo "screen_check_test: $failures failed"; exit 1; }
echo "screen_check_test: all passed"
