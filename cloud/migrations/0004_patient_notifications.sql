-- Consult Room Appliance, how each patient hears from the clinic: what a clinic applies
-- after 0003 so the appliance honours a patient's choice made in the clinic system.
--
--   * patients.notify_via: 'sms', 'email', 'both' or 'none'; NULL is the clinic's default
--     (the appliance's [notify] channels). 'sms' and 'email' use the other channel only as a
--     backup when the first cannot reach the patient; 'none' sends nothing (the doctor gives
--     the link by hand). A patient's STOP reply to an SMS is honoured whatever it says.
--   * the clinic system edits it; devices read it (their existing SELECT on patients).
--
-- A column beside the clinic's own, never a renamed one. Idempotent and transactional,
-- like 0001 to 0003.

BEGIN;

ALTER TABLE patients ADD COLUMN IF NOT EXISTS notify_via text;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'patients_notify_via_check') THEN
    ALTER TABLE patients ADD CONSTRAINT patients_notify_via_check
      CHECK (notify_via IS NULL OR notify_via IN ('sms', 'email', 'both', 'none'));
  END IF;
END $$;

COMMIT;
