-- The part of Supabase's storage schema that cloud/migrations/0002_recordings.sql's
-- policies touch (storage.buckets, storage.objects with row-level security), so the RLS
-- test proves them on a plain PostgreSQL. Not for a real Supabase project: it has these.
CREATE SCHEMA IF NOT EXISTS storage;
CREATE TABLE IF NOT EXISTS storage.buckets (
  id      text PRIMARY KEY,
  name    text NOT NULL UNIQUE,
  public  boolean DEFAULT false
);
CREATE TABLE IF NOT EXISTS storage.objects (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bucket_id  text REFERENCES storage.buckets(id),
  name       text,
  owner      uuid,
  metadata   jsonb,
  UNIQUE (bucket_id, name)
);
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
-- Supabase grants its signed-in users the table; the policies decide the rows.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
END $$;
GRANT USAGE ON SCHEMA storage TO authenticated;
GRANT ALL ON storage.objects TO authenticated;
