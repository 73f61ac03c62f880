#!/usr/bin/env python3
"""The first admit of a freshly started consultd: how long the admit request takes and how
late the main loop ran meanwhile (consult_main_loop_stall_max_seconds, read just before and
3 s after). The first call used to load its GStreamer plugins on the main loop; they now
load on the probe thread before READY. Prints; asserts nothing.

    tests/bench/admit_bench.py [CONSULTD_BINARY] [RUNS]

Each run starts its own consultd (--demo, a temporary state directory, 127.0.0.1 on a free
port), Starts tomorrow's first open video appointment, has its patient join and wait with
the signalling socket open (tests/image/ws_hold.py), admits, and stops it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import call, free_port, metric

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONSULTD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "appliance", "consultd")
CONSULTCTL = os.path.join(os.path.dirname(CONSULTD), "consultctl")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def one_run():
    tmp = tempfile.mkdtemp(prefix="consult-admit-bench-")
    state, conf, port = os.path.join(tmp, "state"), os.path.join(tmp, "consultd.conf"), free_port()
    open(conf, "w").close()
    daemon = subprocess.Popen([CONSULTD, "--config", conf, "--state-dir", state, "--http-port", str(port), "--demo",
                               "--set", "http.rate_limit_per_minute=1000000", "--set", "http.rate_limit_burst=100000"],
                              stderr=subprocess.DEVNULL)
    ws = None
    try:
        for _ in range(600):
            try:
                if call(port, "GET", "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(2)   # the probe (and the plugins) finish before READY; the admit comes after

        def token(role, identity):
            return subprocess.run([CONSULTCTL, "--config", conf, "--state-dir", state, "token", "--role", role,
                                   "--identity", identity], capture_output=True, text=True).stdout.strip()
        admin = token("admin", "bench-admin")
        tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
        appointments = (call(port, "GET", "/api/appointments?date=" + tomorrow, admin)[1] or {}).get("appointments", [])
        session = None
        for a in appointments:
            if a["consultation_type"] == "in-person":
                continue
            status, body = call(port, "POST", "/api/video-consultations/sessions", token("doctor", a["doctor_id"]),
                                {"appointment_id": a["id"], "duration_minutes": 30})
            if status < 300 and body:
                session, patient = (body.get("session") or body)["id"], a["patient_id"]
                break
        if not session:
            return "no open video appointment tomorrow"
        patient_token = call(port, "POST", "/api/video-consultations/sessions/%s/token" % session, admin,
                             {"user_type": "patient", "user_id": patient})[1]["token"]
        call(port, "POST", "/api/video-consultations/sessions/%s/join" % session, patient_token)
        ws = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "image", "ws_hold.py"), "127.0.0.1",
                               str(port), patient_token], stdout=subprocess.PIPE, text=True)
        for line in ws.stdout:
            if line.strip() == "waiting":
                break
        before = metric(port, "consult_main_loop_stall_max_seconds")
        t0 = time.monotonic()
        status, _ = call(port, "POST", "/api/video-consultations/sessions/%s/admit" % session, admin, timeout=60)
        took = time.monotonic() - t0
        time.sleep(3)
        return "admit %d in %.0f ms; main loop's worst stall %.0f ms before, %.0f ms after" % (
            status, took * 1000, before * 1000, metric(port, "consult_main_loop_stall_max_seconds") * 1000)
    finally:
        if ws:
            ws.kill()
        daemon.terminate()
        daemon.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not os.access(CONSULTD, os.X_OK) or not os.access(CONSULTCTL, os.X_OK):
        print("admit_bench: no consultd/consultctl at %s (build them first)" % CONSULTD)
        return
    print("admit_bench: the first admit of a fresh consultd (%s), %d runs" % (CONSULTD, RUNS))
    for i in range(RUNS):
        print("  run %d: %s" % (i + 1, one_run()), flush=True)


if __name__ == "__main__":
    main()
