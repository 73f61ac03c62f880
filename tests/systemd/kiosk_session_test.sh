#!/usr/bin/env bash
# kiosk-session (the kiosk unit's main process) with a stand-in for cage and Chromium,
# and a listener on a free loopback port standing in for consultd:
#   - a browser that reaches consultd is left running, and its exit status is the unit's;
#   - a browser that never reaches a listening consultd is stopped after the watch, and
#     the script exits 1 so that systemd starts the kiosk again;
#   - while consultd does not listen, the browser is left alone;
#   - SIGTERM (systemctl stop) reaches the browser at once;
#   - the browser opens the starting page on this disk, with consultd's port.
set -uo pipefail
here=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)
session=$here/../../systemd/kiosk/kiosk-session
work=$(mktemp -d "${TMPDIR:-/tmp}/kiosk_session.XXXXXX") || exit 1
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "PASS: $1"; passed=$((passed + 1))
  else echo "FAIL: $1 (got '$2', want '$3')"; failed=$((failed + 1)); fi
}

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
listen() {  # a consultd stand-in that accepts and holds connections
  /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); held = []
while True: held.append(s.accept()[0])' "$port" &
  listener=$!; pids+=("$listener")
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
}

# The stand-in for cage: records its arguments, connects to consultd if FAKE_CONNECT=1,
# exits with FAKE_EXIT after FAKE_LIFE seconds, and notes a SIGTERM.
cat > "$work/cage" <<'FAKE'
#!/usr/bin/env bash
echo "$*" > "$FAKE_DIR/args"
trap 'echo term > "$FAKE_DIR/term"; exit 0' TERM
if [ "${FAKE_CONNECT:-0}" = 1 ]; then exec 3<>"/dev/tcp/127.0.0.1/$KIOSK_PORT"; fi
sleep "${FAKE_LIFE:-60}" 3>&- & wait $!
exit "${FAKE_EXIT:-0}"
FAKE
chmod +x "$work/cage"
# A browser process of its own (the stand-in for Chromium's, which leave cage's tree).
cp "$(command -v sleep)" "$work/browser"
export KIOSK_CAGE=$work/cage KIOSK_PORT=$port FAKE_DIR=$work KIOSK_BROWSER_PROCESS=$work/browser

run() {  # run SECONDS: the session in the background, its exit status after at most SECONDS
  rm -f "$work/term" "$work/args"
  "$session" --kiosk --flag > "$work/out" 2>&1 &
  local pid=$! t=0
  while kill -0 "$pid" 2>/dev/null && [ "$t" -lt $(($1 * 10)) ]; do sleep 0.1; t=$((t + 1)); done
  if kill -0 "$pid" 2>/dev/null; then echo running; kill -TERM "$pid"; wait "$pid" 2>/dev/null
  else wait "$pid"; echo "exit $?"; fi
}

listen
check "a browser that reaches consultd keeps running past the watch" \
  "$(KIOSK_START_WATCH=2 FAKE_CONNECT=1 FAKE_LIFE=30 run 5)" running
check "... and SIGTERM reaches it" "$(cat "$work/term" 2>/dev/null)" term
check "... and its own exit status is the unit's" "$(KIOSK_START_WATCH=2 FAKE_CONNECT=1 FAKE_LIFE=1 FAKE_EXIT=7 run 10)" 'exit 7'
check "the browser is given its flags and the starting page with consultd's port" \
  "$(cat "$work/args")" "-d -- /usr/bin/chromium --kiosk --flag file:///usr/share/consult/kiosk/starting.html?port=$port"
check "a browser that never reaches a listening consultd is stopped after the watch: exit 1" \
  "$(KIOSK_START_WATCH=2 FAKE_LIFE=30 run 10)" 'exit 1'
check "... it was told to stop (SIGTERM)" "$(cat "$work/term" 2>/dev/null)" term
"$work/browser" 60 & browser=$!; pids+=("$browser"); sleep 0.3
KIOSK_START_WATCH=2 FAKE_LIFE=30 run 10 >/dev/null
wait "$browser" 2>/dev/null
check "... and so are the browser's processes that left its tree (SIGTERM)" "$?" 143
check "... and the journal says why" \
  "$(grep -c 'has not reached consultd in 2 s; starting it again' "$work/out")" 1
kill "$listener"; wait "$listener" 2>/dev/null
check "while consultd does not listen, the browser is left alone" "$(KIOSK_START_WATCH=2 FAKE_LIFE=30 run 5)" running
check "a watch that is not a number is refused" "$(KIOSK_START_WATCH='1; reboot' run 5)" 'exit 2'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
