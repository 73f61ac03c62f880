#!/usr/bin/env bash
# consultd start-up and /healthz throughput benchmark. Prints numbers; asserts nothing.
#
#   tests/bench/startup_bench.sh [CONSULTD_BINARY]
#
# CONSULTD_BINARY defaults to build/appliance/consultd under the repository root.
# Environment: RUNS (default 10) start-ups; WRK_DURATION (default 10s), WRK_THREADS (2),
# WRK_CONNECTIONS (50). Everything runs on 127.0.0.1 only. Builds nothing; always exits 0.
set -u

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
consultd="${1:-$repo_root/build/appliance/consultd}"
runs="${RUNS:-10}"
wrk_duration="${WRK_DURATION:-10s}"
wrk_threads="${WRK_THREADS:-2}"
wrk_connections="${WRK_CONNECTIONS:-50}"

if [[ ! -x "$consultd" ]]; then
    echo "startup_bench: no consultd binary at $consultd (build it first, or pass its path)" >&2
    exit 0
fi
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3 || true)"
if [[ -z "$python" ]]; then
    echo "startup_bench: python3 is needed to receive sd_notify datagrams; skipped" >&2
    exit 0
fi

"$python" - "$consultd" "$runs" "$wrk_duration" "$wrk_threads" "$wrk_connections" <<'PY' || true
import math, os, re, shutil, signal, socket, subprocess, sys, tempfile, time

consultd, runs = sys.argv[1], int(sys.argv[2])
wrk_duration, wrk_threads, wrk_connections = sys.argv[3], sys.argv[4], sys.argv[5]
READY_TIMEOUT = 30.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def child_env(sock_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                        "STATE_DIRECTORY", "CREDENTIALS_DIRECTORY")}
    env["NOTIFY_SOCKET"] = sock_path
    return env


class Daemon:
    """consultd with a fresh state dir and a notify socket of its own."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="consult-bench-")
        self.port = free_port()
        self.sock_path = os.path.join(self.tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.log_path = os.path.join(self.tmp, "consultd.stderr")
        self.proc = None

    def start(self):
        """Starts consultd; returns ms from spawn to READY=1, or None."""
        log = open(self.log_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [consultd, "--state-dir", os.path.join(self.tmp, "state"), "--http-port", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=child_env(self.sock_path))
        log.close()
        deadline = t0 + READY_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                return None
            self.sock.settimeout(min(left, 0.2))
            try:
                data = self.sock.recv(4096).decode(errors="replace")
            except socket.timeout:
                continue
            if "READY=1" in data.split("\n"):
                return (time.monotonic() - t0) * 1000.0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tail_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-5:])
        except OSError:
            return ""


def pct(sorted_values, p):
    return sorted_values[max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)]


print(f"consultd: {consultd}")
print(f"machine: {os.cpu_count()} cores; runs: {runs}")

ready_ms, idle_rss = [], []
for i in range(runs):
    d = Daemon()
    try:
        ms = d.start()
        if ms is None:
            print(f"run {i + 1}: no READY=1 within {READY_TIMEOUT:.0f} s\n{d.tail_log()}")
            continue
        time.sleep(0.5)  # let it settle into idle
        rss = rss_kb(d.proc.pid)
        ready_ms.append(ms)
        if rss is not None:
            idle_rss.append(rss)
    finally:
        d.stop()

if ready_ms:
    s = sorted(ready_ms)
    print(f"start -> READY=1 (ms, n={len(s)}): p50 {pct(s, 50):.1f}  p95 {pct(s, 95):.1f}  max {s[-1]:.1f}")
if idle_rss:
    s = sorted(idle_rss)
    print(f"idle RSS 0.5 s after READY (kB, n={len(s)}): p50 {pct(s, 50)}  max {s[-1]}")

wrk = shutil.which("wrk")
if not wrk:
    print("wrk not installed (apt-get install wrk): /healthz load test skipped")
    sys.exit(0)

d = Daemon()
try:
    if d.start() is None:
        print(f"load test: consultd did not become ready\n{d.tail_log()}")
        sys.exit(0)
    url = f"http://127.0.0.1:{d.port}/healthz"
    cmd = [wrk, f"-t{wrk_threads}", f"-c{wrk_connections}", f"-d{wrk_duration}", url]
    print("$ " + " ".join(cmd))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    except subprocess.TimeoutExpired:
        print("wrk did not finish within 120 s")
        sys.exit(0)
    for line in out.splitlines():
        if re.match(r"\s*(Latency|Req/Sec|Requests/sec|Transfer/sec|Socket errors|Non-2xx)", line) or "requests in" in line:
            print("  " + line.strip())
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    lat = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m and lat:
        print(f"/healthz: {float(m.group(1)):.0f} requests/s; latency avg {lat.group(1)}, stdev {lat.group(2)}, max {lat.group(3)}")
    rss = rss_kb(d.proc.pid)
    if rss is not None:
        print(f"RSS after the load test: {rss} kB")
finally:
    d.stop()
PY
exit 0
