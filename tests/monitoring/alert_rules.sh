#!/usr/bin/env bash
# The fleet's alert rules (monitoring/): valid for Prometheus, each alert proven by
# promtool's unit tests, and every consult_* metric they read is one the appliance exports.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
rules="$here/monitoring/consult-alerts.yml"
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool is missing (Debian's prometheus package; tools/install-deps.sh test installs it)" >&2
  exit 77
fi
promtool check rules "$rules"
(cd "$here/monitoring" && promtool test rules consult-alerts.test.yml)
missing=0
for m in $(grep -oE 'consult_[a-z_]+' "$rules" | sort -u); do
  if ! grep -rqF "\"$m" "$here/appliance/src"; then
    echo "alert rules read $m, which the appliance does not export" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] && echo "every metric the rules read is exported"
exit "$missing"
