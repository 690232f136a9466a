# Shared by the scripts that start things for tests and benchmarks (source it after `cd` to the
# repository root): a work directory and the background processes, both gone on exit; waiting
# for a file; the `silent` POP3 target; the misbehaving-server fixture; starting popwire-bridge
# and reading its address.

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for_file FILE: until FILE exists and is not empty (30 s at most).
wait_for_file() {
  for _ in $(seq 1 300); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# start_silent_target: a listener that accepts connections and never speaks (timeout tests);
# sets $silent_port.
start_silent_target() {
  python3 - "$work/silent.port" <<'PY' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    conn, _ = s.accept()
    held.append(conn)
PY
  pids+=($!)
  wait_for_file "$work/silent.port"
  silent_port=$(cat "$work/silent.port")
}

# start_bridge BINARY ARGS...: runs popwire-bridge on 127.0.0.1:0 with ARGS, waits until it
# listens; sets $http (HOST:PORT) and logs to $work/bridge.log.
start_bridge() {
  local binary=$1
  shift
  "$binary" --listen 127.0.0.1:0 --ready-file "$work/ready.json" "$@" >"$work/bridge.log" 2>&1 &
  pids+=($!)
  wait_for_file "$work/ready.json"
  http=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' "$work/ready.json")
}

# start_fixture RUNS: the misbehaving-server fixture (tests/fixtures/misbehaving/, the example
# misbehaving_fixture, built already) with the scenarios that run on RUNS (`browser`), one
# 127.0.0.1 port each; sets $fixture_report (the URL of its report: what bytes each connection
# sent) and $fixture_targets (the bridge arguments: --target fx-NAME=127.0.0.1:PORT per scenario).
start_fixture() {
  target/debug/examples/misbehaving_fixture --scenarios tests/fixtures/misbehaving --runs "$1" \
    --ready-file "$work/fixture.json" >"$work/fixture.log" 2>&1 &
  pids+=($!)
  wait_for_file "$work/fixture.json"
  fixture_report=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["report"])' "$work/fixture.json")
  mapfile -t fixture_targets < <(python3 - "$work/fixture.json" <<'PY'
import json, sys
for name, port in sorted(json.load(open(sys.argv[1]))["scenarios"].items()):
    print("--target")
    print(f"fx-{name}=127.0.0.1:{port}")
PY
  )
}
