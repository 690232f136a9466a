#!/usr/bin/env bash
# The latency benchmark (issue 12 §1): sync a maildrop of 1,000 messages of 2–50 KB (UIDL, then
# RETR of each) through a delay proxy adding DELAY_MS (default 25) each way, against Dovecot
# (Debian's dovecot-pop3d, its own instance in a temp dir) and popwire's demo server, with
# popwire native, popwire in headless Chromium, Python's poplib and mpop. Prints each median,
# the floor computed from the round trips, and the ratios. Not a test: nothing is asserted.
# See benches/latency/README.md for what is measured and the environment variables.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=benches/latency

delay=${DELAY_MS:-25}
runs=${RUNS:-3}
await_runs=${AWAIT_RUNS:-1}
windows=${WINDOWS:-64 512}
count=${MESSAGES:-1000}
serial=${SERIAL:-0}

# shellcheck source=scripts/lib.sh
source scripts/lib.sh
results="$work/results.jsonl"
: >"$results"

# ----- What it needs: Dovecot's POP3 server and mpop from apt, Python's poplib (stdlib). --------
missing=()
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing+=(dovecot-pop3d)
command -v mpop >/dev/null 2>&1 || missing+=(mpop)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "installing ${missing[*]} with apt (Debian's dovecot package may start its own system service; this benchmark does not use it)"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
dovecot_bin=$(command -v dovecot || echo /usr/sbin/dovecot)
have_chromium=1
command -v chromium >/dev/null 2>&1 || { have_chromium=0; echo "no chromium (scripts/setup.sh test installs it): the browser rows are skipped"; }

echo "building (release): popwire-bridge, examples/sync_native, www/pkg"
cargo build -q --release -p popwire-bridge --bin popwire-bridge
cargo build -q --release --example sync_native
if [ "$have_chromium" = 1 ] && ! bash scripts/build-pkg.sh >/dev/null 2>"$work/pkg.log"; then
  have_chromium=0
  echo "www/pkg did not build (see below): the browser rows are skipped"
  tail -5 "$work/pkg.log"
fi
native=target/release/examples/sync_native

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for_port() {
  python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"nothing listens on 127.0.0.1:{sys.argv[1]}")
PY
}

# ----- The maildrop: generated once, hard-linked into one Maildir per client and server. --------
# Each client has its own user, so the one-at-a-time runs can share the servers at once (the
# demo server locks a maildrop per session, as RFC 1939 asks).
users=(native chromium poplib mpop)
python3 "$here/gen_maildrop.py" "$work/seed" "$count" | sed 's/^/maildrop: /'
chmod 711 "$work" # Dovecot's mail user (below) must reach its Maildirs
for server in dovecot demo; do
  for u in "${users[@]}"; do
    mkdir -p "$work/mail-$server"
    cp -al "$work/seed" "$work/mail-$server/$u"
  done
done

# ----- Dovecot: its own instance, config in the temp dir, in the foreground (-F). ---------------
dv="$work/dovecot"
mkdir -p "$dv/run" "$dv/state"
chmod 755 "$dv"
dovecot_port=$(free_port)
for u in "${users[@]}"; do echo "$u:{PLAIN}pop3::::::"; done >"$dv/passwd"
chmod 644 "$dv/passwd"
if [ "$(id -u)" = 0 ]; then
  # Dovecot refuses mail access as root: the Maildirs belong to nobody; its own services run
  # as the package's users (dovecot, dovenull).
  mail_uid=$(id -u nobody)
  mail_gid=$(id -g nobody)
  chown -R "$mail_uid:$mail_gid" "$work/mail-dovecot"
  rootless=""
else
  mail_uid=$(id -u)
  mail_gid=$(id -g)
  rootless="default_internal_user = $(id -un)
default_internal_group = $(id -gn)
default_login_user = $(id -un)
service anvil {
  chroot =
}"
fi
cat >"$dv/dovecot.conf" <<EOF
# Written by benches/latency/run.sh for one run; nothing outside $work is used.
protocols = pop3
listen = 127.0.0.1
base_dir = $dv/run
state_dir = $dv/state
log_path = $dv/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$work/mail-dovecot/%u
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dv/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$work/mail-dovecot/%u
}
service pop3-login {
  $( [ -n "$rootless" ] && echo "chroot =" )
  inet_listener pop3 {
    address = 127.0.0.1
    port = $dovecot_port
  }
}
$rootless
EOF
"$dovecot_bin" -F -c "$dv/dovecot.conf" >"$dv/stdout.log" 2>&1 &
pids+=($!)
wait_for_port "$dovecot_port" || { cat "$dv/stdout.log" "$dv/dovecot.log" >&2; exit 1; }

# ----- The delay proxies (0 ms and $delay ms, one each per server) and the bridge. --------------
demo_port=$(free_port)
# start_proxy NAME UPSTREAM_PORT DELAY_MS: sets proxy_port[NAME].
declare -A proxy_port
start_proxy() {
  python3 "$here/delay_proxy.py" --upstream "127.0.0.1:$2" --delay-ms "$3" \
    --ready-file "$work/proxy-$1.port" >"$work/proxy-$1.log" 2>&1 &
  pids+=($!)
  wait_for_file "$work/proxy-$1.port"
  proxy_port[$1]=$(cat "$work/proxy-$1.port")
}
for server in dovecot demo; do
  upstream=$dovecot_port
  [ "$server" = demo ] && upstream=$demo_port
  start_proxy "$server-0" "$upstream" 0
  start_proxy "$server-d" "$upstream" "$delay"
done

for u in "${users[@]}"; do echo "$u:pop3"; done >"$work/demo-passwords"
mkdir -p "$work/www"
cp benches/browser/sync.html benches/browser/sync.js "$work/www/"
[ "$have_chromium" = 1 ] && cp -r www/pkg "$work/www/pkg"
start_bridge target/release/popwire-bridge --www "$work/www" \
  --demo --maildir "$work/mail-demo" --demo-password-file "$work/demo-passwords" \
  --demo-pop3 "127.0.0.1:$demo_port" --demo-pop3s 127.0.0.1:0 \
  --target "dovecot-0=127.0.0.1:${proxy_port[dovecot-0]}" \
  --target "dovecot-d=127.0.0.1:${proxy_port[dovecot-d]}" \
  --target "demo-0=127.0.0.1:${proxy_port[demo-0]}" \
  --target "demo-d=127.0.0.1:${proxy_port[demo-d]}"
wait_for_port "$demo_port"

# The port of SERVER (dovecot|demo) at DELAY (direct|0|d).
port_of() {
  case $2 in
    direct) if [ "$1" = dovecot ]; then echo "$dovecot_port"; else echo "$demo_port"; fi ;;
    *) echo "${proxy_port[$1-$2]}" ;;
  esac
}
delay_ms_of() { case $1 in d) echo "$delay" ;; *) echo 0 ;; esac; }

# ----- Runners: each run appends one JSON line to $results (measure.py adds wall time, RSS). ---
# native SERVER DELAY MODE N [WINDOW]
native() {
  local server=$1 at=$2 mode=$3 n=$4 window=${5:-16}
  for _ in $(seq 1 "$n"); do
    python3 "$here/measure.py" --out "$results" --tag server="$server" --tag at="$at" \
      --tag delayMs="$(delay_ms_of "$at")" -- \
      "$native" "127.0.0.1:$(port_of "$server" "$at")" native pop3 "$mode" "$window"
  done
}
# poplib SERVER DELAY N
poplib() {
  for _ in $(seq 1 "$3"); do
    python3 "$here/measure.py" --out "$results" --tag server="$1" --tag at="$2" \
      --tag delayMs="$(delay_ms_of "$2")" -- \
      python3 "$here/sync_poplib.py" 127.0.0.1 "$(port_of "$1" "$2")" poplib pop3
  done
}
# mpop SERVER DELAY N: pipelining on, keep on (the maildrop stays for the next run), only_new
# off, its UIDL file removed before each run; delivery to a maildir on tmpfs where there is one.
mpop_box=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$work")
trap 'rm -rf "$mpop_box"; cleanup' EXIT
mpop_run() {
  local server=$1 at=$2 rc="$work/mpoprc-$1-$2"
  cat >"$rc" <<EOF
account bench
host 127.0.0.1
port $(port_of "$server" "$at")
user mpop
password pop3
auth user
tls off
pipelining on
keep on
only_new off
received_header off
uidls_file $work/mpop-uidls
delivery maildir $mpop_box
EOF
  chmod 600 "$rc"
  for _ in $(seq 1 "$3"); do
    rm -rf "$work/mpop-uidls" "$mpop_box"/{cur,new,tmp}
    mkdir -p "$mpop_box"/{cur,new,tmp}
    python3 "$here/measure.py" --out "$results" --tag server="$server" --tag at="$at" \
      --tag delayMs="$(delay_ms_of "$at")" --tag client=mpop --tag mode=pipelined \
      --count-files "$mpop_box/new" -- mpop -C "$rc" -q bench
  done
}
# chromium NAME WARM_TARGET JOB...: one headless Chromium (no Playwright: it slows WebSockets
# ~3x, see TOOLCHAIN.md) running benches/browser/sync.js with the jobs given as
# SERVER:DELAY:MODE:RUNS[:WINDOW]; waits for its POPWIRE_SYNC_DONE line.
chromium_run() {
  local name=$1 warm=$2 log="$work/chromium-$1.log"
  shift 2
  [ "$have_chromium" = 1 ] || return 0
  local jobs
  jobs=$(python3 - "$@" <<'PY'
import json, sys, urllib.parse
jobs = []
for spec in sys.argv[1:]:
    server, at, mode, runs, *window = spec.split(":")
    # No window: the batch API's default (0), the window modes' 16.
    default = 0 if mode == "batch" else 16
    jobs.append({"label": f"{server}:{at}", "target": f"{server}-{at}", "user": "chromium",
                 "pass": "pop3", "mode": mode, "runs": int(runs),
                 "window": int(window[0]) if window else default})
print(urllib.parse.quote(json.dumps(jobs)))
PY
  )
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile-$name" --enable-logging=stderr --v=0 \
    "http://$http/sync.html?warm=$warm&jobs=$jobs" 2>"$log" &
  local chrome=$! done=0
  for _ in $(seq 1 6000); do
    if grep -q POPWIRE_SYNC_DONE "$log"; then done=1; break; fi
    sleep 0.2
  done
  kill "$chrome" 2>/dev/null || true
  wait "$chrome" 2>/dev/null || true
  [ "$done" = 1 ] || { echo "no result from Chromium ($name)" >&2; tail -20 "$log" >&2; }
  python3 "$here/report.py" --chromium-log "$log" --delay "$delay" >>"$results"
}

echo "Dovecot $("$dovecot_bin" --version | cut -d' ' -f1) on 127.0.0.1:$dovecot_port, popwire demo server on 127.0.0.1:$demo_port, bridge on $http"
echo "proxies: ${delay} ms one way (dovecot ${proxy_port[dovecot-d]}, demo ${proxy_port[demo-d]}), 0 ms (dovecot ${proxy_port[dovecot-0]}, demo ${proxy_port[demo-0]})"

# Warm-up: Dovecot moves new/ to cur/ and builds its index on a maildrop's first session.
for server in dovecot demo; do
  for u in "${users[@]}"; do "$native" "127.0.0.1:$(port_of $server direct)" "$u" pop3 all >/dev/null; done
done

echo "0 ms: direct and through the proxy (sanity; the floor's transfer time)"
for server in dovecot demo; do
  native "$server" direct all "$runs"
  native "$server" 0 all "$runs"
  native "$server" 0 await 1
  for w in $windows; do native "$server" 0 window 1 "$w"; done
  poplib "$server" 0 1
  mpop_run "$server" 0 "$runs"
done
windows_jobs() { for w in $windows; do echo "$1:$2:window:$runs:$w"; done; }
# shellcheck disable=SC2046
chromium_run zero demo-0 dovecot:0:all:"$runs" dovecot:0:await:1 $(windows_jobs dovecot 0) \
  demo:0:all:"$runs" demo:0:await:1 $(windows_jobs demo 0)

echo "${delay} ms, pipelined: $runs runs each"
for server in dovecot demo; do
  native "$server" d all "$runs"
  for w in $windows; do native "$server" d window "$runs" "$w"; done
  # The batch API with its default window (1,000 messages, 32 MiB by LIST's sizes).
  native "$server" d batch "$runs" 1000
  mpop_run "$server" d "$runs"
done
# The batch API with the engine's default window, as native's batch rows.
# shellcheck disable=SC2046
chromium_run piped demo-0 dovecot:d:all:"$runs" $(windows_jobs dovecot d) \
  dovecot:d:batch:"$runs" demo:d:all:"$runs" $(windows_jobs demo d) \
  demo:d:batch:"$runs"

if [ "$serial" = 1 ]; then
  echo "${delay} ms, one RETR at a time: $await_runs run(s) each, one after another (SERIAL=1)"
  for server in dovecot demo; do
    native "$server" d await "$await_runs"
    poplib "$server" d "$await_runs"
    chromium_run "await-$server" "$server-0" "$server:d:await:$await_runs"
  done
else
  echo "${delay} ms, one RETR at a time: $await_runs run(s) each; the six syncs run at once (each mostly waits; SERIAL=1 runs them one after another)"
  group=()
  for server in dovecot demo; do
    native "$server" d await "$await_runs" &
    group+=($!)
    poplib "$server" d "$await_runs" &
    group+=($!)
    chromium_run "await-$server" "$server-0" "$server:d:await:$await_runs" &
    group+=($!)
  done
  for pid in "${group[@]}"; do wait "$pid" || true; done
fi

echo
mkdir -p target
cp "$results" target/latency-results.jsonl
python3 "$here/report.py" --results "$results" --delay "$delay" --messages "$count"
echo "(the runs, one JSON line each: target/latency-results.jsonl)"
