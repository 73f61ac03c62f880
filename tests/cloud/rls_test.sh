#!/usr/bin/env bash
# Starts Debian's PostgreSQL in a temporary directory (unix socket only, no TCP). Builds the
# clinic system's project first: the four tables its specification only names (seed_stubs.sql)
# and the specification's own DDL (seed_schema.sql, as given), with a minimal stand-in for
# Supabase's storage schema; then applies every cloud/migrations/*.sql in order, twice (they
# must be idempotent), and runs rls_test.sql. On a database without the clinic system's schema
# the first migration must stop and say why. As root, the server runs as the unprivileged user "nobody".
# Exit 77 (skipped) only when no PostgreSQL server binaries are installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ] || ! command -v psql >/dev/null; then
  echo "SKIP: PostgreSQL server binaries not installed (tools/install-deps.sh test installs them)"
  exit 77
fi

work=$(mktemp -d /tmp/consult-pg-XXXXXX)
cp "$repo"/cloud/migrations/*.sql "$here/rls_test.sql" "$here/storage_schema.sql" "$here/seed_stubs.sql" \
  "$here/seed_schema.sql" "$work/"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody "$work"
  as_user=(runuser -u nobody --)
fi
run() { (cd "$work" && timeout 60 "${as_user[@]}" "$@"); }
cleanup() {
  run "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

run "$bin/initdb" -D "$work/data" -U postgres -A trust --no-sync -E UTF8 >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log"; exit 1; }
run "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 30 \
  -o "-c listen_addresses='' -k $work -c fsync=off -p 5432" start >/dev/null ||
  { cat "$work/server.log"; exit 1; }

psql_db() { local db=$1; shift; run env PGOPTIONS="-c client_min_messages=warning" psql -X -q -h "$work" -p 5432 -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"; }
migrate_twice() {   # applying them again changes nothing and fails on nothing
  for pass in 1 2; do
    for m in "$repo"/cloud/migrations/*.sql; do psql_db "$1" -f "$work/$(basename "$m")"; done
  done
}
psql_db postgres -f "$work/storage_schema.sql"
psql_db postgres -1 -f "$work/seed_stubs.sql" -f "$work/seed_schema.sql"
migrate_twice postgres
echo "ok: the migrations apply, twice, on the clinic system's own schema"
psql_db postgres -c "CREATE DATABASE blank"
first=$(ls "$repo"/cloud/migrations/*.sql | head -1)
if err=$(psql_db blank -f "$work/$(basename "$first")" 2>&1) || ! grep -q "clinic system's schema is missing" <<<"$err"; then
  echo "FAILED: $(basename "$first") on a project without the clinic system's schema did not stop and say why: $err"
  exit 1
fi
echo "ok: without the clinic system's schema, $(basename "$first") stops and says so"
out=$(run psql -X -q -h "$work" -p 5432 -t -A -U postgres -d postgres -v ON_ERROR_STOP=1 -f "$work/rls_test.sql" 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E "ok:|FAILED" | sed 's/^psql:[^ ]* NOTICE:  //'
passed=$(( $(echo "$out" | grep -c "ok:" || true) + 2 ))
echo "$passed passed, 0 failed"
