#!/usr/bin/env bash
# Runs a command in a private network namespace that has nothing but loopback (no
# veth, no route anywhere): the kiosk's own screen must show the call with no LAN.
# Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN).
set -euo pipefail
exec unshare -n -- bash -c '
  set -e
  ip link set lo up
  if [ "$(ip -o link show | grep -vc " lo:")" != 0 ]; then echo "more than loopback here" >&2; exit 1; fi
  exec "$@"' loopback-only "$@"
