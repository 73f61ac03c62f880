-- Consult Room Appliance, deleting recordings' cloud copies: what a clinic applies after
-- 0002 so an appliance can delete, from Supabase Storage, the copy of a recording it
-- deleted (on request, on the patient's withdrawal, or by the clinic's retention).
--
--   * a device may delete objects, and only where 0002's policy lets it write and read:
--     its own clinic's folder of the 'consult-recordings' bucket. Without this, the
--     appliance's deletions wait (and say why in consult_recording_uploads{state="deleting"}
--     and its log) until it is applied.
--
-- The recording rows are unchanged: a deleted copy shows as storage_object NULL with
-- uploaded_at and sha256 kept, and the session's recording_url NULL.
--
-- Idempotent and transactional, like 0001 and 0002.

BEGIN;

DO $$
BEGIN
  IF to_regclass('storage.objects') IS NULL THEN
    RETURN;   -- not a Supabase project: no Storage here
  END IF;
  EXECUTE 'GRANT DELETE ON storage.objects TO consult_device';
END $$;

COMMIT;
