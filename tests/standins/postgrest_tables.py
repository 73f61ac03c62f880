"""The cloud tables the stand-in serves (the clinic system's, tests/cloud/seed_schema.sql, as
cloud/migrations/0001_consult_appliance.sql, 0002_recordings.sql, 0008_session_ratings.sql and
0009_appointment_consultation.sql extend them) and what the
database would enforce on writes: types, NOT NULL, CHECKs, foreign keys, the updated_at trigger
(none on participants, which have no updated_at), deletion tombstones and row-level security by
clinic (of profiles: the doctors only). The seed's `timestamp` columns (TS0) hold UTC without a zone."""

from datetime import datetime, timezone
import json
import re

from postgrest_grammar import ApiError, coerce, parse_time

TS = "timestamptz"
TS0 = "timestamp"
TABLES = {
    "clinics": {"id": "uuid", "name": "text", "timezone": "text", "phone": "text", "email": "text",
                "created_at": TS, "updated_at": TS},
    "profiles": {"id": "uuid", "clinic_id": "uuid", "full_name": "text", "email": "text", "phone": "text",
                 "role": "text", "is_active": "bool", "created_at": TS, "updated_at": TS},
    "patients": {"id": "uuid", "clinic_id": "uuid", "full_name": "text", "phone": "text", "email": "text",
                 "notify_via": "text", "created_at": TS, "updated_at": TS},
    "appointments": {"id": "uuid", "clinic_id": "uuid", "doctor_id": "uuid", "patient_id": "uuid", "starts_at": TS,
                     "duration_minutes": "int", "consultation_type": "text", "status": "text", "reason": "text",
                     "video_session_id": "uuid", "consultation_id": "uuid", "created_at": TS, "updated_at": TS},
    "video_consultation_timings": {"id": "uuid", "clinic_id": "uuid", "doctor_id": "uuid", "day_of_week": "int",
                                   "start_time": "time", "end_time": "time", "duration_minutes": "int",
                                   "is_active": "bool", "created_at": TS0, "updated_at": TS0},
    "video_consultation_sessions": {"id": "uuid", "appointment_id": "uuid", "consultation_id": "uuid",
                                    "twilio_room_sid": "text", "room_name": "text", "status": "text",
                                    "doctor_token": "text", "patient_token": "text", "patient_joined_at": TS0,
                                    "doctor_joined_at": TS0, "started_at": TS0, "ended_at": TS0,
                                    "duration_seconds": "int", "recording_sid": "text", "recording_url": "text",
                                    "notes": "text", "created_at": TS0, "updated_at": TS0,
                                    "scheduled_duration_minutes": "int", "end_reason": "text"},
    "video_consultation_participants": {"id": "uuid", "session_id": "uuid", "user_id": "uuid", "user_type": "text",
                                        "participant_sid": "text", "joined_at": TS0, "left_at": TS0,
                                        "connection_quality": "json", "created_at": TS0},
    "recording_consents": {"id": "uuid", "clinic_id": "uuid", "session_id": "uuid", "participant_id": "uuid",
                           "asked_by": "text", "asked_at": TS, "text_version": "text", "text": "text", "answer": "text",
                           "answered_at": TS, "withdrawn_at": TS, "created_at": TS, "updated_at": TS},
    "recordings": {"id": "uuid", "clinic_id": "uuid", "session_id": "uuid", "recording_sid": "text", "state": "text",
                   "started_by": "text", "started_at": TS, "ended_at": TS, "duration_ms": "bigint",
                   "size_bytes": "bigint", "parts": "int", "container": "text", "codec": "text", "failure": "text",
                   "deleted_at": TS, "deleted_by": "text", "delete_reason": "text", "storage_object": "text",
                   "sha256": "text", "uploaded_at": TS, "created_at": TS, "updated_at": TS},
    "recording_access": {"id": "uuid", "clinic_id": "uuid", "recording_id": "uuid", "actor_id": "text",
                         "actor_role": "text", "action": "text", "address": "text", "at": TS,
                         "created_at": TS, "updated_at": TS},
    "consult_session_ratings": {"id": "uuid", "clinic_id": "uuid", "patient_id": "uuid", "score": "int",
                                "comment": "text", "rated_at": TS, "created_at": TS, "updated_at": TS},
    "consult_tombstones": {"id": "bigint", "clinic_id": "uuid", "table_name": "text", "row_id": "uuid",
                           "deleted_at": TS, "updated_at": TS},
}
REQUIRED = {
    "appointments": ["clinic_id", "doctor_id", "patient_id", "starts_at"],
    "video_consultation_timings": ["start_time", "end_time"],
    "video_consultation_sessions": ["room_name"],
    "recording_consents": ["clinic_id", "session_id", "asked_by", "asked_at", "text_version", "text"],
    "recordings": ["clinic_id", "session_id", "recording_sid", "state", "started_by", "started_at"],
    "recording_access": ["clinic_id", "recording_id", "actor_id", "actor_role", "action", "address", "at"],
    "consult_session_ratings": ["clinic_id", "patient_id", "score", "rated_at"],
}
CHECKS = {
    ("video_consultation_sessions", "status"): {"scheduled", "waiting", "in-progress", "completed", "cancelled"},
    ("video_consultation_participants", "user_type"): {"doctor", "patient"},
    ("appointments", "status"): {"scheduled", "confirmed", "completed", "cancelled", "no-show"},
    ("appointments", "consultation_type"): {"in-person", "video", "hybrid"},
    ("recording_consents", "answer"): {"given", "declined", "withdrawn", "unanswered"},
    ("recordings", "state"): {"recording", "paused", "composing", "ready", "failed", "deleted"},
    ("recording_access", "action"): {"read", "download", "delete"},
    ("consult_session_ratings", "score"): {1, 2, 3, 4, 5},
}
UNIQUE = {("video_consultation_sessions", "twilio_room_sid")}
PATTERNS = {("recordings", "recording_sid"): r"RT[0-9a-f]{32}", ("recordings", "sha256"): r"[0-9a-f]{64}"}
FOREIGN = {
    ("appointments", "doctor_id"): "profiles", ("appointments", "patient_id"): "patients",
    ("appointments", "video_session_id"): "video_consultation_sessions",
    ("video_consultation_timings", "doctor_id"): "profiles",
    ("video_consultation_sessions", "appointment_id"): "appointments",
    ("video_consultation_participants", "session_id"): "video_consultation_sessions",
    ("recording_consents", "session_id"): "video_consultation_sessions",
    ("recordings", "session_id"): "video_consultation_sessions",
    ("recording_access", "recording_id"): "recordings",
    ("consult_session_ratings", "id"): "video_consultation_sessions",
}
DEVICE_WRITES = {"appointments", "video_consultation_timings", "video_consultation_sessions",
                 "video_consultation_participants", "recording_consents", "recordings", "recording_access",
                 "consult_session_ratings"}
# Devices insert and update these (0002 grants no DELETE): the consent and access log stay.
NO_DEVICE_DELETE = {"recording_consents", "recordings", "recording_access", "consult_session_ratings"}
# 0001's and 0002's policies: the row's clinic_id must be the clinic of the doctor, session (or
# recording) it belongs to.
CLINIC_AGREES_WITH = {"video_consultation_timings": ("doctor_id", "profiles"),"recording_consents": ("session_id", "video_consultation_sessions"),
                      "recordings": ("session_id", "video_consultation_sessions"),
                      "recording_access": ("recording_id", "recordings"),
                      "consult_session_ratings": ("id", "video_consultation_sessions")}


def now(kind=TS):
    t = datetime.now(timezone.utc)
    return t.replace(tzinfo=None).isoformat() if kind == TS0 else t.isoformat()


def doctor(row):
    return row is not None and row.get("role") == "doctor"


def canonical(kind, value):
    """A value as PostgreSQL would store and PostgREST print it."""
    if value is None:
        return None
    if kind == TS:
        t = parse_time(str(value))
        if t is None:
            raise ApiError(400, "22007", 'invalid input syntax for type timestamp with time zone: "%s"' % value)
        return t.astimezone(timezone.utc).isoformat()
    if kind == TS0:
        return coerce(value, kind, "").replace(tzinfo=None).isoformat()
    if kind == "time":
        v = str(value)
        if len(v) == 5:
            v += ":00"
        return v
    if kind in ("int", "bigint"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ApiError(400, "22P02", 'invalid input syntax for type integer: "%s"' % json.dumps(value))
        return coerce(value, kind, "")
    if kind == "uuid":
        return coerce(value, kind, "")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ApiError(400, "22P02", 'invalid input syntax for type boolean: "%s"' % json.dumps(value))
        return value
    if kind == "json":
        return value
    return str(value)


class Store:
    def __init__(self):
        self.rows = {t: {} for t in TABLES}
        self.received = {}
        self.received_ids = {}
        self.next_tombstone = 1

    def clinic_of(self, table, row):
        if row is None:
            return None
        if table == "clinics":
            return row.get("id")
        if table == "profiles" and not doctor(row):
            return None   # devices see the clinic's doctors, not its staff
        if table in CLINIC_AGREES_WITH:
            col, parent_table = CLINIC_AGREES_WITH[table]
            parent = self.rows[parent_table].get(row.get(col))
            return row.get("clinic_id") if self.clinic_of(parent_table, parent) == row.get("clinic_id") else None
        if "clinic_id" in TABLES[table]:
            return row.get("clinic_id")
        parent_col = {"video_consultation_sessions": ("appointment_id", "appointments"),
                      "video_consultation_participants": ("session_id", "video_consultation_sessions")}[table]
        parent = self.rows[parent_col[1]].get(row.get(parent_col[0]))
        return self.clinic_of(parent_col[1], parent)

    def visible(self, table, clinic):
        return [r for r in self.rows[table].values() if self.clinic_of(table, r) == clinic]

    def check(self, table, row):
        for col in REQUIRED.get(table, []) + ["id"]:
            if row.get(col) is None:
                raise ApiError(400, "23502", 'null value in column "%s" of relation "%s" violates not-null constraint'
                               % (col, table), "Failing row contains (...).")
        for (t, col), allowed in CHECKS.items():
            if t == table and row.get(col) is not None and row[col] not in allowed:
                raise ApiError(400, "23514", 'new row for relation "%s" violates check constraint "%s_%s_check"'
                               % (table, table, col), "Failing row contains (...).")
        for (t, col), pattern in PATTERNS.items():
            if t == table and row.get(col) is not None and not re.fullmatch(pattern, row[col]):
                raise ApiError(400, "23514", 'new row for relation "%s" violates check constraint "%s_%s_check"'
                               % (table, table, col), "Failing row contains (...).")
        for (t, col), parent in FOREIGN.items():
            if t == table and row.get(col) is not None and row[col] not in self.rows[parent]:
                raise ApiError(409, "23503", 'insert or update on table "%s" violates foreign key constraint "%s_%s_fkey"'
                               % (table, table, col), 'Key (%s)=(%s) is not present in table "%s".' % (col, row[col], parent))
        for (t, col) in UNIQUE:
            if t == table and row.get(col) is not None and any(
                    r.get(col) == row[col] and r["id"] != row["id"] for r in self.rows[table].values()):
                raise ApiError(409, "23505", 'duplicate key value violates unique constraint "%s_%s_key"' % (table, col),
                               "Key (%s)=(%s) already exists." % (col, row[col]))

    def upsert(self, table, rows, clinic, merge, ignore):
        """All or nothing, like one INSERT ... ON CONFLICT statement. Returns rows inserted."""
        if table not in DEVICE_WRITES:
            raise ApiError(403, "42501", "permission denied for table " + table)
        cols = TABLES[table]
        staged, seen, inserted = {}, set(), 0
        for raw in rows:
            for k in raw:
                if k not in cols:
                    raise ApiError(400, "PGRST204", "Could not find the '%s' column of '%s' in the schema cache" % (k, table))
            row = {k: canonical(cols[k], v) for k, v in raw.items()}
            rid = row.get("id")
            if rid in seen and merge:
                raise ApiError(400, "21000", "ON CONFLICT DO UPDATE command cannot affect row a second time",
                               hint="Ensure that no rows proposed for insertion within the same command have "
                                    "duplicate constrained values.")
            seen.add(rid)
            existing = staged.get(rid) or self.rows[table].get(rid)
            if existing is not None:
                if ignore:
                    continue
                if not merge:
                    raise ApiError(409, "23505", 'duplicate key value violates unique constraint "%s_pkey"' % table,
                                   "Key (id)=(%s) already exists." % rid)
                if self.clinic_of(table, existing) != clinic:
                    raise ApiError(403, "42501", 'new row violates row-level security policy (USING expression) for '
                                   'table "%s"' % table)
                merged = dict(existing)
                merged.update(row)
                self.touch(table, merged)
            else:
                merged = {c: None for c in cols}
                merged.update(row)
                merged["created_at"] = merged.get("created_at") or now(cols["created_at"])
                self.touch(table, merged)
                inserted += 1
            self.check(table, merged)
            if self.clinic_of(table, merged) != clinic:
                raise ApiError(403, "42501", 'new row violates row-level security policy for table "%s"' % table)
            staged[rid] = merged
        self.rows[table].update(staged)
        self.received[table] = self.received.get(table, 0) + len(rows)
        ids = self.received_ids.setdefault(table, {})
        for r in rows:
            ids[r.get("id")] = ids.get(r.get("id"), 0) + 1
        return inserted

    @staticmethod
    def touch(table, row):
        """The updated_at trigger, where the table has an updated_at."""
        if "updated_at" in TABLES[table]:
            row["updated_at"] = now(TABLES[table]["updated_at"])

    def received_ids_summary(self):
        return {t: {"unique": len(ids), "max_per_id": max(ids.values()) if ids else 0}
                for t, ids in self.received_ids.items()}

    def seed(self, table, rows):
        cols = TABLES[table]
        for raw in rows:
            row = {c: None for c in cols}
            row.update({k: canonical(cols[k], v) for k, v in raw.items()})
            row["created_at"] = row.get("created_at") or now(cols["created_at"])
            if "updated_at" in cols:
                row["updated_at"] = row.get("updated_at") or now(cols["updated_at"])
            self.rows[table][row["id"]] = row

    def update(self, table, rid, changes):
        row = self.rows[table][rid]
        clinic = self.clinic_of(table, row)
        row.update({k: canonical(TABLES[table][k], v) for k, v in changes.items()})
        self.touch(table, row)
        if table == "profiles" and clinic is not None and self.clinic_of(table, row) != clinic:
            self.tombstone(clinic, table, rid)   # 0001's trigger: a doctor no longer one, or moved

    def remove(self, table, rid):
        """A DELETE in the cloud: the row goes, a tombstone (what the delete trigger writes) stays."""
        clinic = self.clinic_of(table, self.rows[table][rid])
        self.rows[table].pop(rid)
        if clinic is not None:
            self.tombstone(clinic, table, rid)

    def tombstone(self, clinic, table, rid):
        stamp = now()
        tid = self.next_tombstone
        self.next_tombstone += 1
        self.rows["consult_tombstones"][tid] = {"id": tid, "clinic_id": clinic, "table_name": table,
                                                "row_id": rid, "deleted_at": stamp, "updated_at": stamp}

    def delete_where(self, table, pred, clinic):
        if table not in DEVICE_WRITES or table in NO_DEVICE_DELETE:
            raise ApiError(403, "42501", "permission denied for table " + table)
        for r in [r for r in self.visible(table, clinic) if pred(r)]:
            self.remove(table, r["id"])
