#!/usr/bin/python3
"""A small SMTP server for the appliance's email tests (Python's smtpd is gone from
newer Pythons): EHLO/HELO, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA with dot-unstuffing,
RSET, NOOP, QUIT. Each accepted message is written to the spool directory as N.eml
with N.json beside it ({"mail_from", "rcpt", "auth_user"}).

  smtp_standin.py --spool DIR [--user U --password P] [--port 0]
prints "PORT <n>" on its first line. With --password, AUTH is required before MAIL.
"""

import argparse
import base64
import json
import os
import socketserver
import threading

counter_lock = threading.Lock()
counter = [0]


class Session(socketserver.StreamRequestHandler):
    opts = None

    def send(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def readline(self):
        raw = self.rfile.readline(65536)
        if not raw:
            raise EOFError
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def check_auth(self, user, password):
        o = self.opts
        return (o.user is None or user == o.user) and password == o.password

    def handle(self):
        o = self.opts
        self.send("220 consult-test-smtp ESMTP")
        mail_from, rcpt, auth_user = None, [], None
        try:
            while True:
                line = self.readline()
                verb = line[:4].upper()
                arg = line[5:] if len(line) > 5 else ""
                if verb == "EHLO":
                    self.send("250-consult-test-smtp")
                    self.send("250-8BITMIME")
                    if o.password is not None:
                        self.send("250-AUTH PLAIN LOGIN")
                    self.send("250 SIZE 10485760")
                elif verb == "HELO":
                    self.send("250 consult-test-smtp")
                elif verb == "AUTH":
                    parts = arg.split()
                    mech = parts[0].upper() if parts else ""
                    if mech == "PLAIN":
                        blob = parts[1] if len(parts) > 1 else None
                        if blob is None:
                            self.send("334 ")
                            blob = self.readline()
                        fields = base64.b64decode(blob).decode().split("\0")
                        user, password = (fields + ["", "", ""])[1:3]
                    elif mech == "LOGIN":
                        if len(parts) > 1:
                            user = base64.b64decode(parts[1]).decode()
                        else:
                            self.send("334 VXNlcm5hbWU6")
                            user = base64.b64decode(self.readline()).decode()
                        self.send("334 UGFzc3dvcmQ6")
                        password = base64.b64decode(self.readline()).decode()
                    else:
                        self.send("504 5.5.4 Unrecognized authentication type")
                        continue
                    if self.check_auth(user, password):
                        auth_user = user
                        self.send("235 2.7.0 Authentication successful")
                    else:
                        self.send("535 5.7.8 Authentication credentials invalid")
                elif verb == "MAIL":
                    if o.password is not None and auth_user is None:
                        self.send("530 5.7.0 Authentication required")
                        continue
                    mail_from, rcpt = arg.partition(":")[2].strip().split(" ")[0], []
                    self.send("250 2.1.0 OK")
                elif verb == "RCPT":
                    if mail_from is None:
                        self.send("503 5.5.1 MAIL first")
                        continue
                    to = arg.partition(":")[2].strip().split(" ")[0]
                    if to.strip("<>") in (o.reject or []):
                        self.send("550 5.1.1 No such user")
                        continue
                    rcpt.append(to)
                    self.send("250 2.1.5 OK")
                elif verb == "DATA":
                    if not rcpt:
                        self.send("503 5.5.1 RCPT first")
                        continue
                    self.send("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        raw = self.rfile.readline(1 << 20)
                        if not raw:
                            raise EOFError
                        if raw in (b".\r\n", b".\n"):
                            break
                        lines.append(raw[1:] if raw.startswith(b"..") else raw)
                    with counter_lock:
                        counter[0] += 1
                        n = counter[0]
                    base = os.path.join(o.spool, "%04d" % n)
                    with open(base + ".eml.tmp", "wb") as f:
                        f.write(b"".join(lines))
                    with open(base + ".json", "w") as f:
                        json.dump({"mail_from": mail_from, "rcpt": rcpt, "auth_user": auth_user}, f)
                    os.rename(base + ".eml.tmp", base + ".eml")   # the .eml appears whole, last
                    mail_from, rcpt = None, []
                    self.send("250 2.0.0 Queued as %d" % n)
                elif verb == "RSET":
                    mail_from, rcpt = None, []
                    self.send("250 2.0.0 OK")
                elif verb == "NOOP":
                    self.send("250 2.0.0 OK")
                elif verb == "QUIT":
                    self.send("221 2.0.0 Bye")
                    return
                else:
                    self.send("502 5.5.2 Command not recognized")
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--spool", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--reject", action="append", help="refuse RCPT to this address")
    Session.opts = ap.parse_args()
    os.makedirs(Session.opts.spool, exist_ok=True)
    server = Server(("127.0.0.1", Session.opts.port), Session)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
