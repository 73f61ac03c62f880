#!/usr/bin/env bash
# `make run`: starts consultd with its embedded defaults and demo data, and says
# where the kiosk is. Ctrl-C stops it.
set -euo pipefail
bin=${1:-build/appliance/consultd}
state=${2:-.state}
port=${3:-8080}
echo "Starting consultd (state in $state). Kiosk: http://127.0.0.1:$port/kiosk"
exec "$bin" --state-dir "$state" --http-port "$port" --demo
