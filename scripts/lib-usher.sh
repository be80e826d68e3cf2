# Shared by the CI scripts that run a real usher (ci-load-smoke.sh, ci-k6.sh,
# ci-schemathesis.sh): source it, set `work` (a temporary folder) and `tag` (the name in
# messages), then `start_usher VAR=value …` and `stop_usher` in the script's EXIT trap.

usher_pid=""
addr=""

# start_usher VAR=value …: starts $USHER_BIN on a free loopback port (port 0: the kernel
# picks, usher logs the address it serves on) with none of the caller's USHER_* variables
# (usher reads every USHER_* variable as a setting and refuses unknown ones, such as
# USHER_BIN) and with the given ones; logs to $work/usher.log. Sets usher_pid and addr;
# exits when usher does not start or does not say where it serves within 15 s.
start_usher() {
  local clean=()
  for v in $(compgen -e | grep '^USHER_' || true); do clean+=(-u "$v"); done
  env "${clean[@]}" USHER_BIND=127.0.0.1:0 NO_COLOR=1 RUST_LOG=info "$@" \
    "$USHER_BIN" >"$work/usher.log" 2>&1 &
  usher_pid=$!
  for _ in $(seq 1 150); do
    addr=$(sed 's/\x1b\[[0-9;]*m//g' "$work/usher.log" | grep -m1 'usher is serving' \
      | grep -oE '127\.0\.0\.1:[0-9]+' || true)
    [ -n "$addr" ] && return 0
    if ! kill -0 "$usher_pid" 2>/dev/null; then
      echo "$tag: usher did not start:" >&2
      cat "$work/usher.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$tag: usher did not say where it serves within 15 s" >&2
  cat "$work/usher.log" >&2
  exit 1
}

# stop_usher: stops the usher start_usher started, if it still runs.
stop_usher() {
  if [ -n "$usher_pid" ] && kill -0 "$usher_pid" 2>/dev/null; then
    kill "$usher_pid" 2>/dev/null || true
    wait "$usher_pid" 2>/dev/null || true
  fi
}
