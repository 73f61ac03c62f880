"""A clinic backend receiving Twilio Video-shaped status callbacks, for the tests.

It checks each POST as such a backend would: X-Twilio-Signature computed with Twilio's
published algorithm (HMAC-SHA1 with the auth token over the full URL followed by every
parameter name and value, sorted by name; base64), and every parameter name and value
against the appliance's list (docs/status_callbacks.json). It answers 204, or what it is
told to answer next.

  python3 callback_receiver.py <auth-token> <status_callbacks.json>
  POST /room, /recording                 a callback (recorded, checked)
  GET  /_received                        [{path, params, signature_ok, problems}, ...]
  POST /_control/answer {"status": 503, "count": 5}   the next 5 callbacks get 503
  POST /_control/clear                   answers as usual (204) from now on
"""
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl

from standin_server import serve

TOKEN = sys.argv[1]
with open(sys.argv[2]) as f:
    SPEC = json.load(f)

lock = threading.Lock()
received = []
answers = []   # statuses to give next, in order


def signature(url, params):
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def problems_of(target, params):
    """What does not follow the list: unknown names, missing names, bad values or shapes."""
    spec = SPEC[target + "_status_url"]
    names = [k for k, _ in params]
    p = dict(params)
    out = []
    if len(set(names)) != len(names):
        out.append("a parameter appears twice")
    event = p.get("StatusCallbackEvent", "")
    if event not in spec["events"]:
        return out + ["unknown event %r" % event]
    allowed = set(spec["always"]) | set(spec.get(event, []))
    if target == "room" and event.startswith(("participant-", "track-")):
        allowed |= set(spec["participant_and_track_events"])
    if target == "room" and event.startswith("track-"):
        allowed |= set(spec["track_events"])
    for n in names:
        if n not in allowed:
            out.append("unexpected parameter %s for %s" % (n, event))
    for n in allowed:
        if n not in p:
            out.append("missing parameter %s for %s" % (n, event))
    for n, choices in SPEC["values"].items():
        if n in p and p[n] not in choices:
            out.append("%s=%r is not one of %s" % (n, p[n], choices))
    for n, shape in SPEC["sid_shapes"].items():
        if n in p and p[n] and not re.match(shape, p[n]):
            out.append("%s=%r is not shaped %s" % (n, p[n], shape))
    if not TIMESTAMP.match(p.get("Timestamp", "")):
        out.append("Timestamp %r" % p.get("Timestamp"))
    for n in ("SequenceNumber", "ParticipantDuration", "RoomDuration", "Duration", "Size", "OffsetFromTwilioVideoEpoch"):
        if n in p and not p[n].isdigit():
            out.append("%s=%r is not a whole number" % (n, p[n]))
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_received":
            with lock:
                return self.reply(200, json.dumps(received).encode())
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/_control/answer":
            spec = json.loads(body or b"{}")
            with lock:
                answers.extend([int(spec["status"])] * int(spec.get("count", 1)))
            return self.reply(200, b"{}")
        if self.path == "/_control/clear":
            with lock:
                answers.clear()
            return self.reply(200, b"{}")
        target = self.path.strip("/")
        if target not in ("room", "recording"):
            return self.reply(404)
        params = parse_qsl(body.decode(), keep_blank_values=True)
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        ok = hmac.compare_digest(signature(url, params), self.headers.get("X-Twilio-Signature", ""))
        with lock:
            status = answers.pop(0) if answers else 204
            received.append({"path": self.path, "params": params, "signature_ok": ok,
                             "content_type": self.headers.get("Content-Type", ""),
                             "problems": problems_of(target, params), "answered": status})
        self.reply(status)


serve(Handler, 0)
