#!/usr/bin/env bash
# chaos (lab): crash trials against the live hub. transit-hubd drives real pluto and BIRD in the
# lab while tests/chaos/writer.py streams API writes (create, replace, delete of spokes c-*).
#  1. TRIALS times (TRANSIT_CHAOS_TRIALS, default 100; CI runs 20): kill -9 of transit-hubd at a
#     random moment of the stream, restart; then every acknowledged write is there, every write
#     in doubt left its spoke before or after it and nothing else, and the hub converges: pluto's
#     connections, the connection files, the secrets, BIRD's protocols and the nft rules are
#     exactly what the spokes call for, none duplicated or orphaned.
#  2. kill -9 of pluto, then of BIRD, in the middle of applying a burst of writes: healed with no
#     API call.
#  3. BIRD refusing the configuration (its main file broken, as an operator's mistake would): the
#     hub keeps every write, says why, and heals with no API call once the file is fixed.
# Usage: crash_trials.sh PATH/transit-hubd PATH/transit-hubctl
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lab/test_lib.sh"
TRIALS=${TRANSIT_CHAOS_TRIALS:-100}
SPOKES=8
WORK=$(mktemp -d /tmp/th-chaos.XXXXXX)
WRITER_PID=""
stop_writer() {
  [[ -n $WRITER_PID ]] || return 0
  touch "$WORK/stop"
  wait "$WRITER_PID" 2>/dev/null || true
  WRITER_PID=""
}
finish() {
  stop_writer
  rm -rf "$WORK"
  cleanup
}
trap finish EXIT
fail_with_writer() {
  [[ -f $WORK/failure ]] && echo "writer: $(cat "$WORK/failure")" >&2
  fail "$@"
}

start_writer() {  # start_writer SEED
  rm -f "$WORK/stop" "$WORK/pause" "$WORK/paused" "$WORK/failure"
  hub python3 "${here}/../chaos/writer.py" "${API}" "${STATE}/hub/hubd/admin.token" "$WORK" \
    "$SPOKES" "$1" &
  WRITER_PID=$!
}
pause_writer() {
  touch "$WORK/pause"
  local deadline=$((SECONDS + 90))
  until [[ -e $WORK/paused ]]; do
    kill -0 "$WRITER_PID" 2>/dev/null || fail_with_writer "the writer stopped"
    ((SECONDS < deadline)) || fail_with_writer "the writer pauses (settling its writes in doubt)"
    sleep 0.05
  done
}
resume_writer() { rm -f "$WORK/pause"; }

# ---- what the hub should have, and what pluto, BIRD and nft have

# Every spoke as "NAME ROUTING TUNNELS CIDR,CIDR" (sorted), from the API.
api_spokes() {
  get /v1/spokes | jq -r '.spokes[] | "\(.name) \(.routing) \(.tunnels | length) \(.cidrs | join(","))"' | sort
}
expected_connections() {
  local name routing n cidrs k
  while read -r name routing n cidrs; do
    for ((k = 1; k <= n; k++)); do echo "th-${name}-${k}"; done
  done < <(api_spokes) | sort
}
expected_protocols() {
  local name routing n cidrs k
  while read -r name routing n cidrs; do
    if [[ $routing == bgp ]]; then
      for ((k = 1; k <= n; k++)); do echo "th_${name//-/_}_${k}"; done
    else
      echo "th_${name//-/_}_static"
    fi
  done < <(api_spokes) | sort
}
pluto_connections() {
  hub "${WHACK}" --ctlsocket "${STATE}/hub/pluto.ctl" --status 2>/dev/null |
    grep -o '^000 "th-[^"]*":' | sed 's/^000 "//; s/":$//' | sort -u
}
connection_files() { ls "${STATE}/hub/ipsec.d/transit-hub/" | sed 's/\.conf$//' | sort; }
# Not -u: a secret written twice shows twice.
secret_entries() { sed -n 's/^# conn //p' "${STATE}/hub/ipsec.secrets" | sort; }
bird_protocols() {
  hub birdc -s "${STATE}/hub/bird.ctl" show protocols 2>/dev/null |
    awk '$1 ~ /^th_[a-z0-9_]+_([0-9]+|static)$/ {print $1}' | sort
}
nft_ruleset() { hub nft list ruleset; }
# Each table once, and a c-* spoke's CIDRs in the rules exactly while the spoke exists.
nft_problems() {
  local rules name i cidr present
  rules=$(nft_ruleset)
  grep '^table ' <<<"$rules" | sort | uniq -d | sed 's/^/duplicated: /'
  for ((i = 1; i <= SPOKES; i++)); do
    present=$(get /v1/spokes | jq -r --arg n "c-$i" '.spokes[] | select(.name == $n) | .cidrs[]')
    for cidr in "10.$((100 + i)).0.0/16" "10.$((150 + i)).0.0/16"; do
      if grep -qxF "$cidr" <<<"$present"; then
        grep -qF "$cidr" <<<"$rules" || echo "missing: c-$i's $cidr"
      else
        grep -qF "$cidr" <<<"$rules" && echo "orphaned: $cidr (c-$i does not hold it)"
      fi
    done
  done
  return 0
}
# Every tunnel the API lists has been applied (the reconciler has caught up).
all_applied() {
  get /v1/tunnels | jq -e '[.tunnels[] | select(.state != "applied")] | length == 0' >/dev/null
}
converged() {
  all_applied &&
    [[ "$(pluto_connections)" == "$(expected_connections)" ]] &&
    [[ "$(connection_files)" == "$(expected_connections)" ]] &&
    [[ "$(secret_entries)" == "$(expected_connections)" ]] &&
    [[ "$(bird_protocols)" == "$(expected_protocols)" ]] &&
    [[ -z "$(nft_problems)" ]]
}
show_divergence() {
  echo "--- expected connections vs pluto's"
  diff <(expected_connections) <(pluto_connections) || true
  echo "--- expected connections vs the connection files"
  diff <(expected_connections) <(connection_files) || true
  echo "--- expected connections vs the secrets"
  diff <(expected_connections) <(secret_entries) || true
  echo "--- expected protocols vs BIRD's"
  diff <(expected_protocols) <(bird_protocols) || true
  nft_problems
  get /v1/tunnels | jq -c '.tunnels[] | select(.state != "applied") | {spoke, index, state, last_error}'
}
wait_converged() {  # wait_converged SECONDS WHAT
  local deadline=$((SECONDS + $1))
  until converged; do
    if ((SECONDS >= deadline)); then
      show_divergence >&2
      fail "$2 (not within $1 s)"
    fi
    sleep 0.5
  done
}
# The c-* spokes the API holds match the writer's model (acknowledged writes, doubts settled).
check_model() {
  local want have
  want=$(jq -r '.spokes | to_entries[] | select(.value != null) |
    "\(.key) \(.value.generation) \(.value.cidrs | join(","))"' "$WORK/model.json" | sort)
  have=$(get /v1/spokes | jq -r '.spokes[] | select(.name | startswith("c-")) |
    "\(.name) \(.generation) \(.cidrs | join(","))"' | sort)
  if [[ $want != "$have" ]]; then
    diff <(echo "$want") <(echo "$have") >&2 || true
    fail "$1: the hub holds exactly the acknowledged writes"
  fi
}

lab_up
start_writer 20261207
sleep 2

# ---- 1. kill -9 of transit-hubd at random moments of the write stream
RANDOM=42
hub_restart_ms=()
for ((trial = 1; trial <= TRIALS; trial++)); do
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  start_ms=$(date +%s%3N)
  "${lab}" restart-hubd >/dev/null 2>&1 || fail "trial ${trial}: transit-hubd restarts"
  hub_restart_ms+=($(($(date +%s%3N) - start_ms)))
  sleep "0.$((RANDOM % 5))"
  pause_writer
  check_model "trial ${trial}"
  wait_converged 60 "trial ${trial}: the hub converges"
  resume_writer
  ((trial % 10 == 0)) && echo "ok: ${trial} trials: acknowledged writes kept, converged, nothing duplicated or orphaned"
done
pause_writer
stats=$(jq -c .stats "$WORK/model.json")
pass "${TRIALS} kill -9 trials of transit-hubd during API writes: every acknowledged write kept," \
  "every write in doubt all-or-nothing, converged each time (writer: ${stats})"
restart_sorted=$(printf '%s\n' "${hub_restart_ms[@]}" | sort -n)
echo "transit-hubd kill-to-ready: median $(sed -n "$(((TRIALS + 1) / 2))p" <<<"$restart_sorted") ms," \
  "max $(tail -n 1 <<<"$restart_sorted") ms"

# ---- 2. pluto and BIRD killed in the middle of applying a burst of writes
for daemon in pluto bird; do
  resume_writer
  sleep 0.3
  kill -9 "$(cat "${STATE}/hub/${daemon}.pid")"
  sleep 1
  pause_writer
  check_model "${daemon} killed"
  wait_converged 90 "${daemon} killed mid-apply: healed with no API call"
  pass "${daemon} killed mid-apply: every write kept, pluto, BIRD and nft as the spokes call for"
done

# ---- 3. BIRD refuses the configuration
main_conf="${STATE}/hub/bird.conf"
cp "${main_conf}" "$WORK/bird.conf.good"
echo 'this is not bird configuration;' >>"${main_conf}"
resume_writer
sleep 3
pause_writer
check_model "BIRD refusing its configuration"
refused() {
  get /v1/tunnels | jq -e '[.tunnels[] | select(.last_error != null and (.last_error | test("bird|BIRD|configur")))] | length > 0' >/dev/null ||
    grep -qiE 'bird.*(refus|error|fail)' "${STATE}/hub/hubd/transit-hubd.log"
}
eventually 30 "the hub reports that BIRD refuses the configuration" refused
cp "$WORK/bird.conf.good" "${main_conf}"
wait_converged 90 "BIRD's configuration fixed: healed with no API call"
pass "BIRD refusing its configuration: every write kept, healed once the file was fixed"

stop_writer
lab_down_leaves_nothing
echo "crash trials: all checks passed"
