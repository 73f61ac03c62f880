#!/usr/bin/env bash
# consultd REST API benchmark. Prints numbers; asserts nothing.
#
#   tests/bench/api_bench.sh [CONSULTD_BINARY]
#
# CONSULTD_BINARY defaults to build/appliance/consultd under the repository root;
# consultctl is taken from beside it (or $CONSULTCTL). Environment: WRK_DURATION (10s),
# WRK_THREADS (2), WRK_CONNECTIONS (100), SESSIONS (500), PARALLEL (16), LIST_RUNS (20).
# It starts its own consultd with --demo on a free 127.0.0.1 port and a temporary state
# directory, talks to nothing else, stops it at the end and always exits 0.
set -u

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
consultd="${1:-$repo_root/build/appliance/consultd}"
consultctl="${CONSULTCTL:-$(dirname "$consultd")/consultctl}"
wrk_duration="${WRK_DURATION:-10s}"
wrk_threads="${WRK_THREADS:-2}"
wrk_connections="${WRK_CONNECTIONS:-100}"
n_sessions="${SESSIONS:-500}"
parallel="${PARALLEL:-16}"
list_runs="${LIST_RUNS:-20}"
doctor_id="5d0c1a1e-0000-4000-8000-00000000d0c2"   # the demo's doctor_b
py=/usr/bin/python3

say() { printf '%s\n' "$*"; }
skip() { say "api_bench: $*" >&2; exit 0; }

[[ -x "$consultd" ]] || skip "no consultd binary at $consultd (build it first, or pass its path)"
[[ -x "$consultctl" ]] || skip "no consultctl binary at $consultctl (set CONSULTCTL)"
[[ -x "$py" ]] || skip "$py is needed for the JSON helpers"
command -v curl >/dev/null || skip "curl is needed (apt-get install curl)"
have_wrk=1
command -v wrk >/dev/null || have_wrk=0

tmp="$(mktemp -d "${TMPDIR:-/tmp}/consult-api-bench-XXXXXX")"
state="$tmp/state"
: >"$tmp/consultd.conf"   # an empty configuration: nothing from /etc
daemon_pid=""

cleanup() {
    if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$daemon_pid" 2>/dev/null && kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# ------------------------------------------------------------------ JSON and number helpers
cat >"$tmp/helper.py" <<'PY'
import datetime, json, math, re, socket, sys, time, urllib.request, urllib.error


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)] if s else float("nan")


def api(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def future_slots(base, token, doctor, day, margin_s=600):
    status, body = api(base, token, "GET", f"/api/video-consultations/availability?doctor_id={doctor}&date={day}")
    if status != 200:
        raise SystemExit(f"availability {day}: HTTP {status} {body}")
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=margin_s)
    out = []
    for s in body["slots"]:
        start = datetime.datetime.fromisoformat(s["starts_at"].replace("Z", "+00:00"))
        if start > now:
            out.append(s)
    return out


def cmd_free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_field(path):
    """Prints a value from stdin's JSON: 'a.b' or 'list[].key' (one line per item)."""
    doc = json.load(sys.stdin)
    if "[]." in path:
        head, key = path.split("[].", 1)
        for part in filter(None, head.split(".")):
            doc = doc[part]
        for item in doc:
            print(item[key])
        return
    for part in path.split("."):
        doc = doc[part]
    print(doc)


def cmd_book(base, token, doctor, count, duration, out_path):
    """Books `count` future video appointments on free slots, day by day; writes their ids."""
    count = int(count)
    status, body = api(base, token, "GET", f"/api/appointments?doctor_id={doctor}")
    if status != 200:
        raise SystemExit(f"appointments: HTTP {status} {body}")
    patients = sorted({a["patient_id"] for a in body["appointments"]})
    if not patients:
        raise SystemExit("no demo patients found")
    ids, refused, day, started = [], 0, datetime.date.today(), time.monotonic()
    while len(ids) < count and day < datetime.date.today() + datetime.timedelta(days=60):
        for slot in future_slots(base, token, doctor, day.isoformat()):
            if len(ids) >= count:
                break
            status, row = api(base, token, "POST", "/api/appointments", {
                "doctor_id": doctor, "patient_id": patients[len(ids) % len(patients)],
                "starts_at": slot["starts_at"], "duration_minutes": int(duration),
                "consultation_type": "video", "reason": "api bench"})
            if status == 201:
                ids.append(row["id"])
            else:
                refused += 1
        day += datetime.timedelta(days=1)
    with open(out_path, "w") as f:
        f.write("".join(i + "\n" for i in ids))
    print(f"{len(ids)} {refused} {time.monotonic() - started:.2f}")


def cmd_wrk(label):
    out = sys.stdin.read()
    rps = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    lat = dict(re.findall(r"^\s*(50|75|90|99)%\s+(\S+)", out, re.M))
    total = re.search(r"(\d+) requests in ([0-9.]+\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    if not rps:
        print(f"{label}: wrk printed no result:\n{out}")
        return
    line = f"{label}: {float(rps.group(1)):.0f} requests/s; latency p50 {lat.get('50', '?')}, " \
           f"p99 {lat.get('99', '?')}"
    if total:
        line += f" ({total.group(1)} requests in {total.group(2)}"
        line += f", {non2xx.group(1)} not 2xx)" if non2xx else ", all 2xx)"
    print(line)
    if errors:
        print(f"  socket errors:{errors.group(1)}")


def cmd_curl(label, wall, expect):
    """stdin: one 'HTTP_CODE TIME_TOTAL' line per request (curl -w)."""
    codes, times = {}, []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        codes[parts[0]] = codes.get(parts[0], 0) + 1
        times.append(float(parts[1]) * 1000.0)
    wall = float(wall)
    ok = codes.get(expect, 0)
    by_code = ", ".join(f"{c}: {n}" for c, n in sorted(codes.items()))
    print(f"{label}: {ok}/{len(times)} answered {expect} in {wall:.2f} s "
          f"({len(times) / wall if wall > 0 else float('nan'):.0f} requests/s); "
          f"per request p50 {pct(times, 50):.1f} ms, p99 {pct(times, 99):.1f} ms, max {max(times or [0]):.1f} ms"
          + ("" if list(codes) == [expect] else f" [status counts {by_code}]"))


cmds = {"free-port": cmd_free_port, "field": cmd_field, "book": cmd_book, "wrk": cmd_wrk, "curl": cmd_curl}
cmds[sys.argv[1]](*sys.argv[2:])
PY
helper() { "$py" "$tmp/helper.py" "$@"; }
now() { date +%s.%N; }
elapsed() { "$py" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }

# ------------------------------------------------------------------ consultd
port="$(helper free-port)"
base="http://127.0.0.1:$port"
env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID -u LISTEN_FDS -u LISTEN_PID -u STATE_DIRECTORY \
    -u CREDENTIALS_DIRECTORY \
    "$consultd" --config "$tmp/consultd.conf" --state-dir "$state" --http-port "$port" --demo \
    --set http.bind=127.0.0.1 \
    --set http.rate_limit_per_minute=1000000 --set http.rate_limit_burst=100000 \
    --set http.max_connections_per_address=1000 \
    </dev/null >/dev/null 2>"$tmp/consultd.log" &
daemon_pid=$!

up=0
for _ in $(seq 300); do
    kill -0 "$daemon_pid" 2>/dev/null || break
    if curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
if [[ $up != 1 ]]; then
    say "api_bench: consultd did not answer /healthz within 30 s; its log:"
    tail -n 20 "$tmp/consultd.log"
    exit 0
fi

say "consultd: $consultd ($("$consultd" --version 2>/dev/null))"
say "machine: $(nproc) cores; API on $base; rate limit raised to 1000000/min, burst 100000; 1000 connections per address (one client)"

ctl() { "$consultctl" --config "$tmp/consultd.conf" --state-dir "$state" "$@"; }
admin_token="$(ctl token --role admin --identity bench-admin)" || skip "consultctl token failed"
doctor_token="$(ctl token --role doctor --identity "$doctor_id")" || skip "consultctl token failed"

# curl for setup calls: api TOKEN METHOD PATH [JSON]; prints the body, fails on HTTP >= 400.
api() {
    local token="$1" method="$2" path="$3"
    shift 3
    if (($#)); then
        curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $token" \
            -H "Content-Type: application/json" --data-binary "$1" "$base$path"
    else
        curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $token" "$base$path"
    fi
}

# Replaces doctor_b's timings with one all-day timing per weekday (SLOT-minute slots).
replace_timings() {
    local slot="$1" ids id day
    ids="$(api "$admin_token" GET "/api/video-consultations/timings?doctor_id=$doctor_id" | helper field 'timings[].id')" ||
        return 1
    for id in $ids; do
        api "$admin_token" DELETE "/api/video-consultations/timings/$id" >/dev/null || return 1
    done
    for day in 0 1 2 3 4 5 6; do
        api "$admin_token" POST /api/video-consultations/timings \
            "{\"doctor_id\":\"$doctor_id\",\"day_of_week\":$day,\"start_time\":\"00:00\",\"end_time\":\"23:30\",\"slot_duration_minutes\":$slot}" \
            >/dev/null || return 1
    done
}

# ------------------------------------------------------------------ one session under load
replace_timings 30 || skip "could not replace doctor_b's timings"
read -r booked _ _ < <(helper book "$base" "$admin_token" "$doctor_id" 1 30 "$tmp/one.txt")
[[ "${booked:-0}" == 1 ]] || skip "could not book a video appointment"
appointment="$(cat "$tmp/one.txt")"
created="$(api "$doctor_token" POST /api/video-consultations/sessions \
    "{\"appointment_id\":\"$appointment\",\"duration_minutes\":30}")" || skip "could not create a session: $created"
session="$(printf '%s' "$created" | helper field session_id)"
patient="$(printf '%s' "$created" | helper field session.patient_id)"
say "session $session (appointment $appointment, patient $patient)"

if [[ $have_wrk == 1 ]]; then
    say ""
    say "wrk -t$wrk_threads -c$wrk_connections -d$wrk_duration --latency (doctor token):"
    wrk -t"$wrk_threads" -c"$wrk_connections" -d"$wrk_duration" --latency \
        -H "Authorization: Bearer $doctor_token" "$base/api/video-consultations/sessions/$session" 2>&1 |
        helper wrk "  GET  /api/video-consultations/sessions/{id}      "
    cat >"$tmp/token.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"user_id":"$patient","user_type":"patient"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $doctor_token"
LUA
    wrk -t"$wrk_threads" -c"$wrk_connections" -d"$wrk_duration" --latency -s "$tmp/token.lua" \
        "$base/api/video-consultations/sessions/$session/token" 2>&1 |
        helper wrk "  POST /api/video-consultations/sessions/{id}/token"
else
    say "wrk not installed (apt-get install wrk): the load tests are skipped"
fi

# ------------------------------------------------------------------ creating and listing many sessions
say ""
say "creating and listing $n_sessions sessions:"
replace_timings 5 || skip "could not replace doctor_b's timings with 5-minute ones"
read -r booked refused book_s < <(helper book "$base" "$admin_token" "$doctor_id" "$n_sessions" 5 "$tmp/appointments.txt")
say "  booked ${booked:-0} video appointments (5-minute slots, sequential POST /api/appointments) in ${book_s:-?} s" \
    "(${refused:-0} refused)"

t0="$(now)"
xargs -P "$parallel" -I{} curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST \
    -H "Authorization: Bearer $doctor_token" -H "Content-Type: application/json" \
    --data-binary '{"appointment_id":"{}","duration_minutes":5}' \
    "$base/api/video-consultations/sessions" <"$tmp/appointments.txt" >"$tmp/create.txt"
t1="$(now)"
helper curl "  create (POST /sessions, $parallel in parallel)" "$(elapsed "$t0" "$t1")" 201 <"$tmp/create.txt"

: >"$tmp/list.txt"
t0="$(now)"
for _ in $(seq "$list_runs"); do
    curl -s -o "$tmp/list.json" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $doctor_token" \
        "$base/api/video-consultations/sessions?doctor_id=$doctor_id" >>"$tmp/list.txt"
done
t1="$(now)"
listed="$(helper field 'sessions[].id' <"$tmp/list.json" 2>/dev/null | wc -l)"
say "  list (GET /sessions?doctor_id=, $list_runs times, one after another): $listed sessions," \
    "$(wc -c <"$tmp/list.json") bytes per answer"
helper curl "  list" "$(elapsed "$t0" "$t1")" 200 <"$tmp/list.txt"
exit 0
