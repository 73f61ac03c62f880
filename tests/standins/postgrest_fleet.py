"""Fleet updates in the PostgREST stand-in, as cloud/migrations/0006_fleet_updates.sql and 0007 have them:
releases and per-device channels/pins (set by tests through /_control, as clinic IT would with
the service role), consult_release_for_device() for the calling device, and the device's own
consult_device_status row, upserted on device_id and kept for tests to read."""

import hashlib
import json
import re
from datetime import datetime, timezone

from postgrest_grammar import ApiError

VERSION = r"[0-9A-Za-z.+~-]{1,64}"
RESULTS = {"installed", "rolled_back", "refused", "failed", "postponed", "unknown", "none"}   # 0007 added two
STATUS_COLUMNS = {"device_id", "clinic_id", "version", "booted_slot", "slot_marked_good", "last_update_version",
                  "last_update_result", "last_update_reason", "last_update_at", "uptime_seconds", "encoder", "camera",
                  "cloud_sync_state", "failures_last_day", "reported_at", "box_uptime_seconds"}
# 0007: booted_slot and slot_marked_good may be null (not an A/B box; state unreadable).
STATUS_REQUIRED = ("device_id", "clinic_id", "version", "uptime_seconds", "reported_at")
MAX_LENGTH = {"last_update_reason": 500, "encoder": 200, "camera": 200, "cloud_sync_state": 200}


def rollout_bucket(device_id, version):
    """0006's hash: the first 4 bytes of SHA-256(device_id:version), big-endian, mod 100."""
    return int.from_bytes(hashlib.sha256(("%s:%s" % (device_id, version)).encode()).digest()[:4], "big") % 100


def check_violation(column):
    return ApiError(400, "23514", 'new row for relation "consult_device_status" violates check constraint '
                    '"consult_device_status_%s_check"' % column, "Failing row contains (...).")


class Fleet:
    def __init__(self):
        self.releases = []     # in publishing order
        self.assignments = {}  # device_id -> {"channel", "pinned_version"}
        self.status = {}       # device_id -> the device's row
        self.status_posts = 0

    def publish(self, spec):
        """POST /_control/release: adds (or replaces, by channel and version) a release; rollout 100 unless given."""
        row = {"channel": spec.get("channel", "stable"), "version": spec["version"], "bundle_url": spec["bundle_url"],
               "sha256": spec["sha256"], "size_bytes": int(spec["size_bytes"]),
               "rollout_percent": int(spec.get("rollout_percent", 100)), "withdrawn": bool(spec.get("withdrawn"))}
        self.releases = [r for r in self.releases if (r["channel"], r["version"]) != (row["channel"], row["version"])]
        self.releases.append(row)

    def assign(self, spec):
        """POST /_control/device_release: a device's channel and pin."""
        self.assignments[spec["device_id"]] = {"channel": spec.get("channel", "stable"),
                                           "pinned_version": spec.get("pinned_version")}

    def release_for(self, device_id):
        """consult_release_for_device(): [] or [the one row]."""
        mine = self.assignments.get(device_id, {"channel": "stable", "pinned_version": None})
        live = [r for r in self.releases if r["channel"] == mine["channel"] and not r["withdrawn"]]
        pinned = [r for r in live if r["version"] == mine["pinned_version"]]
        covered = pinned or [r for r in live if rollout_bucket(device_id, r["version"]) < r["rollout_percent"]]
        if not covered:
            return []
        r = covered[-1]
        return [{k: r[k] for k in ("version", "bundle_url", "sha256", "size_bytes", "channel")}]

    def upsert_status(self, rows, claims, merge):
        """The device's own row only (0006's policies), all or nothing. Returns rows inserted."""
        staged = {}
        for raw in rows:
            unknown = set(raw) - STATUS_COLUMNS
            if unknown:
                raise ApiError(400, "PGRST204", "Could not find the '%s' column of 'consult_device_status' in the "
                               "schema cache" % sorted(unknown)[0])
            if raw.get("device_id") != claims.get("device_id") or raw.get("clinic_id") != claims.get("clinic_id"):
                raise ApiError(403, "42501", 'new row violates row-level security policy for table "consult_device_status"')
            existing = staged.get(raw["device_id"]) or self.status.get(raw["device_id"])
            if existing is not None and not merge:
                raise ApiError(409, "23505", 'duplicate key value violates unique constraint "consult_device_status_pkey"')
            row = dict(existing or dict({c: None for c in STATUS_COLUMNS}, failures_last_day={}))
            row.update(raw)
            self.check(row)
            row["updated_at"] = datetime.now(timezone.utc).isoformat()   # 0006's trigger
            staged[row["device_id"]] = row
        inserted = sum(1 for d in staged if d not in self.status)
        self.status.update(staged)
        self.status_posts += 1
        return inserted

    @staticmethod
    def check(row):
        for col in STATUS_REQUIRED:
            if row.get(col) is None:
                raise ApiError(400, "23502", 'null value in column "%s" of relation "consult_device_status" violates '
                               'not-null constraint' % col, "Failing row contains (...).")
        for col in ("version", "last_update_version"):
            if row.get(col) is not None and not re.fullmatch(VERSION, str(row[col])):
                raise check_violation(col)
        if row["booted_slot"] not in ("a", "b", None):
            raise check_violation("booted_slot")
        if row["last_update_result"] is not None and row["last_update_result"] not in RESULTS:
            raise check_violation("last_update_result")
        for col in ("uptime_seconds", "box_uptime_seconds"):
            value = row[col]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise check_violation(col)
        if row["slot_marked_good"] not in (True, False, None):
            raise ApiError(400, "22P02", 'invalid input syntax for type boolean: "%s"' % row["slot_marked_good"])
        for col, most in MAX_LENGTH.items():
            if row[col] is not None and len(str(row[col])) > most:
                raise check_violation(col)
        for col in ("reported_at", "last_update_at"):   # timestamptz: PostgreSQL refuses what it cannot read
            if row[col] is not None:
                try:
                    datetime.fromisoformat(str(row[col]).replace("Z", "+00:00"))
                except ValueError:
                    raise ApiError(400, "22007", 'invalid input syntax for type timestamp with time zone: "%s"' % row[col])
        failures = row["failures_last_day"]
        if not isinstance(failures, dict) or len(json.dumps(failures)) > 4096:
            raise check_violation("failures_last_day")
