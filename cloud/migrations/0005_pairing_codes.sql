-- Consult Room Appliance, pairing a box by code: what a clinic applies after 0004 so that
-- clinic IT can pair a new box from its touch screen (the setup screen) by typing a short
-- code, instead of carrying the device token to the box in a provisioning file.
--
--   * clinic IT mints the box's device token as for a provisioning file, then, in the SQL
--     editor (or with the service role), makes a code for it:
--       SELECT consult_new_pairing_code('<clinic uuid>', 'room-3', '<device token>', 'Room 3');
--     which registers the device (consult_devices) and returns a code of 10 characters from
--     an alphabet without look-alikes (50 bits), shown as XXXXX-XXXXX, valid for 24 hours
--     (a fourth argument changes that, up to 7 days);
--   * the box trades it, once, with the project's anon key only (PostgREST
--     /rest/v1/rpc/consult_claim_pairing_code), for its clinic, device id and token. The
--     code is kept only as a SHA-256; the row goes when claimed or expired. A wrong,
--     used or expired code gets nothing, and the same answer.
--   * nobody reads the codes table directly: RLS on, no policy, no grant.
--
-- Guessing: 2^50 codes, at most a few live per clinic for a day; at a thousand guesses a
-- second for that day an attacker's chance of hitting one is under one in ten million.
-- Idempotent and transactional, like 0001 to 0004.

BEGIN;

DO $$
BEGIN
  -- Supabase's role for the project's anon key; a plain PostgreSQL (the RLS test) gets it here.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN;
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS consult_pairing_codes (
  code_sha256  text PRIMARY KEY,
  clinic_id    uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  device_id    text NOT NULL REFERENCES consult_devices(device_id) ON DELETE CASCADE,
  device_token text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
ALTER TABLE consult_pairing_codes ENABLE ROW LEVEL SECURITY;   -- no policy: only the functions below
-- Supabase's default privileges give anon and authenticated every new table and function:
-- taken back here, for this table and both functions below.
REVOKE ALL ON consult_pairing_codes FROM PUBLIC, anon, authenticated;

-- A code as typed: letters and digits only, upper case (dashes and spaces dropped).
CREATE OR REPLACE FUNCTION consult_pairing_code_sha256(code text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = public AS $$
  SELECT encode(sha256(convert_to(upper(regexp_replace(coalesce(code, ''), '[^0-9A-Za-z]', '', 'g')), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION consult_new_pairing_code(p_clinic_id uuid, p_device_id text, p_device_token text,
                                                     p_label text DEFAULT NULL,
                                                     p_valid_for interval DEFAULT interval '24 hours')
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
  alphabet constant text := '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';   -- 32: no 0/O or 1/I
  bytes bytea;
  code text := '';
BEGIN
  IF p_device_id IS NULL OR p_device_id !~ '^[A-Za-z0-9._-]{1,64}$' THEN
    RAISE EXCEPTION 'device id must be 1 to 64 letters, digits, dots, dashes or underscores';
  END IF;
  IF p_device_token IS NULL OR p_device_token !~ '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$'
     OR length(p_device_token) > 4096 THEN
    RAISE EXCEPTION 'the device token is not a JWT';
  END IF;
  IF p_valid_for IS NULL OR p_valid_for <= interval '0' OR p_valid_for > interval '7 days' THEN
    RAISE EXCEPTION 'a pairing code is valid for up to 7 days';
  END IF;
  INSERT INTO consult_devices(device_id, clinic_id, label) VALUES (p_device_id, p_clinic_id, p_label)
    ON CONFLICT (device_id) DO NOTHING;
  IF NOT EXISTS (SELECT 1 FROM consult_devices WHERE device_id = p_device_id AND clinic_id = p_clinic_id
                   AND revoked_at IS NULL) THEN
    RAISE EXCEPTION 'device % belongs to another clinic or is revoked', p_device_id;
  END IF;
  DELETE FROM consult_pairing_codes WHERE expires_at <= now();
  -- 10 characters from 10 random bytes of two v4 UUIDs (bytes 0-4 carry no version bits).
  bytes := substring(uuid_send(gen_random_uuid()) FROM 1 FOR 5) || substring(uuid_send(gen_random_uuid()) FROM 1 FOR 5);
  FOR i IN 0..9 LOOP
    code := code || substr(alphabet, get_byte(bytes, i) % 32 + 1, 1);
  END LOOP;
  INSERT INTO consult_pairing_codes(code_sha256, clinic_id, device_id, device_token, expires_at)
    VALUES (consult_pairing_code_sha256(code), p_clinic_id, p_device_id, p_device_token, now() + p_valid_for);
  RETURN substr(code, 1, 5) || '-' || substr(code, 6, 5);
END $$;
REVOKE ALL ON FUNCTION consult_new_pairing_code(uuid, text, text, text, interval) FROM PUBLIC, anon, authenticated;

CREATE OR REPLACE FUNCTION consult_claim_pairing_code(code text)
RETURNS TABLE (clinic_id uuid, device_id text, device_token text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS $$
  DELETE FROM consult_pairing_codes c
   WHERE c.code_sha256 = consult_pairing_code_sha256(code)
     AND length(code) <= 32
     AND c.expires_at > now()
     AND EXISTS (SELECT 1 FROM consult_devices d
                  WHERE d.device_id = c.device_id AND d.clinic_id = c.clinic_id AND d.revoked_at IS NULL)
  RETURNING c.clinic_id, c.device_id, c.device_token
$$;
REVOKE ALL ON FUNCTION consult_claim_pairing_code(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION consult_claim_pairing_code(text) TO anon;

COMMIT;
