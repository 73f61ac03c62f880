#!/usr/bin/python3
"""Twilio messaging benchmark. Prints numbers; asserts nothing; always exits 0.

  tests/bench/twilio_bench.py [CONSULTD_BINARY]

Starts the Twilio stand-in and one consultd --demo (temporary state directory, free
127.0.0.1 ports, Twilio pointed at the stand-in) and measures, while a thread polls
/healthz every 10 ms to see how long the main loop is ever busy:
  1. invites: a session for every demo video appointment without one (each sends an SMS);
     time until the stand-in holds every message, and sends per second;
  2. status callbacks: "sent" then "delivered" for every message, signed, one after the
     other; callbacks per second and the appliance's answer latency;
  3. Twilio hanging: the same session creation while the stand-in never answers
     Messages.json (requests time out and are retried off the loop); /healthz meanwhile.
Environment: SESSIONS (cap on sessions per phase, default 40).
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchlib import call, free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACCOUNT = "AC" + "0" * 31 + "5"
TOKEN = "bench-auth-token"
DOCTORS = ["5d0c1a1e-0000-4000-8000-00000000d0c1", "5d0c1a1e-0000-4000-8000-00000000d0c2"]


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)] if s else float("nan")


class Stall(threading.Thread):
    """Polls /healthz every 10 ms; keeps the slowest answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.samples = port, threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                call(self.port, "GET", "/healthz", timeout=10)
                self.samples.append((time.monotonic() - t) * 1000)
            except Exception:
                self.samples.append(10000.0)
            time.sleep(0.01)

    def report(self, label):
        self.stop.set()
        self.join(15)
        s = self.samples
        print("  %s: /healthz during it p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d probes)"
              % (label, pct(s, 50), pct(s, 99), max(s) if s else float("nan"), len(s)))


def main():
    consultd = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/appliance/consultd")
    consultctl = os.path.join(os.path.dirname(consultd), "consultctl")
    if not os.access(consultd, os.X_OK) or not os.access(consultctl, os.X_OK):
        print("twilio_bench: no consultd/consultctl at %s (build them first)" % consultd)
        return
    cap = int(os.environ.get("SESSIONS", "40"))
    tmp = tempfile.mkdtemp(prefix="consult-twilio-bench-")
    procs = []
    try:
        standin = subprocess.Popen([sys.executable, os.path.join(REPO, "tests/standins/twilio_standin.py"),
                                    "--account-sid", ACCOUNT, "--auth-token", TOKEN],
                                   stdout=subprocess.PIPE, text=True)
        procs.append(standin)
        tw = int(standin.stdout.readline().split()[1])
        state = os.path.join(tmp, "state")
        os.makedirs(os.path.join(state, "credentials"))
        cred = os.path.join(state, "credentials", "twilio-auth-token")
        with open(cred, "w") as f:
            f.write(TOKEN)
        os.chmod(cred, 0o600)
        conf = os.path.join(tmp, "consultd.conf")
        open(conf, "w").close()
        port = free_port()
        sets = ["http.rate_limit_per_minute=1000000", "http.rate_limit_burst=100000",
                "twilio.api_base_url=http://127.0.0.1:%d" % tw, "twilio.account_sid=" + ACCOUNT,
                "twilio.from_number=+15550109999"]
        argv = [consultd, "--config", conf, "--state-dir", state, "--http-port", str(port), "--demo"]
        for s in sets:
            argv += ["--set", s]
        daemon = subprocess.Popen(argv, stderr=open(os.path.join(tmp, "consultd.log"), "w"))
        procs.append(daemon)
        for _ in range(300):
            try:
                if call(port, "GET", "/healthz", timeout=1)[0] == 200:
                    break
            except Exception:
                time.sleep(0.1)
        admin = subprocess.run([consultctl, "--config", conf, "--state-dir", state, "token", "--role", "admin",
                                "--identity", "bench-admin"], capture_output=True, text=True).stdout.strip()

        def open_appointments():
            out = []
            for day in (time.strftime("%Y-%m-%d"), time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))):
                for doctor in DOCTORS:
                    st, body = call(port, "GET", "/api/appointments?doctor_id=%s&date=%s" % (doctor, day), admin)
                    for a in (body or {}).get("appointments", []):
                        if a["consultation_type"] != "in-person" and not a.get("video_session_id") \
                                and a["status"] == "scheduled":
                            out.append(a["id"])
            return out

        def create(ids):
            made = 0
            for appt in ids:
                st, _ = call(port, "POST", "/api/video-consultations/sessions", admin,
                             {"appointment_id": appt, "duration_minutes": 30})
                made += st == 201
            return made

        def messages():
            with urllib.request.urlopen("http://127.0.0.1:%d/_control/messages" % tw, timeout=10) as r:
                return json.loads(r.read())["messages"]

        def control(what, body):
            req = urllib.request.Request("http://127.0.0.1:%d/_control/%s" % (tw, what), data=json.dumps(body).encode(),
                                         method="POST")
            with urllib.request.urlopen(req, timeout=600) as r:
                return json.loads(r.read())

        print("twilio_bench: consultd %s, Twilio stand-in on port %d" % (consultd, tw))
        ids = open_appointments()
        first, second = ids[:cap // 2], ids[cap // 2:cap]
        # 1. invites
        stall = Stall(port)
        stall.start()
        t0 = time.monotonic()
        made = create(first)
        while len(messages()) < made and time.monotonic() - t0 < 120:
            time.sleep(0.02)
        took = time.monotonic() - t0
        print("  invites: %d sessions created, %d SMS accepted by the stand-in in %.2f s (%.1f sends/s incl. session creation)"
              % (made, len(messages()), took, len(messages()) / took if took else 0))
        stall.report("invites")
        # 2. status callbacks
        sids = [m["sid"] for m in messages()]
        stall = Stall(port)
        stall.start()
        lat, t0 = [], time.monotonic()
        for sid in sids:
            for status in ("sent", "delivered"):
                c = time.monotonic()
                replies = control("callback", {"sid": sid, "statuses": [status]})["replies"]
                lat.append((time.monotonic() - c) * 1000)
                if replies != [200]:
                    print("  callback answered %s" % replies)
        took = time.monotonic() - t0
        print("  status callbacks: %d in %.2f s (%.0f/s, sequential); per callback incl. the stand-in p50 %.1f ms, p95 %.1f ms"
              % (len(lat), took, len(lat) / took if took else 0, pct(lat, 50), pct(lat, 95)))
        stall.report("callbacks")
        # 3. Twilio hangs
        control("fault", {"mode": "hang", "count": -1, "paths": ["Messages.json"]})
        stall = Stall(port)
        stall.start()
        t0 = time.monotonic()
        made = create(second)
        took = time.monotonic() - t0
        time.sleep(12)   # past the first 10 s request timeouts and into the retries
        print("  Twilio hanging: %d sessions created in %.2f s (%.1f ms each)" % (made, took, 1000 * took / max(made, 1)))
        stall.report("Twilio hanging")
        control("fault", {"mode": "none"})
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:   # a benchmark never fails the build
        print("twilio_bench: %s" % e)
