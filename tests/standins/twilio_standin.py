#!/usr/bin/python3
"""A Twilio REST stand-in for the appliance's tests: Messages.json and Tokens.json of
the 2010-04-01 API as contracts/oai_api_v2010_*.json describe them, behind Basic auth
(Account SID + auth token, or API key SID + secret), refusing what Twilio refuses with
its error body {code, message, more_info, status}. It can also play Twilio's part in
status callbacks: signed (X-Twilio-Signature) POSTs to a message's StatusCallback,
in any order, repeated, or badly signed.

  twilio_standin.py --account-sid AC... --auth-token T [--api-key-sid SK... --api-key-secret S] [--port 0]
prints "PORT <n>" on its first line. Test control (no auth, never in the real API):
  POST /_control/fault    {"mode": "none|hang|500|429|drop", "count": N, "retry_after": S, "paths": ["Messages.json"]}
  POST /_control/opt_out  {"number": "+1..."}          sends to it fail with 21610 from now on
  POST /_control/ttl      {"ttl": "60"}                what Tokens.json answers when no Ttl is asked
  POST /_control/callback {"sid", "statuses": [...], "error_code"?, "repeat"?, "signature"?: "valid|bad|none",
                           "json"?: false}             replies: the appliance's HTTP statuses, in order
  GET  /_control/messages  every message created (To, Body, From, MessagingServiceSid, StatusCallback, sid)
  GET  /_control/stats     requests per path, answers by status, faults served
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from standin_server import serve  # the script's own folder is on sys.path

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/(Messages|Tokens)\.json$")
MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")


class TwilioError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self):
        return {"code": self.code, "message": self.message,
                "more_info": "https://www.twilio.com/docs/errors/%d" % self.code, "status": self.status}


def sign(token, url, params):
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def rfc2822_now():
    return format_datetime(datetime.now(timezone.utc)).replace("-0000", "+0000")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.messages = {}        # sid -> resource (plus the StatusCallback)
        self.order = []
        self.opted_out = set()
        self.ttl = "86400"
        self.stats = {"requests": {}, "answers": {}, "faults": 0, "tokens": 0}
        self.fault = {"mode": "none", "count": 0}
        self.release = threading.Event()

    def take_fault(self, path):
        with self.lock:
            f = self.fault
            if f["mode"] == "none" or f["count"] == 0:
                return None
            if f.get("paths") and not any(path.endswith(p) for p in f["paths"]):
                return None
            if f["count"] > 0:
                f["count"] -= 1
            self.stats["faults"] += 1
            return dict(f)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        with self.state.lock:
            key = str(status)
            self.state.stats["answers"][key] = self.state.stats["answers"].get(key, 0) + 1

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # --- auth and parameters, as Twilio checks them ---

    def authenticate(self, account):
        a = self.state.args
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            raise TwilioError(401, 20003, "Authenticate")
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except Exception:
            raise TwilioError(401, 20003, "Authenticate")
        good = (user == a.account_sid and hmac.compare_digest(password, a.auth_token)) or \
               (a.api_key_sid and user == a.api_key_sid and hmac.compare_digest(password, a.api_key_secret or ""))
        if not good:
            raise TwilioError(401, 20003, "Authenticate")
        if account != a.account_sid:
            raise TwilioError(404, 20404, "The requested resource %s was not found" % self.path)

    def form(self, body):
        # Only a form body is read; anything else (JSON...) reaches Twilio as no parameters at all.
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return []
        try:
            return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise TwilioError(400, 20001, "Invalid request body encoding")

    def create_message(self, account, params):
        p = {}
        for k, v in params:
            p.setdefault(k, v)
        to = p.get("To", "")
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            raise TwilioError(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if not p.get("Body") and not p.get("MediaUrl") and not p.get("ContentSid"):
            raise TwilioError(400, 21602, "Message body is required.")
        if len(p.get("Body", "")) > 1600:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        service = p.get("MessagingServiceSid", "")
        if not p.get("From") and not service:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if service and not re.match(r"^MG[0-9a-fA-F]{32}$", service):
            raise TwilioError(400, 21701, "The Messaging Service Sid %s is invalid." % service)
        if p.get("From") and not E164.match(p["From"]):
            raise TwilioError(400, 21212, "The 'From' number %s is not a valid phone number." % p["From"])
        cb = p.get("StatusCallback", "")
        if cb:
            u = urlsplit(cb)
            if u.scheme not in ("http", "https") or not u.hostname or "_" in u.hostname:
                raise TwilioError(400, 21609, "The StatusCallback URL %s is not a valid URL." % cb)
        if to in self.state.opted_out:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        now = rfc2822_now()
        msg = {
            "account_sid": account, "api_version": "2010-04-01", "body": p.get("Body", ""),
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": p.get("From") or None, "num_media": "0",
            "num_segments": "1", "price": None, "price_unit": "USD", "messaging_service_sid": service or None,
            "sid": sid, "status": "accepted" if service and not p.get("From") else "queued",
            "subresource_uris": {"media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json" % (account, sid)},
            "to": to, "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (account, sid),
        }
        with self.state.lock:
            self.state.messages[sid] = dict(msg, _status_callback=cb)
            self.state.order.append(sid)
        return msg

    def create_token(self, account, params):
        p = dict(params)
        ttl = self.state.ttl
        if "Ttl" in p:
            if not re.match(r"^[0-9]+$", p["Ttl"]):
                raise TwilioError(400, 20001, "Ttl must be an integer")
            ttl = p["Ttl"]
        user = secrets.token_hex(32)
        password = base64.b64encode(secrets.token_bytes(24)).decode()
        now = rfc2822_now()
        with self.state.lock:
            self.state.stats["tokens"] += 1
        return {
            "username": user, "password": password, "ttl": str(ttl), "account_sid": account,
            "date_created": now, "date_updated": now,
            "ice_servers": [
                {"url": "stun:global.stun.twilio.com:3478", "urls": "stun:global.stun.twilio.com:3478"},
                {"url": "turn:global.turn.twilio.com:3478?transport=udp", "username": user, "credential": password,
                 "urls": "turn:global.turn.twilio.com:3478?transport=udp"},
                {"username": user, "credential": password, "urls": "turn:global.turn.twilio.com:443?transport=tcp"},
            ],
        }

    # --- status callbacks, as Twilio sends them ---

    def callback(self, spec):
        a = self.state.args
        with self.state.lock:
            msg = self.state.messages.get(spec.get("sid", ""))
        if not msg:
            return 404, {"error": "no such message"}
        url = spec.get("url") or msg["_status_callback"]
        replies = []
        for status in spec.get("statuses", []):
            params = [("MessageSid", msg["sid"]), ("SmsSid", msg["sid"]), ("MessageStatus", status),
                      ("SmsStatus", status), ("AccountSid", msg["account_sid"]), ("To", msg["to"]),
                      ("ApiVersion", "2010-04-01")]
            if msg["from"]:
                params.append(("From", msg["from"]))
            if msg["messaging_service_sid"]:
                params.append(("MessagingServiceSid", msg["messaging_service_sid"]))
            if status in ("failed", "undelivered") and spec.get("error_code") is not None:
                params.append(("ErrorCode", str(spec["error_code"])))
            if status in ("delivered", "undelivered"):
                params.append(("RawDlrDoneDate", time.strftime("%y%m%d%H%M", time.gmtime())))
            for _ in range(int(spec.get("repeat", 1))):
                replies.append(self.post_callback(url, params, spec.get("signature", "valid"), spec.get("json", False)))
        return 200, {"replies": replies}

    def post_callback(self, url, params, signature, as_json):
        a = self.state.args
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        if as_json:
            body = json.dumps(dict(params)).encode()
            sep = "&" if "?" in url else "?"
            url = url + sep + "bodySHA256=" + hashlib.sha256(body).hexdigest()
            headers["Content-Type"] = "application/json"
            sig = sign(a.auth_token, url, [])
        else:
            body = "&".join(urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(v, safe="") for k, v in params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            sig = sign(a.auth_token, url, params)
        if signature == "bad":
            sig = sign(a.auth_token + "x", url, params)
        if signature != "none":
            headers["X-Twilio-Signature"] = sig
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except Exception:
            return 0

    # --- dispatch ---

    def control(self, method, path, body):
        s = self.state
        if method == "GET" and path == "/_control/messages":
            with s.lock:
                out = [{k: v for k, v in s.messages[sid].items()} for sid in s.order]
            return self.reply(200, {"messages": out})
        if method == "GET" and path == "/_control/stats":
            with s.lock:
                return self.reply(200, s.stats)
        spec = json.loads(body or b"{}")
        if path == "/_control/fault":
            with s.lock:
                s.fault = {"mode": spec.get("mode", "none"), "count": int(spec.get("count", -1)),
                           "retry_after": spec.get("retry_after"), "paths": spec.get("paths")}
                s.release.set()
                s.release = threading.Event()
            return self.reply(200, s.fault)
        if path == "/_control/opt_out":
            s.opted_out.add(spec["number"])
            return self.reply(200, {})
        if path == "/_control/ttl":
            s.ttl = str(spec["ttl"])
            return self.reply(200, {})
        if path == "/_control/callback":
            status, out = self.callback(spec)
            return self.reply(status, out)
        return self.reply(404, {"error": "unknown control " + path})

    def serve(self, method):
        path = urlsplit(self.path).path
        body = self.read_body()
        if path.startswith("/_control/"):
            return self.control(method, path, body)
        with self.state.lock:
            self.state.stats["requests"][path] = self.state.stats["requests"].get(path, 0) + 1
        fault = self.state.take_fault(path)
        if fault:
            mode = fault["mode"]
            if mode == "hang":
                self.state.release.wait(60)
                self.close_connection = True
                return
            if mode == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if mode == "500":
                return self.reply(500, TwilioError(500, 20500, "Internal Server Error").body())
            if mode == "429":
                headers = {} if fault.get("retry_after") is None else {"Retry-After": str(fault["retry_after"])}
                return self.reply(429, TwilioError(429, 20429, "Too Many Requests").body(), headers)
        try:
            m = ACCOUNT_PATH.match(path)
            g = MESSAGE_PATH.match(path)
            if m and method == "POST":
                self.authenticate(m.group(1))
                params = self.form(body)
                if m.group(2) == "Messages":
                    return self.reply(201, self.create_message(m.group(1), params))
                return self.reply(201, self.create_token(m.group(1), params))
            if g and method == "GET":
                self.authenticate(g.group(1))
                with self.state.lock:
                    msg = self.state.messages.get(g.group(2))
                if not msg:
                    raise TwilioError(404, 20404, "The requested resource %s was not found" % path)
                return self.reply(200, {k: v for k, v in msg.items() if not k.startswith("_")})
            if m or g:
                raise TwilioError(405, 20004, "Method not allowed")
            raise TwilioError(404, 20404, "The requested resource %s was not found" % path)
        except TwilioError as e:
            return self.reply(e.status, e.body())

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--account-sid", required=True)
    ap.add_argument("--auth-token", required=True)
    ap.add_argument("--api-key-sid")
    ap.add_argument("--api-key-secret")
    args = ap.parse_args()
    Handler.state = State(args)
    serve(Handler, args.port)


if __name__ == "__main__":
    main()
