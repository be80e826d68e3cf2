#!/usr/bin/env bash
# API fuzz test: starts usher on a free loopback port (memory engine, a throwaway SQLite
# or PostgreSQL database, a known admin key), waits for /readyz, then runs schemathesis against the
# OpenAPI description the server serves (/api/openapi.json) with the admin key as a bearer
# token. Fails on any 500, any answer whose status code the description does not list,
# and any answer that does not match its schema. Stops usher at the end.
#
# It builds nothing: give it the binary.
#   USHER_BIN=/var/tmp/usher-target/debug/usher scripts/ci-schemathesis.sh
#
# Optional: SCHEMATHESIS_EXAMPLES (test cases per operation and phase, default 100),
# SCHEMATHESIS_SEED (replay a run; the seed of every run is printed),
# SCHEMATHESIS_POSTGRES_URL (a PostgreSQL URL whose server this may create a database on:
# usher then runs on a fresh database there, dropped at the end, instead of SQLite).
set -euo pipefail

: "${USHER_BIN:?set USHER_BIN to the usher binary}"
examples=${SCHEMATHESIS_EXAMPLES:-100}
seed=${SCHEMATHESIS_SEED:-$RANDOM$RANDOM}
work=$(mktemp -d /tmp/usher-schemathesis.XXXXXX)
key="st-$RANDOM$RANDOM"
tag=ci-schemathesis
. "$(dirname "$0")/lib-usher.sh"
pg_db=""

cleanup() {
  stop_usher
  if [ -n "$pg_db" ]; then
    psql "$SCHEMATHESIS_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! command -v schemathesis >/dev/null 2>&1; then
  pip install --quiet --disable-pip-version-check --root-user-action=ignore schemathesis
fi

# The description itself first: valid OpenAPI 3 (the validator comes with schemathesis).
python3 -c 'import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1])))' \
  "$(dirname "$0")/../docs/openapi.json"

database_url="sqlite://$work/st.db?mode=rwc"
if [ -n "${SCHEMATHESIS_POSTGRES_URL:-}" ]; then
  # usher_t_…: .ci/run drops those left by an earlier run.
  pg_db="usher_t_st_$RANDOM$RANDOM"
  psql "$SCHEMATHESIS_POSTGRES_URL" -qc "CREATE DATABASE $pg_db" >/dev/null
  database_url="${SCHEMATHESIS_POSTGRES_URL%/*}/$pg_db"
fi

start_usher \
  USHER_ENGINE=memory \
  USHER_DATABASE_URL="$database_url" \
  USHER_ADMIN_KEY="$key" \
  USHER_DEMO=true \
  RUST_LOG=warn,usher=info
# schemathesis brings Python; no curl needed. urlopen fails on a 503.
ready() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://$addr/readyz" 2>/dev/null; }
for _ in $(seq 1 100); do
  ready && break
  sleep 0.1
done
ready || {
  echo "ci-schemathesis: usher on $addr is not ready" >&2
  exit 1
}
# The database by name only: a PostgreSQL URL may carry a password.
echo "ci-schemathesis: usher (pid $usher_pid) on $addr, database ${pg_db:-SQLite};" \
  "$examples examples per operation, seed $seed"

# Run from the work folder: schemathesis keeps a cache (.schemathesis/) where it runs.
status=0
cd "$work"
timeout 600 schemathesis --no-color run "http://$addr/api/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --max-examples "$examples" --seed "$seed" \
  --request-timeout 10 --generation-database none \
  --workers 1 || status=$?
# One worker: with two, schemathesis 4.32 on Python 3.11.7 died in its coverage phase
# ("SystemError: AST constructor recursion depth mismatch", a CPython thread-safety bug).

if ! kill -0 "$usher_pid" 2>/dev/null; then
  echo "ci-schemathesis: usher died during the run" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  echo "ci-schemathesis: FAILED (seed $seed; SCHEMATHESIS_SEED=$seed replays it)" >&2
  echo "--- last lines of the usher log:" >&2
  tail -n 40 "$work/usher.log" >&2
  exit 1
fi
echo "ci-schemathesis: passed"
