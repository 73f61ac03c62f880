-- Consult Room Appliance, recordings: what a clinic applies after 0001 so its appliances
-- can sync what they record with the patient's consent. Apply it before updating the
-- appliances to a version that records (their rows are refused, and parked, without it).
--
--   * recording_consents: every consent asked (by whom, when, which text) and its answer
--     (given, declined, withdrawn, unanswered);
--   * recordings: a session's recording as metadata (state, times, size, codec, who
--     deleted it and why, where the clinic's storage keeps the composed file and its
--     SHA-256) — never a path on the appliance;
--   * recording_access: every read, download and deletion of a recording, by whom and
--     from which address;
--   * video_consultation_sessions.recording_sid: the seed's column, added when missing;
--   * row-level security: a device writes and reads only its own clinic's rows (as in
--     0001); clinic staff (Supabase's `authenticated` role, listed per clinic in
--     consult_clinic_staff) read their clinic's rows and nothing else, and write none;
--   * Supabase Storage (only where the storage schema exists): a private bucket
--     'consult-recordings'; a device puts objects under "<its clinic id>/..." only, and
--     staff read their clinic's folder.
--
-- Idempotent and transactional, like 0001.

BEGIN;

DO $$
BEGIN
  -- Supabase has it; a plain PostgreSQL (the RLS test) gets it here.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
END $$;

ALTER TABLE video_consultation_sessions ADD COLUMN IF NOT EXISTS recording_sid varchar(255);

-- Which signed-in users (auth.users ids, the JWT's `sub`) are staff of which clinic.
CREATE TABLE IF NOT EXISTS consult_clinic_staff (
  user_id     uuid NOT NULL,
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, clinic_id)
);

CREATE TABLE IF NOT EXISTS recording_consents (
  id              uuid PRIMARY KEY,
  clinic_id       uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  session_id      uuid NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  participant_id  uuid,
  asked_by        text NOT NULL,
  asked_at        timestamptz NOT NULL,
  text_version    text NOT NULL,
  text            text NOT NULL,
  answer          text CHECK (answer IS NULL OR answer IN ('given', 'declined', 'withdrawn', 'unanswered')),
  answered_at     timestamptz,
  withdrawn_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS recordings (
  id              uuid PRIMARY KEY,
  clinic_id       uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  session_id      uuid NOT NULL UNIQUE REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  recording_sid   text NOT NULL UNIQUE CHECK (recording_sid ~ '^RT[0-9a-f]{32}$'),
  state           text NOT NULL CHECK (state IN ('recording', 'paused', 'composing', 'ready', 'failed', 'deleted')),
  started_by      text NOT NULL,
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  duration_ms     bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  size_bytes      bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  parts           integer NOT NULL DEFAULT 0 CHECK (parts >= 0),
  container       text,
  codec           text,
  failure         text,
  deleted_at      timestamptz,
  deleted_by      text,
  delete_reason   text,
  storage_object  text,            -- "<bucket>/<clinic id>/<session id>/<recording sid>.<ext>" once uploaded
  sha256          text CHECK (sha256 IS NULL OR sha256 ~ '^[0-9a-f]{64}$'),
  uploaded_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS recording_access (
  id              uuid PRIMARY KEY,
  clinic_id       uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  recording_id    uuid NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  actor_id        text NOT NULL,
  actor_role      text NOT NULL,
  action          text NOT NULL CHECK (action IN ('read', 'download', 'delete')),
  address         text NOT NULL,
  at              timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS recording_consents_sync ON recording_consents(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS recording_consents_session ON recording_consents(session_id);
CREATE INDEX IF NOT EXISTS recordings_sync ON recordings(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS recording_access_sync ON recording_access(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS recording_access_recording ON recording_access(recording_id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['recording_consents', 'recordings', 'recording_access'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS consult_updated_at ON %I', t);
    EXECUTE format('CREATE TRIGGER consult_updated_at BEFORE INSERT OR UPDATE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION consult_touch_updated_at()', t);
  END LOOP;
END $$;

-- Row-level security -----------------------------------------------------------------------

-- The clinics of the signed-in staff member (the JWT's `sub`, as auth.uid() reads it).
CREATE OR REPLACE FUNCTION consult_staff_clinics() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT s.clinic_id
  FROM consult_clinic_staff s
  WHERE s.user_id::text = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
$$;
REVOKE ALL ON FUNCTION consult_staff_clinics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION consult_staff_clinics() TO authenticated;

-- Is this session one of the calling device's clinic? (A row's clinic_id must agree.)
CREATE OR REPLACE FUNCTION consult_device_session(session uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id
                 WHERE s.id = session AND a.clinic_id = consult_device_clinic())
$$;
REVOKE ALL ON FUNCTION consult_device_session(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION consult_device_session(uuid) TO consult_device;

ALTER TABLE consult_clinic_staff ENABLE ROW LEVEL SECURITY;   -- no policy: managed by the clinic's admins
ALTER TABLE recording_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE recordings ENABLE ROW LEVEL SECURITY;
ALTER TABLE recording_access ENABLE ROW LEVEL SECURITY;

-- Devices insert and update (PostgREST's upsert) their own rows; nobody deletes them.
GRANT SELECT, INSERT, UPDATE ON recording_consents, recordings, recording_access TO consult_device;
GRANT SELECT ON recording_consents, recordings, recording_access TO authenticated;

DROP POLICY IF EXISTS consult_device_all ON recording_consents;
CREATE POLICY consult_device_all ON recording_consents FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic())
  WITH CHECK (clinic_id = consult_device_clinic() AND consult_device_session(session_id));

DROP POLICY IF EXISTS consult_device_all ON recordings;
CREATE POLICY consult_device_all ON recordings FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic())
  WITH CHECK (clinic_id = consult_device_clinic() AND consult_device_session(session_id));

DROP POLICY IF EXISTS consult_device_all ON recording_access;
CREATE POLICY consult_device_all ON recording_access FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic())
  WITH CHECK (clinic_id = consult_device_clinic()
              AND EXISTS (SELECT 1 FROM recordings r WHERE r.id = recording_id AND r.clinic_id = consult_device_clinic()));

DROP POLICY IF EXISTS consult_staff_read ON recording_consents;
CREATE POLICY consult_staff_read ON recording_consents FOR SELECT TO authenticated
  USING (clinic_id IN (SELECT consult_staff_clinics()));
DROP POLICY IF EXISTS consult_staff_read ON recordings;
CREATE POLICY consult_staff_read ON recordings FOR SELECT TO authenticated
  USING (clinic_id IN (SELECT consult_staff_clinics()));
DROP POLICY IF EXISTS consult_staff_read ON recording_access;
CREATE POLICY consult_staff_read ON recording_access FOR SELECT TO authenticated
  USING (clinic_id IN (SELECT consult_staff_clinics()));

-- Supabase Storage: the bucket and who may put and read what in it --------------------------

DO $$
BEGIN
  IF to_regclass('storage.objects') IS NULL THEN
    RETURN;   -- not a Supabase project: no Storage here
  END IF;
  IF to_regclass('storage.buckets') IS NOT NULL THEN
    EXECUTE $q$INSERT INTO storage.buckets(id, name, public) VALUES ('consult-recordings', 'consult-recordings', false)
               ON CONFLICT (id) DO NOTHING$q$;
  END IF;
  EXECUTE 'GRANT USAGE ON SCHEMA storage TO consult_device';
  EXECUTE 'GRANT SELECT, INSERT, UPDATE ON storage.objects TO consult_device';
  -- Objects are "<clinic id>/<session id>/<recording sid>.<ext>": the first folder is the clinic.
  EXECUTE 'DROP POLICY IF EXISTS consult_device_recordings ON storage.objects';
  EXECUTE $q$CREATE POLICY consult_device_recordings ON storage.objects FOR ALL TO consult_device
             USING (bucket_id = 'consult-recordings' AND split_part(name, '/', 1) = consult_device_clinic()::text)
             WITH CHECK (bucket_id = 'consult-recordings' AND split_part(name, '/', 1) = consult_device_clinic()::text)$q$;
  EXECUTE 'DROP POLICY IF EXISTS consult_staff_recordings ON storage.objects';
  EXECUTE $q$CREATE POLICY consult_staff_recordings ON storage.objects FOR SELECT TO authenticated
             USING (bucket_id = 'consult-recordings'
                    AND split_part(name, '/', 1) IN (SELECT c::text FROM consult_staff_clinics() c))$q$;
END $$;

COMMIT;
