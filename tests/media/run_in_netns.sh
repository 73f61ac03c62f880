#!/usr/bin/env bash
# Runs a command inside a private network namespace with a veth pair
# (10.99.0.1 <-> 10.99.0.2): libnice ignores loopback, and nothing here may reach
# any other network. Firefox gathers no ICE candidates without a default route: one
# points at v1, and nothing lies beyond it. Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN).
set -euo pipefail
exec unshare -n -- bash -c '
  set -e
  ip link set lo up
  ip link add v0 type veth peer name v1
  ip addr add 10.99.0.1/24 dev v0
  ip addr add 10.99.0.2/24 dev v1
  ip link set v0 up
  ip link set v1 up
  ip route add default dev v1
  exec "$@"' netns "$@"
