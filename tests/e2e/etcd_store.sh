#!/usr/bin/env bash
# e2e: transit-hubd on a real etcd (store.etcd), as the pair runs it. Two hubs share one etcd:
# what one stored the other loads at start and, through the store's watch, follows while
# running; allocations never collide; with etcd down writes answer 503 naming etcd and /readyz
# says why; with etcd back (same data dir) writes work again without a restart of either hub,
# and each hub follows the other's writes again.
# Usage: etcd_store.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum etcd

# Two free ports on 127.0.0.1 for etcd's client and peer URLs.
read -r CLIENT_PORT PEER_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
ETCD_URL="http://127.0.0.1:$CLIENT_PORT"

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

# hub_config NAME FILE: a dry-run hub named NAME on the shared etcd, its own dry-run directory.
hub_config() {
  write_config "$2" unused.db "$TOKEN_HASH"
  sed -i -e "s|^  name: hub-a$|  name: $1|" \
    -e "s|^  sqlite: .*|  etcd: {endpoints: [\"$ETCD_URL\"], prefix: /e2e/}|" \
    -e "s|^  mode: dry-run$|  mode: dry-run\n  dry_run_dir: $E2E_TMP/dry-$1|" "$2"
}

spoke_add() {  # spoke_add NAME CIDR OUTSIDE: on the current hub ($HUB_URL)
  ctl --json spoke add "$1" --kind vpc --cidr "$2" --asn 64512 --tunnel "$3"
}

make_token admin
start_etcd first
hub_config hub-a "$E2E_TMP/hub-a.yaml"
hub_config hub-b "$E2E_TMP/hub-b.yaml"

start_hub "$E2E_TMP/hub-a.yaml" "$E2E_TMP/hub-a.log"
A_URL=$HUB_URL A_PID=$HUB_PID
http GET /v1/hub -H "Authorization: Bearer $(cat "$E2E_TMP/admin.token")"
expect_eq "hub-a's store is the etcd prefix" "etcd:$ETCD_URL/e2e/" \
  "$(json_get 'd["store"]' <<<"$BODY")"
spoke_add prod-a 10.1.0.0/16 198.51.100.10
expect_rc "hub-a stores prod-a in etcd" 0
A_INSIDE="$(json_get 'd["tunnels"][0]["inside_cidr"]' <<<"$OUT")"

# hub-b starts on the same etcd: it loads what hub-a stored.
start_hub "$E2E_TMP/hub-b.yaml" "$E2E_TMP/hub-b.log"
B_URL=$HUB_URL
ctl --json spoke show prod-a
expect_rc "hub-b serves prod-a, stored by hub-a" 0
expect_eq "hub-b sees prod-a's inside network as hub-a allocated it" "$A_INSIDE" \
  "$(json_get 'd["tunnels"][0]["inside_cidr"]' <<<"$OUT")"
spoke_add prod-b 10.2.0.0/16 198.51.100.20
expect_rc "hub-b stores prod-b" 0
B_INSIDE="$(json_get 'd["tunnels"][0]["inside_cidr"]' <<<"$OUT")"
B_TAG="$(json_get 'd["route_tag"]' <<<"$OUT")"

# listed_on URL NAMES: the spoke names that hub lists equal NAMES (a JSON list).
listed_on() {
  HUB_URL=$1 ctl --json spoke list
  [[ "$RC" == 0 && "$(json_get '[s["name"] for s in d["spokes"]]' <<<"$OUT")" == "$2" ]]
}
# eventually_listed WHAT URL NAMES: bounded wait (10 s) for listed_on; prints how long it took.
eventually_listed() {
  local start=$EPOCHREALTIME i
  for ((i = 0; i < 200; i++)); do
    if listed_on "$2" "$3"; then
      pass "$1 (after $(python3 -c "print(round(($EPOCHREALTIME - $start) * 1000))") ms)"
      return
    fi
    sleep 0.05
  done
  fail "$1 (expected $3 within 10 s, got $(e2e_excerpt "$OUT$ERR"))"
}

# hub-a follows the store: hub-b's write reaches hub-a's API without a restart or a race.
eventually_listed "hub-a lists prod-b, written on hub-b" "$A_URL" '["prod-a", "prod-b"]'

# hub-a allocates around what hub-b took.
HUB_URL=$A_URL
spoke_add prod-c 10.3.0.0/16 198.51.100.30
expect_rc "hub-a creates prod-c" 0
C_INSIDE="$(json_get 'd["tunnels"][0]["inside_cidr"]' <<<"$OUT")"
C_TAG="$(json_get 'd["route_tag"]' <<<"$OUT")"
[[ "$C_INSIDE" != "$B_INSIDE" && "$C_INSIDE" != "$A_INSIDE" ]] ||
  fail "prod-c gets an inside network of its own (got $C_INSIDE; prod-a $A_INSIDE, prod-b $B_INSIDE)"
[[ "$C_TAG" != "$B_TAG" ]] || fail "prod-c gets a route tag of its own (got $C_TAG, prod-b $B_TAG)"
pass "prod-c: inside $C_INSIDE and route tag $C_TAG, distinct from prod-b's"
eventually_listed "hub-b lists prod-c, written on hub-a" "$B_URL" '["prod-a", "prod-b", "prod-c"]'
HUB_URL=$A_URL

# etcd down: writes answer 503 naming etcd, nothing is half-written, /readyz says why.
kill -KILL "$ETCD_PID"
{ wait "$ETCD_PID"; } 2>/dev/null || true
e2e_forget "$ETCD_PID"
spoke_add prod-d 10.4.0.0/16 198.51.100.40
expect_rc "a write with etcd down fails" 1
expect_contains "the CLI says the store could not write" "$OUT$ERR" \
  "the store could not write, nothing changed"
expect_contains "the answer names the etcd member" "$OUT$ERR" "etcd http://127.0.0.1:$CLIENT_PORT"
http POST /v1/spokes -H "Authorization: Bearer $(cat "$E2E_TMP/admin.token")" \
  -H 'Content-Type: application/json' \
  -d '{"name": "prod-d", "kind": "vpc", "cidrs": ["10.4.0.0/16"], "asn": 64512,
       "tunnels": [{"outside_ip": "198.51.100.40"}]}'
expect_eq "the API answers 503 with etcd down" 503 "$STATUS"
code=""
for ((i = 0; i < 100; i++)); do
  code="$(curl --noproxy '*' -s -m 5 -o "$E2E_TMP/readyz" -w '%{http_code}' "$HUB_URL/readyz" ||
    true)"
  [[ "$code" == "503" ]] && break
  sleep 0.1
done
expect_eq "/readyz turns 503 with etcd down" 503 "$code"
expect_contains "/readyz names the store check" "$(cat "$E2E_TMP/readyz")" '"store"'

# etcd back on the same data: the next write works, on both hubs, without a restart.
start_etcd again
spoke_add prod-d 10.4.0.0/16 198.51.100.40
expect_rc "hub-a writes again once etcd is back" 0
HUB_URL=$B_URL
spoke_add prod-e 10.5.0.0/16 198.51.100.50
expect_rc "hub-b writes again once etcd is back" 0
kill -0 "$A_PID" || fail "hub-a is still running"
pass "both hubs rode out the etcd outage"
# Their watches reconnected: each follows the other's writes made after the outage.
eventually_listed "hub-a lists prod-e, written on hub-b after the outage" "$A_URL" \
  '["prod-a", "prod-b", "prod-c", "prod-d", "prod-e"]'
eventually_listed "hub-b lists prod-d, written on hub-a after the outage" "$B_URL" \
  '["prod-a", "prod-b", "prod-c", "prod-d", "prod-e"]'

# Everything either hub acknowledged is in etcd: a hub started now loads all of it.
hub_config hub-c "$E2E_TMP/hub-c.yaml"
start_hub "$E2E_TMP/hub-c.yaml" "$E2E_TMP/hub-c.log"
ctl --json spoke list
expect_eq "a third hub loads every spoke either hub stored" \
  '["prod-a", "prod-b", "prod-c", "prod-d", "prod-e"]' \
  "$(json_get '[s["name"] for s in d["spokes"]]' <<<"$OUT")"
