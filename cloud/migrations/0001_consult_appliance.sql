-- Consult Room Appliance: what a clinic applies to its Supabase (PostgreSQL) project so
-- its appliances can sync through PostgREST (/rest/v1).
--
--   * the tables the appliance reads (clinics, doctors, patients, appointments,
--     video_consultation_timings) and writes (video_consultation_sessions and
--     _participants; appointment status, e.g. no-shows; timings edited on the box);
--     existing tables are kept, and only missing columns are added;
--   * updated_at kept by triggers, so the appliance can read incrementally by (updated_at, id);
--   * consult_tombstones, written by delete triggers, so deletions reach the appliance;
--   * row-level security: a device JWT (role consult_device, claims clinic_id and device_id)
--     sees and writes only its own clinic's rows, and only while its consult_devices row is
--     not revoked.
--
-- Apply once (psql -f, or the Supabase SQL editor). It is idempotent: applying it again
-- changes nothing. One transaction: all of it or none of it.

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

-- Tables -----------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS clinics (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  timezone    text NOT NULL DEFAULT 'UTC',
  phone       text,
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS doctors (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  full_name   text NOT NULL,
  email       text,
  phone       text,
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS patients (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  full_name   text NOT NULL,
  phone       text,
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS appointments (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- The columns the appliance reads (and the status it writes back), added to an existing table too.
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS doctor_id uuid REFERENCES doctors(id);
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS patient_id uuid REFERENCES patients(id);
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS starts_at timestamptz;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS duration_minutes integer NOT NULL DEFAULT 30;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS consultation_type text NOT NULL DEFAULT 'in-person';
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'scheduled';
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS video_session_id uuid;   -- no FK: sessions point here
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'appointments_consultation_type_check') THEN
    ALTER TABLE appointments ADD CONSTRAINT appointments_consultation_type_check
      CHECK (consultation_type IN ('in-person', 'video', 'hybrid'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'appointments_status_check') THEN
    ALTER TABLE appointments ADD CONSTRAINT appointments_status_check
      CHECK (status IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no-show'));
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS video_consultation_timings (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  doctor_id             uuid NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
  day_of_week           integer NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
  start_time            time NOT NULL,
  end_time              time NOT NULL,
  slot_duration_minutes integer NOT NULL DEFAULT 30 CHECK (slot_duration_minutes BETWEEN 5 AND 240),
  is_active             boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (start_time < end_time)
);

CREATE TABLE IF NOT EXISTS video_consultation_sessions (
  id                          uuid PRIMARY KEY,
  appointment_id              uuid NOT NULL REFERENCES appointments(id),
  room_name                   text NOT NULL UNIQUE,
  status                      text NOT NULL DEFAULT 'scheduled'
                              CHECK (status IN ('scheduled', 'waiting', 'in-progress', 'completed', 'cancelled')),
  scheduled_duration_minutes  integer NOT NULL DEFAULT 30,
  started_at                  timestamptz,
  ended_at                    timestamptz,
  duration_seconds            integer CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
  doctor_joined_at            timestamptz,
  patient_joined_at           timestamptz,
  recording_url               text,
  end_reason                  text,
  notes                       text,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS video_consultation_participants (
  id                 uuid PRIMARY KEY,
  session_id         uuid NOT NULL REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  user_id            text NOT NULL,
  user_type          text NOT NULL CHECK (user_type IN ('doctor', 'patient')),
  joined_at          timestamptz NOT NULL DEFAULT now(),
  left_at            timestamptz,
  connection_quality jsonb,
  precheck           jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

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
CREATE INDEX IF NOT EXISTS doctors_sync ON doctors(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS patients_sync ON patients(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS appointments_sync ON appointments(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS timings_sync ON video_consultation_timings(doctor_id, updated_at, id);
CREATE INDEX IF NOT EXISTS tombstones_sync ON consult_tombstones(clinic_id, updated_at, id);
CREATE INDEX IF NOT EXISTS sessions_appointment ON video_consultation_sessions(appointment_id);
CREATE INDEX IF NOT EXISTS participants_session ON video_consultation_participants(session_id);

-- Triggers ---------------------------------------------------------------------------------

-- clock_timestamp(), not now(): rows changed late in a long transaction still sort after
-- rows a reader has already passed.
CREATE OR REPLACE FUNCTION consult_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION consult_record_deletion() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  owner uuid;
BEGIN
  IF TG_TABLE_NAME = 'clinics' THEN
    RETURN OLD;
  ELSIF TG_TABLE_NAME = 'video_consultation_timings' THEN
    SELECT clinic_id INTO owner FROM doctors WHERE id = OLD.doctor_id;
  ELSE
    owner := OLD.clinic_id;
  END IF;
  IF owner IS NOT NULL THEN
    INSERT INTO consult_tombstones(clinic_id, table_name, row_id) VALUES (owner, TG_TABLE_NAME, OLD.id);
  END IF;
  RETURN OLD;
END $$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['clinics', 'doctors', 'patients', 'appointments', 'video_consultation_timings',
                           'video_consultation_sessions', 'video_consultation_participants'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS consult_updated_at ON %I', t);
    EXECUTE format('CREATE TRIGGER consult_updated_at BEFORE INSERT OR UPDATE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION consult_touch_updated_at()', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['doctors', 'patients', 'appointments', 'video_consultation_timings'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS consult_tombstone ON %I', t);
    EXECUTE format('CREATE TRIGGER consult_tombstone AFTER DELETE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION consult_record_deletion()', t);
  END LOOP;
END $$;

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
ALTER TABLE doctors ENABLE ROW LEVEL SECURITY;
ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE video_consultation_timings ENABLE ROW LEVEL SECURITY;
ALTER TABLE video_consultation_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE video_consultation_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE consult_tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE consult_devices ENABLE ROW LEVEL SECURITY;   -- no policy for devices: they never read it

GRANT USAGE ON SCHEMA public TO consult_device;
GRANT SELECT ON clinics, doctors, patients, consult_tombstones TO consult_device;
GRANT SELECT, INSERT, UPDATE ON appointments, video_consultation_sessions, video_consultation_participants
  TO consult_device;
GRANT SELECT, INSERT, UPDATE, DELETE ON video_consultation_timings TO consult_device;

DROP POLICY IF EXISTS consult_device_read ON clinics;
CREATE POLICY consult_device_read ON clinics FOR SELECT TO consult_device USING (id = consult_device_clinic());
DROP POLICY IF EXISTS consult_device_read ON doctors;
CREATE POLICY consult_device_read ON doctors FOR SELECT TO consult_device USING (clinic_id = consult_device_clinic());
DROP POLICY IF EXISTS consult_device_read ON patients;
CREATE POLICY consult_device_read ON patients FOR SELECT TO consult_device USING (clinic_id = consult_device_clinic());
DROP POLICY IF EXISTS consult_device_read ON consult_tombstones;
CREATE POLICY consult_device_read ON consult_tombstones FOR SELECT TO consult_device
  USING (clinic_id = consult_device_clinic());

DROP POLICY IF EXISTS consult_device_all ON appointments;
CREATE POLICY consult_device_all ON appointments FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic()) WITH CHECK (clinic_id = consult_device_clinic());

DROP POLICY IF EXISTS consult_device_all ON video_consultation_timings;
CREATE POLICY consult_device_all ON video_consultation_timings FOR ALL TO consult_device
  USING (EXISTS (SELECT 1 FROM doctors d WHERE d.id = doctor_id AND d.clinic_id = consult_device_clinic()))
  WITH CHECK (EXISTS (SELECT 1 FROM doctors d WHERE d.id = doctor_id AND d.clinic_id = consult_device_clinic()));

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
