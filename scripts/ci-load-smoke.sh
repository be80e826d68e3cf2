#!/usr/bin/env bash
# Load smoke test: starts usher on a free loopback port with a temporary SQLite database,
# runs every usher-load scenario with a few hundred clients for a few seconds, and fails
# if any scenario errors or seat-rush reports a double hold. Stops usher at the end.
#
# It builds nothing: give it the two binaries.
#   USHER_BIN=/var/tmp/usher-target/release/usher \
#   LOAD_BIN=/var/tmp/usher-target/release/usher-load scripts/ci-load-smoke.sh
#
# Optional: SMOKE_CLIENTS (default 300), SMOKE_SECS (default 3), SMOKE_REDIS_URL (run usher
# on the Redis engine, under a fresh key prefix).
set -euo pipefail

: "${USHER_BIN:?set USHER_BIN to the usher binary}"
: "${LOAD_BIN:?set LOAD_BIN to the usher-load binary}"
clients=${SMOKE_CLIENTS:-300}
secs=${SMOKE_SECS:-3}
work=$(mktemp -d /tmp/usher-load-smoke.XXXXXX)
key="smoke-$RANDOM$RANDOM"
tag=ci-load-smoke
. "$(dirname "$0")/lib-usher.sh"

cleanup() {
  stop_usher
  rm -rf "$work"
}
trap cleanup EXIT

engine=()
if [ -n "${SMOKE_REDIS_URL:-}" ]; then
  engine=(USHER_REDIS_URL="$SMOKE_REDIS_URL" USHER_REDIS_PREFIX="smoke$RANDOM$RANDOM")
fi

start_usher "${engine[@]}" \
  USHER_DATABASE_URL="sqlite://$work/smoke.db?mode=rwc" \
  USHER_ADMIN_KEY="$key" \
  USHER_DEMO=false \
  USHER_JOIN_RATE_PER_IP=1000000 USHER_JOIN_BURST_PER_IP=1000000 \
  USHER_UPDATE_INTERVAL_MS=200
echo "ci-load-smoke: usher (pid $usher_pid) on $addr; $clients clients, ${secs}s per scenario"

failed=()
run() { # run <label> <usher-load arguments...>
  local label=$1
  shift
  echo "== $label"
  if ! timeout 300 "$LOAD_BIN" --target "http://$addr" --admin-key "$key" --quiet \
    --json "$work/$label.json" "$@"; then
    failed+=("$label")
  fi
}

run idle idle --clients "$clients" --duration "$secs" --server-pid "$usher_pid"
run join-storm join-storm --clients "$clients" --duration 30
run join-storm-procs --procs 2 --source-ips 127.0.0.2,127.0.0.3 \
  join-storm --clients "$clients" --duration 30
run admission admission --clients "$clients" --admission-rate 500 --duration 30
run fanout fanout --clients "$clients" --duration "$secs" --expect-interval-ms 200
run seat-rush seat-rush --clients 200 --duration "$secs"
run broadcast broadcast --clients "$clients" --ops 10 --duration 30

# usher-load already fails on a double hold; check the number itself too.
if [ -f "$work/seat-rush.json" ] && ! grep -q '"double_holds": 0' "$work/seat-rush.json"; then
  echo "ci-load-smoke: seat-rush reported double holds" >&2
  failed+=("seat-rush double holds")
fi

if ! kill -0 "$usher_pid" 2>/dev/null; then
  echo "ci-load-smoke: usher died during the run" >&2
  failed+=("usher died")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "ci-load-smoke: FAILED: ${failed[*]}" >&2
  echo "--- last lines of the usher log:" >&2
  tail -n 40 "$work/usher.log" >&2
  exit 1
fi
echo "ci-load-smoke: every scenario passed"
