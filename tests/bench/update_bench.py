#!/usr/bin/python3
"""What the updater costs consultd: /healthz latency and the main loop's worst stall while
`consultctl update check --now` downloads, checks and installs a release, compared with the
same time idle, and under the questions a run asks consultd while a consultation holds it
back (GET /api/system/activity). Prints numbers; asserts nothing.

  tests/bench/update_bench.py [BUILD_DIR]      (default: build)

Everything runs on 127.0.0.1: consultd --demo, the PostgREST and bundle-server stand-ins
(tests/standins/), and tests/standins/fake_rauc.sh for the rauc program, whose install
reads the whole bundle as RAUC would (no slot is written). BUNDLE_MIB (256) sets the size.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchlib import free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build"))
CONSULTD = os.path.join(BUILD, "appliance", "consultd")
CONSULTCTL = os.path.join(BUILD, "appliance", "consultctl")
BUNDLE_MIB = int(os.environ.get("BUNDLE_MIB", "256"))
CLINIC = "5d0c1a1e-0000-4000-8000-000000000001"   # the demo's clinic
FAMILY = "consult-appliance-x86_64"


def request(url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers=headers or {}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def standin(script, args):
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(REPO, "tests", "standins", script)] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    line = p.stdout.readline().decode()
    if not line.startswith("PORT "):
        raise RuntimeError(f"{script} did not start: {line!r}")
    return p, int(line.split()[1])


def metric(port, name):
    try:
        _, body = request(f"http://127.0.0.1:{port}/metrics")
    except OSError:
        return float("nan")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return float("nan")


class Prober(threading.Thread):
    """/healthz every 50 ms until stopped; the latencies in ms."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.ms, self.failed = port, threading.Event(), [], 0

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                status, _ = request(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
                self.failed += status != 200
            except OSError:
                self.failed += 1
            self.ms.append((time.monotonic() - t) * 1000)
            time.sleep(0.05)


def row(name, seconds, p):
    ms = sorted(p.ms) or [float("nan")]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{name:<44}{seconds:>8.1f}s{statistics.median(ms):>10.1f}ms{p99:>8.1f}ms{ms[-1]:>8.0f}ms{p.failed:>7}")


def main():
    for binary in (CONSULTD, CONSULTCTL):
        if not os.access(binary, os.X_OK):
            print(f"update_bench: no {binary} (build first)")
            return
    tmp = tempfile.mkdtemp(prefix="consult-update-bench-")
    procs = []
    try:
        cloud, cloud_port = standin("postgrest_standin.py", ["--api-key", "bench-key", "--jwt-secret", "bench-secret"])
        files, files_port = standin("bundle_server.py", [])
        procs += [cloud, files]
        port = free_port()
        state = os.path.join(tmp, "state")
        conf = os.path.join(tmp, "consultd.conf")
        open(conf, "w").write("")
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "CREDENTIALS_DIRECTORY")}
        daemon = subprocess.Popen([CONSULTD, "--config", conf, "--state-dir", state, "--http-port", str(port), "--demo",
                                   "--set", "http.rate_limit_per_minute=1000000", "--set", "http.rate_limit_burst=100000"],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "consultd.log"), "w"), env=env)
        procs.append(daemon)
        for _ in range(300):
            try:
                if request(f"http://127.0.0.1:{port}/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)

        head = f"compatible={FAMILY}\nversion=2.0.0\n"
        f = json.loads(request(f"http://127.0.0.1:{files_port}/_control/file",
                               {"size": BUNDLE_MIB << 20, "seed": 1, "head": head}, timeout=120)[1])
        request(f"http://127.0.0.1:{cloud_port}/_control/release",
                {"version": "2.0.0", "bundle_url": f"http://127.0.0.1:{files_port}/bundle.raucb",
                 "sha256": f["sha256"], "size_bytes": f["size"]})
        token = json.loads(request(f"http://127.0.0.1:{cloud_port}/_control/token", {"clinic_id": CLINIC})[1])["token"]
        creds = os.path.join(state, "credentials")
        for name, value in (("cloud-api-key", "bench-key"), ("cloud-device-token", token)):
            path = os.path.join(creds, name)
            with open(path, "w") as out:
                out.write(value)
            os.chmod(path, 0o600)
        ctl_conf = os.path.join(tmp, "ctl.conf")
        open(ctl_conf, "w").write(f"[http]\nport={port}\n[cloud]\nurl=http://127.0.0.1:{cloud_port}\n"
                                  f"clinic_id={CLINIC}\n[update]\nwindow=00:00-00:00\n")
        rauc = os.path.join(tmp, "rauc")
        os.makedirs(rauc)
        open(os.path.join(rauc, "status"), "w").write(
            f"RAUC_SYSTEM_COMPATIBLE='{FAMILY}'\nRAUC_SYSTEM_SLOTS='rootfs.0 rootfs.1'\nRAUC_SLOTS='1 2'\n"
            "RAUC_SLOT_STATE_1='booted'\nRAUC_SLOT_STATE_2='inactive'\n")
        open(os.path.join(rauc, "boot_id"), "w").write("bench\n")
        # An install that reads the whole bundle, as RAUC reads it into the slot.
        wrapper = os.path.join(rauc, "rauc")
        open(wrapper, "w").write("#!/bin/sh\n[ \"$1\" = install ] && cat \"$2\" >/dev/null\n"
                                 f"exec {os.path.join(REPO, 'tests', 'standins', 'fake_rauc.sh')} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        ctl_env = dict(env, CONSULT_RAUC=wrapper, FAKE_RAUC_DIR=rauc, CONSULT_REBOOT_COMMAND="/bin/true",
                       CONSULT_BOOT_ID_FILE=os.path.join(rauc, "boot_id"), CONSULT_OS_RELEASE="/dev/null",
                       CONSULT_UPDATE_TEST_LOOPBACK_HTTP="1")

        def ctl(*args):
            return subprocess.run([CONSULTCTL, "--config", ctl_conf, "--state-dir", state, "update"] + list(args),
                                  env=ctl_env, capture_output=True, text=True, timeout=1800)

        print(f"consultd on 127.0.0.1:{port}; a {BUNDLE_MIB} MiB bundle from the bundle server; "
              f"{os.cpu_count()} cores; /healthz every 50 ms")
        print(f"{'while':<44}{'for':>9}{'healthz p50':>12}{'p99':>10}{'max':>10}{'failed':>7}")
        stall_before = metric(port, "consult_main_loop_stall_max_seconds")

        p = Prober(port)
        p.start()
        t = time.monotonic()
        r = ctl("check", "--now")
        took = time.monotonic() - t
        p.stop.set()
        p.join()
        row("download, check, install (update check --now)", took, p)
        if r.returncode != 0:
            print(f"  (update check exited {r.returncode}: {r.stderr.strip() or r.stdout.strip()})")

        p = Prober(port)
        p.start()
        time.sleep(took)
        p.stop.set()
        p.join()
        row("nothing (the same time, idle)", took, p)

        # What a run costs consultd while it holds back for a consultation: one activity question
        # per run, and one per poll (30 s) while a restart waits. Asked far more often here.
        admin = subprocess.run([CONSULTCTL, "--config", conf, "--state-dir", state, "token", "--role", "admin",
                                "--identity", "bench"], capture_output=True, text=True).stdout.strip()
        p = Prober(port)
        p.start()
        t = time.monotonic()
        asked = 0
        while time.monotonic() - t < 10:
            request(f"http://127.0.0.1:{port}/api/system/activity", headers={"Authorization": f"Bearer {admin}"})
            asked += 1
            time.sleep(0.5)
        p.stop.set()
        p.join()
        row(f"the activity asked {asked} times (2 per second)", time.monotonic() - t, p)
        stall_after = metric(port, "consult_main_loop_stall_max_seconds")
        print(f"main loop: worst stall {stall_before * 1000:.0f} ms before, {stall_after * 1000:.0f} ms after "
              "(consult_main_loop_stall_max_seconds)")
        print(f"consultd still running: {daemon.poll() is None}")
    finally:
        for proc in procs:   # the stand-ins in their own process groups, consultd by SIGTERM
            try:
                if proc.args[0] == CONSULTD:
                    proc.send_signal(signal.SIGTERM)
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
