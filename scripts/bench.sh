#!/usr/bin/env bash
# Bigger load runs, one per scenario, against a fresh usher on this machine; the results
# go to OUT (JSON per scenario) and a summary table is printed. Builds nothing:
#   USHER_BIN=/var/tmp/usher-target/release/usher \
#   LOAD_BIN=/var/tmp/usher-target/release/usher-load scripts/bench.sh
#
# Sizes: BENCH_CLIENTS (default 19000: one usher process has 20,000 open files),
# BENCH_RUSH (1000 buyers), BENCH_VIEWERS (9000), BENCH_ADMIT (10000 buyers at
# BENCH_ADMIT_RATE=2000/s). OUT defaults to a new directory under /tmp. The engine is the
# memory engine unless BENCH_REDIS_URL is set.
set -euo pipefail

: "${USHER_BIN:?set USHER_BIN to the usher binary}"
: "${LOAD_BIN:?set LOAD_BIN to the usher-load binary}"
clients=${BENCH_CLIENTS:-19000}
rush=${BENCH_RUSH:-1000}
viewers=${BENCH_VIEWERS:-9000}
admit=${BENCH_ADMIT:-10000}
admit_rate=${BENCH_ADMIT_RATE:-2000}
out=${OUT:-$(mktemp -d /tmp/usher-bench.XXXXXX)}
mkdir -p "$out"
key="bench-$RANDOM$RANDOM"
spread=(--procs 2 --source-ips 127.0.0.2,127.0.0.3)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

clean=()
for v in $(compgen -e | grep '^USHER_' || true); do clean+=(-u "$v"); done
engine=()
[ -n "${BENCH_REDIS_URL:-}" ] && engine=(USHER_REDIS_URL="$BENCH_REDIS_URL" USHER_REDIS_PREFIX="bench$RANDOM")

start_usher() { # start_usher <name> <extra VAR=value...>; sets $addr and $pid
  local name=$1
  shift
  env "${clean[@]}" "${engine[@]}" USHER_BIND=127.0.0.1:0 \
    USHER_DATABASE_URL="sqlite://$out/$name.db?mode=rwc" USHER_ADMIN_KEY="$key" USHER_DEMO=false \
    USHER_JOIN_RATE_PER_IP=1000000 USHER_JOIN_BURST_PER_IP=1000000 NO_COLOR=1 RUST_LOG=info \
    "$@" "$USHER_BIN" >"$out/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  addr=""
  for _ in $(seq 1 150); do
    addr=$(sed 's/\x1b\[[0-9;]*m//g' "$out/$name.log" | grep -m1 'usher is serving' \
      | grep -oE '127\.0\.0\.1:[0-9]+' || true)
    [ -n "$addr" ] && return 0
    sleep 0.1
  done
  echo "bench: usher $name did not start" >&2
  cat "$out/$name.log" >&2
  exit 1
}

load() { # load <label> <addr> <usher-load arguments...>
  local label=$1 target=$2
  shift 2
  echo "== $label"
  "$LOAD_BIN" --target "http://$target" --admin-key "$key" --quiet --json "$out/$label.json" "$@" \
    || echo "bench: $label finished with problems (see above)"
}

start_usher main
main_addr=$addr
main_pid=$pid
load idle "$main_addr" "${spread[@]}" idle --clients "$clients" --duration 10 --server-pid "$main_pid"
load join-storm "$main_addr" "${spread[@]}" join-storm --clients "$clients" --duration 60
load admission "$main_addr" "${spread[@]}" admission --clients "$admit" \
  --admission-rate "$admit_rate" --duration 60
load broadcast "$main_addr" "${spread[@]}" broadcast --clients "$viewers" --ops 20 --duration 60

# Seat rush, unpaced: buyers send as fast as answers come back (per-socket limit raised).
start_usher rush USHER_MESSAGES_PER_SOCKET=100000
load seat-rush "$addr" --procs 2 seat-rush --clients "$rush" --duration 10 --msg-rate 0
kill "$pid" 2>/dev/null || true

start_usher fanout USHER_UPDATE_INTERVAL_MS=100
load fanout "$addr" "${spread[@]}" fanout --clients "$clients" --duration 10 --expect-interval-ms 100

echo "results: $out"
