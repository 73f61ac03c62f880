#!/usr/bin/env bash
# Runs a browser test file, and once more if it fails. End-to-end runs of Chromium, a
# real consultd and WebRTC on a shared 2-core machine fail now and then for reasons of
# load alone; a second failure in a row fails the test. The first attempt's output
# (with consultd's last log lines) stays above the second in CTest's log
# (Testing/Temporary/LastTest.log), so a flake is still seen and can be chased.
set -uo pipefail
"$@"
first=$?
[ "$first" -eq 0 ] && exit 0
echo "=== retry_once: the first attempt failed (exit $first), its output is above; running it once more ==="
"$@"
