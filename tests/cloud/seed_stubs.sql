-- What tests/cloud/seed_schema.sql presumes (the clinic system's project before it): the
-- four tables the specification only names, with nothing but their `id uuid PRIMARY KEY`,
-- and uuid-ossp for uuid_generate_v4() (Supabase has it). The least a clinic can have, so
-- the RLS test proves cloud/migrations add everything else they read.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TABLE clinics (id uuid PRIMARY KEY);
CREATE TABLE profiles (id uuid PRIMARY KEY);
CREATE TABLE consultations (id uuid PRIMARY KEY);
CREATE TABLE appointments (id uuid PRIMARY KEY);
