#!/usr/bin/env bash
# e2e: a spoke the hub acknowledged survives `kill -9` of the daemon. A loop creates spokes one by
# one with transit-hubctl and records each acknowledged one; the daemon is SIGKILLed while the
# loop runs, restarted on the same store, and must hold every acknowledged spoke, each whole.
# Usage: crash_durability.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum sqlite3

SPOKES=300          # spokes the loop tries to create
KILL_AFTER=100      # acknowledged spokes before the kill
LOOP_TIMEOUT=40     # seconds for the loop to reach KILL_AFTER

make_token admin
STORE="$E2E_TMP/state.db"
write_config "$E2E_TMP/hub.yaml" "$STORE" "$TOKEN_HASH"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-1.log"
FIRST_URL=$HUB_URL

# The loop: spoke s-I has CIDR 10.(100+I/256).(I%256).0/24 and one tunnel from 100.64.(I/200).
# (I%200+1). A name is appended to acked.txt only after the CLI exited 0 for it.
: >"$E2E_TMP/acked.txt"
create_loop() {
  trap - EXIT INT TERM HUP ERR
  local i
  for ((i = 1; i <= SPOKES; i++)); do
    [[ -e "$E2E_TMP/stop-loop" ]] && break
    if "$HUBCTL" --server "$FIRST_URL" --token-file "$E2E_TMP/admin.token" --timeout 5 \
      spoke add "s-$i" --kind vpc --cidr "10.$((100 + i / 256)).$((i % 256)).0/24" \
      --routing static --tunnel "100.64.$((i / 200)).$((i % 200 + 1))" \
      >/dev/null 2>>"$E2E_TMP/loop.err" </dev/null; then
      echo "s-$i" >>"$E2E_TMP/acked.txt"
    else
      echo "s-$i: exit $?" >>"$E2E_TMP/loop.err"
    fi
  done
  return 0
}
create_loop &
LOOP_PID=$!
E2E_PIDS+=("$LOOP_PID")

acked=0
deadline=$((SECONDS + LOOP_TIMEOUT))
while ((SECONDS < deadline)); do
  acked=$(wc -l <"$E2E_TMP/acked.txt")
  ((acked >= KILL_AFTER)) && break
  kill -0 "$LOOP_PID" 2>/dev/null || break
  sleep 0.02
done
((acked >= KILL_AFTER)) ||
  fail "the loop gets $KILL_AFTER spokes acknowledged (expected within ${LOOP_TIMEOUT}s," \
    "got $acked; errors: $(e2e_excerpt "$(tail -n 5 "$E2E_TMP/loop.err" 2>/dev/null)"))"
pass "$acked spokes acknowledged with the loop still running"

kill -KILL "$HUB_PID"
KILL_STATUS=0
{ wait "$HUB_PID"; } 2>/dev/null || KILL_STATUS=$?  # no "Killed" job notice
e2e_forget "$HUB_PID"
expect_eq "transit-hubd died of SIGKILL (exit status 128+9)" 137 "$KILL_STATUS"

# Stop the loop: its calls now fail (nothing listens on the old port); let it finish its call.
touch "$E2E_TMP/stop-loop"
wait "$LOOP_PID" || true
e2e_forget "$LOOP_PID"
ACKED=$(wc -l <"$E2E_TMP/acked.txt")
((ACKED < SPOKES)) ||
  fail "the kill happened while the loop was running" \
    "(expected fewer than $SPOKES acknowledged, got $ACKED)"
pass "$ACKED spokes acknowledged in all; the loop was cut short by the kill"

start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-2.log"
http GET /v1/spokes -H "Authorization: Bearer $(head -n 1 "$E2E_TMP/admin.token")"
expect_eq "GET /v1/spokes after the restart" 200 "$STATUS"
printf '%s' "$BODY" >"$E2E_TMP/spokes.json"

VERDICT="$(python3 - "$E2E_TMP/spokes.json" "$E2E_TMP/acked.txt" <<'EOF'
import json, sys
spokes = json.load(open(sys.argv[1]))["spokes"]
acked = [line.strip() for line in open(sys.argv[2]) if line.strip()]
present = {s["name"]: s for s in spokes}
problems = []
missing = [name for name in acked if name not in present]
if missing:
    problems.append("acknowledged but missing: " + " ".join(missing[:20]))
for name, s in sorted(present.items()):
    i = int(name[2:])
    want_cidr = "10.%d.%d.0/24" % (100 + i // 256, i % 256)
    want_ip = "100.64.%d.%d" % (i // 200, i % 200 + 1)
    t = s.get("tunnels") or []
    if s.get("cidrs") != [want_cidr]:
        problems.append("%s: cidrs %r, expected [%r]" % (name, s.get("cidrs"), want_cidr))
    if len(t) != 1:
        problems.append("%s: %d tunnels, expected 1" % (name, len(t)))
        continue
    if t[0].get("outside_ip") != want_ip:
        problems.append("%s: outside_ip %r, expected %r" % (name, t[0].get("outside_ip"), want_ip))
    if not t[0].get("inside_cidr") or not t[0].get("hub_inside_ip"):
        problems.append("%s: tunnel without inside_cidr/hub_inside_ip: %r" % (name, t[0]))
    if t[0].get("psk_set") is not True:
        problems.append("%s: psk_set %r, expected true" % (name, t[0].get("psk_set")))
extra = sorted(set(present) - set(acked))
print("problems=%d present=%d acked=%d unacked_present=%s%s" % (
    len(problems), len(present), len(acked), ",".join(extra) or "-",
    "".join("\n  " + p for p in problems[:20])))
EOF
)"
[[ "$VERDICT" == "problems=0 "* ]] ||
  fail "every acknowledged spoke is present and whole after kill -9" \
    "(expected problems=0, got: $VERDICT)"
pass "every acknowledged spoke is present and whole after kill -9 ($VERDICT)"

# The audit trail was written with each change: every spoke present has exactly one create
# record, by the token that asked, and there is no record of a spoke that is not there.
http GET "/v1/audit?limit=1000" -H "Authorization: Bearer $(head -n 1 "$E2E_TMP/admin.token")"
expect_eq "GET /v1/audit after the restart" 200 "$STATUS"
printf '%s' "$BODY" >"$E2E_TMP/audit.json"
AUDIT="$(python3 - "$E2E_TMP/spokes.json" "$E2E_TMP/audit.json" <<'EOF'
import collections, json, sys
present = {s["name"] for s in json.load(open(sys.argv[1]))["spokes"]}
records = json.load(open(sys.argv[2]))["records"]
creates = collections.Counter(r["spoke"] for r in records if r["action"] == "create")
problems = []
problems += ["%s: %d create records" % (n, c) for n, c in creates.items() if c != 1]
problems += ["%s: present without a record" % n for n in sorted(present - set(creates))]
problems += ["%s: a record without the spoke" % n for n in sorted(set(creates) - present)]
problems += ["%s: actor %r" % (r["spoke"], r["actor"]) for r in records if r["actor"] != "ops"]
print("problems=%d records=%d%s" % (len(problems), len(records),
                                    "".join("\n  " + p for p in problems[:20])))
EOF
)"
[[ "$AUDIT" == "problems=0 "* ]] ||
  fail "each present spoke has its one audit record, and no record lacks its spoke" \
    "(expected problems=0, got: $AUDIT)"
pass "each present spoke has its one audit record, and no record lacks its spoke ($AUDIT)"

# The hub's own count agrees with its list.
http GET /v1/hub -H "Authorization: Bearer $(head -n 1 "$E2E_TMP/admin.token")"
expect_eq "GET /v1/hub after the restart" 200 "$STATUS"
LISTED="$(json_get 'len(d["spokes"])' <"$E2E_TMP/spokes.json")"
expect_eq "/v1/hub counts the listed spokes" "$LISTED" "$(json_get 'd["spokes"]["vpc"]' <<<"$BODY")"

# The restarted hub still takes writes.
ctl spoke add after-crash --kind site --cidr 192.168.77.0/24 --routing static \
  --tunnel 100.65.0.1
expect_rc "spoke add after the restart exits 0" 0

stop_process "$HUB_PID"
expect_eq "transit-hubd exit status after SIGTERM" 0 "$STOP_STATUS"

run_cmd sqlite3 "$STORE" "PRAGMA integrity_check;"
expect_eq "the store passes PRAGMA integrity_check" "ok" "$OUT"

echo "PASS: crash_durability"
