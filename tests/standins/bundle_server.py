#!/usr/bin/python3
"""An update bundle server for the updater's download tests (update/download.hpp): one file
over plain HTTP on 127.0.0.1, with Range support (206 and Content-Range, 416 past the end),
and the ways a real server or a hostile one goes wrong, switched on by the test.

  bundle_server.py [--port 0]
prints "PORT <n>" on its first line. The file is GET /bundle.raucb (any other path: 404).
Test control (never part of a real server):
  POST /_control/file {"size": N, "seed": S, "head": T}
                                               the file becomes N bytes from seed S, the
                                               first ones text T when given (what the updater
                                               tests' stand-in for rauc reads); answers
                                               {"size", "sha256"}
  POST /_control/path {"path": P}              the file becomes the file at P on this
                                               machine (mapped, not read: a real bundle of
                                               hundreds of MiB); answers {"size", "sha256"}
  POST /_control/mode {"mode": M, "bytes": N, "status": S, "location": URL, "count": C, "unframed": B}
       the next C requests for the file (default 1; -1: all) are served by mode M (with
       "unframed": true, without a Content-Length, as HTTP/1.0 allows):
         normal          as a correct server
         cut             the first N bytes of the body, then the connection closes
         ignore_range    always 200 and the whole file, whatever Range asked for
         wrong_range     always 206 "bytes 0-(size-1)/size" and the whole file
         wrong_length    Content-Length: N, then the whole body asked for
         extra           the right Content-Length, then N bytes more than it announced
         unframed_extra  no Content-Length: the whole file and N bytes more, then close
         trickle         the first N bytes, then one byte every half second
         status          an empty answer with status S
         redirect        302 to URL
  GET  /_control/stats  {"requests": [{"range", "status", "bytes"}], "bytes_served"}, once no
                        answer is still being written (waits at most 5 s)
"""

import argparse
import hashlib
import json
import mmap
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(__file__))
from standin_server import serve  # noqa

CHUNK = 64 * 1024

state = {"data": b"", "mode": {"mode": "normal", "count": -1}, "requests": [], "active": 0}
lock = threading.Condition()


def next_mode():
    """The mode for this request; a mode with a count goes back to normal when used up."""
    with lock:
        mode = dict(state["mode"])
        count = mode.get("count", 1)
        if count > 0:
            state["mode"]["count"] = count - 1
            if count == 1:
                state["mode"] = {"mode": "normal", "count": -1}
        return mode


def asked_range(header, size):
    """(first, last) from "bytes=a-" or "bytes=a-b"; None without one; "bad" past the end."""
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[6:].partition("-")
    try:
        first = int(first)
        last = int(last) if last else size - 1
    except ValueError:
        return None
    if first >= size or last < first:
        return "bad"
    return first, min(last, size - 1)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply_json(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/_control/file":
            head = body.get("head", "").encode()
            data = head + random.Random(body.get("seed", 0)).randbytes(body["size"] - len(head))
            with lock:
                state["data"] = data
            self.reply_json({"size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        elif self.path == "/_control/path":
            with open(body["path"], "rb") as f:
                data = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
            with lock:
                state["data"] = data
            self.reply_json({"size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        elif self.path == "/_control/mode":
            with lock:
                state["mode"] = dict(body, count=body.get("count", 1))
            self.reply_json({"ok": True})
        else:
            self.reply_json({"error": "no such control"}, 404)

    def do_GET(self):
        if self.path == "/_control/stats":
            with lock:
                lock.wait_for(lambda: state["active"] == 0, timeout=5)
                requests = list(state["requests"])
            self.reply_json({"requests": requests, "bytes_served": sum(r["bytes"] for r in requests)})
            return
        if self.path != "/bundle.raucb":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        record = {"range": self.headers.get("Range"), "status": 0, "bytes": 0}
        with lock:
            state["active"] += 1
            data = state["data"]
        try:
            self.serve_file(next_mode(), data, record)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client stopped reading: what it took is counted
        finally:
            with lock:
                state["requests"].append(record)
                state["active"] -= 1
                lock.notify_all()

    def head(self, status, headers, record):
        record["status"] = status
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def send_body(self, data, record, pause=0.0, chunk=CHUNK):
        for i in range(0, len(data), chunk):
            self.wfile.write(data[i:i + chunk])
            record["bytes"] += len(data[i:i + chunk])
            if pause:
                time.sleep(pause)

    def serve_file(self, mode, data, record):
        name, n = mode["mode"], mode.get("bytes", 0)
        if name == "status":
            return self.head(mode["status"], [("Content-Length", "0")], record)
        if name == "redirect":
            return self.head(302, [("Location", mode["location"]), ("Content-Length", "0")], record)
        size = len(data)
        wanted = None if name in ("ignore_range", "wrong_range") else asked_range(self.headers.get("Range"), size)
        if wanted == "bad":
            return self.head(416, [("Content-Range", "bytes */%d" % size), ("Content-Length", "0")], record)
        first, last = wanted or (0, size - 1)
        body = data[first:last + 1]
        unframed = name == "unframed_extra" or mode.get("unframed")
        headers = [] if unframed else [("Content-Length", str(n if name == "wrong_length" else len(body)))]
        if wanted or name == "wrong_range":
            headers.append(("Content-Range", "bytes %d-%d/%d" % (first, last, size)))
        self.head(206 if wanted or name == "wrong_range" else 200, headers, record)
        if name == "cut":
            self.send_body(body[:n], record)
        elif name in ("extra", "unframed_extra"):
            self.send_body(body, record)
            for _ in range(0, n, CHUNK):   # zeros, a chunk at a time: a flood of any size without the memory
                self.send_body(bytes(CHUNK), record)
        elif name == "trickle":
            self.send_body(body[:n], record)
            self.send_body(body[n:], record, pause=0.5, chunk=1)
        else:
            self.send_body(body, record)
        self.close_connection = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    serve(Handler, parser.parse_args().port)


if __name__ == "__main__":
    main()
