#!/usr/bin/env python3
"""What each attack of the hostile-client suite costs: /healthz latency while it runs,
connections held, RSS growth, and the main loop's worst stall. Prints; asserts nothing.

    tests/bench/hostile_bench.py [CONSULTD_BINARY] [SECONDS_PER_ATTACK]

Starts its own consultd (--demo, a temporary state directory, 127.0.0.1 on a free port)
under a file limit of 1024 (systemd's default soft limit), talks to nothing else, and
stops it at the end. Clients come from 127.0.0.0/8 addresses of their own; /healthz is
asked from 127.0.0.250, as a bystander would.
"""
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONSULTD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "appliance", "consultd")
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 6.0


def connect(port, source):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def get(port, path, source="127.0.0.250", timeout=5):
    t0 = time.monotonic()
    try:
        s = connect(port, source)
        s.settimeout(timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
        body = data.split(b"\r\n\r\n", 1)[1].decode(errors="replace") if b"\r\n\r\n" in data else ""
    except OSError:
        status, body = 0, ""
    return status, (time.monotonic() - t0) * 1000, body


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metric(port, name):
    _, _, body = get(port, "/metrics")
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Attack(threading.Thread):
    def __init__(self, port, fn):
        super().__init__(daemon=True)
        self.port, self.fn, self.stop = port, fn, threading.Event()
        self.sockets = []

    def run(self):
        try:
            self.fn(self)
        except Exception as e:  # an attack that the server stops is the point
            self.error = e

    def finish(self):
        self.stop.set()
        self.join(10)
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


def idle_flood(a):
    for i in range(1100):
        try:
            a.sockets.append(connect(a.port, f"127.0.1.{1 + i // 55}"))
        except OSError:
            pass
    a.stop.wait()


def slowloris(a):
    for i in range(500):
        try:
            s = connect(a.port, f"127.0.2.{1 + i // 50}")
            s.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
            a.sockets.append(s)
        except OSError:
            pass
    while not a.stop.wait(1):
        for s in list(a.sockets):
            try:
                s.sendall(b"a")
            except OSError:
                a.sockets.remove(s)


WS = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def ws_no_hello(a):
    for i in range(500):
        try:
            s = connect(a.port, f"127.0.3.{1 + i // 50}")
            s.sendall(WS)
            a.sockets.append(s)
        except OSError:
            pass
    a.stop.wait()


def big_bodies(a):
    block = b"x" * 65536
    while not a.stop.is_set():
        try:
            s = connect(a.port, "127.0.4.1")
            s.sendall(b"POST /api/video-consultations/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 838860800\r\n\r\n")
            for _ in range(64):
                s.sendall(block)
            s.close()
        except OSError:
            pass


def frame(opcode, fin, n):
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + b"x" * n


def ws_fragments(a):
    more = frame(0, False, 16384)
    while not a.stop.is_set():
        try:
            s = connect(a.port, "127.0.5.1")
            s.sendall(WS)
            s.recv(1024)
            s.sendall(frame(1, False, 100))
            for _ in range(1000):
                s.sendall(more)
            s.close()
        except OSError:
            pass


def sqlite_lock(db_path):
    def attack(a):
        db = sqlite3.connect(db_path, timeout=10, isolation_level=None)
        while not a.stop.is_set():
            db.execute("BEGIN EXCLUSIVE")
            a.stop.wait(2.0)
            db.execute("ROLLBACK")
            a.stop.wait(0.2)
        db.close()
    return attack


def main():
    if not os.access(CONSULTD, os.X_OK):
        print(f"hostile_bench: no consultd at {CONSULTD}")
        return
    tmp = tempfile.mkdtemp(prefix="consult-hostile-")
    port = free_port()
    conf = os.path.join(tmp, "consultd.conf")
    open(conf, "w").write("[http]\nheader_timeout_seconds=5\n[sessions]\nrejoin_seconds=0\n")
    daemon = subprocess.Popen(["prlimit", "--nofile=1024:1024", "--", CONSULTD, "--config", conf, "--state-dir",
                               os.path.join(tmp, "state"), "--http-port", str(port), "--demo"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "consultd.log"), "w"))
    try:
        for _ in range(300):
            if get(port, "/healthz", timeout=1)[0] == 200:
                break
            time.sleep(0.1)
        print(f"consultd under a file limit of 1024; {SECONDS:.0f} s per attack; /healthz from a bystander address")
        print(f"{'attack':<34}{'healthz p50':>12}{'p99':>9}{'max':>9}{'failed':>8}{'held':>7}{'RSS +KiB':>10}")
        attacks = [("none (baseline)", lambda a: a.stop.wait()),
                   ("1100 idle connections", idle_flood),
                   ("500 slowloris connections", slowloris),
                   ("500 WebSockets never saying hello", ws_no_hello),
                   ("800 MiB bodies, one after another", big_bodies),
                   ("WebSocket messages of endless fragments", ws_fragments),
                   ("SQLite locked by another process", sqlite_lock(os.path.join(tmp, "state", "consult.db")))]
        for name, fn in attacks:
            before = rss_kb(daemon.pid)
            a = Attack(port, fn)
            a.start()
            time.sleep(1.0)
            times, failed = [], 0
            held = metric(port, "consult_http_connections{")
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                status, ms, _ = get(port, "/healthz")
                times.append(ms)
                failed += status != 200
                time.sleep(0.05)
            a.finish()
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"{name:<34}{statistics.median(times):>10.1f}ms{p99:>7.1f}ms{times[-1]:>7.0f}ms{failed:>8}"
                  f"{held:>7.0f}{rss_kb(daemon.pid) - before:>10}")
            time.sleep(6)   # let timeouts close what is left
        stall = metric(port, "consult_main_loop_stall_max_seconds")
        print(f"main loop: worst stall over all attacks {stall * 1000:.0f} ms (consult_main_loop_stall_max_seconds)")
        print(f"consultd still running: {daemon.poll() is None}")
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()


if __name__ == "__main__":
    main()
