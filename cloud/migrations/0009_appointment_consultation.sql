-- Consult Room Appliance, the consultation behind an appointment: what a clinic applies
-- after 0008 so that video sessions carry the seed's video_consultation_sessions.
-- consultation_id. The clinic system knows which of its consultations (a course of care,
-- a case) an appointment belongs to; the appliance does not. Writing it on the appointment
-- lets the box read it with the appointment and send it up with the appointment's session.
--
--   * appointments.consultation_id: nullable, a reference to the clinic's consultations;
--     added only when the clinic's appointments do not have it already (theirs is kept);
--   * the box sends a session's consultation_id only when its appointment names one, so a
--     value the clinic writes on the session row itself is never cleared by the box;
--   * boxes read the column when it is there and go on without it when it is not (their
--     journal says once that this file is missing), so boxes and cloud may be updated in
--     either order.
--
-- Idempotent and transactional, like 0001. Row-level security: 0001's policies on
-- appointments cover the new column (a device reads its own clinic's rows).

BEGIN;

ALTER TABLE appointments ADD COLUMN IF NOT EXISTS consultation_id uuid REFERENCES consultations(id);
CREATE INDEX IF NOT EXISTS appointments_consultation ON appointments(consultation_id);

COMMIT;
