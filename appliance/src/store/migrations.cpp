#include "appliance/store/migrations.hpp"

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace consult::store {

namespace {

#define NOW "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))"

// 1: the clinic's own records, as the cloud keeps them.
constexpr const char* kClinicCore = R"sql(
CREATE TABLE clinics (
  id          TEXT PRIMARY KEY CHECK (length(id) = 36),
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  timezone    TEXT NOT NULL DEFAULT 'UTC',
  phone       TEXT,
  email       TEXT,
  created_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE TABLE doctors (
  id          TEXT PRIMARY KEY CHECK (length(id) = 36),
  clinic_id   TEXT NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  full_name   TEXT NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
  email       TEXT,
  phone       TEXT,
  is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE INDEX doctors_clinic ON doctors(clinic_id);
CREATE TABLE patients (
  id          TEXT PRIMARY KEY CHECK (length(id) = 36),
  clinic_id   TEXT NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  full_name   TEXT NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
  phone       TEXT CHECK (phone IS NULL OR phone GLOB '+[1-9]*'),
  email       TEXT CHECK (email IS NULL OR email LIKE '%_@_%'),
  created_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE INDEX patients_clinic ON patients(clinic_id);
CREATE TABLE appointments (
  id                TEXT PRIMARY KEY CHECK (length(id) = 36),
  clinic_id         TEXT NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  doctor_id         TEXT NOT NULL REFERENCES doctors(id),
  patient_id        TEXT NOT NULL REFERENCES patients(id),
  starts_at         TEXT NOT NULL CHECK (starts_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z'),
  duration_minutes  INTEGER NOT NULL DEFAULT 30 CHECK (duration_minutes BETWEEN 5 AND 240),
  consultation_type TEXT NOT NULL DEFAULT 'in-person'
                    CHECK (consultation_type IN ('in-person', 'video', 'hybrid')),
  status            TEXT NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no-show')),
  reason            TEXT,
  created_at        TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at        TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE INDEX appointments_doctor_start ON appointments(doctor_id, starts_at);
CREATE INDEX appointments_clinic_sync ON appointments(clinic_id, updated_at, id);
)sql";

// 2: video consultations (the seed's video_consultation_* tables).
constexpr const char* kVideo = R"sql(
CREATE TABLE video_consultation_timings (
  id                    TEXT PRIMARY KEY CHECK (length(id) = 36),
  doctor_id             TEXT NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
  day_of_week           INTEGER NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
  start_time            TEXT NOT NULL CHECK (start_time GLOB '[0-2][0-9]:[0-5][0-9]'),
  end_time              TEXT NOT NULL CHECK (end_time GLOB '[0-2][0-9]:[0-5][0-9]'),
  slot_duration_minutes INTEGER NOT NULL DEFAULT 30 CHECK (slot_duration_minutes BETWEEN 5 AND 240),
  is_active             INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at            TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at            TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  CHECK (start_time < end_time)
);
CREATE INDEX timings_doctor_day ON video_consultation_timings(doctor_id, day_of_week);
CREATE TABLE video_consultation_sessions (
  id                          TEXT PRIMARY KEY CHECK (length(id) = 36),
  appointment_id              TEXT NOT NULL REFERENCES appointments(id),
  room_name                   TEXT NOT NULL UNIQUE CHECK (length(room_name) >= 22),
  status                      TEXT NOT NULL DEFAULT 'scheduled'
                              CHECK (status IN ('scheduled', 'waiting', 'in-progress', 'completed', 'cancelled')),
  scheduled_duration_minutes  INTEGER NOT NULL DEFAULT 30 CHECK (scheduled_duration_minutes BETWEEN 5 AND 480),
  started_at                  TEXT,
  ended_at                    TEXT,
  duration_seconds            INTEGER CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
  doctor_joined_at            TEXT,
  patient_joined_at           TEXT,
  recording_url               TEXT,
  end_reason                  TEXT,
  notes                       TEXT,
  created_at                  TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at                  TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  CHECK (ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX sessions_appointment ON video_consultation_sessions(appointment_id);
CREATE INDEX sessions_status ON video_consultation_sessions(status);
CREATE TABLE video_consultation_participants (
  id                 TEXT PRIMARY KEY CHECK (length(id) = 36),
  session_id         TEXT NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  user_id            TEXT NOT NULL,
  user_type          TEXT NOT NULL CHECK (user_type IN ('doctor', 'patient')),
  joined_at          TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  left_at            TEXT,
  connection_quality TEXT CHECK (connection_quality IS NULL OR json_valid(connection_quality)),
  CHECK (left_at IS NULL OR left_at >= joined_at)
);
CREATE INDEX participants_session ON video_consultation_participants(session_id);
CREATE TABLE session_transitions (
  id          INTEGER PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  from_status TEXT,
  to_status   TEXT NOT NULL,
  actor       TEXT NOT NULL,
  reason      TEXT,
  at          TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE INDEX transitions_session ON session_transitions(session_id);
ALTER TABLE appointments ADD COLUMN video_session_id TEXT
  REFERENCES video_consultation_sessions(id) ON DELETE SET NULL;
-- One live video booking per doctor and start time: double booking fails in SQL,
-- whichever request gets there second.
CREATE UNIQUE INDEX appointments_video_slot ON appointments(doctor_id, starts_at)
  WHERE consultation_type IN ('video', 'hybrid') AND status NOT IN ('cancelled', 'no-show');
)sql";

// 3: what leaves the box (outbox for the cloud) and who did what (audit).
constexpr const char* kOutboxAudit = R"sql(
CREATE TABLE outbox (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name      TEXT NOT NULL,
  row_id          TEXT NOT NULL,
  payload         TEXT NOT NULL CHECK (json_valid(payload)),
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at      TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT,
  last_error      TEXT,
  parked          INTEGER NOT NULL DEFAULT 0 CHECK (parked IN (0, 1))
);
CREATE INDEX outbox_pending ON outbox(parked, seq);
CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY,
  at             TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  actor          TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('doctor', 'patient', 'admin', 'system')),
  action         TEXT NOT NULL,
  session_id     TEXT,
  client_address TEXT,
  detail         TEXT CHECK (detail IS NULL OR json_valid(detail))
);
CREATE INDEX audit_session ON audit_log(session_id, at);
)sql";

// 4: what happens inside a call: chat, the patient's pre-call check.
constexpr const char* kCallRecords = R"sql(
CREATE TABLE chat_messages (
  id          TEXT PRIMARY KEY CHECK (length(id) = 36),
  session_id  TEXT NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  sender_type TEXT NOT NULL CHECK (sender_type IN ('doctor', 'patient')),
  sender_id   TEXT NOT NULL,
  text        TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
  sent_at     TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE INDEX chat_session ON chat_messages(session_id, sent_at);
ALTER TABLE video_consultation_participants ADD COLUMN precheck TEXT
  CHECK (precheck IS NULL OR json_valid(precheck));
)sql";

// 5: what was sent to patients (SMS, email) and what became of it; who opted out of SMS.
constexpr const char* kPatientMessages = R"sql(
CREATE TABLE outbound_messages (
  id            TEXT PRIMARY KEY CHECK (length(id) = 36),
  session_id    TEXT NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  patient_id    TEXT NOT NULL,
  purpose       TEXT NOT NULL CHECK (purpose IN ('invite', 'reminder', 'ready', 'summary')),
  channel       TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
  status        TEXT NOT NULL DEFAULT 'pending',
  provider_sid  TEXT UNIQUE,
  error_code    INTEGER,
  error_message TEXT,
  attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at    TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at    TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  UNIQUE (session_id, purpose, channel)
);
CREATE INDEX outbound_messages_status ON outbound_messages(status);
CREATE TABLE patient_sms_opt_outs (
  patient_id  TEXT PRIMARY KEY,
  error_code  INTEGER NOT NULL,
  at          TEXT NOT NULL
);
)sql";

// 6: kiosk sign-in: scrypt hashes of the doctors' and the admin's PINs.
constexpr const char* kKioskPins = R"sql(
CREATE TABLE kiosk_pins (
  subject     TEXT PRIMARY KEY,
  hash        TEXT NOT NULL CHECK (hash LIKE 'scrypt$%'),
  updated_at  TEXT NOT NULL
);
)sql";

// 7: tokens given up before they expire (kiosk sign-out), refused until their expiry.
constexpr const char* kRevokedTokens = R"sql(
CREATE TABLE revoked_tokens (
  jti         TEXT PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 64),
  expires_at  INTEGER NOT NULL
);
)sql";


// 8: recordings made with the patient's consent: the consent asked and answered, the
// recording of a session (its parts, state and where the media is), and every read.
// Deleting a recording removes its media, never these rows.
constexpr const char* kRecordings = R"sql(
CREATE TABLE recording_consents (
  id              TEXT PRIMARY KEY CHECK (length(id) = 36),
  session_id      TEXT NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  participant_id  TEXT,
  asked_by        TEXT NOT NULL,
  asked_at        TEXT NOT NULL,
  text_version    TEXT NOT NULL,
  text            TEXT NOT NULL,
  answer          TEXT CHECK (answer IS NULL OR answer IN ('given', 'declined', 'withdrawn', 'unanswered')),
  answered_at     TEXT,
  withdrawn_at    TEXT
);
CREATE INDEX recording_consents_session ON recording_consents(session_id);
CREATE TABLE recordings (
  id              TEXT PRIMARY KEY CHECK (length(id) = 36),
  session_id      TEXT NOT NULL UNIQUE REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  recording_sid   TEXT NOT NULL UNIQUE CHECK (recording_sid GLOB 'RT[0-9a-f]*' AND length(recording_sid) = 34),
  state           TEXT NOT NULL CHECK (state IN ('recording', 'paused', 'composing', 'ready', 'failed', 'deleted')),
  started_by      TEXT NOT NULL,
  started_at      TEXT NOT NULL,
  ended_at        TEXT,
  duration_ms     INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  size_bytes      INTEGER NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  media_file      TEXT,
  container       TEXT,
  codec           TEXT,
  failure         TEXT,
  deleted_at      TEXT,
  deleted_by      TEXT,
  delete_reason   TEXT,
  updated_at      TEXT NOT NULL
);
CREATE INDEX recordings_state ON recordings(state);
CREATE TABLE recording_parts (
  recording_id    TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  n               INTEGER NOT NULL CHECK (n >= 1),
  file            TEXT NOT NULL,
  started_at      TEXT NOT NULL,
  ended_at        TEXT,
  size_bytes      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (recording_id, n)
);
CREATE TABLE recording_access (
  id              INTEGER PRIMARY KEY,
  recording_id    TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  actor_id        TEXT NOT NULL,
  actor_role      TEXT NOT NULL,
  action          TEXT NOT NULL CHECK (action IN ('read', 'download', 'delete')),
  address         TEXT NOT NULL,
  at              TEXT NOT NULL
);
CREATE INDEX recording_access_recording ON recording_access(recording_id);
)sql";

// 9: composed recordings on their way to the clinic's cloud storage: a durable queue,
// one row per recording, made in the transaction that marks it ready (and here for the
// ready ones before this version). The TUS upload's URL lets an upload resume after a
// restart; `done` rows say where the object is and what it hashed to.
constexpr const char* kRecordingUploads = R"sql(
CREATE TABLE recording_uploads (
  recording_id    TEXT PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  bucket          TEXT,
  object_path     TEXT,
  upload_url      TEXT,
  size_bytes      INTEGER,
  sha256          TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
  upsert          INTEGER NOT NULL DEFAULT 0 CHECK (upsert IN (0, 1)),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error      TEXT,
  uploaded_at     TEXT,
  created_at      TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at      TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE INDEX recording_uploads_due ON recording_uploads(state, next_attempt_at);
INSERT INTO recording_uploads(recording_id) SELECT id FROM recordings WHERE state = 'ready';
)sql";

// 10: a recording deleted on this box takes its cloud copy with it: its upload row is
// kept as a deletion (`deleting`, retried like an upload) until the storage no longer
// has the object (`deleted`, and when). SQLite cannot widen a CHECK: the table is rebuilt.
constexpr const char* kCloudCopyDeletion = R"sql(
CREATE TABLE recording_uploads_v10 (
  recording_id    TEXT PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
  state           TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'done', 'failed', 'deleting', 'deleted')),
  bucket          TEXT,
  object_path     TEXT,
  upload_url      TEXT,
  size_bytes      INTEGER,
  sha256          TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
  upsert          INTEGER NOT NULL DEFAULT 0 CHECK (upsert IN (0, 1)),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error      TEXT,
  uploaded_at     TEXT,
  deleted_at      TEXT,
  created_at      TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at      TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
INSERT INTO recording_uploads_v10(recording_id, state, bucket, object_path, upload_url, size_bytes, sha256, upsert,
                                  attempts, next_attempt_at, last_error, uploaded_at, created_at, updated_at)
  SELECT recording_id, state, bucket, object_path, upload_url, size_bytes, sha256, upsert, attempts, next_attempt_at,
         last_error, uploaded_at, created_at, updated_at FROM recording_uploads;
-- Recordings deleted before this version whose copy was uploaded: theirs go now.
UPDATE recording_uploads_v10 SET state = 'deleting', attempts = 0, next_attempt_at = NULL
  WHERE state = 'done' AND recording_id IN (SELECT id FROM recordings WHERE state = 'deleted');
DROP TABLE recording_uploads;
ALTER TABLE recording_uploads_v10 RENAME TO recording_uploads;
CREATE INDEX recording_uploads_due ON recording_uploads(state, next_attempt_at);
)sql";

// 11: status callbacks in Twilio Video's shape for the clinic's backend: the seed's SIDs
// on sessions and participants (derived from the row's id, so they never differ), and a
// durable queue of callbacks with what became of each.
constexpr const char* kStatusCallbacks = R"sql(
ALTER TABLE video_consultation_sessions ADD COLUMN twilio_room_sid TEXT
  GENERATED ALWAYS AS ('RM' || replace(id, '-', '')) VIRTUAL;
ALTER TABLE video_consultation_participants ADD COLUMN participant_sid TEXT
  GENERATED ALWAYS AS ('PA' || replace(id, '-', '')) VIRTUAL;
CREATE TABLE status_callbacks (
  id              INTEGER PRIMARY KEY,
  target          TEXT NOT NULL CHECK (target IN ('room', 'recording')),
  url             TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  event           TEXT NOT NULL,
  params          TEXT NOT NULL CHECK (json_valid(params)),
  event_at        TEXT NOT NULL,
  sequence        INTEGER NOT NULL CHECK (sequence >= 0),
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'refused', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  done_at         TEXT
);
CREATE INDEX status_callbacks_due ON status_callbacks(target, state, event_at, id);
)sql";

// 12: a short link a person can read out (/j/<code>): 8 characters from 32 without
// look-alikes (40 bits), one per session, gone with it.
constexpr const char* kShortLinks = R"sql(
CREATE TABLE short_links (
  code       TEXT PRIMARY KEY CHECK (length(code) = 8 AND code NOT GLOB '*[^23456789ABCDEFGHJKLMNPQRSTUVWXYZ]*'),
  session_id TEXT NOT NULL UNIQUE REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
)sql";

// 13: the patient's rating of a consultation after it (1-5, an optional comment), once.
constexpr const char* kRatings = R"sql(
CREATE TABLE session_ratings (
  session_id TEXT PRIMARY KEY REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  patient_id TEXT NOT NULL,
  score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment    TEXT CHECK (comment IS NULL OR length(comment) <= 1000),
  created_at TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
)sql";

// 14: the patient's journey. Messages say which appointment time they told the patient
// (`about`): a reminder or an update goes once per time, the rest once per session; an
// update when the appointment moved, a cancellation when it was cancelled; the doctor's
// summary for the patient (visit_summaries), shown behind the invite's code. Patients may
// choose how they hear (notify_via). Every booking or change of an appointment queues it
// for the appliance to prepare, update or cancel its session (appointment_changes, filled
// by triggers whoever writes: the API, the cloud pull or a person with sqlite3).
constexpr const char* kPatientJourney = R"sql(
CREATE TABLE outbound_messages_v14 (
  id            TEXT PRIMARY KEY CHECK (length(id) = 36),
  session_id    TEXT NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  patient_id    TEXT NOT NULL,
  purpose       TEXT NOT NULL
                CHECK (purpose IN ('invite', 'reminder', 'ready', 'summary', 'update', 'cancellation',
                                   'visit_summary')),
  channel       TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
  about         TEXT NOT NULL DEFAULT '',
  status        TEXT NOT NULL DEFAULT 'pending',
  provider_sid  TEXT UNIQUE,
  error_code    INTEGER,
  error_message TEXT,
  attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at    TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at    TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  UNIQUE (session_id, purpose, channel, about)
);
INSERT INTO outbound_messages_v14(id, session_id, patient_id, purpose, channel, about, status, provider_sid,
                                  error_code, error_message, attempts, created_at, updated_at)
  SELECT m.id, m.session_id, m.patient_id, m.purpose, m.channel,
         coalesce((SELECT a.starts_at FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id
                   WHERE s.id = m.session_id), ''),
         m.status, m.provider_sid, m.error_code, m.error_message, m.attempts, m.created_at, m.updated_at
  FROM outbound_messages m;
DROP TABLE outbound_messages;
ALTER TABLE outbound_messages_v14 RENAME TO outbound_messages;
CREATE INDEX outbound_messages_status ON outbound_messages(status);
ALTER TABLE patients ADD COLUMN notify_via TEXT
  CHECK (notify_via IS NULL OR notify_via IN ('sms', 'email', 'both', 'none'));
CREATE TABLE visit_summaries (
  session_id  TEXT PRIMARY KEY REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  text        TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
  ref         TEXT NOT NULL UNIQUE CHECK (length(ref) = 32),
  wrong_codes INTEGER NOT NULL DEFAULT 0 CHECK (wrong_codes >= 0),
  created_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(,
  updated_at  TEXT NOT NULL DEFAULT )sql" NOW R"sql(
);
CREATE TABLE appointment_changes (
  appointment_id TEXT PRIMARY KEY,
  queued_at      TEXT NOT NULL,
  attempts       INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER appointment_booked AFTER INSERT ON appointments BEGIN
  INSERT INTO appointment_changes(appointment_id, queued_at) VALUES (new.id, )sql" NOW R"sql()
    ON CONFLICT(appointment_id) DO UPDATE SET queued_at = excluded.queued_at, attempts = 0;
END;
CREATE TRIGGER appointment_changed AFTER UPDATE OF starts_at, status, consultation_type, patient_id ON appointments
  WHEN old.starts_at IS NOT new.starts_at OR old.status IS NOT new.status
    OR old.consultation_type IS NOT new.consultation_type OR old.patient_id IS NOT new.patient_id BEGIN
  INSERT INTO appointment_changes(appointment_id, queued_at) VALUES (new.id, )sql" NOW R"sql()
    ON CONFLICT(appointment_id) DO UPDATE SET queued_at = excluded.queued_at, attempts = 0;
END;
)sql";

// 15: the clinic system's consultation an appointment belongs to (its cloud's
// appointments.consultation_id, cloud/migrations/0009); its session goes up with it, in
// the seed's video_consultation_sessions.consultation_id.
constexpr const char* kConsultationLink = R"sql(
ALTER TABLE appointments ADD COLUMN consultation_id TEXT CHECK (consultation_id IS NULL OR length(consultation_id) = 36);
)sql";

#undef NOW

const Migration kMigrations[] = {
    {1, "clinic core: clinics, doctors, patients, appointments", kClinicCore},
    {2, "video consultations: timings, sessions, participants, transitions", kVideo},
    {3, "outbox and audit log", kOutboxAudit},
    {4, "chat messages and pre-call checks", kCallRecords},
    {5, "messages to patients and SMS opt-outs", kPatientMessages},
    {6, "kiosk PINs", kKioskPins},
    {7, "revoked tokens", kRevokedTokens},
    {8, "recordings, their parts, consent and access", kRecordings},
    {9, "recording uploads to the clinic's cloud storage", kRecordingUploads},
    {10, "a deleted recording's cloud copy deleted too", kCloudCopyDeletion},
    {11, "status callbacks and the seed's room and participant SIDs", kStatusCallbacks},
    {12, "short links a person can read out", kShortLinks},
    {13, "patients' ratings of their consultations", kRatings},
    {14, "the patient's journey: confirmations, updates, cancellations, summaries, preferences", kPatientJourney},
    {15, "the clinic's consultation an appointment belongs to", kConsultationLink},
};

// Stands for a next release's migration in the test of going back to an older version
// (CONSULT_TEST_NEXT_SCHEMA=1): a column on a table the older version knows and a table
// it does not.
constexpr const char* kNextReleaseForTests = R"sql(
ALTER TABLE video_consultation_sessions ADD COLUMN next_release_note TEXT;
CREATE TABLE next_release_things (
  id   TEXT PRIMARY KEY,
  note TEXT NOT NULL
);
)sql";

std::span<const Migration> with_test_hook() {
    static const std::vector<Migration> with_next = [] {
        std::vector<Migration> all(std::begin(kMigrations), std::end(kMigrations));
        all.push_back({all.back().version + 1, "test: what a next release might add", kNextReleaseForTests});
        return all;
    }();
    const char* next = std::getenv("CONSULT_TEST_NEXT_SCHEMA");
    if (next && std::string_view(next) == "1") return with_next;
    return kMigrations;
}

}  // namespace

std::span<const Migration> migrations() { return with_test_hook(); }
int latest_schema_version() { return migrations().back().version; }

std::vector<const Migration*> pending_migrations(Database& db) {
    const int current = db.user_version();
    if (current > latest_schema_version())
        throw StoreError(0, "database schema version " + std::to_string(current) +
                                " is newer than this build knows (" + std::to_string(latest_schema_version()) +
                                "); refusing to run an older consultd on it");
    std::vector<const Migration*> out;
    for (const auto& m : migrations())
        if (m.version > current) out.push_back(&m);
    return out;
}

int migrate(Database& db, int target) {
    if (target < 0) target = latest_schema_version();
    int applied = 0;
    for (const Migration* m : pending_migrations(db)) {
        if (m->version > target) break;
        Transaction tx(db);
        try {
            db.exec(m->sql);
        } catch (const StoreError& e) {
            throw StoreError(e.code(), "migration " + std::to_string(m->version) + " (" + m->name + "): " + e.what());
        }
        db.exec("PRAGMA user_version=" + std::to_string(m->version));
        tx.commit();
        ++applied;
    }
    return applied;
}

}  // namespace consult::store
