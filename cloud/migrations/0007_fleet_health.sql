-- Consult Room Appliance, fleet health: what a clinic applies after 0006 so that every box's
-- status row can say what it really knows, including "I do not know".
--
--   * booted_slot and slot_marked_good may be NULL: a box that is not an A/B appliance
--     (a development machine, a box whose kernel command line names no rauc.slot) has no
--     slot, and a box whose updater state cannot be read cannot say whether it is marked good.
--   * last_update_result also takes 'postponed' (a call was running or the maintenance
--     window was closed) and 'unknown' (the updater's state file could not be read; the
--     reason says why).
--   * box_uptime_seconds: how long the box has run (/proc/uptime); uptime_seconds stays
--     consultd's own. NULL when the box could not say.
-- Idempotent and transactional, like 0001 to 0006.

BEGIN;

ALTER TABLE consult_device_status ALTER COLUMN booted_slot DROP NOT NULL;
ALTER TABLE consult_device_status ALTER COLUMN slot_marked_good DROP NOT NULL;

ALTER TABLE consult_device_status DROP CONSTRAINT IF EXISTS consult_device_status_last_update_result_check;
ALTER TABLE consult_device_status ADD CONSTRAINT consult_device_status_last_update_result_check
  CHECK (last_update_result IN ('installed', 'rolled_back', 'refused', 'failed', 'postponed', 'unknown', 'none'));

ALTER TABLE consult_device_status ADD COLUMN IF NOT EXISTS box_uptime_seconds bigint
  CHECK (box_uptime_seconds >= 0);

-- The device writes the new column too (0006 granted the others by name).
GRANT INSERT (box_uptime_seconds), UPDATE (box_uptime_seconds) ON consult_device_status TO consult_device;

COMMIT;
