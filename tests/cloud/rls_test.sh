#!/usr/bin/env bash
# Starts Debian's PostgreSQL in a temporary directory (unix socket only, no TCP), applies
# every cloud/migrations/*.sql in order, twice (they must be idempotent), with a minimal
# stand-in for Supabase's storage schema, and runs rls_test.sql. As root, the server runs as the unprivileged user "nobody".
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
cp "$repo"/cloud/migrations/*.sql "$here/rls_test.sql" "$here/storage_schema.sql" "$work/"
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

psql_run() { run env PGOPTIONS="-c client_min_messages=warning" psql -X -q -h "$work" -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
psql_run -f "$work/storage_schema.sql"
for pass in 1 2; do   # applying them again changes nothing and fails on nothing
  for m in "$repo"/cloud/migrations/*.sql; do psql_run -f "$work/$(basename "$m")"; done
done
out=$(run psql -X -q -h "$work" -p 5432 -t -A -U postgres -d postgres -v ON_ERROR_STOP=1 -f "$work/rls_test.sql" 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E "ok:|FAILED" | sed 's/^psql:[^ ]* NOTICE:  //'
passed=$(echo "$out" | grep -c "ok:" || true)
echo "$passed passed, 0 failed"
