-- Row-level security of cloud/migrations/0001_consult_appliance.sql, run by rls_test.sh on a
-- throwaway PostgreSQL server over the clinic system's own tables (seed_schema.sql): a device
-- sees and writes only its own clinic's rows.
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

-- Two clinics, each with a doctor (a profile whose role is 'doctor'), a patient and two
-- appointments; a receptionist in the north; a device each, and a revoked one.
INSERT INTO clinics(id, name) VALUES
  ('aaaaaaaa-0000-4000-8000-000000000001', 'North'), ('bbbbbbbb-0000-4000-8000-000000000001', 'South');
INSERT INTO profiles(id, clinic_id, full_name, role) VALUES
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'aaaaaaaa-0000-4000-8000-000000000001', 'Dr North', 'doctor'),
  ('aaaaaaaa-0000-4000-8000-0000000000d2', 'aaaaaaaa-0000-4000-8000-000000000001', 'Dr North Two', 'doctor'),
  ('aaaaaaaa-0000-4000-8000-0000000000d9', 'aaaaaaaa-0000-4000-8000-000000000001', 'Desk North', 'receptionist'),
  ('bbbbbbbb-0000-4000-8000-0000000000d1', 'bbbbbbbb-0000-4000-8000-000000000001', 'Dr South', 'doctor');
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

-- 0004: the patient's choice of messages, kept as the clinic system writes it, and nothing else.
UPDATE patients SET notify_via = 'email' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000e1';
DO $$
BEGIN
  UPDATE patients SET notify_via = 'pigeon' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000e1';
  RAISE EXCEPTION 'FAILED: notify_via took a value outside sms, email, both, none';
EXCEPTION WHEN check_violation THEN
  RAISE NOTICE 'ok: notify_via refuses a value outside sms, email, both, none';
END $$;

-- 0009: the clinic system links an appointment to one of its consultations.
INSERT INTO consultations(id) VALUES ('aaaaaaaa-0000-4000-8000-0000000000c9');
UPDATE appointments SET consultation_id = 'aaaaaaaa-0000-4000-8000-0000000000c9'
  WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a1';

-- The north box reads only the north clinic.
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
SELECT pg_temp.expect((SELECT count(*) FROM clinics) = 1, 'a device sees one clinic, its own');
SELECT pg_temp.expect((SELECT count(*) FROM profiles) = 2 AND (SELECT count(*) FROM patients) = 1,
                      'own doctors (profiles whose role is doctor, not the staff) and patients only');
SELECT pg_temp.expect((SELECT notify_via FROM patients) = 'email', 'a device reads its patient''s choice of messages');
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
-- The appointment's consultation, read with it, goes up on the seed's column of its session.
SELECT pg_temp.expect((SELECT consultation_id FROM appointments WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a1')
                      = 'aaaaaaaa-0000-4000-8000-0000000000c9', 'a device reads the consultation an appointment belongs to');
INSERT INTO video_consultation_sessions(id, appointment_id, room_name, consultation_id)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'north-room-0123456789abcdef',
          'aaaaaaaa-0000-4000-8000-0000000000c9')
  ON CONFLICT (id) DO UPDATE SET consultation_id = excluded.consultation_id;
SELECT pg_temp.expect((SELECT consultation_id FROM video_consultation_sessions) = 'aaaaaaaa-0000-4000-8000-0000000000c9',
                      'a device writes the session''s consultation_id');
INSERT INTO video_consultation_participants(id, session_id, user_id, user_type)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-0000000000e1', 'patient');
UPDATE appointments SET status = 'no-show' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a2';
-- The specification's columns, as the appliance writes them.
INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status, twilio_room_sid,
                                        scheduled_duration_minutes, started_at, end_reason)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'north-room-0123456789abcdef',
          'in-progress', 'RMaaaaaaaa0000400080000000000000f1', 20, '2031-01-01T09:01:00.000Z', NULL)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, twilio_room_sid = excluded.twilio_room_sid,
    scheduled_duration_minutes = excluded.scheduled_duration_minutes, started_at = excluded.started_at;
INSERT INTO video_consultation_participants(id, session_id, user_id, user_type, participant_sid, joined_at)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-0000000000f1',
          'aaaaaaaa-0000-4000-8000-0000000000d1', 'doctor', 'PAaaaaaaaa0000400080000000000000c2', '2031-01-01T09:01:00.000Z')
  ON CONFLICT (id) DO UPDATE SET left_at = excluded.left_at;
SELECT pg_temp.expect((SELECT twilio_room_sid || ' ' || started_at FROM video_consultation_sessions)
                      = 'RMaaaaaaaa0000400080000000000000f1 2031-01-01 09:01:00'
                      AND (SELECT count(*) FROM video_consultation_participants WHERE participant_sid LIKE 'PA%') = 1,
                      'a device writes the seed''s twilio_room_sid and participant_sid, times in UTC');
INSERT INTO video_consultation_timings(id, clinic_id, doctor_id, day_of_week, start_time, end_time, duration_minutes)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000b7', 'aaaaaaaa-0000-4000-8000-000000000001',
          'aaaaaaaa-0000-4000-8000-0000000000d1', 1, '09:00', '12:00', 20)
  ON CONFLICT (id) DO UPDATE SET duration_minutes = excluded.duration_minutes;
SELECT pg_temp.expect((SELECT duration_minutes FROM video_consultation_timings) = 20,
                      'a device writes its doctor''s timing with the seed''s clinic_id and duration_minutes');
SELECT pg_temp.expect((SELECT status FROM appointments WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000a2') = 'no-show',
                      'a device updates its own appointment');

-- ... and nothing of another clinic's.
DO $$
DECLARE
  c record;
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
  FOR c IN SELECT * FROM (VALUES
      ('bbbbbbbb-0000-4000-8000-000000000001'::uuid, 'bbbbbbbb-0000-4000-8000-0000000000d1'::uuid,
       'a timing of another clinic''s doctor'),
      ('aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-0000000000d1',
       'a timing under the own clinic for another clinic''s doctor'),
      ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-0000000000d9',
       'a timing for a profile that is not a doctor')) AS v(clinic, doctor, what) LOOP
    BEGIN
      INSERT INTO video_consultation_timings(clinic_id, doctor_id, day_of_week, start_time, end_time)
        VALUES (c.clinic, c.doctor, 1, '09:00', '12:00');
      RAISE EXCEPTION 'FAILED: % was written', c.what;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'ok: % is refused', c.what;
    END;
  END LOOP;
  BEGIN
    UPDATE profiles SET full_name = 'renamed';
    RAISE EXCEPTION 'FAILED: a device renamed a doctor';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: profiles are read-only to devices';
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

-- A doctor who stops being one, or moves, is gone for the clinic that loses them; staff changes leave nothing.
UPDATE profiles SET role = 'manager' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000d2';
UPDATE profiles SET full_name = 'Desk North (new)', role = 'admin' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000d9';
UPDATE profiles SET full_name = 'Dr North, MD' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000d1';
SELECT pg_temp.expect((SELECT array_agg(row_id::text) FROM consult_tombstones WHERE table_name = 'profiles')
                      = ARRAY['aaaaaaaa-0000-4000-8000-0000000000d2'],
                      'a doctor who is no longer one leaves a tombstone; a rename or a staff change none');
SELECT pg_temp.expect((SELECT updated_at > created_at FROM profiles WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000d1'),
                      'a profile''s updated_at moves on update');

-- The seed's timestamp columns (no zone) hold UTC whatever the session's zone; a timing
-- written without its clinic takes its doctor's.
SET TIME ZONE 'Asia/Kolkata';
UPDATE video_consultation_timings SET end_time = '12:30' WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000b7';
SELECT pg_temp.expect((SELECT abs(extract(epoch FROM (updated_at - (now() AT TIME ZONE 'UTC')))) < 60
                       FROM video_consultation_timings WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000b7'),
                      'a timing''s updated_at is UTC');
RESET TIME ZONE;
INSERT INTO video_consultation_timings(id, doctor_id, day_of_week, start_time, end_time)
  VALUES ('bbbbbbbb-0000-4000-8000-0000000000b7', 'bbbbbbbb-0000-4000-8000-0000000000d1', 2, '09:00', '10:00');
SELECT pg_temp.expect((SELECT clinic_id FROM video_consultation_timings WHERE id = 'bbbbbbbb-0000-4000-8000-0000000000b7')
                      = 'bbbbbbbb-0000-4000-8000-000000000001', 'a timing without a clinic takes its doctor''s');
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"bbbbbbbb-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.expect((SELECT count(*) FROM video_consultation_timings) = 1, 'a device reads its own clinic''s timings only');
RESET ROLE;

-- Recordings (0002): consents, recordings and access rows, written by the device of the
-- session's clinic only; read by that clinic's staff only. -------------------------------
INSERT INTO recordings(id, clinic_id, session_id, recording_sid, state, started_by, started_at) VALUES
  ('bbbbbbbb-0000-4000-8000-0000000000b1', 'bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-0000000000f1',
   'RTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'ready', 'doc-south', now());
INSERT INTO consult_clinic_staff(user_id, clinic_id) VALUES
  ('aaaaaaaa-0000-4000-8000-00000000057a', 'aaaaaaaa-0000-4000-8000-000000000001');

CREATE FUNCTION pg_temp.as_staff(claims text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.jwt.claims', claims, false);
  SET ROLE authenticated;
END $$;

SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
UPDATE video_consultation_sessions SET recording_sid = 'RTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
  WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000f1';
SELECT pg_temp.expect((SELECT recording_sid FROM video_consultation_sessions) = 'RTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
                      'a device sets the seed''s recording_sid on its own session');
INSERT INTO recording_consents(id, clinic_id, session_id, asked_by, asked_at, text_version, text, answer, answered_at)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000c5', 'aaaaaaaa-0000-4000-8000-000000000001',
          'aaaaaaaa-0000-4000-8000-0000000000f1', 'doc-north', now(), '1-30-both', 'May we record?', 'given', now());
INSERT INTO recordings(id, clinic_id, session_id, recording_sid, state, started_by, started_at)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000b1', 'aaaaaaaa-0000-4000-8000-000000000001',
          'aaaaaaaa-0000-4000-8000-0000000000f1', 'RTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'recording', 'doc-north', now());
INSERT INTO recordings(id, clinic_id, session_id, recording_sid, state, started_by, started_at, size_bytes, storage_object, sha256)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000b1', 'aaaaaaaa-0000-4000-8000-000000000001',
          'aaaaaaaa-0000-4000-8000-0000000000f1', 'RTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ready', 'doc-north', now(), 1234,
          'consult-recordings/aaaaaaaa-0000-4000-8000-000000000001/x.mp4', repeat('ab', 32))
  ON CONFLICT (id) DO UPDATE SET state = excluded.state, size_bytes = excluded.size_bytes,
                                 storage_object = excluded.storage_object, sha256 = excluded.sha256;
INSERT INTO recording_access(id, clinic_id, recording_id, actor_id, actor_role, action, address, at)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000ac', 'aaaaaaaa-0000-4000-8000-000000000001',
          'aaaaaaaa-0000-4000-8000-0000000000b1', 'doc-north', 'doctor', 'read', '192.0.2.7', now());
SELECT pg_temp.expect((SELECT state FROM recordings) = 'ready' AND (SELECT count(*) FROM recording_consents) = 1
                      AND (SELECT count(*) FROM recording_access) = 1,
                      'a device upserts its own consent, recording and access rows, and sees only those');
DO $$
BEGIN
  BEGIN
    INSERT INTO recordings(id, clinic_id, session_id, recording_sid, state, started_by, started_at)
      VALUES ('aaaaaaaa-0000-4000-8000-0000000000b2', 'aaaaaaaa-0000-4000-8000-000000000001',
              'bbbbbbbb-0000-4000-8000-0000000000f1', 'RTa2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'recording', 'x', now());
    RAISE EXCEPTION 'FAILED: a recording of another clinic''s session was written under the own clinic';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: a recording of another clinic''s session is refused, whatever clinic_id it claims';
  END;
  BEGIN
    INSERT INTO recording_consents(id, clinic_id, session_id, asked_by, asked_at, text_version, text)
      VALUES ('aaaaaaaa-0000-4000-8000-0000000000c6', 'bbbbbbbb-0000-4000-8000-000000000001',
              'bbbbbbbb-0000-4000-8000-0000000000f1', 'x', now(), 'v', 't');
    RAISE EXCEPTION 'FAILED: a consent was written into another clinic';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: a consent for another clinic is refused';
  END;
  BEGIN
    INSERT INTO recording_access(id, clinic_id, recording_id, actor_id, actor_role, action, address, at)
      VALUES ('aaaaaaaa-0000-4000-8000-0000000000ad', 'aaaaaaaa-0000-4000-8000-000000000001',
              'bbbbbbbb-0000-4000-8000-0000000000b1', 'x', 'admin', 'read', '192.0.2.8', now());
    RAISE EXCEPTION 'FAILED: an access row for another clinic''s recording was written';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: an access row for another clinic''s recording is refused';
  END;
  BEGIN
    DELETE FROM recording_access;
    RAISE EXCEPTION 'FAILED: a device deleted access rows';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: devices cannot delete access rows (nor recordings, nor consents)';
  END;
  BEGIN
    INSERT INTO storage.objects(bucket_id, name)
      VALUES ('consult-recordings', 'bbbbbbbb-0000-4000-8000-000000000001/s/RTx.mp4');
    RAISE EXCEPTION 'FAILED: a device stored an object in another clinic''s folder';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: storage refuses an object outside the device''s clinic folder';
  END;
END $$;
INSERT INTO storage.objects(bucket_id, name)
  VALUES ('consult-recordings', 'aaaaaaaa-0000-4000-8000-000000000001/aaaaaaaa-0000-4000-8000-0000000000f1/RTa.mp4');
SELECT pg_temp.expect((SELECT count(*) FROM storage.objects) = 1, 'a device stores its recording in its clinic''s folder');
RESET ROLE;
INSERT INTO storage.objects(bucket_id, name)
  VALUES ('consult-recordings', 'bbbbbbbb-0000-4000-8000-000000000001/bbbbbbbb-0000-4000-8000-0000000000f1/RTb.mp4');

SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"bbbbbbbb-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.expect((SELECT count(*) FROM recordings) = 1 AND (SELECT count(*) FROM recording_consents) = 0
                      AND (SELECT count(*) FROM recording_access) = 0, 'the other device sees none of the north''s recording rows');
RESET ROLE;

SELECT pg_temp.as_staff('{"role":"authenticated","sub":"aaaaaaaa-0000-4000-8000-00000000057a"}');
SELECT pg_temp.expect((SELECT count(*) FROM recordings) = 1 AND (SELECT clinic_id FROM recordings) = 'aaaaaaaa-0000-4000-8000-000000000001'
                      AND (SELECT count(*) FROM recording_consents) = 1 AND (SELECT count(*) FROM recording_access) = 1,
                      'clinic staff read their clinic''s recordings, consents and access log only');
SELECT pg_temp.expect((SELECT count(*) FROM storage.objects) = 1, 'clinic staff read their clinic''s recording files only');
DO $$
BEGIN
  BEGIN
    UPDATE recordings SET state = 'deleted';
    RAISE EXCEPTION 'FAILED: staff changed a recording row';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ok: staff read recording rows, never write them';
  END;
END $$;
RESET ROLE;
SELECT pg_temp.as_staff('{"role":"authenticated","sub":"cccccccc-0000-4000-8000-00000000057a"}');
SELECT pg_temp.expect((SELECT count(*) FROM recordings) = 0 AND (SELECT count(*) FROM storage.objects) = 0,
                      'a signed-in user who is no clinic''s staff sees no recording');
RESET ROLE;
SELECT pg_temp.expect((SELECT updated_at > created_at FROM recordings WHERE id = 'aaaaaaaa-0000-4000-8000-0000000000b1'),
                      'the trigger moves a recording''s updated_at on update');

-- 0003: a device deletes its own clinic's recording files and nobody else's; staff delete none.
SELECT pg_temp.as_staff('{"role":"authenticated","sub":"aaaaaaaa-0000-4000-8000-00000000057a"}');
DELETE FROM storage.objects;
RESET ROLE;
SELECT pg_temp.expect((SELECT count(*) FROM storage.objects) = 2, 'clinic staff delete no recording file');
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
DELETE FROM storage.objects;   -- every row the device reaches
RESET ROLE;
SELECT pg_temp.expect((SELECT count(*) FROM storage.objects) = 1
                      AND (SELECT split_part(name, '/', 1) FROM storage.objects) = 'bbbbbbbb-0000-4000-8000-000000000001',
                      'a device deletes its clinic''s recording files, never another clinic''s');

-- 0005: pairing by code. Clinic IT makes a code for a device token; the box, with the anon
-- key only, trades the code for its clinic, id and token, once.
CREATE TEMP TABLE pairing(code text);
GRANT SELECT ON pairing TO anon;
INSERT INTO pairing SELECT consult_new_pairing_code('aaaaaaaa-0000-4000-8000-000000000001', 'box-room-3',
                                                   'eyJhbGciOiJIUzI1NiJ9.eyJkZXZpY2VfaWQiOiJib3gtcm9vbS0zIn0.c2ln', 'Room 3');
SELECT pg_temp.expect((SELECT code ~ '^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$' FROM pairing),
                      'a pairing code is 10 characters without look-alikes, in two groups of five');
SELECT pg_temp.expect((SELECT count(*) FROM consult_devices WHERE device_id = 'box-room-3' AND label = 'Room 3') = 1,
                      'making a code registers the device with the clinic');
SELECT pg_temp.expect((SELECT c.code_sha256 = encode(sha256(convert_to(replace(p.code, '-', ''), 'UTF8')), 'hex')
                              AND strpos(c.code_sha256, replace(p.code, '-', '')) = 0
                       FROM consult_pairing_codes c, pairing p WHERE c.device_id = 'box-room-3'),
                      'the code is stored only as its SHA-256');
-- A call clinic IT's function must refuse (it raises), said as a check.
CREATE FUNCTION pg_temp.expect_refused(call text, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE call;
  RAISE EXCEPTION 'FAILED: %', what;
EXCEPTION WHEN raise_exception THEN
  IF SQLERRM LIKE 'FAILED%' THEN RAISE; END IF;
  RAISE NOTICE 'ok: %', what;
END $$;
SELECT pg_temp.expect_refused($q$SELECT consult_new_pairing_code('bbbbbbbb-0000-4000-8000-000000000001', 'box-room-3', 'a.b.c')$q$,
                              'no code for a device of another clinic');
SELECT pg_temp.expect_refused($q$SELECT consult_new_pairing_code('aaaaaaaa-0000-4000-8000-000000000001', 'box-stolen', 'a.b.c')$q$,
                              'no code for a revoked device');
SELECT pg_temp.expect_refused($q$SELECT consult_new_pairing_code('aaaaaaaa-0000-4000-8000-000000000001', 'box-x', 'not a token')$q$,
                              'no code for a token that is not a JWT');

SET ROLE anon;
DO $$
BEGIN
  PERFORM count(*) FROM consult_pairing_codes;
  RAISE EXCEPTION 'FAILED: the anon key read the pairing codes';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'ok: the anon key cannot read the pairing codes';
END $$;
DO $$
BEGIN
  PERFORM consult_new_pairing_code('aaaaaaaa-0000-4000-8000-000000000001', 'box-evil', 'a.b.c');
  RAISE EXCEPTION 'FAILED: the anon key made a pairing code';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'ok: the anon key cannot make pairing codes';
END $$;
SELECT pg_temp.expect((SELECT count(*) FROM consult_claim_pairing_code('ZZZZZ-ZZZZZ')) = 0
                      AND (SELECT count(*) FROM consult_claim_pairing_code('')) = 0
                      AND (SELECT count(*) FROM consult_claim_pairing_code(NULL)) = 0
                      AND (SELECT count(*) FROM consult_claim_pairing_code(repeat('A', 100000))) = 0,
                      'a wrong, empty or huge code gets nothing');
SELECT pg_temp.expect((SELECT device_id = 'box-room-3' AND clinic_id = 'aaaaaaaa-0000-4000-8000-000000000001'
                              AND device_token LIKE 'eyJ%'
                       FROM consult_claim_pairing_code(lower(replace((SELECT code FROM pairing), '-', ' ')))),
                      'the code as typed (any case, any separator) gives the clinic, device id and token');
SELECT pg_temp.expect((SELECT count(*) FROM consult_claim_pairing_code((SELECT code FROM pairing))) = 0,
                      'a code works once');
RESET ROLE;
INSERT INTO pairing SELECT consult_new_pairing_code('aaaaaaaa-0000-4000-8000-000000000001', 'box-room-4', 'a.b.c');
UPDATE consult_pairing_codes SET expires_at = now() - interval '1 second' WHERE device_id = 'box-room-4';
INSERT INTO pairing SELECT consult_new_pairing_code('aaaaaaaa-0000-4000-8000-000000000001', 'box-room-5', 'a.b.c');
UPDATE consult_devices SET revoked_at = now() WHERE device_id = 'box-room-5';
SET ROLE anon;
SELECT pg_temp.expect((SELECT count(*) FROM pairing p, consult_claim_pairing_code(p.code)) = 0,
                      'an expired code, or one for a device revoked since, gets nothing');
RESET ROLE;
SELECT pg_temp.expect((SELECT count(*) FROM consult_pairing_codes WHERE device_id = 'box-room-4') = 0,
                      'making a code removes the expired ones');

-- 0006: fleet updates. Releases and pins are clinic IT's (service role); a device learns its
-- release only from consult_release_for_device() and writes only its own status row.
-- A call that must fail with this SQLSTATE, said as a check (any other error stops the test).
CREATE FUNCTION pg_temp.expect_error(call text, state text, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE call;
  RAISE EXCEPTION 'FAILED: %', what;
EXCEPTION WHEN OTHERS THEN
  IF SQLSTATE <> state THEN RAISE; END IF;
  RAISE NOTICE 'ok: %', what;
END $$;
-- The version a device is offered (NULL for none), asked as that device.
CREATE FUNCTION pg_temp.offered(device text, clinic text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v text;
BEGIN
  PERFORM pg_temp.as_device(json_build_object('role', 'consult_device', 'clinic_id', clinic, 'device_id', device)::text);
  SELECT r.version INTO v FROM consult_release_for_device() r;
  RESET ROLE;
  RETURN v;
END $$;
CREATE FUNCTION pg_temp.release(channel text, version text, percent integer, age interval) RETURNS void LANGUAGE sql AS $$
  INSERT INTO consult_releases(channel, version, bundle_url, sha256, size_bytes, rollout_percent, published_at)
    VALUES (channel, version, 'https://updates.example.org/consult-appliance-' || version || '.raucb',
            encode(sha256(convert_to(version, 'UTF8')), 'hex'), 123456789, percent, now() - age)
$$;

SELECT pg_temp.expect_error(format($q$INSERT INTO consult_releases(channel, version, bundle_url, sha256, size_bytes, rollout_percent)
                                     VALUES (%L, %L, %L, %L, %s, %s)$q$, c, v, u, h, n, p), '23514', 'a release with ' || what || ' is refused')
FROM (VALUES
  ('stable', '9.0.0', 'http://updates.example.org/b.raucb', repeat('ab', 32), 1000, 10, 'an http:// bundle URL'),
  ('stable', '9.0.0', 'https://user:pw@updates.example.org/b.raucb', repeat('ab', 32), 1000, 10, 'credentials in its URL'),
  ('stable', '9.0.0', 'https://updates.example.org/b.raucb', repeat('AB', 32), 1000, 10, 'an upper-case SHA-256'),
  ('stable', '9.0.0', 'https://updates.example.org/b.raucb', repeat('ab', 31), 1000, 10, 'a short SHA-256'),
  ('stable', '9.0.0', 'https://updates.example.org/b.raucb', repeat('ab', 32), 1000, 101, 'a rollout of 101 %'),
  ('stable', '9.0.0', 'https://updates.example.org/b.raucb', repeat('ab', 32), 1000, -1, 'a rollout of -1 %'),
  ('stable', '9.0 beta', 'https://updates.example.org/b.raucb', repeat('ab', 32), 1000, 10, 'a space in its version'),
  ('stable', '../9', 'https://updates.example.org/b.raucb', repeat('ab', 32), 1000, 10, 'a slash in its version'),
  ('Stable;', '9.0.0', 'https://updates.example.org/b.raucb', repeat('ab', 32), 1000, 10, 'a channel of the wrong shape'),
  ('stable', '9.0.0', 'https://updates.example.org/b.raucb', repeat('ab', 32), 0, 10, 'a size of 0'),
  ('stable', '9.0.0', 'https://updates.example.org/b.raucb', repeat('ab', 32), 4294967297, 10, 'a size over 4 GiB')
) AS t(c, v, u, h, n, p, what);

SELECT pg_temp.expect(consult_rollout_bucket('box-north', '1.2.0') = 88 AND consult_rollout_bucket('box-north', '1.2.3') = 54,
                      'the rollout bucket is the documented hash (first 4 bytes of SHA-256 of device:version, mod 100)');
SELECT pg_temp.release('stable', '1.0.0', 100, '3 days');
SELECT pg_temp.release('stable', '1.1.0', 100, '2 days');
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
SELECT pg_temp.expect((SELECT row(r.*)::text FROM consult_release_for_device() r)
                      = row('1.1.0', 'https://updates.example.org/consult-appliance-1.1.0.raucb',
                            encode(sha256(convert_to('1.1.0', 'UTF8')), 'hex'), 123456789::bigint, 'stable')::text,
                      'a device is offered the newest release of its channel at 100 %: version, URL, SHA-256, size, channel');
SELECT pg_temp.expect_error('SELECT count(*) FROM consult_releases', '42501', 'a device cannot read the releases table');
SELECT pg_temp.expect_error('SELECT count(*) FROM consult_device_release', '42501', 'nor the devices'' channels and pins');
SELECT pg_temp.expect_error($q$UPDATE consult_releases SET rollout_percent = 100$q$, '42501', 'nor change a release');
RESET ROLE;
-- A Supabase project's default privileges grant anon and authenticated every new table and
-- function; applying 0006 (again) takes them back.
GRANT ALL ON consult_releases, consult_device_release, consult_device_status TO anon, authenticated;
GRANT EXECUTE ON FUNCTION consult_release_for_device(), consult_device_id() TO anon, authenticated;
\i 0006_fleet_updates.sql
\i 0007_fleet_health.sql   -- 0006's REVOKE ALL took back 0007's column grant; in order, as always
SELECT pg_temp.expect(NOT EXISTS (SELECT 1 FROM information_schema.role_table_grants
                                   WHERE grantee IN ('anon', 'authenticated', 'PUBLIC')
                                     AND table_name IN ('consult_releases', 'consult_device_release', 'consult_device_status'))
                      AND NOT has_function_privilege('anon', 'consult_release_for_device()', 'EXECUTE')
                      AND NOT has_function_privilege('authenticated', 'consult_release_for_device()', 'EXECUTE')
                      AND NOT has_function_privilege('authenticated', 'consult_device_id()', 'EXECUTE'),
                      'anon and authenticated get nothing of 0006, even with Supabase''s default privileges');
SET ROLE anon;
SELECT pg_temp.expect_error('SELECT * FROM consult_release_for_device()', '42501',
                            'the anon key cannot ask for a release');
RESET ROLE;
-- The same for 0005: with the defaults granted, re-applying it leaves the anon key the
-- claim only, and never clinic IT's function that registers devices and makes codes.
GRANT ALL ON consult_pairing_codes TO anon, authenticated;
GRANT EXECUTE ON FUNCTION consult_new_pairing_code(uuid, text, text, text, interval),
                          consult_claim_pairing_code(text) TO anon, authenticated;
\i 0005_pairing_codes.sql
SELECT pg_temp.expect(NOT has_function_privilege('anon', 'consult_new_pairing_code(uuid, text, text, text, interval)', 'EXECUTE')
                      AND NOT has_function_privilege('authenticated', 'consult_new_pairing_code(uuid, text, text, text, interval)', 'EXECUTE')
                      AND NOT has_function_privilege('authenticated', 'consult_claim_pairing_code(text)', 'EXECUTE')
                      AND has_function_privilege('anon', 'consult_claim_pairing_code(text)', 'EXECUTE')
                      AND NOT EXISTS (SELECT 1 FROM information_schema.role_table_grants
                                       WHERE grantee IN ('anon', 'authenticated', 'PUBLIC')
                                         AND table_name = 'consult_pairing_codes'),
                      'with Supabase''s default privileges, 0005 leaves anon the claim alone: no codes made, no table');

SELECT pg_temp.release('stable', '1.2.0', 0, '1 day');
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.1.0',
                      'a newer release at 0 % is offered to nobody: the device keeps the older one that covers it');
UPDATE consult_releases SET rollout_percent = 88 WHERE version = '1.2.0';
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.1.0',
                      'a staged rollout below the device''s bucket (88) leaves it on the last release it was offered');
UPDATE consult_releases SET rollout_percent = 89 WHERE version = '1.2.0';
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.2.0',
                      'raised past the device''s bucket, the rollout takes it in');
SELECT pg_temp.release('stable', '1.3.0', 100, '1 hour');
UPDATE consult_releases SET withdrawn_at = now() WHERE version = '1.3.0';
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.2.0',
                      'a withdrawn release is not offered, even the newest at 100 %');
SELECT pg_temp.release('edge', '2.0.0-rc1', 0, '1 hour');
INSERT INTO consult_device_release(device_id, channel) VALUES ('box-south', 'edge');
SELECT pg_temp.expect(pg_temp.offered('box-south', 'bbbbbbbb-0000-4000-8000-000000000001') IS NULL,
                      'a device whose channel has only a 0 % release is offered nothing');
SELECT pg_temp.expect(pg_temp.offered('box-stolen', 'aaaaaaaa-0000-4000-8000-000000000001') IS NULL
                      AND pg_temp.offered('box-north', 'bbbbbbbb-0000-4000-8000-000000000001') IS NULL
                      AND pg_temp.offered('box-ghost', 'aaaaaaaa-0000-4000-8000-000000000001') IS NULL,
                      'a revoked device, forged claims or an unregistered device are offered nothing');
SELECT pg_temp.as_device('');
SELECT pg_temp.expect((SELECT count(*) FROM consult_release_for_device()) = 0, 'no claims, no release');
RESET ROLE;

INSERT INTO consult_device_release(device_id, pinned_version) VALUES ('box-north', '1.0.0');
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.0.0',
                      'a pinned device is offered its pinned version, not the newest');
UPDATE consult_releases SET rollout_percent = 0 WHERE version = '1.0.0';
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.0.0',
                      'a pin holds whatever the rollout');
UPDATE consult_device_release SET pinned_version = '1.3.0' WHERE device_id = 'box-north';
SELECT pg_temp.expect(pg_temp.offered('box-north', 'aaaaaaaa-0000-4000-8000-000000000001') = '1.2.0',
                      'a pin on a withdrawn release is not offered: the channel''s rollout decides');
SELECT pg_temp.expect_error($q$UPDATE consult_device_release SET pinned_version = '7.7.7' WHERE device_id = 'box-north'$q$,
                            '23503', 'a pin on a version its channel never published is refused');

-- The rollout hash: about half of 200 devices at 50 %, the same answer every time, and
-- another version picks another half.
INSERT INTO consult_devices(device_id, clinic_id)
  SELECT 'box-gen-' || g, 'aaaaaaaa-0000-4000-8000-000000000001' FROM generate_series(1, 200) g;
INSERT INTO consult_device_release(device_id, channel) SELECT 'box-gen-' || g, 'halves' FROM generate_series(1, 200) g;
SELECT pg_temp.release('halves', '5.0.0', 50, '1 hour');
CREATE TEMP TABLE halves AS
  SELECT 'box-gen-' || g AS device_id, pg_temp.offered('box-gen-' || g, 'aaaaaaaa-0000-4000-8000-000000000001') AS first,
         pg_temp.offered('box-gen-' || g, 'aaaaaaaa-0000-4000-8000-000000000001') AS second
  FROM generate_series(1, 200) g;
SELECT pg_temp.expect((SELECT count(*) FILTER (WHERE first = '5.0.0') BETWEEN 70 AND 130
                              AND count(*) FILTER (WHERE first IS NULL) = 200 - count(*) FILTER (WHERE first = '5.0.0')
                       FROM halves),
                      'at 50 % roughly half of 200 devices are in the rollout (' ||
                      (SELECT count(*) FILTER (WHERE first = '5.0.0') FROM halves) || '), the rest get nothing');
SELECT pg_temp.expect((SELECT bool_and(first IS NOT DISTINCT FROM second) FROM halves),
                      'a device gets the same answer when it asks again');
SELECT pg_temp.expect((SELECT count(*) FROM halves WHERE (first IS NOT NULL) <> (consult_rollout_bucket(device_id, '5.0.1') < 50))
                      > 50, 'another version picks a different subset of the devices');

-- Fleet health: a device upserts its own status row (as PostgREST's merge-duplicates does),
-- reads only that one, and writes no other.
CREATE FUNCTION pg_temp.report(p_device text, p_clinic uuid, p_version text, p_result text DEFAULT 'none',
                               p_failures jsonb DEFAULT '{}') RETURNS void LANGUAGE sql AS $$
  INSERT INTO consult_device_status(device_id, clinic_id, version, booted_slot, slot_marked_good, last_update_version,
                                    last_update_result, last_update_reason, last_update_at, uptime_seconds, encoder,
                                    camera, cloud_sync_state, failures_last_day, reported_at)
    VALUES (p_device, p_clinic, p_version, 'b', true, p_version, p_result, NULL, now(), 3600, 'x264enc',
            'usb-camera', 'ok', p_failures, now())
  ON CONFLICT (device_id) DO UPDATE SET clinic_id = excluded.clinic_id, version = excluded.version,
    booted_slot = excluded.booted_slot, slot_marked_good = excluded.slot_marked_good,
    last_update_version = excluded.last_update_version, last_update_result = excluded.last_update_result,
    last_update_reason = excluded.last_update_reason, last_update_at = excluded.last_update_at,
    uptime_seconds = excluded.uptime_seconds, encoder = excluded.encoder, camera = excluded.camera,
    cloud_sync_state = excluded.cloud_sync_state, failures_last_day = excluded.failures_last_day,
    reported_at = excluded.reported_at
$$;
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"bbbbbbbb-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.report('box-south', 'bbbbbbbb-0000-4000-8000-000000000001', '1.1.0');
RESET ROLE;
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
SELECT pg_temp.report('box-north', 'aaaaaaaa-0000-4000-8000-000000000001', '1.1.0');
SELECT pg_temp.report('box-north', 'aaaaaaaa-0000-4000-8000-000000000001', '1.2.0', 'installed', '{"media": 1, "sms": 0}');
SELECT pg_temp.expect((SELECT count(*) = 1 AND bool_and(device_id = 'box-north' AND version = '1.2.0'
                              AND last_update_result = 'installed' AND failures_last_day = '{"media": 1, "sms": 0}')
                       FROM consult_device_status),
                      'a device upserts its own status twice, the second updates, and it reads only its own row');
SELECT pg_temp.expect_error($q$SELECT pg_temp.report('box-south', 'bbbbbbbb-0000-4000-8000-000000000001', '6.6.6')$q$,
                            '42501', 'a device cannot upsert another device''s status');
SELECT pg_temp.expect_error($q$SELECT pg_temp.report('box-gen-1', 'aaaaaaaa-0000-4000-8000-000000000001', '6.6.6')$q$,
                            '42501', 'nor a status for another device of its own clinic');
SELECT pg_temp.expect_error($q$SELECT pg_temp.report('box-north', 'bbbbbbbb-0000-4000-8000-000000000001', '6.6.6')$q$,
                            '42501', 'nor its own status under another clinic''s clinic_id');
SELECT pg_temp.expect_error($q$SELECT pg_temp.report('box-north', 'aaaaaaaa-0000-4000-8000-000000000001', '1.2.0', 'exploded')$q$,
                            '23514', 'a status with an update result outside installed, rolled_back, refused, failed, postponed, unknown, none is refused');
SELECT pg_temp.expect_error($q$SELECT pg_temp.report('box-north', 'aaaaaaaa-0000-4000-8000-000000000001', '1.2.0', 'none', '[1]')$q$,
                            '23514', 'failures_last_day must be a JSON object');
SELECT pg_temp.expect_error($q$UPDATE consult_device_status SET last_update_reason = repeat('x', 501)$q$,
                            '23514', 'an update reason over 500 characters is refused');
SELECT pg_temp.expect_error('DELETE FROM consult_device_status', '42501', 'a device cannot delete status rows');
-- 0007: a box that is not A/B (or cannot read its updater's state) says so with NULLs and
-- 'unknown'; a postponed attempt is a result too; the box's own uptime is a column.
UPDATE consult_device_status SET booted_slot = NULL, slot_marked_good = NULL, last_update_result = 'unknown',
       last_update_reason = 'state.json is not JSON', box_uptime_seconds = 86400;
SELECT pg_temp.expect((SELECT booted_slot IS NULL AND slot_marked_good IS NULL AND last_update_result = 'unknown'
                              AND box_uptime_seconds = 86400 FROM consult_device_status),
                      'a device reports no slot, marked good unknown, an unknown update result and the box''s uptime');
UPDATE consult_device_status SET last_update_result = 'postponed', booted_slot = 'b', slot_marked_good = true;
SELECT pg_temp.expect((SELECT last_update_result = 'postponed' FROM consult_device_status), 'and a postponed attempt');
SELECT pg_temp.expect_error($q$UPDATE consult_device_status SET booted_slot = 'c'$q$, '23514',
                            'a slot other than a or b is still refused');
SELECT pg_temp.expect_error($q$UPDATE consult_device_status SET box_uptime_seconds = -1$q$, '23514',
                            'a negative box uptime is refused');
RESET ROLE;
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-stolen"}');
SELECT pg_temp.expect_error($q$SELECT pg_temp.report('box-stolen', 'aaaaaaaa-0000-4000-8000-000000000001', '1.0.0')$q$,
                            '42501', 'a revoked device cannot report');
RESET ROLE;
SELECT pg_temp.expect((SELECT string_agg(device_id || '=' || version, ',' ORDER BY device_id) FROM consult_device_status)
                       = 'box-north=1.2.0,box-south=1.1.0'
                      AND (SELECT updated_at > reported_at FROM consult_device_status WHERE device_id = 'box-north'),
                      'clinic IT reads one status row per device, the other device''s untouched, updated_at kept by the trigger');

-- 0008: a patient's rating, one per consultation, written by the device of the session's
-- clinic only; read by that clinic's staff only; deleted by nobody through the API.
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"aaaaaaaa-0000-4000-8000-000000000001","device_id":"box-north"}');
INSERT INTO consult_session_ratings(id, clinic_id, patient_id, score, comment, rated_at)
  VALUES ('aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-000000000001',
          'aaaaaaaa-0000-4000-8000-0000000000e9', 4, 'Clear picture.', now())
  ON CONFLICT (id) DO UPDATE SET score = excluded.score, comment = excluded.comment;
SELECT pg_temp.expect((SELECT score || ' ' || comment FROM consult_session_ratings) = '4 Clear picture.',
                      'a device writes the rating of its own clinic''s session');
SELECT pg_temp.expect_error($q$INSERT INTO consult_session_ratings(id, clinic_id, patient_id, score, rated_at)
                               VALUES ('bbbbbbbb-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-000000000001',
                                       'aaaaaaaa-0000-4000-8000-0000000000e9', 5, now())$q$,
                            '42501', 'a rating of another clinic''s session is refused, whatever clinic_id it claims');
SELECT pg_temp.expect_error($q$UPDATE consult_session_ratings SET score = 6$q$, '23514', 'a score outside 1-5 is refused');
SELECT pg_temp.expect_error($q$UPDATE consult_session_ratings SET comment = repeat('x', 1001)$q$, '23514',
                            'a comment over 1000 characters is refused');
SELECT pg_temp.expect_error('DELETE FROM consult_session_ratings', '42501', 'a device cannot delete ratings');
RESET ROLE;
SELECT pg_temp.as_device('{"role":"consult_device","clinic_id":"bbbbbbbb-0000-4000-8000-000000000001","device_id":"box-south"}');
SELECT pg_temp.expect((SELECT count(*) FROM consult_session_ratings) = 0, 'the other clinic''s device sees no rating of the north');
RESET ROLE;
SELECT pg_temp.as_staff('{"role":"authenticated","sub":"aaaaaaaa-0000-4000-8000-00000000057a"}');
SELECT pg_temp.expect((SELECT count(*) FROM consult_session_ratings) = 1, 'clinic staff read their clinic''s ratings');
SELECT pg_temp.expect_error($q$UPDATE consult_session_ratings SET score = 1$q$, '42501', 'staff never change a rating');
RESET ROLE;
SELECT pg_temp.as_staff('{"role":"authenticated","sub":"cccccccc-0000-4000-8000-00000000057a"}');
SELECT pg_temp.expect((SELECT count(*) FROM consult_session_ratings) = 0, 'a user who is no clinic''s staff reads no rating');
RESET ROLE;
