-- Consult Room Appliance: what a clinic applies to its Supabase (PostgreSQL) project so
-- its appliances can sync through PostgREST (/rest/v1).
--
-- The clinic system's tables are used as they are: clinics, profiles (doctors and staff),
-- consultations and appointments, and the specification's video_consultation_timings,
-- _sessions and _participants (and the two columns it adds to appointments), whose DDL is
-- tests/cloud/seed_schema.sql. Nothing of theirs is renamed or dropped:
--
--   * the columns the appliance needs and they lack are added beside theirs, nullable or
--     with a default (a CHECK only on a column added here);
--   * tables the clinic system does not have are added beside them: patients,
--     consult_tombstones (deletions, so incremental readers see them) and consult_devices
--     (which appliance belongs to which clinic);
--   * updated_at kept by triggers, so the appliance reads incrementally by (updated_at, id);
--     the specification's participants have no updated_at, and the appliance only writes them;
--   * doctors are the profiles whose role is 'doctor'; a doctor deleted, moved to another
--     clinic or no longer a doctor leaves a tombstone for the clinic that loses them;
--   * row-level security: a device JWT (role consult_device, claims clinic_id and device_id)
--     sees and writes only its own clinic's rows (of profiles: its doctors, and only the
--     columns it reads), and only while its consult_devices row is not revoked. RLS is
--     enabled on the clinic system's tables too: Supabase has it on already; a project that
--     had it off needs policies for its own roles.
--
-- Apply once (psql -f, or the Supabase SQL editor), after the clinic system's own schema
-- (without it, it stops and says so). It is idempotent: applying it again changes nothing.
-- One transaction: all of it or none. A development project: tests/cloud/seed_stubs.sql,
-- then tests/cloud/seed_schema.sql, then these.

BEGIN;

-- The role PostgREST switches to for a device's JWT ({"role": "consult_device", ...}).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'consult_device') THEN
    CREATE ROLE consult_device NOLOGIN;
  END IF;
  -- Supabase's PostgREST logs in as "authenticator" and switches role per request.
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
    GRANT consult_device TO authenticator;
  END IF;
END $$;

-- The clinic system's tables ------------------------------------------------------------------

DO $$
BEGIN
  IF to_regclass('video_consultation_timings') IS NULL OR to_regclass('profiles') IS NULL THEN
    RAISE EXCEPTION 'the clinic system''s schema is missing (profiles, video_consultation_timings, ...): '
                    'apply it first (its specification''s DDL is tests/cloud/seed_schema.sql)';
  END IF;
END $$;

ALTER TABLE clinics ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE clinics ADD COLUMN IF NOT EXISTS timezone text NOT NULL DEFAULT 'UTC';
ALTER TABLE clinics ADD COLUMN IF NOT EXISTS phone text;
ALTER TABLE clinics ADD COLUMN IF NOT EXISTS email text;
ALTER TABLE clinics ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE clinics ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE profiles ADD COLUMN IF NOT EXISTS clinic_id uuid REFERENCES clinics(id);
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS full_name text;
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS email text;
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS phone text;
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS role text;              -- 'doctor' for doctors
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS is_active boolean NOT NULL DEFAULT true;
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

-- Patients: beside the clinic system's tables (the specification names none).
CREATE TABLE IF NOT EXISTS patients (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  full_name   text NOT NULL,
  phone       text,
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What the appliance needs beside the specification's columns ------------------------------

ALTER TABLE appointments ADD COLUMN IF NOT EXISTS clinic_id uuid REFERENCES clinics(id);
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS doctor_id uuid REFERENCES profiles(id);
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS patient_id uuid REFERENCES patients(id);
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS starts_at timestamptz;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS duration_minutes integer NOT NULL DEFAULT 30;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
DO $$
BEGIN
  -- The appointment's status (the appliance writes no-shows): constrained only when it is ours.
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'appointments'::regclass AND attname = 'status'
                 AND NOT attisdropped) THEN
    ALTER TABLE appointments ADD COLUMN status text NOT NULL DEFAULT 'scheduled'
      CONSTRAINT appointments_status_check CHECK (status IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no-show'));
  END IF;
END $$;

ALTER TABLE video_consultation_sessions ADD COLUMN IF NOT EXISTS scheduled_duration_minutes integer NOT NULL DEFAULT 30;
ALTER TABLE video_consultation_sessions ADD COLUMN IF NOT EXISTS end_reason text;

-- Deletions, for incremental readers.
CREATE TABLE IF NOT EXISTS consult_tombstones (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  clinic_id   uuid NOT NULL,
  table_name  text NOT NULL,
  row_id      uuid NOT NULL,
  deleted_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Which appliance belongs to which clinic; set revoked_at to cut a device off.
CREATE TABLE IF NOT EXISTS consult_devices (
  device_id   text PRIMARY KEY,
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  label       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- The incremental reads: (clinic, updated_at, id).
CREATE INDEX IF NOT EXISTS profiles_sync ON profiles(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS patients_sync ON patients(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS appointments_sync ON appointments(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS timings_sync ON video_consultation_timings(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS tombstones_sync ON consult_tombstones(clinic_id, updated_at, id);

-- Triggers ---------------------------------------------------------------------------------

-- clock_timestamp(), not now(): rows changed late in a long transaction still sort after
-- rows a reader has already passed.
CREATE OR REPLACE FUNCTION consult_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END $$;

-- The specification's `timestamp` columns (no zone) hold UTC, whatever the session's TimeZone.
CREATE OR REPLACE FUNCTION consult_touch_updated_at_utc() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp() AT TIME ZONE 'UTC';
  RETURN NEW;
END $$;

-- A timing written without its clinic (the specification allows it) takes its doctor's.
CREATE OR REPLACE FUNCTION consult_timing_clinic() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NEW.clinic_id IS NULL THEN
    SELECT p.clinic_id INTO NEW.clinic_id FROM profiles p WHERE p.id = NEW.doctor_id;
  END IF;
  RETURN NEW;
END $$;

-- A row a clinic's devices could read and no longer can: deleted, or (profiles) no longer
-- a doctor of that clinic.
CREATE OR REPLACE FUNCTION consult_record_deletion() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF TG_TABLE_NAME = 'profiles' THEN
    IF OLD.role::text IS DISTINCT FROM 'doctor' THEN
      RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
      IF NEW.role::text = 'doctor' AND NEW.clinic_id IS NOT DISTINCT FROM OLD.clinic_id THEN
        RETURN NULL;
      END IF;
    END IF;
  END IF;
  IF OLD.clinic_id IS NOT NULL THEN
    INSERT INTO consult_tombstones(clinic_id, table_name, row_id) VALUES (OLD.clinic_id, TG_TABLE_NAME, OLD.id);
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE
  t text;
  kind text;
BEGIN
  -- Every table with an updated_at: the trigger that fits its type; none where there is none.
  FOREACH t IN ARRAY ARRAY['clinics', 'profiles', 'patients', 'appointments', 'video_consultation_timings',
                           'video_consultation_sessions', 'video_consultation_participants'] LOOP
    SELECT format_type(atttypid, atttypmod) INTO kind FROM pg_attribute
      WHERE attrelid = t::regclass AND attname = 'updated_at' AND NOT attisdropped;
    EXECUTE format('DROP TRIGGER IF EXISTS consult_updated_at ON %I', t);
    IF kind = 'timestamp without time zone' THEN
      EXECUTE format('CREATE TRIGGER consult_updated_at BEFORE INSERT OR UPDATE ON %I '
                     'FOR EACH ROW EXECUTE FUNCTION consult_touch_updated_at_utc()', t);
    ELSIF kind IS NOT NULL THEN
      EXECUTE format('CREATE TRIGGER consult_updated_at BEFORE INSERT OR UPDATE ON %I '
                     'FOR EACH ROW EXECUTE FUNCTION consult_touch_updated_at()', t);
    END IF;
  END LOOP;
  FOREACH t IN ARRAY ARRAY['patients', 'appointments', 'video_consultation_timings'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS consult_tombstone ON %I', t);
    EXECUTE format('CREATE TRIGGER consult_tombstone AFTER DELETE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION consult_record_deletion()', t);
  END LOOP;
END $$;
DROP TRIGGER IF EXISTS consult_tombstone ON profiles;
CREATE TRIGGER consult_tombstone AFTER DELETE OR UPDATE OF role, clinic_id ON profiles
  FOR EACH ROW EXECUTE FUNCTION consult_record_deletion();
DROP TRIGGER IF EXISTS consult_timing_clinic ON video_consultation_timings;
CREATE TRIGGER consult_timing_clinic BEFORE INSERT OR UPDATE ON video_consultation_timings
  FOR EACH ROW EXECUTE FUNCTION consult_timing_clinic();
UPDATE video_consultation_timings t SET clinic_id = p.clinic_id
  FROM profiles p WHERE t.clinic_id IS NULL AND p.id = t.doctor_id AND p.clinic_id IS NOT NULL;

-- Row-level security -----------------------------------------------------------------------

-- The calling device's clinic: from the JWT PostgREST verified, and only while the device
-- is registered to that clinic and not revoked. NULL for anyone else (who then sees nothing).
CREATE OR REPLACE FUNCTION consult_device_clinic() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT d.clinic_id
  FROM consult_devices d
  WHERE d.device_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'device_id'
    AND d.clinic_id::text = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'clinic_id'
    AND d.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION consult_device_clinic() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION consult_device_clinic() TO consult_device;

ALTER TABLE clinics ENABLE ROW LEVEL SECURITY;
ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE video_consultation_timings ENABLE ROW LEVEL SECURITY;
ALTER TABLE video_consultation_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE video_consultation_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE consult_tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE consult_devices ENABLE ROW LEVEL SECURITY;   -- no policy for devices: they never read it

GRANT USAGE ON SCHEMA public TO consult_device;
-- Of the clinic system's clinics and profiles, only the columns the appliance reads.
GRANT SELECT (id, name, timezone, phone, email, created_at, updated_at) ON clinics TO consult_device;
GRANT SELECT (id, clinic_id, full_name, email, phone, role, is_active, created_at, updated_at) ON profiles
  TO consult_device;
GRANT SELECT ON patients, consult_tombstones TO consult_device;
GRANT SELECT, INSERT, UPDATE ON appointments, video_consultation_sessions, video_consultation_participants
  TO consult_device;
GRANT SELECT, INSERT, UPDATE, DELETE ON video_consultation_timings TO consult_device;

DROP POLICY IF EXISTS consult_device_read ON clinics;
CREATE POLICY consult_device_read ON clinics FOR SELECT TO consult_device USING (id = consult_device_clinic());
DROP POLICY IF EXISTS consult_device_read ON profiles;
CREATE POLICY consult_device_read ON profiles FOR SELECT TO consult_device
  USING (clinic_id = consult_device_clinic() AND role::text = 'doctor');
DROP POLICY IF EXISTS consult_device_read ON patients;
CREATE POLICY consult_device_read ON patients FOR SELECT TO consult_device USING (clinic_id = consult_device_clinic());
DROP POLICY IF EXISTS consult_device_read ON consult_tombstones;
CREATE POLICY consult_device_read ON consult_tombstones FOR SELECT TO consult_device
  USING (clinic_id = consult_device_clinic());

DROP POLICY IF EXISTS consult_device_all ON appointments;
CREATE POLICY consult_device_all ON appointments FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic()) WITH CHECK (clinic_id = consult_device_clinic());

-- A timing is its clinic's, and only for a doctor of that clinic.
DROP POLICY IF EXISTS consult_device_all ON video_consultation_timings;
CREATE POLICY consult_device_all ON video_consultation_timings FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic())
  WITH CHECK (clinic_id = consult_device_clinic()
              AND EXISTS (SELECT 1 FROM profiles p WHERE p.id = doctor_id AND p.clinic_id = consult_device_clinic()));

DROP POLICY IF EXISTS consult_device_all ON video_consultation_sessions;
CREATE POLICY consult_device_all ON video_consultation_sessions FOR ALL TO consult_device
  USING (EXISTS (SELECT 1 FROM appointments a WHERE a.id = appointment_id AND a.clinic_id = consult_device_clinic()))
  WITH CHECK (EXISTS (SELECT 1 FROM appointments a WHERE a.id = appointment_id AND a.clinic_id = consult_device_clinic()));

DROP POLICY IF EXISTS consult_device_all ON video_consultation_participants;
CREATE POLICY consult_device_all ON video_consultation_participants FOR ALL TO consult_device
  USING (EXISTS (SELECT 1 FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id
                 WHERE s.id = session_id AND a.clinic_id = consult_device_clinic()))
  WITH CHECK (EXISTS (SELECT 1 FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id
                      WHERE s.id = session_id AND a.clinic_id = consult_device_clinic()));

COMMIT;
