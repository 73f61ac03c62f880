-- Consult Room Appliance, fleet updates: what a clinic applies after 0005 so that its boxes
-- ask the cloud which release to run and report how they are.
--
--   * consult_releases: one row per published release (fleet-wide, not per clinic), written
--     by the vendor or clinic IT with the service role. A release reaches rollout_percent of
--     its channel's devices (default 0: nobody until raised); withdrawn_at takes it back.
--   * consult_device_release: a device's channel (default 'stable') and, if set, the version
--     it must run whatever the rollout. No row: the 'stable' channel, unpinned.
--   * consult_release_for_device(): the one release the calling device should run, or none.
--     Devices reach the two tables above only through it (RLS on, no policy, no grant).
--   * consult_device_status: one row per device, upserted by the device itself
--     (POST ...?on_conflict=device_id, Prefer: resolution=merge-duplicates); clinic IT reads it.
--
-- The rollout hash, to reproduce outside the database: the first 4 bytes of
-- SHA-256(device_id || ':' || version), UTF-8, as a big-endian unsigned integer, mod 100.
-- A device is in a release's rollout when that is < rollout_percent: 0 is nobody, 100 is
-- everybody, raising the percentage only adds devices, and each version picks its own subset.
--   python3: int.from_bytes(hashlib.sha256(f"{device_id}:{version}".encode()).digest()[:4], "big") % 100
-- Idempotent and transactional, like 0001 to 0005.

BEGIN;

CREATE TABLE IF NOT EXISTS consult_releases (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel         text NOT NULL CHECK (channel ~ '^[a-z][a-z0-9-]{0,31}$'),
  version         text NOT NULL CHECK (version ~ '^[0-9A-Za-z.+~-]{1,64}$'),
  -- https only, no credentials in the URL; the box checks the bundle's signature and sha256 anyway.
  bundle_url      text NOT NULL CHECK (bundle_url ~ '^https://[^/@[:space:]]+/[^[:space:]]*$' AND length(bundle_url) <= 2048),
  sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes      bigint NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 4294967296),   -- 4 GiB
  rollout_percent integer NOT NULL DEFAULT 0 CHECK (rollout_percent BETWEEN 0 AND 100),
  published_at    timestamptz NOT NULL DEFAULT now(),
  withdrawn_at    timestamptz,
  notes           text CHECK (length(notes) <= 4000),
  UNIQUE (channel, version)
);
CREATE INDEX IF NOT EXISTS consult_releases_newest ON consult_releases(channel, published_at DESC, id DESC);

-- A pin names a release of the device's channel (the foreign key catches a mistyped one).
CREATE TABLE IF NOT EXISTS consult_device_release (
  device_id      text PRIMARY KEY REFERENCES consult_devices(device_id) ON DELETE CASCADE,
  channel        text NOT NULL DEFAULT 'stable' CHECK (channel ~ '^[a-z][a-z0-9-]{0,31}$'),
  pinned_version text,
  FOREIGN KEY (channel, pinned_version) REFERENCES consult_releases(channel, version)
);

-- Supabase's default privileges give anon and authenticated every new table and function in
-- public: taken back here, so only what is granted below is.
ALTER TABLE consult_releases ENABLE ROW LEVEL SECURITY;         -- no policy: devices use the function
ALTER TABLE consult_device_release ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON consult_releases, consult_device_release FROM PUBLIC, anon, authenticated, consult_device;

-- The bucket (0..99) a device falls in for a version: the hash above.
CREATE OR REPLACE FUNCTION consult_rollout_bucket(p_device_id text, p_version text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT SET search_path = public AS $$
  SELECT ((get_byte(h, 0)::bigint * 16777216 + get_byte(h, 1) * 65536 + get_byte(h, 2) * 256 + get_byte(h, 3))
          % 100)::integer
  FROM (SELECT sha256(convert_to(p_device_id || ':' || p_version, 'UTF8')) AS h) s
$$;

-- The calling device's id: the JWT's device_id, only while consult_device_clinic() vouches for it.
CREATE OR REPLACE FUNCTION consult_device_id() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT d.device_id
  FROM consult_devices d
  WHERE d.device_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'device_id'
    AND d.clinic_id = consult_device_clinic()
$$;
REVOKE ALL ON FUNCTION consult_device_id() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION consult_device_id() TO consult_device;

-- Its pinned release if it has one that is not withdrawn; else the newest release of its
-- channel, not withdrawn, whose rollout covers it (so a device left out of a staged rollout
-- is offered the last one that took it in). No row for an unknown or revoked device.
CREATE OR REPLACE FUNCTION consult_release_for_device()
RETURNS TABLE (version text, bundle_url text, sha256 text, size_bytes bigint, channel text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT r.version, r.bundle_url, r.sha256, r.size_bytes, r.channel
  FROM (SELECT d.device_id, coalesce(o.channel, 'stable') AS channel, o.pinned_version
          FROM (SELECT consult_device_id() AS device_id) d
          LEFT JOIN consult_device_release o ON o.device_id = d.device_id
         WHERE d.device_id IS NOT NULL) me
  JOIN consult_releases r ON r.channel = me.channel AND r.withdrawn_at IS NULL
  WHERE r.version = me.pinned_version
     OR (NOT EXISTS (SELECT 1 FROM consult_releases p
                      WHERE p.channel = me.channel AND p.version = me.pinned_version AND p.withdrawn_at IS NULL)
         AND consult_rollout_bucket(me.device_id, r.version) < r.rollout_percent)
  ORDER BY r.published_at DESC, r.id DESC
  LIMIT 1
$$;
REVOKE ALL ON FUNCTION consult_release_for_device() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION consult_release_for_device() TO consult_device;

-- Fleet health: what each box last said about itself.
CREATE TABLE IF NOT EXISTS consult_device_status (
  device_id           text PRIMARY KEY REFERENCES consult_devices(device_id) ON DELETE CASCADE,
  clinic_id           uuid NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
  version             text NOT NULL CHECK (version ~ '^[0-9A-Za-z.+~-]{1,64}$'),
  booted_slot         text NOT NULL CHECK (booted_slot IN ('a', 'b')),
  slot_marked_good    boolean NOT NULL,
  last_update_version text CHECK (last_update_version ~ '^[0-9A-Za-z.+~-]{1,64}$'),
  last_update_result  text CHECK (last_update_result IN ('installed', 'rolled_back', 'refused', 'failed', 'none')),
  last_update_reason  text CHECK (length(last_update_reason) <= 500),
  last_update_at      timestamptz,
  uptime_seconds      bigint NOT NULL CHECK (uptime_seconds >= 0),
  encoder             text CHECK (length(encoder) <= 200),
  camera              text CHECK (length(camera) <= 200),
  cloud_sync_state    text CHECK (length(cloud_sync_state) <= 200),
  -- e.g. {"session_create": 0, "media": 1, "webhook_refused": 0, "sms": 2}
  failures_last_day   jsonb NOT NULL DEFAULT '{}'
                      CHECK (jsonb_typeof(failures_last_day) = 'object' AND length(failures_last_day::text) <= 4096),
  reported_at         timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
DROP TRIGGER IF EXISTS consult_updated_at ON consult_device_status;
CREATE TRIGGER consult_updated_at BEFORE INSERT OR UPDATE ON consult_device_status
  FOR EACH ROW EXECUTE FUNCTION consult_touch_updated_at();

ALTER TABLE consult_device_status ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON consult_device_status FROM PUBLIC, anon, authenticated, consult_device;
-- What the device sends; updated_at is the trigger's. No DELETE.
GRANT SELECT ON consult_device_status TO consult_device;
GRANT INSERT (device_id, clinic_id, version, booted_slot, slot_marked_good, last_update_version, last_update_result,
              last_update_reason, last_update_at, uptime_seconds, encoder, camera, cloud_sync_state,
              failures_last_day, reported_at),
      UPDATE (device_id, clinic_id, version, booted_slot, slot_marked_good, last_update_version, last_update_result,
              last_update_reason, last_update_at, uptime_seconds, encoder, camera, cloud_sync_state,
              failures_last_day, reported_at)
  ON consult_device_status TO consult_device;

DROP POLICY IF EXISTS consult_device_read ON consult_device_status;
CREATE POLICY consult_device_read ON consult_device_status FOR SELECT TO consult_device
  USING (device_id = consult_device_id());
DROP POLICY IF EXISTS consult_device_insert ON consult_device_status;
CREATE POLICY consult_device_insert ON consult_device_status FOR INSERT TO consult_device
  WITH CHECK (device_id = consult_device_id() AND clinic_id = consult_device_clinic());
DROP POLICY IF EXISTS consult_device_update ON consult_device_status;
CREATE POLICY consult_device_update ON consult_device_status FOR UPDATE TO consult_device
  USING (device_id = consult_device_id())
  WITH CHECK (device_id = consult_device_id() AND clinic_id = consult_device_clinic());

COMMIT;
