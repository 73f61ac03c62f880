#!/usr/bin/python3
"""A Supabase Storage (/storage/v1) stand-in for the appliance's tests: buckets and objects
in memory, the resumable upload endpoint (TUS 1.0.0: POST create, HEAD offset, PATCH
chunks), object info and download, the standard object upload, and object deletion
(one: DELETE /object/<bucket>/<name>; many: DELETE /object/<bucket> {"prefixes"}) —
behind Supabase's gateway (apikey) and the storage API's JWT check, with the storage
policies of cloud/migrations/0002 and 0003 (a device writes, reads and deletes only
"<its clinic>/...").

It refuses what the real service refuses, in its shapes (supabase/storage's error handler
and @tus/server): a bad or missing apikey: 401 {"message"}; a bad or missing JWT:
400 {"statusCode": "403", "code": "AccessDenied", ...}; another clinic's folder: 403 (TUS,
plain text) or 400 {"statusCode": "403"}; an object that exists: 409 (TUS) or 400
{"statusCode": "409", "error": "Duplicate"} unless x-upsert is true; over the bucket's
limit: 413 (TUS) or 400 {"statusCode": "413"}; a wrong Upload-Offset: 409; no
Tus-Resumable: 412; a wrong Content-Type on PATCH: 415; an unknown upload: 404.
Deleting one object answers 200 {"message": "Successfully deleted"}, or, as storage-api's
deleteObject does, 400 {"statusCode": "404", "code": "NoSuchKey"} when the object is not
there *or* the policies let no row be deleted; deleting many answers 200 with the objects
it deleted (those not there or not the device's are left out, silently), 400
{"statusCode": "400"} without a non-empty "prefixes".

  storage_standin.py --api-key KEY --jwt-secret SECRET [--port 0]
prints "PORT <n>" on its first line. Test control (no auth, never in the real API):
  POST /_control/bucket  {"id", "file_size_limit"?}   a (private) bucket
  POST /_control/fault   {"mode": "none|drop_mid_patch|500", "count": N}   (500: any storage request)
                         drop_mid_patch: the next PATCH keeps the first half of its body
                         (as the real server keeps what arrived), then the connection closes
  POST /_control/corrupt {"bucket", "name"}          flips a byte of a stored object
  POST /_control/policy  {"device_delete": false}    a project without 0003: devices read, never delete
  GET  /_control/objects every object: bucket, name, size, sha256 of the stored bytes, metadata
  GET  /_control/stats   requests by method, chunks received, faults served
  POST /_control/token   {"clinic_id"}               a device JWT signed with the secret
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.dirname(__file__))
from standin_server import serve  # noqa

TUS = "/storage/v1/upload/resumable"
PROJECT_LIMIT = 50 << 20


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def now():
    return datetime.now(timezone.utc).isoformat()


class Refused(Exception):
    """An answer other than success: status, JSON body (or text for TUS), headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(status_code, code, message, error=None):
    """The storage API's error: HTTP 400 (500 stays 500), the real status in the body."""
    return Refused(500 if status_code == 500 else 400,
                   {"statusCode": str(status_code), "code": code, "error": error or code, "message": message})


class State:
    def __init__(self, api_key, secret):
        self.api_key, self.secret = api_key, secret.encode()
        self.lock = threading.Lock()
        self.buckets = {}       # id -> file_size_limit (None: the project's)
        self.objects = {}       # (bucket, name) -> {data, metadata, content_type, id, version, created_at}
        self.uploads = {}       # upload id -> {bucket, name, length, data, metadata, upsert, clinic, content_type}
        self.fault, self.fault_count = "none", 0
        self.device_delete = True
        self.stats = {"requests": {}, "chunks": 0, "faults_served": 0, "creates": 0, "deleted": 0}

    def clinic(self, headers):
        """The gateway wants the apikey; the storage API then verifies the bearer JWT."""
        key = headers.get("apikey")
        if key is None:
            raise Refused(401, {"message": "No API key found in request"})
        if key != self.api_key:
            raise Refused(401, {"message": "Invalid API key"})
        auth = headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            raise api_error(403, "AccessDenied", "jwt must be provided", "Unauthorized")
        parts = token.split(".")
        if len(parts) != 3:
            raise api_error(403, "AccessDenied", "jwt malformed", "Unauthorized")
        want = b64url(hmac.new(self.secret, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(want, parts[2]):
            raise api_error(403, "AccessDenied", "invalid signature", "Unauthorized")
        claims = json.loads(b64url_decode(parts[1]))
        if "exp" in claims and claims["exp"] < time.time():
            raise api_error(403, "AccessDenied", "jwt expired", "Unauthorized")
        return claims.get("clinic_id") or ""

    def limit(self, bucket):
        return min(self.buckets.get(bucket) or PROJECT_LIMIT, PROJECT_LIMIT)

    def store(self, bucket, name, data, metadata, content_type, upsert):
        if (bucket, name) in self.objects and not upsert:
            return False
        self.objects[(bucket, name)] = {"data": bytes(data), "metadata": metadata, "content_type": content_type,
                                        "id": str(uuid.uuid4()), "version": str(uuid.uuid4()), "created_at": now()}
        return True


def allowed(clinic, name):
    """0002's storage policy: the first folder is the device's clinic."""
    return bool(clinic) and name.split("/", 1)[0] == clinic


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None, raw=None):
        data = raw if raw is not None else (b"" if body is None else
                                            (body.encode() if isinstance(body, str) else json.dumps(body).encode()))
        self.send_response(status)
        if raw is None and isinstance(body, (dict, list)):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        elif raw is None and isinstance(body, str):
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        if getattr(self, "body_read", False):
            return b""
        self.body_read = True
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def dispatch(self, method):
        url = urlsplit(self.path)
        st = self.state
        if url.path.startswith("/_control/"):
            return self.control(method, url.path[len("/_control/"):], self.read_body())
        self.body_read = False
        with st.lock:
            st.stats["requests"][method] = st.stats["requests"].get(method, 0) + 1
            fail = st.fault == "500" and st.fault_count != 0
            if fail:
                st.fault_count -= 1
                st.stats["faults_served"] += 1
        if fail:
            self.read_body()
            return self.reply(500, {"statusCode": "500", "code": "InternalError", "error": "InternalError",
                                    "message": "Internal server error (fault switch)"})
        path = ""
        try:
            path = unquote(url.path)
            if path == TUS or path.startswith(TUS + "/"):
                return self.tus(method, path[len(TUS):].strip("/"))
            if path.startswith("/storage/v1/object/"):
                return self.object(method, path[len("/storage/v1/object/"):])
            raise Refused(404, {"message": "no Route matched with those values"})
        except Refused as e:
            self.read_body()   # what is left of the request, so the connection stays usable
            headers = dict(e.headers)
            if path.startswith(TUS):
                headers.setdefault("Tus-Resumable", "1.0.0")
            return self.reply(e.status, e.body, headers)

    # ---------------------------------------------------------------- TUS

    def tus(self, method, upload_id):
        st = self.state
        with st.lock:
            clinic = st.clinic(self.headers)
        if self.headers.get("Tus-Resumable") != "1.0.0":
            raise Refused(412, "Unsupported TUS version", {"Tus-Version": "1.0.0"})
        if method == "POST" and not upload_id:
            return self.tus_create(clinic)
        with st.lock:
            up = st.uploads.get(upload_id)
        if up is None:
            raise Refused(404, "The file for this url was not found\n")
        if method == "HEAD":
            return self.reply(200, None, {"Upload-Offset": str(len(up["data"])), "Upload-Length": str(up["length"]),
                                          "Cache-Control": "no-store", "Tus-Resumable": "1.0.0"})
        if method == "PATCH":
            return self.tus_patch(upload_id, up, clinic)
        raise Refused(405, "Method not allowed\n")

    def tus_create(self, clinic):
        st = self.state
        length = self.headers.get("Upload-Length")
        if length is None or not length.isdigit():
            raise Refused(400, "Upload-Length or Upload-Defer-Length header required\n")
        meta = {}
        for pair in (self.headers.get("Upload-Metadata") or "").split(","):
            if pair.strip():
                k, _, v = pair.strip().partition(" ")
                meta[k] = base64.b64decode(v).decode() if v else ""
        bucket, name = meta.get("bucketName", ""), meta.get("objectName", "")
        if not bucket or not name:
            raise Refused(400, "Metadata header is required")
        upsert = self.headers.get("x-upsert") == "true"
        with st.lock:
            if bucket not in st.buckets:
                raise Refused(404, "Bucket not found")
            if not allowed(clinic, name):
                raise Refused(403, "new row violates row-level security policy")
            if (bucket, name) in st.objects and not upsert:
                raise Refused(409, "The resource already exists")
            if int(length) > st.limit(bucket):
                raise Refused(413, "Maximum size exceeded\n")
            try:
                user_meta = json.loads(meta.get("metadata") or "{}")
            except ValueError:
                user_meta = {}
            upload_id = b64url(("%s/%s/%s" % (bucket, name, uuid.uuid4())).encode())
            st.uploads[upload_id] = {"bucket": bucket, "name": name, "length": int(length), "data": bytearray(),
                                     "metadata": user_meta, "upsert": upsert, "clinic": clinic,
                                     "content_type": meta.get("contentType") or "application/octet-stream"}
            st.stats["creates"] += 1
        host = self.headers.get("Host", "127.0.0.1")
        self.reply(201, None, {"Location": "http://%s%s/%s" % (host, TUS, upload_id), "Tus-Resumable": "1.0.0"})

    def tus_patch(self, upload_id, up, clinic):
        st = self.state
        if self.headers.get("Content-Type") != "application/offset+octet-stream":
            raise Refused(415, "Invalid or missing Content-Type header\n")
        if up["clinic"] != clinic:
            raise Refused(403, "new row violates row-level security policy")
        offset = self.headers.get("Upload-Offset")
        n = int(self.headers.get("Content-Length") or 0)
        with st.lock:
            if offset is None or not offset.isdigit() or int(offset) != len(up["data"]):
                raise Refused(409, "Upload-Offset header and current offset do not match\n")
            if int(offset) + n > up["length"]:
                raise Refused(413, "Upload's size exceeded\n")
            drop = st.fault == "drop_mid_patch" and st.fault_count != 0 and n > 1
            if drop:
                st.fault_count -= 1
                st.stats["faults_served"] += 1
        self.body_read = True
        if drop:   # half of it arrives and is kept; then the line goes
            up["data"] += self.rfile.read(n // 2)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        body = self.rfile.read(n) if n else b""
        with st.lock:
            up["data"] += body
            st.stats["chunks"] += 1
            headers = {"Upload-Offset": str(len(up["data"])), "Tus-Resumable": "1.0.0"}
            if len(up["data"]) == up["length"]:
                if not st.store(up["bucket"], up["name"], up["data"], up["metadata"], up["content_type"], up["upsert"]):
                    raise Refused(409, "The resource already exists")
                del st.uploads[upload_id]
                headers["Tus-Complete"] = "1"
        self.reply(204, None, headers)

    # ---------------------------------------------------------------- objects

    def object(self, method, rest):
        st = self.state
        with st.lock:
            clinic = st.clinic(self.headers)
        if method == "DELETE":
            bucket, slash, name = rest.partition("/")
            return self.delete_object(bucket, name, clinic) if slash else self.delete_objects(bucket, clinic)
        for prefix, kind in (("info/authenticated/", "info"), ("info/", "info"), ("authenticated/", "get")):
            if rest.startswith(prefix):
                bucket, _, name = rest[len(prefix):].partition("/")
                return self.read_object(method, kind, bucket, name, clinic)
        bucket, _, name = rest.partition("/")
        if method in ("POST", "PUT"):
            return self.upload_object(method, bucket, name, clinic)
        raise Refused(404, {"message": "no Route matched with those values"})

    def read_object(self, method, kind, bucket, name, clinic):
        st = self.state
        with st.lock:
            obj = st.objects.get((bucket, name)) if allowed(clinic, name) else None
            if bucket not in st.buckets:
                raise api_error(404, "NoSuchBucket", "Bucket not found", "Bucket not found")
            if obj is None:   # not there, or not this clinic's: the same answer
                raise api_error(404, "NoSuchKey", "Object not found", "not_found")
            etag = '"%s"' % hashlib.md5(obj["data"]).hexdigest()
            if kind == "info":
                return self.reply(200, {"id": obj["id"], "name": name, "version": obj["version"], "bucket_id": bucket,
                                        "size": len(obj["data"]), "content_type": obj["content_type"],
                                        "cache_control": "max-age=3600", "etag": etag, "metadata": obj["metadata"],
                                        "last_modified": obj["created_at"], "created_at": obj["created_at"]},
                                  {"ETag": etag})
            data = obj["data"]
        self.reply(200, raw=data, headers={"Content-Type": obj["content_type"], "ETag": etag})

    def upload_object(self, method, bucket, name, clinic):
        st = self.state
        n = int(self.headers.get("Content-Length") or 0)
        with st.lock:
            if bucket not in st.buckets:
                raise api_error(404, "NoSuchBucket", "Bucket not found", "Bucket not found")
            if n > st.limit(bucket):
                raise api_error(413, "EntityTooLarge", "The object exceeded the maximum allowed size", "Payload too large")
            if not allowed(clinic, name):
                raise api_error(403, "AccessDenied", "new row violates row-level security policy", "Unauthorized")
        data = self.read_body()
        upsert = method == "PUT" or self.headers.get("x-upsert") == "true"
        with st.lock:
            if not st.store(bucket, name, data, {}, self.headers.get("Content-Type") or "application/octet-stream", upsert):
                raise api_error(409, "KeyAlreadyExists", "The resource already exists", "Duplicate")
            obj = st.objects[(bucket, name)]
        self.reply(200, {"Id": obj["id"], "Key": bucket + "/" + name})

    def may_delete(self, clinic, bucket, name):
        """The object is there and the device's DELETE policy reaches it (0003's grant)."""
        st = self.state
        return (bucket, name) in st.objects and st.device_delete and allowed(clinic, name)

    def delete_object(self, bucket, name, clinic):
        st = self.state
        self.read_body()
        with st.lock:
            # storage-api finds the object, then deletes under the policies: no row deleted is NoSuchKey too.
            if not self.may_delete(clinic, bucket, name):
                raise api_error(404, "NoSuchKey", "Object not found", "not_found")
            del st.objects[(bucket, name)]
            st.stats["deleted"] += 1
        self.reply(200, {"message": "Successfully deleted"})

    def delete_objects(self, bucket, clinic):
        st = self.state
        try:
            prefixes = json.loads(self.read_body() or b"{}").get("prefixes")
        except (ValueError, AttributeError):
            prefixes = None
        if not isinstance(prefixes, list) or not prefixes or not all(isinstance(p, str) for p in prefixes):
            raise Refused(400, {"statusCode": "400", "error": "Bad Request",
                                "message": "body/prefixes must be a non-empty array of strings"})
        deleted = []
        with st.lock:
            for name in prefixes:
                if self.may_delete(clinic, bucket, name):
                    obj = st.objects.pop((bucket, name))
                    st.stats["deleted"] += 1
                    deleted.append({"name": name, "bucket_id": bucket, "id": obj["id"], "version": obj["version"],
                                    "owner": None, "metadata": obj["metadata"], "created_at": obj["created_at"],
                                    "updated_at": obj["created_at"], "last_accessed_at": obj["created_at"]})
        self.reply(200, deleted)

    # ---------------------------------------------------------------- control

    def control(self, method, what, body):
        st = self.state
        spec = json.loads(body or b"{}")
        with st.lock:
            if what == "bucket":
                st.buckets[spec["id"]] = spec.get("file_size_limit")
                return self.reply(200, {"ok": True})
            if what == "fault":
                st.fault, st.fault_count = spec.get("mode", "none"), int(spec.get("count", -1))
                return self.reply(200, {"mode": st.fault})
            if what == "policy":
                st.device_delete = bool(spec.get("device_delete", True))
                return self.reply(200, {"device_delete": st.device_delete})
            if what == "corrupt":
                obj = st.objects[(spec["bucket"], spec["name"])]
                data = bytearray(obj["data"])
                data[len(data) // 2] ^= 0xFF
                obj["data"] = bytes(data)
                return self.reply(200, {"ok": True})
            if what == "objects":
                return self.reply(200, [{"bucket": b, "name": n, "size": len(o["data"]),
                                         "sha256": hashlib.sha256(o["data"]).hexdigest(), "metadata": o["metadata"],
                                         "content_type": o["content_type"]} for (b, n), o in st.objects.items()])
            if what == "token":   # a device JWT, as the PostgREST stand-in signs it
                head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
                claims = b64url(json.dumps({"role": "consult_device", "clinic_id": spec["clinic_id"],
                                            "device_id": spec.get("device_id", "dev")}).encode())
                sig = b64url(hmac.new(st.secret, (head + "." + claims).encode(), hashlib.sha256).digest())
                return self.reply(200, {"token": head + "." + claims + "." + sig})
            if what == "stats":
                return self.reply(200, dict(st.stats, uploads_open=len(st.uploads)))
        self.reply(404, {"message": "unknown control " + what})

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")


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
