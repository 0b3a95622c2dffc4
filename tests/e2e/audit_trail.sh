#!/usr/bin/env bash
# e2e: the audit trail. Changes made through the API and the CLI are recorded with the token
# that asked and the request's id, logged one line each, survive a restart, page through
# `transit-hubctl audit`, never show a PSK, and stay within audit.max_records.
# Usage: audit_trail.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum

PSK="E2eAuditSekr3tKey_1"
make_token viewer
VIEWER_HASH=$TOKEN_HASH
make_token admin
write_config "$E2E_TMP/hub.yaml" "$E2E_TMP/state.db" "$TOKEN_HASH" "$VIEWER_HASH"
printf 'audit:\n  retention_days: 30\n  max_records: 100\n' >>"$E2E_TMP/hub.yaml"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-1.log"
ADMIN=(-H "Authorization: Bearer $(head -n 1 "$E2E_TMP/admin.token")")
VIEWER=(-H "Authorization: Bearer $(head -n 1 "$E2E_TMP/viewer.token")")
JSON=(-H "Content-Type: application/json")

spoke_body() {  # NAME CIDR OUTSIDE [PSK]
  local psk=""
  [[ -n "${4:-}" ]] && psk=", \"psk\": \"$4\""
  printf '{"name": "%s", "kind": "vpc", "cidrs": ["%s"], "routing": "bgp", "asn": 64512,
           "tunnels": [{"outside_ip": "%s"%s}]}' "$1" "$2" "$3" "$psk"
}

http POST /v1/spokes "${ADMIN[@]}" "${JSON[@]}" -H "X-Request-Id: e2e-create-1" \
  --data "$(spoke_body vpc-a 10.1.0.0/16 198.51.100.10 "$PSK")"
expect_eq "POST /v1/spokes" 201 "$STATUS"
expect_contains "the answer carries the request's own X-Request-Id" \
  "$HEADERS" "X-Request-Id: e2e-create-1"
ctl spoke add vpc-b --kind vpc --cidr 10.2.0.0/16 --asn 64512 --tunnel 198.51.100.11
expect_rc "spoke add vpc-b through the CLI" 0
http PUT /v1/spokes/vpc-a "${ADMIN[@]}" "${JSON[@]}" -H "X-Request-Id: e2e-replace-1" \
  --data "$(spoke_body vpc-a 10.3.0.0/16 198.51.100.10)"
expect_eq "PUT /v1/spokes/vpc-a" 200 "$STATUS"
ctl spoke delete vpc-b
expect_rc "spoke delete vpc-b through the CLI" 0

LOG1="$(cat "$E2E_TMP/hubd-1.log")"
expect_contains "the journal has a line for the create, naming the token and request" \
  "$LOG1" "audit: create of spoke vpc-a by ops (request e2e-create-1)"
expect_contains "the journal has a line for the replace, naming what changed" \
  "$LOG1" "audit: replace of spoke vpc-a by ops (request e2e-replace-1)"
expect_contains "the journal has a line for the delete" "$LOG1" "audit: delete of spoke vpc-b by ops"
expect_not_contains "the PSK is not in the journal" "$LOG1" "$PSK"

stop_process "$HUB_PID"
expect_eq "transit-hubd exit status after SIGTERM" 0 "$STOP_STATUS"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-2.log"

http GET /v1/audit "${VIEWER[@]}"
expect_eq "GET /v1/audit with a read token after the restart" 200 "$STATUS"
expect_not_contains "the trail never shows a PSK" "$BODY" "$PSK"
expect_eq "the trail after the restart, newest first" \
  "delete vpc-b; replace vpc-a; create vpc-b; create vpc-a" \
  "$(json_get '"; ".join(r["action"] + " " + r["spoke"] for r in d["records"])' <<<"$BODY")"
expect_eq "the replace's record names the token, the request and what changed" \
  'ops e2e-replace-1 [{"field": "cidrs[0]", "before": "10.1.0.0/16", "after": "10.3.0.0/16"}]' \
  "$(json_get '" ".join([d["records"][1]["actor"], d["records"][1]["request_id"], json.dumps(d["records"][1]["changes"])])' <<<"$BODY")"
expect_eq "the retention the hub keeps" '{"days": 30, "max_records": 100}' \
  "$(json_get 'd["retention"]' <<<"$BODY")"

ctl audit --limit 2
expect_rc "transit-hubctl audit --limit 2" 0
expect_contains "the CLI prints the newest change" "$OUT" "delete   vpc-b"
expect_contains "the CLI says how to get the next page" "$OUT" "More: repeat the command with --cursor"
CURSOR="${OUT##*--cursor }"
ctl audit --limit 2 --cursor "$CURSOR"
expect_rc "transit-hubctl audit --cursor" 0
expect_contains "the next page has the older changes" "$OUT" "create  vpc-b"
expect_not_contains "the last page has no next" "$OUT" "More:"

# 110 more changes: the trail keeps the newest 100.
for ((i = 1; i <= 110; i++)); do
  http PUT /v1/spokes/vpc-a "${ADMIN[@]}" "${JSON[@]}" -H "X-Request-Id: e2e-bulk-$i" \
    --data "$(spoke_body vpc-a "10.$((3 + i % 2 + 2 * (i % 2 == 0))).0.0/16" 198.51.100.10)"
  [[ "$STATUS" == 200 ]] || fail "PUT number $i answers 200 (got $STATUS: $BODY)"
done
pass "110 more changes answered 200"
http GET "/v1/audit?limit=1000" "${VIEWER[@]}"
expect_eq "GET /v1/audit?limit=1000" 200 "$STATUS"
expect_eq "the trail holds audit.max_records records" 100 "$(json_get 'len(d["records"])' <<<"$BODY")"
expect_eq "the newest is the last change" e2e-bulk-110 \
  "$(json_get 'd["records"][0]["request_id"]' <<<"$BODY")"
expect_eq "the oldest kept is the 100th newest" e2e-bulk-11 \
  "$(json_get 'd["records"][-1]["request_id"]' <<<"$BODY")"

stop_process "$HUB_PID"
expect_eq "transit-hubd exit status after SIGTERM" 0 "$STOP_STATUS"
expect_not_contains "no output of this test shows the PSK" "$(cat "$E2E_TMP/all-output.log")" "$PSK"
echo "PASS: audit_trail"
