-- Row-level security of cloud/migrations/0001_consult_appliance.sql, run by rls_test.sh on a
-- throwaway PostgreSQL server: a device sees and writes only its own clinic's rows.
\set ON_ERROR_STOP 1
SET client_min_messages = notice;

CREATE FUNCTION pg_temp.expect(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN RAISE EXCEPTION 'FAILED: %', what; END IF;
  RAISE NOTICE 'ok: %', what;
END $$;

-- Acts as the device PostgREST would act as, with these JWT claims ('' for none).
CREATE FUNCTION pg_temp.as_device(claims text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.jwt.claims', claims, false);
  SET ROLE consult_device;
END $$;

-- Two clinics, each with a doctor, a patient and two appointments; a device each, and a revoked one.
INSERT INTO clinics(id, name) VALUES
  ('aaaaaaaa-0000-4000-8000-000000000001', 'North'), ('bbbbbbbb-0000-4000-8000-000000000001', 'South');
INSERT INTO doctors(id, clinic_id, full_name) VALUES
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'aaaaaaaa-0000-4000-8000-000000000001', 'Dr North'),
  ('bbbbbbbb-0000-4000-8000-0000000000d1', 'bbbbbbbb-0000-4000-8000-000000000001', 'Dr South');
INSERT INTO patients(id, clinic_id, full_name, phone) VALUES
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'aaaaaaaa-0000-4000-8000-000000000001', 'Pat North', '+15550001'),
  ('bbbbbbbb-0000-4000-8000-0000000000e1', 'bbbbbbbb-0000-4000-8000-000000000001', 'Pat South', '+15550002');
INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, consultation_type) VALUES
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-0000000000d1',
   'aaaaaaaa-0000-4000-8000-0000000000e1', '2031-01-01T09:00:00Z', 'video'),
  ('aaaaaaaa-0000-4000-8000-0000000000a2', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-0000000000d1',
   'aaaaaaaa-0000-4000-8000-0000000000e1', '2031-01-01T10:00:00Z', 'video'),
  ('bbbbbbbb-0000-4000-8000-0000000000a1', 'bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-0000000000d1',
   'bbbbbbbb-0000-4000-8000-0000000000e1', '2031-01-01T09:00:00Z', 'video');
INSERT INTO video_consultation_sessions(id, appointment_id, room_name) VALUES
  ('bbbbbbbb-0000-4000-8000-0000000000f1', 'bbbbbbbb-0000-4000-8000-0000000000a1', 'south-room-0123456789abcdef');
INSERT INTO consult_devices(device_id, clinic_id) VALUES
  ('box-north', 'aaaaaaaa-0000-4000-8000-000000000001'), ('box-south', 'bbbbbbbb-0000-4000-8000-000000000001');
INSERT INTO consult_devices(device_id, clinic_id, revoked_at) VALUES
  ('box-stolen', 'aaaaaaaa-0000-4000-8000-000000000001', now());

-- The north box reads only the north clinic.
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
SELECT pg_temp.expect((SELECT count(*) FROM clinics) = 1, 'a device sees one clinic, its own');
SELECT pg_temp.expect((SELECT count(*) FROM doctors) = 1 AND (SELECT count(*) FROM patients) = 1, 'own doctors and patients only');
SELECT pg_temp.expect((SELECT count(*) FROM appointments) = 2, 'own appointments only');
SELECT pg_temp.expect(NOT EXISTS (SELECT 1 FROM appointments WHERE clinic_id <> 'aaaaaaaa-0000-4000-8000-000000000001'),
                      'no other clinic''s appointment is visible');
SELECT pg_temp.expect((SELECT count(*) FROM video_consultation_sessions) = 0, 'other clinics'' sessions are invisible');

-- It writes sessions for its own appointments, as PostgREST's upsert does.
INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'north-room-0123456789abcdef', 'scheduled')
  ON CONFLICT (id) DO UPDATE SET status = excluded.status;
INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'north-room-0123456789abcdef', 'waiting')
  ON CONFLICT (id) DO UPDATE SET status = excluded.status;
SELECT pg_temp.expect((SELECT status FROM video_consultation_sessions) = 'waiting', 'an upsert merges into the own session');
INSERT INTO video_consultation_participants(id, session_id, user_id, user_type)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-0000000000f1', 'p1', 'patient');
UPDATE appointments SET status = 'no-show' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a2';
SELECT pg_temp.expect((SELECT status FROM appointments WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a2') = 'no-show',
                      'a device updates its own appointment');

-- ... and nothing of another clinic's.
DO $$
BEGIN
  BEGIN
    INSERT INTO video_consultation_sessions(id, appointment_id, room_name)
      VALUES ('aaaaaaaa-0000-4000-8000-0000000000f2', 'bbbbbbbb-0000-4000-8000-0000000000a1', 'stolen-room-0123456789abcde');
    RAISE EXCEPTION 'FAILED: a session for another clinic''s appointment was written';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: a session for another clinic''s appointment is refused (%)', SQLERRM;
  END;
  BEGIN
    INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status)
      VALUES ('bbbbbbbb-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'x-room-0123456789abcdefghij', 'cancelled')
      ON CONFLICT (id) DO UPDATE SET status = excluded.status;
    RAISE EXCEPTION 'FAILED: an upsert overwrote another clinic''s session';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: an upsert onto another clinic''s session is refused (%)', SQLERRM;
  END;
  BEGIN
    INSERT INTO appointments(clinic_id, doctor_id, patient_id, starts_at)
      VALUES ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-0000000000d1',
              'bbbbbbbb-0000-4000-8000-0000000000e1', '2031-02-01T09:00:00Z');
    RAISE EXCEPTION 'FAILED: an appointment was booked into another clinic';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: booking into another clinic is refused';
  END;
  BEGIN
    INSERT INTO video_consultation_timings(doctor_id, day_of_week, start_time, end_time)
      VALUES ('bbbbbbbb-0000-4000-8000-0000000000d1', 1, '09:00', '12:00');
    RAISE EXCEPTION 'FAILED: a timing was written for another clinic''s doctor';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: timings of another clinic''s doctor are refused';
  END;
  BEGIN
    UPDATE clinics SET name = 'mine now';
    RAISE EXCEPTION 'FAILED: a device renamed a clinic';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: clinics are read-only to devices';
  END;
END $$;
UPDATE appointments SET status = 'cancelled' WHERE id = 'bbbbbbbb-0000-4000-8000-0000000000a1';
RESET ROLE;
SELECT pg_temp.expect((SELECT status FROM appointments WHERE id = 'bbbbbbbb-0000-4000-8000-0000000000a1') = 'scheduled',
                      'an update aimed at another clinic''s appointment changes nothing');
SELECT pg_temp.expect((SELECT count(*) FROM video_consultation_sessions WHERE id = 'bbbbbbbb-0000-4000-8000-0000000000f1'
                       AND status = 'scheduled') = 1, 'the other clinic''s session is untouched');

-- The south box sees the south clinic, not what the north box wrote.
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"bbbbbbbb-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.expect((SELECT count(*) FROM appointments) = 1, 'the other device sees its own appointment');
SELECT pg_temp.expect((SELECT count(*) FROM video_consultation_participants) = 0, 'and none of the north''s participants');
RESET ROLE;

-- Revoked, mismatched or missing claims see nothing.
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-stolen"}');
SELECT pg_temp.expect((SELECT count(*) FROM appointments) = 0, 'a revoked device sees nothing');
RESET ROLE;
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.expect((SELECT count(*) FROM appointments) = 0, 'a device claiming another clinic sees nothing');
RESET ROLE;
SELECT pg_temp.as_device('');
SELECT pg_temp.expect((SELECT count(*) FROM patients) = 0, 'no claims, no rows');
RESET ROLE;

-- updated_at moves on every change; a deletion leaves a tombstone for its clinic only.
SELECT pg_temp.expect((SELECT updated_at > created_at FROM appointments WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a2'),
                      'the trigger moves updated_at on update');
DELETE FROM appointments WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a2';
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
SELECT pg_temp.expect((SELECT count(*) FROM consult_tombstones WHERE table_name = 'appointments'
                       AND row_id = 'aaaaaaaa-0000-4000-8000-0000000000a2') = 1, 'the deletion reaches the device as a tombstone');
RESET ROLE;
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"bbbbbbbb-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.expect((SELECT count(*) FROM consult_tombstones) = 0, 'other clinics do not see it');
RESET ROLE;
