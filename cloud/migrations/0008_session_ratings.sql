-- Consult Room Appliance, patients' ratings: what a clinic applies after 0007 so that the
-- rating a patient gives after a consultation (1-5 and an optional comment, asked on the
-- patient's page when the call ends) reaches the clinic's own reports and not only the
-- box's. Apply it before updating the appliances to a version that sends ratings (their
-- rows are refused, and parked, without it).
--
--   * consult_session_ratings: one per consultation (its id is the session's), filed under
--     the clinic; the patient's comment as they wrote it (at most 1000 characters);
--   * row-level security: a device writes and reads only its own clinic's rows, for its own
--     clinic's sessions; clinic staff (consult_clinic_staff, 0002) read their clinic's;
--     nobody deletes through the API (a consultation's deletion takes its rating with it).
--
-- Idempotent and transactional, like 0001.

BEGIN;

CREATE TABLE IF NOT EXISTS consult_session_ratings (
  id          uuid PRIMARY KEY REFERENCES video_consultation_sessions(id) ON DELETE CASCADE,
  clinic_id   uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  patient_id  uuid NOT NULL,
  score       smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment     text CHECK (comment IS NULL OR length(comment) <= 1000),
  rated_at    timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS consult_session_ratings_sync ON consult_session_ratings(clinic_id, updated_at, id);

DROP TRIGGER IF EXISTS consult_updated_at ON consult_session_ratings;
CREATE TRIGGER consult_updated_at BEFORE INSERT OR UPDATE ON consult_session_ratings
  FOR EACH ROW EXECUTE FUNCTION consult_touch_updated_at();

ALTER TABLE consult_session_ratings ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON consult_session_ratings TO consult_device;
GRANT SELECT ON consult_session_ratings TO authenticated;

DROP POLICY IF EXISTS consult_device_all ON consult_session_ratings;
CREATE POLICY consult_device_all ON consult_session_ratings FOR ALL TO consult_device
  USING (clinic_id = consult_device_clinic())
  WITH CHECK (clinic_id = consult_device_clinic() AND consult_device_session(id));

DROP POLICY IF EXISTS consult_staff_read ON consult_session_ratings;
CREATE POLICY consult_staff_read ON consult_session_ratings FOR SELECT TO authenticated
  USING (clinic_id IN (SELECT consult_staff_clinics()));

COMMIT;
