#!/usr/bin/python3
"""A PostgREST (Supabase /rest/v1) stand-in for the appliance's tests: the clinic system's
tables (tests/cloud/seed_schema.sql) as cloud/migrations extend them, in memory, behind Supabase's auth
(apikey + Authorization: Bearer <HS256 JWT with a clinic_id claim>), with row-level
security by clinic, upserts as PostgREST does them, and fault switches.

  postgrest_standin.py --api-key KEY --jwt-secret SECRET [--port 0]
prints "PORT <n>" on its first line. Test control (no auth, never in the real API):
  POST /_control/fault   {"mode": "none|hang|hang_after|500|429|drop|401", "count": N, "retry_after": S, "methods": ["POST"]}
                         (hang_after: the write is done, then the answer never comes)
  POST /_control/reject  {"table", "id"}              writes carrying that row fail as a CHECK violation would
  POST /_control/seed    {"table": [rows...], ...}      rows inserted as given (updated_at set when absent)
  POST /_control/update  {"table", "id", "set": {...}}  like an UPDATE: bumps updated_at
  POST /_control/delete  {"table", "id"}                like a DELETE: leaves a tombstone
  POST /_control/token   {"clinic_id", "exp"?}          a device JWT signed with the secret
  POST /_control/revoke  {"token"}                      that token now gets 401
  POST /_control/pairing_code {"clinic_id", "device_id"}  a code for a new device token, as
                         consult_new_pairing_code makes (0005); the box claims it, once, at
                         POST /rest/v1/rpc/consult_claim_pairing_code with the API key only
  POST /_control/release {"version", "bundle_url", "sha256", "size_bytes", "channel"?, "rollout_percent"?, "withdrawn"?}
                         publishes a release (0006; channel stable, rollout 100 unless given; the
                         newest is the last published); a device asks for its release at
                         POST /rest/v1/rpc/consult_release_for_device ([] or [one row])
  POST /_control/device_release {"device_id", "channel"?, "pinned_version"?}  its channel and pin
  POST /rest/v1/consult_device_status?on_conflict=device_id: the device's own status row (0006);
                         GET /_control/rows?table=consult_device_status reads what was posted
  GET  /_control/stats   rows received per table, requests, faults served
  GET  /_control/rows?table=T   every row of T
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, __import__("os").path.dirname(__file__))
from postgrest_fleet import Fleet  # noqa
from postgrest_grammar import ApiError, parse_logic, parse_condition, parse_select, parse_order, parse_range, coerce  # noqa
from postgrest_tables import TABLES, Store  # noqa
from standin_server import serve  # noqa


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Faults:
    def __init__(self):
        self.mode, self.count, self.retry_after, self.methods, self.served = "none", 0, 1, None, {}
        self.release = threading.Event()

    def set(self, spec):
        self.mode = spec.get("mode", "none")
        self.count = int(spec.get("count", -1))
        self.retry_after = spec.get("retry_after", 1)
        self.methods = spec.get("methods")
        self.release.set()
        self.release = threading.Event()

    def take(self, method):
        """The fault for this request, or None."""
        if self.mode == "none" or self.count == 0:
            return None
        if self.methods and method not in self.methods:
            return None
        if self.count > 0:
            self.count -= 1
        self.served[self.mode] = self.served.get(self.mode, 0) + 1
        return self.mode


class State:
    def __init__(self, api_key, secret):
        self.api_key, self.secret = api_key, secret.encode()
        self.lock = threading.Lock()
        self.store = Store()
        self.faults = Faults()
        self.revoked = set()
        self.rejected = set()
        self.pairing = {}   # code (letters and digits only) -> the claim's row
        self.fleet = Fleet()
        self.requests = {}
        self.served = {}

    def sign(self, claims):
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps(claims).encode())
        sig = b64url(hmac.new(self.secret, (head + "." + body).encode(), hashlib.sha256).digest())
        return head + "." + body + "." + sig

    def claims(self, headers):
        """Supabase's gateway wants the apikey; PostgREST then checks the bearer JWT."""
        key = headers.get("apikey")
        if key is None:
            raise ApiError(401, "", "No API key found in request", hint="No `apikey` request header or url param was found.")
        if key != self.api_key:
            raise ApiError(401, "", "Invalid API key", hint="Double check your Supabase `anon` or `service_role` API key.")
        auth = headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            raise ApiError(401, "42501", "permission denied: an anonymous caller has no access to clinic data")
        token = auth[7:].strip()
        www = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if not token:
            raise ApiError(401, "PGRST301", "Empty JWT is sent in Authorization header", headers=www)
        parts = token.split(".")
        if len(parts) != 3:
            raise ApiError(401, "PGRST301", "Expected 3 parts in JWT; got %d" % len(parts), headers=www)
        want = b64url(hmac.new(self.secret, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(want, parts[2]):
            raise ApiError(401, "PGRST301", "JWSError JWSInvalidSignature", headers=www)
        claims = json.loads(b64url_decode(parts[1]))
        if "exp" in claims and claims["exp"] < time.time():
            raise ApiError(401, "PGRST303", "JWT expired", headers=www)
        if token in self.revoked:
            raise ApiError(401, "PGRST301", "JWT has been revoked for this device", headers=www)
        if not claims.get("clinic_id"):
            raise ApiError(403, "42501", "permission denied: the token names no clinic")
        return claims


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def dispatch(self, method):
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_control/"):
            return self.control(method, url, body)
        st = self.state
        with st.lock:
            st.requests[method] = st.requests.get(method, 0) + 1
            fault = st.faults.take(method) if url.path.startswith("/rest/v1/") else None
        if fault == "hang":
            st.faults.release.wait(120)
            self.close_connection = True
            return
        hanging_after = fault == "hang_after"
        if hanging_after:
            self.send_response = lambda *a, **k: None   # the work happens, the answer is lost
            self.send_header = self.end_headers = lambda *a, **k: None
            self.wfile = __import__("io").BytesIO()
            fault = None
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "500":
            return self.reply(500, {"code": "XX000", "details": None, "hint": None, "message": "internal error (fault switch)"})
        if fault == "429":
            return self.reply(429, {"code": "", "details": None, "hint": None, "message": "Too Many Requests"},
                              {"Retry-After": str(st.faults.retry_after)})
        if fault == "401":
            return self.reply(401, {"code": "PGRST301", "details": None, "hint": None, "message": "JWT has been revoked for this device"},
                              {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        try:
            if not url.path.startswith("/rest/v1/"):
                raise ApiError(404, "", "no Route matched with those values")
            table = url.path[len("/rest/v1/"):]
            if table == "rpc/consult_claim_pairing_code" and method == "POST":
                return self.claim_pairing_code(body)
            with st.lock:
                claims = st.claims(self.headers)
                if table == "rpc/consult_release_for_device" and method == "POST":
                    return self.reply(200, st.fleet.release_for(claims.get("device_id")))
                if table == "consult_device_status" and method == "POST":
                    return self.post_status(parse_qsl(url.query), body, claims)
                if table not in TABLES:
                    raise ApiError(404, "PGRST205", "Could not find the table 'public.%s' in the schema cache" % table)
                query = parse_qsl(url.query, keep_blank_values=True)
                if method == "GET":
                    return self.get(table, query, claims)
                if method == "POST":
                    return self.post(table, query, body, claims)
                if method == "DELETE":
                    return self.delete(table, query, claims)
                raise ApiError(405, "PGRST117", "Unsupported HTTP method: " + method)
        except ApiError as e:
            headers = dict(e.headers)
            return self.reply(e.status, e.body(), headers)
        finally:
            if hanging_after:
                st.faults.release.wait(120)
                self.close_connection = True

    def claim_pairing_code(self, body):
        """The anon key alone (Supabase's gateway); a wrong, used or expired code gets []."""
        st = self.state
        with st.lock:
            if self.headers.get("apikey") != st.api_key:
                raise ApiError(401, "", "Invalid API key", hint="Double check your Supabase `anon` or `service_role` API key.")
            try:
                code = json.loads(body or b"{}").get("code")
            except ValueError:
                raise ApiError(400, "PGRST102", "Empty or invalid json")
            typed = "".join(c for c in str(code or "") if c.isalnum()).upper() if len(str(code or "")) <= 32 else ""
            row = st.pairing.pop(typed, None)
            st.served["pairing_claims"] = st.served.get("pairing_claims", 0) + 1
        return self.reply(200, [row] if row else [])

    def json_rows(self, query, body, key):
        """A POST's rows, as PostgREST takes them: JSON objects of one shape, on_conflict on the key."""
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            raise ApiError(415, "PGRST107", "The request's Content-Type is not application/json")
        if dict(query).get("on_conflict", key) != key:
            raise ApiError(400, "42P10", "there is no unique or exclusion constraint matching the ON CONFLICT specification")
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            raise ApiError(400, "PGRST102", "Empty or invalid json")
        rows = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(r, dict) for r in rows):
            raise ApiError(400, "PGRST102", "All object keys must match")
        if rows and any(set(r) != set(rows[0]) for r in rows):
            raise ApiError(400, "PGRST102", "All object keys must match")
        return rows

    def post_status(self, query, body, claims):
        """The device's status upsert: on_conflict=device_id, Prefer: resolution=merge-duplicates."""
        rows = self.json_rows(query, body, "device_id")
        merge = "resolution=merge-duplicates" in self.headers.get("Prefer", "")
        inserted = self.state.fleet.upsert_status(rows, claims, merge)
        self.reply(201 if inserted or not merge else 200, None, {"Content-Range": "*/*"})

    def filters(self, table, query, skip):
        cols = TABLES[table]
        preds = []
        for k, v in query:
            if k in skip:
                continue
            if k in ("or", "and"):
                preds.append(parse_logic(k, v, cols))
            else:
                preds.append(parse_condition(k, v, cols))
        return preds

    def get(self, table, query, claims):
        q = dict(query)
        cols = parse_select(q.get("select", "*"), TABLES[table], table)
        preds = self.filters(table, query, {"select", "order", "limit", "offset"})
        order = parse_order(q["order"], TABLES[table]) if "order" in q else []
        rows = [r for r in self.state.store.visible(table, claims["clinic_id"]) if all(p(r) for p in preds)]
        for col, direction in reversed(order):
            kind = TABLES[table][col]
            rows.sort(key=lambda r: (r.get(col) is None, coerce(r.get(col), kind, col) if r.get(col) is not None else 0),
                      reverse=direction == "desc")
        offset, limit = parse_range(self.headers.get("Range"), self.headers.get("Range-Unit"))
        if "offset" in q:
            offset += int(q["offset"])
        if "limit" in q:
            limit = int(q["limit"]) if limit is None else min(limit, int(q["limit"]))
        total = len(rows)
        page = rows[offset:offset + limit if limit is not None else None]
        exact = "count=exact" in self.headers.get("Prefer", "")
        if exact and offset > total:
            raise ApiError(416, "PGRST103", "Requested range not satisfiable",
                           "An offset of %d was requested, but there are only %d rows." % (offset, total),
                           headers={"Content-Range": "*/%d" % total})
        crange = ("%d-%d" % (offset, offset + len(page) - 1) if page else "*") + "/" + (str(total) if exact else "*")
        status = 206 if exact and len(page) < total else 200
        self.state.served[table] = self.state.served.get(table, 0) + len(page)
        self.reply(status, [{c: r.get(c) for c in cols} for r in page], {"Content-Range": crange})

    def post(self, table, query, body, claims):
        rows = self.json_rows(query, body, "id")
        prefer = [p.strip() for p in self.headers.get("Prefer", "").split(",") if p.strip()]
        merge = "resolution=merge-duplicates" in prefer
        ignore = "resolution=ignore-duplicates" in prefer
        for r in rows:
            if (table, r.get("id")) in self.state.rejected:
                raise ApiError(400, "23514", 'new row for relation "%s" violates check constraint "%s_accepted"' % (table, table),
                               "Failing row contains (...).")
        inserted = self.state.store.upsert(table, rows, claims["clinic_id"], merge, ignore)
        applied = [p for p in prefer if p.startswith("resolution=") or p.startswith("return=")]
        headers = {"Content-Range": "*/*"}
        if applied:
            headers["Preference-Applied"] = ", ".join(applied)
        self.reply(201 if inserted > 0 or not (merge or ignore) else 200, None, headers)

    def delete(self, table, query, claims):
        preds = self.filters(table, query, set())
        self.state.store.delete_where(table, lambda r: all(p(r) for p in preds), claims["clinic_id"])
        self.reply(204, None, {"Content-Range": "*/*"})

    def control(self, method, url, body):
        st = self.state
        spec = json.loads(body or b"{}")
        with st.lock:
            path = url.path[len("/_control/"):]
            if path == "fault":
                st.faults.set(spec)
                return self.reply(200, {"mode": st.faults.mode})
            if path == "seed":
                for table, rows in spec.items():
                    st.store.seed(table, rows)
                return self.reply(200, {"ok": True})
            if path == "update":
                st.store.update(spec["table"], spec["id"], spec.get("set", {}))
                return self.reply(200, {"ok": True})
            if path == "column":   # a cloud before (type null: the column dropped) or after a migration
                table, column, kind = spec["table"], spec["column"], spec.get("type")
                if kind is None:
                    TABLES[table].pop(column, None)
                    for row in st.store.rows.get(table, {}).values():
                        row.pop(column, None)
                else:
                    TABLES[table][column] = kind
                return self.reply(200, {"ok": True})
            if path == "delete":
                st.store.remove(spec["table"], spec["id"])
                return self.reply(200, {"ok": True})
            if path == "token":
                claims = {"role": "consult_device", "clinic_id": spec["clinic_id"], "device_id": spec.get("device_id", "dev"),
                          "iat": int(time.time()), "jti": b64url(__import__("os").urandom(12))}
                if "exp" in spec:
                    claims["exp"] = spec["exp"]
                return self.reply(200, {"token": st.sign(claims)})
            if path == "pairing_code":
                alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
                code = "".join(alphabet[b % 32] for b in __import__("os").urandom(10))
                device = spec.get("device_id", "box-paired")
                token = st.sign({"role": "consult_device", "clinic_id": spec["clinic_id"], "device_id": device,
                                 "iat": int(time.time())})
                st.pairing[code] = {"clinic_id": spec["clinic_id"], "device_id": device, "device_token": token}
                return self.reply(200, {"code": code[:5] + "-" + code[5:], "token": token})
            if path == "release":
                st.fleet.publish(spec)
                return self.reply(200, {"ok": True})
            if path == "device_release":
                st.fleet.assign(spec)
                return self.reply(200, {"ok": True})
            if path == "reject":
                st.rejected.add((spec["table"], spec["id"]))
                return self.reply(200, {"ok": True})
            if path == "revoke":
                st.revoked.add(spec["token"])
                return self.reply(200, {"ok": True})
            if path == "stats":
                return self.reply(200, {"received": st.store.received, "received_ids": st.store.received_ids_summary(),
                                        "rows": {t: len(v) for t, v in st.store.rows.items()},
                                        "requests": st.requests, "served": st.served,
                                        "status_posts": st.fleet.status_posts,
                                        "faults_served": st.faults.served})
            if path == "rows":
                table = dict(parse_qsl(url.query)).get("table", "")
                if table == "consult_device_status":
                    return self.reply(200, list(st.fleet.status.values()))
                return self.reply(200, list(st.store.rows.get(table, {}).values()))
        self.reply(404, {"message": "unknown control " + url.path})

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--jwt-secret", required=True)
    a = ap.parse_args()
    Handler.state = State(a.api_key, a.jwt_secret)
    serve(Handler, a.port)


if __name__ == "__main__":
    main()
