#!/usr/bin/env bash
# e2e: transit-hubd on a real etcd (store.etcd), as the pair runs it. Two hubs share one etcd:
# what one stored the other loads at start and, through the store's watch, follows while
# running; allocations never collide; with etcd down writes answer 503 naming etcd and /readyz
# says why, reads carry the Transit-Hub-Stale header, /v1/hub says the store is stale and
# /metrics has transit_hub_store_up 0, and the dry-run hub's rendered conns and BIRD include
# stay as they are over several reconcile passes, also across a restart of the hub during the
# outage (it serves /healthz, is not ready, and reconciles nothing until it has read etcd);
# with etcd back (same data dir) the header is gone, writes work again without a restart of
# either hub, and each hub follows the other's writes again.
# Usage: etcd_store.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum etcd

etcd_ports

spoke_add() {  # spoke_add NAME CIDR OUTSIDE: on the current hub ($HUB_URL), one tunnel per hub
  ctl --json spoke add "$1" --kind vpc --cidr "$2" --asn 64512 --tunnel "$3,hub=hub-a" \
    --tunnel "$3,hub=hub-b"
}

make_token admin
start_etcd first
hub_config hub-a "$E2E_TMP/hub-a.yaml" /e2e/ hub-b
hub_config hub-b "$E2E_TMP/hub-b.yaml" /e2e/ hub-a

start_hub "$E2E_TMP/hub-a.yaml" "$E2E_TMP/hub-a.log"
A_URL=$HUB_URL A_PID=$HUB_PID
http GET /v1/hub -H "Authorization: Bearer $(cat "$E2E_TMP/admin.token")"
expect_eq "hub-a's store is the etcd prefix" "etcd:$ETCD_URL/e2e/" \
  "$(json_get 'd["store"]["location"]' <<<"$BODY")"
expect_eq "hub-a's view of the store is current" "current" \
  "$(json_get 'd["store"]["state"]' <<<"$BODY")"
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

# One audit trail for the pair: each hub's changes, with the hub that took them, read on either.
HUB_URL=$A_URL ctl --json audit
expect_rc "transit-hubctl audit on hub-a" 0
expect_eq "hub-a reads both hubs' changes, newest first" \
  '["create prod-b on hub-b", "create prod-a on hub-a"]' \
  "$(json_get '[r["action"] + " " + r["spoke"] + " on " + r["hub"] for r in d["records"]]' <<<"$OUT")"

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

# What hub-a applied (its dry-run conns, secrets and BIRD include), once all three spokes are
# rendered and a pass later nothing moves.
DRY_A="$E2E_TMP/dry-hub-a"
applied_a() {
  (cd "$DRY_A" && sha256sum ipsec/*.conf ipsec/transit-hub.secrets bird/transit-hub.conf)
}
for ((i = 0; i < 200; i++)); do
  [[ -f "$DRY_A/ipsec/th-prod-a-1.conf" && -f "$DRY_A/ipsec/th-prod-b-1.conf" &&
    -f "$DRY_A/ipsec/th-prod-c-1.conf" ]] && grep -q prod_c "$DRY_A/bird/transit-hub.conf" &&
    break
  sleep 0.05
done
sleep 2.5
APPLIED_BEFORE="$(applied_a)"
expect_contains "hub-a rendered prod-a, prod-b and prod-c" "$APPLIED_BEFORE" "th-prod-c-1.conf"

# stale_header: the Transit-Hub-Stale header of the last http answer ("" when absent).
stale_header() { sed -n 's/^[Tt]ransit-[Hh]ub-[Ss]tale: //p' <<<"$HEADERS"; }
metric() {  # metric NAME: its value on the current hub's /metrics
  curl --noproxy '*' -s -m 5 "$HUB_URL/metrics" | sed -n "s/^$1 //p"
}
AUTH=(-H "Authorization: Bearer $(cat "$E2E_TMP/admin.token")")

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
expect_contains "/readyz says the store is stale" "$(cat "$E2E_TMP/readyz")" "stale since "

# Reads serve the last state, marked stale; /v1/hub and /metrics say so.
http GET /v1/spokes "${AUTH[@]}"
expect_eq "GET /v1/spokes answers with etcd down" 200 "$STATUS"
expect_eq "it serves the last state" '["prod-a", "prod-b", "prod-c"]' \
  "$(json_get '[s["name"] for s in d["spokes"]]' <<<"$BODY")"
STALE="$(stale_header)"
[[ "$STALE" =~ ^store\ unavailable\ since\ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\;\ revision\ [0-9]+$ ]] ||
  fail "a read with etcd down carries Transit-Hub-Stale (got '$STALE')"
pass "a read with etcd down carries Transit-Hub-Stale: $STALE"
http GET /v1/hub "${AUTH[@]}"
expect_eq "/v1/hub says the store is stale" "stale" "$(json_get 'd["store"]["state"]' <<<"$BODY")"
expect_contains "/v1/hub says why" "$(json_get 'd["store"]["reason"]' <<<"$BODY")" \
  "127.0.0.1:$CLIENT_PORT"
expect_eq "/metrics: transit_hub_store_up 0" 0 "$(metric transit_hub_store_up)"

# Nothing is torn down: several reconcile passes (2 s each) later the applied state is the same.
sleep 7
expect_eq "hub-a's rendered conns, secrets and BIRD include are unchanged after 7 s down" \
  "$APPLIED_BEFORE" "$(applied_a)"

# hub-a restarted during the outage: it serves /healthz, is not ready, answers reads 503 and
# reconciles nothing (it would otherwise remove every conn pluto and BIRD have).
stop_process "$A_PID"
start_hub "$E2E_TMP/hub-a.yaml" "$E2E_TMP/hub-a-restart.log"
A_URL=$HUB_URL A_PID=$HUB_PID
code="$(curl --noproxy '*' -s -m 5 -o "$E2E_TMP/readyz" -w '%{http_code}' "$HUB_URL/readyz")"
expect_eq "a hub started with etcd down is not ready" 503 "$code"
expect_contains "/readyz says it never loaded" "$(cat "$E2E_TMP/readyz")" "(never loaded)"
http GET /v1/spokes "${AUTH[@]}"
expect_eq "a hub that never read etcd answers reads 503" 503 "$STATUS"
http GET /v1/hub "${AUTH[@]}"
expect_eq "its /v1/hub says the store is stale" "stale" \
  "$(json_get 'd["store"]["state"]' <<<"$BODY")"
sleep 5
expect_eq "the restarted hub-a removed nothing it found rendered" "$APPLIED_BEFORE" "$(applied_a)"

# etcd back on the same data: hub-a loads and catches up, the header is gone, and the next
# write works, on both hubs, without a restart.
start_etcd again
HUB_URL=$A_URL
for ((i = 0; i < 200; i++)); do
  http GET /v1/spokes "${AUTH[@]}"
  [[ "$STATUS" == 200 && -z "$(stale_header)" ]] && break
  sleep 0.05
done
expect_eq "hub-a reads etcd again" 200 "$STATUS"
expect_eq "the stale header is gone once etcd is back" "" "$(stale_header)"
http GET /v1/hub "${AUTH[@]}"
expect_eq "/v1/hub says the store is current" "current" \
  "$(json_get 'd["store"]["state"]' <<<"$BODY")"
expect_eq "/metrics: transit_hub_store_up 1" 1 "$(metric transit_hub_store_up)"
# Once its first pass has run on what it loaded (ready), the applied state is still the same.
for ((i = 0; i < E2E_READY_TIMEOUT * 10; i++)); do
  code="$(curl --noproxy '*' -s -m 5 -o /dev/null -w '%{http_code}' "$HUB_URL/readyz" || true)"
  [[ "$code" == "200" ]] && break
  sleep 0.1
done
expect_eq "the restarted hub-a turns ready once it has read etcd" 200 "$code"
expect_eq "hub-a's applied state did not move through the outage" "$APPLIED_BEFORE" "$(applied_a)"
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
for ((i = 0; i < 200; i++)); do
  [[ -f "$DRY_A/ipsec/th-prod-e-1.conf" ]] && break
  sleep 0.05
done
[[ -f "$DRY_A/ipsec/th-prod-e-1.conf" ]] || fail "hub-a renders prod-e's tunnel, written on hub-b"
pass "hub-a renders prod-e's tunnel, written on hub-b after the outage"

# Everything either hub acknowledged is in etcd: a hub started now loads all of it.
hub_config hub-c "$E2E_TMP/hub-c.yaml"
start_hub "$E2E_TMP/hub-c.yaml" "$E2E_TMP/hub-c.log"
ctl --json spoke list
expect_eq "a third hub loads every spoke either hub stored" \
  '["prod-a", "prod-b", "prod-c", "prod-d", "prod-e"]' \
  "$(json_get '[s["name"] for s in d["spokes"]]' <<<"$OUT")"
