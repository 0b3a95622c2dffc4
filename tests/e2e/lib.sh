# shellcheck shell=bash disable=SC2034  # globals (RC, OUT, BODY, ...) are read by the scripts
# Shared helpers of the e2e tests: sourced (not run) by each tests/e2e/*.sh script.
#
# A script calls `e2e_init "$@"` first (arguments: the built transit-hubd and transit-hubctl).
# That makes a private temp dir ($E2E_TMP) and installs an EXIT trap which stops every process
# the script started with e2e_spawn (SIGTERM, then SIGKILL after a few seconds) and removes the
# temp dir, whether the script passes, fails or is interrupted.
#
# Checks print "ok: <check>" when they pass; the first failed check prints
# "FAIL: <what> (expected X, got Y)" with context and exits 1.
# Every network address is 127.0.0.1; the hub binds port 0 and tells us its port.

set -euo pipefail
export LC_ALL=C
# The CLI must see only what a test passes it; curl must not go through a proxy.
unset TRANSIT_HUB_URL TRANSIT_HUB_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
  ALL_PROXY

E2E_PIDS=()        # processes to stop at exit (daemons, prometheus, background loops)
E2E_MAIN_PID=""    # the script's own shell: only it may clean up
E2E_TMP=""
E2E_READY_TIMEOUT=15  # seconds to wait for a process to become ready

# ---- reporting -------------------------------------------------------------------------------

pass() { echo "ok: $*"; }

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" != "$3" ]]; then
    fail "$1 (expected '$2', got '$3')"
  fi
  pass "$1"
}

# expect_contains WHAT TEXT NEEDLE: TEXT contains the fixed string NEEDLE.
expect_contains() {
  if [[ "$2" != *"$3"* ]]; then
    fail "$1 (expected output containing '$3', got: $(e2e_excerpt "$2"))"
  fi
  pass "$1"
}

# expect_row WHAT TEXT REGEX SHOWN: some line of TEXT matches the extended regex REGEX (anchored
# at both ends); SHOWN describes that line for the FAIL message.
expect_row() {
  if ! grep -qE "^$3\$" <<<"$2"; then
    fail "$1 (expected a line '$4', got: $(e2e_excerpt "$2"))"
  fi
  pass "$1"
}

# expect_not_contains WHAT TEXT NEEDLE
expect_not_contains() {
  if [[ "$2" == *"$3"* ]]; then
    fail "$1 (expected no '$3', got: $(e2e_excerpt "$2"))"
  fi
  pass "$1"
}

# At most 2000 characters of a text, on one line, for a FAIL message.
e2e_excerpt() {
  local text="${1//$'\n'/\\n}"
  if ((${#text} > 2000)); then
    text="${text:0:2000}..."
  fi
  printf "'%s'" "$text"
}

# ---- setup and cleanup -----------------------------------------------------------------------

e2e_init() {
  if (($# != 2)); then
    echo "usage: $0 PATH/transit-hubd PATH/transit-hubctl" >&2
    exit 2
  fi
  HUBD="$1"
  HUBCTL="$2"
  [[ -x "$HUBD" ]] || fail "transit-hubd is executable (expected an executable, got '$HUBD')"
  [[ -x "$HUBCTL" ]] || fail "transit-hubctl is executable (expected an executable, got '$HUBCTL')"
  umask 077
  E2E_MAIN_PID=$BASHPID
  E2E_TMP="$(mktemp -d "${TMPDIR:-/tmp}/transit-e2e.XXXXXX")"
  trap e2e_cleanup EXIT
  # A command that fails outside a check (set -e stops the script) still says FAIL and where.
  set -E
  trap 'e2e_unexpected $? "$BASH_COMMAND" "$LINENO"' ERR
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

e2e_unexpected() {
  [[ "$BASHPID" == "$E2E_MAIN_PID" ]] || return 0
  echo "FAIL: unexpected error (expected '$2' at line $3 to succeed, got exit status $1)" >&2
  exit 1
}

# require_tools TOOL...: every tool is on PATH (the project's test dependencies).
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "required tool $tool is installed (expected it on PATH, got nothing)"
  done
}

e2e_cleanup() {
  local status=$?
  # A subshell (background loop, command substitution) never cleans up the script's state.
  [[ "$BASHPID" == "$E2E_MAIN_PID" ]] || return 0
  trap - EXIT INT TERM HUP ERR
  set +e
  local pid alive=() i
  for pid in "${E2E_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      alive+=("$pid")
    fi
  done
  # Up to 5 s for a polite stop, then SIGKILL.
  for ((i = 0; i < 50 && ${#alive[@]} > 0; i++)); do
    local still=()
    for pid in "${alive[@]}"; do
      kill -0 "$pid" 2>/dev/null && still+=("$pid")
    done
    alive=("${still[@]}")
    ((${#alive[@]} > 0)) && sleep 0.1
  done
  for pid in "${alive[@]}"; do
    echo "cleanup: process $pid did not stop on SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
  done
  for pid in "${E2E_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if [[ -n "$E2E_TMP" && -d "$E2E_TMP" ]]; then
    rm -rf -- "$E2E_TMP"
  fi
  exit "$status"
}

# e2e_forget PID: the process has been waited for; cleanup no longer needs to stop it.
e2e_forget() {
  local keep=() pid
  for pid in "${E2E_PIDS[@]}"; do
    [[ "$pid" == "$1" ]] || keep+=("$pid")
  done
  E2E_PIDS=("${keep[@]}")
}

# ---- running commands ------------------------------------------------------------------------

# run_cmd CMD ARGS...: runs a command whatever its exit status (no set -e stop, no ERR trap);
# sets RC, OUT, ERR.
# Every output is also appended to $E2E_TMP/all-output.log (for the "no secret anywhere" checks).
run_cmd() {
  RC=0
  "$@" >"$E2E_TMP/cmd.out" 2>"$E2E_TMP/cmd.err" </dev/null || RC=$?
  OUT="$(cat "$E2E_TMP/cmd.out")"
  ERR="$(cat "$E2E_TMP/cmd.err")"
  cat "$E2E_TMP/cmd.out" "$E2E_TMP/cmd.err" >>"$E2E_TMP/all-output.log"
}

# expect_rc WHAT EXPECTED: checks RC of the last run_cmd, showing its output on failure.
expect_rc() {
  if [[ "$RC" != "$2" ]]; then
    fail "$1 (expected exit status $2, got $RC;" \
      "stdout: $(e2e_excerpt "$OUT"); stderr: $(e2e_excerpt "$ERR"))"
  fi
  pass "$1"
}

# ctl ARGS...: runs transit-hubctl (through run_cmd) against the current hub with the admin token.
ctl() {
  run_cmd "$HUBCTL" --server "$HUB_URL" --token-file "$E2E_TMP/admin.token" "$@"
}

# http METHOD PATH [CURL ARGS...]: one request to the current hub; sets STATUS, BODY, HEADERS.
http() {
  local method="$1" path="$2"
  shift 2
  local rc=0
  STATUS="$(curl --noproxy '*' -sS -m 10 -X "$method" -o "$E2E_TMP/http.body" \
    -D "$E2E_TMP/http.headers" -w '%{http_code}' "$@" "$HUB_URL$path" 2>"$E2E_TMP/http.err")" ||
    rc=$?
  BODY="$(cat "$E2E_TMP/http.body" 2>/dev/null || true)"
  HEADERS="$(tr -d '\r' <"$E2E_TMP/http.headers" 2>/dev/null || true)"
  cat "$E2E_TMP/http.body" "$E2E_TMP/http.headers" >>"$E2E_TMP/all-output.log" 2>/dev/null || true
  if ((rc != 0)) && [[ "$STATUS" == "000" || -z "$STATUS" ]]; then
    fail "curl $method $path answers (expected an HTTP response," \
      "got curl exit $rc: $(cat "$E2E_TMP/http.err"))"
  fi
}

# json_get EXPR: evaluates the Python expression EXPR with `d` = the JSON on stdin; prints it.
json_get() {
  python3 -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"
}

# ---- tokens, configuration, the hub -----------------------------------------------------------

# make_token NAME: writes $E2E_TMP/NAME.token (mode 600); sets TOKEN_HASH to its SHA-256.
make_token() {
  local token
  token="$(openssl rand -hex 32)"
  printf '%s\n' "$token" >"$E2E_TMP/$1.token"
  chmod 600 "$E2E_TMP/$1.token"
  TOKEN_HASH="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
}

# write_config FILE STORE ADMIN_HASH [READ_HASH]: a valid hub configuration on 127.0.0.1:0.
write_config() {
  {
    echo "hub:"
    echo "  name: hub-a"
    echo "  asn: 65000"
    echo "  public_ip: 203.0.113.10"
    echo "  local_ip: 10.0.0.10"
    echo "api:"
    echo '  listen: ["127.0.0.1:0"]'
    echo "  tokens:"
    echo "    - name: ops"
    echo "      role: admin"
    echo "      sha256: \"$3\""
    if (($# > 3)); then
      echo "    - name: monitoring"
      echo "      role: read"
      echo "      sha256: \"$4\""
    fi
    echo "  threads: 2"
    echo "store:"
    echo "  sqlite: $2"
    echo "drivers:"
    echo "  mode: dry-run"
    echo "log:"
    echo "  level: info"
  } >"$1"
}

# e2e_spawn LOG CMD ARGS...: starts CMD in the background (stdout and stderr to LOG), registers
# it for cleanup; sets SPAWNED_PID.
e2e_spawn() {
  local log="$1"
  shift
  : >"$log"  # exists before the child opens it: readers may look at once
  "$@" >>"$log" 2>&1 </dev/null &
  SPAWNED_PID=$!
  E2E_PIDS+=("$SPAWNED_PID")
}

# wait_hub_port PID LOG SCHEME: waits for transit-hubd's "listening on 127.0.0.1:PORT (SCHEME)"
# line in LOG (SCHEME http or https) while PID lives; sets HUB_PORT.
wait_hub_port() {
  local pid="$1" log="$2" scheme="$3" i
  HUB_PORT=""
  for ((i = 0; i < E2E_READY_TIMEOUT * 20; i++)); do
    HUB_PORT="$(sed -n "s/^transit-hubd: listening on 127\.0\.0\.1:\([0-9][0-9]*\) ($scheme)\$/\1/p" \
      "$log" | head -n 1)"
    [[ -n "$HUB_PORT" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      fail "transit-hubd starts (expected a 'listening on' line," \
        "got an exit; log: $(e2e_excerpt "$(cat "$log")"))"
    fi
    sleep 0.05
  done
  [[ -n "$HUB_PORT" ]] ||
    fail "transit-hubd prints its port (expected a $scheme listener within ${E2E_READY_TIMEOUT}s," \
      "got log: $(e2e_excerpt "$(cat "$log")"))"
}

# start_hub CONFIG LOG: starts transit-hubd, reads its port from the "listening on" line, polls
# /healthz until 200. Sets HUB_PID, HUB_PORT, HUB_URL.
start_hub() {
  local config="$1" log="$2" i
  e2e_spawn "$log" "$HUBD" --config "$config"
  HUB_PID=$SPAWNED_PID
  wait_hub_port "$HUB_PID" "$log" http
  HUB_URL="http://127.0.0.1:$HUB_PORT"
  local code=""
  for ((i = 0; i < E2E_READY_TIMEOUT * 20; i++)); do
    code="$(curl --noproxy '*' -s -m 2 -o /dev/null -w '%{http_code}' "$HUB_URL/healthz" || true)"
    [[ "$code" == "200" ]] && break
    sleep 0.05
  done
  [[ "$code" == "200" ]] ||
    fail "transit-hubd /healthz answers (expected 200 within ${E2E_READY_TIMEOUT}s, got '$code')"
  pass "transit-hubd started on 127.0.0.1:$HUB_PORT"
}

# stop_process PID: SIGTERM, wait (at most 15 s, then SIGKILL); sets STOP_STATUS.
stop_process() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  STOP_STATUS=0
  wait "$pid" || STOP_STATUS=$?
  e2e_forget "$pid"
}

# ---- etcd (store.etcd) -------------------------------------------------------------------------

# etcd_ports: two free ports on 127.0.0.1 for etcd's client and peer URLs; sets CLIENT_PORT,
# PEER_PORT and ETCD_URL.
etcd_ports() {
  read -r CLIENT_PORT PEER_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
  ETCD_URL="http://127.0.0.1:$CLIENT_PORT"
}

# start_etcd WHAT: a single-member etcd on ETCD_URL, its data in $E2E_TMP/etcd-data (kept across
# restarts), log $E2E_TMP/etcd-WHAT.log; waits until it answers a range. Sets ETCD_PID.
start_etcd() {
  e2e_spawn "$E2E_TMP/etcd-$1.log" etcd --name e2e --data-dir "$E2E_TMP/etcd-data" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "e2e=http://127.0.0.1:$PEER_PORT" --log-level error
  ETCD_PID=$SPAWNED_PID
  local i code=""
  for ((i = 0; i < E2E_READY_TIMEOUT * 20; i++)); do
    code="$(curl --noproxy '*' -s -m 2 -o /dev/null -w '%{http_code}' -X POST \
      "$ETCD_URL/v3/kv/range" -d '{"key":"AA=="}' || true)"
    [[ "$code" == "200" ]] && break
    sleep 0.05
  done
  [[ "$code" == "200" ]] || fail "etcd answers on $ETCD_URL (expected 200, got '$code')"
  pass "etcd $1 on $ETCD_URL"
}

# hub_config NAME FILE [PREFIX] [PEER]: a dry-run hub named NAME on the etcd at ETCD_URL (key
# prefix PREFIX, default /e2e/), its own dry-run directory $E2E_TMP/dry-NAME; token TOKEN_HASH.
# With PEER (hub-a or hub-b), NAME and PEER are the two hubs of a pair (hub-a 203.0.113.10 /
# 10.0.0.10, hub-b 203.0.113.20 / 10.0.0.20).
hub_config() {
  write_config "$2" unused.db "$TOKEN_HASH"
  sed -i -e "s|^  name: hub-a$|  name: $1|" \
    -e "s|^  sqlite: .*|  etcd: {endpoints: [\"$ETCD_URL\"], prefix: ${3:-/e2e/}}|" \
    -e "s|^  mode: dry-run$|  mode: dry-run\n  dry_run_dir: $E2E_TMP/dry-$1|" "$2"
  if [[ -n "${4:-}" ]]; then
    local -A host=([hub-a]=10 [hub-b]=20)
    sed -i -e "s|^  public_ip: .*|  public_ip: 203.0.113.${host[$1]}|" \
      -e "s|^  local_ip: .*|  local_ip: 10.0.0.${host[$1]}|" "$2"
    {
      echo "pair:"
      echo "  peer: {name: $4, public_ip: 203.0.113.${host[$4]}, local_ip: 10.0.0.${host[$4]}}"
    } >>"$2"
  fi
}
