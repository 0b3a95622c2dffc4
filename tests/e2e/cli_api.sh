#!/usr/bin/env bash
# e2e: transit-hubctl against a running transit-hubd (tables, JSON, exit codes, roles), the REST
# API's refusals seen through curl, and the store's file modes. No PSK shows anywhere.
# Usage: cli_api.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum stat

make_token admin
ADMIN_HASH=$TOKEN_HASH
make_token read
READ_HASH=$TOKEN_HASH
make_token wrong  # never configured
PSK1="e2e_psk_vpc_$(openssl rand -hex 12)"
PSK2="e2e_psk_site_$(openssl rand -hex 12)"
printf '%s\n' "$PSK1" >"$E2E_TMP/psk1"
printf '%s' "$PSK2" >"$E2E_TMP/psk2"
STORE="$E2E_TMP/state.db"
write_config "$E2E_TMP/hub.yaml" "$STORE" "$ADMIN_HASH" "$READ_HASH"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd.log"

# A second daemon on the same store would hand out clashing /30s: it must refuse to start.
run_cmd timeout 10 "$HUBD" --config "$E2E_TMP/hub.yaml"
expect_rc "a second transit-hubd on the same store exits 1" 1
expect_contains "it says the store is in use" "$ERR" "in use by another process"

# ---- the CLI -----------------------------------------------------------------------------------

ctl spoke add vpc-a --kind vpc --cidr 10.1.0.0/16 --asn 64512 \
  --tunnel "198.51.100.10,psk-file=$E2E_TMP/psk1" --tunnel 198.51.100.11,inside=169.254.30.0/30
expect_rc "spoke add (vpc, two tunnels) exits 0" 0
expect_contains "spoke add names the spoke" "$OUT" "Created spoke vpc-a"
expect_row "spoke add shows tunnel 198.51.100.10 with PSK set" "$OUT" \
  'hub-a +198\.51\.100\.10 .* set' "hub-a  198.51.100.10 ... set"
expect_row "spoke add shows tunnel 198.51.100.11, its inside CIDR and a generated PSK" "$OUT" \
  'hub-a +198\.51\.100\.11 +169\.254\.30\.0/30 .* set' "hub-a  198.51.100.11  169.254.30.0/30 ... set"

ctl spoke add site-b --kind site --cidr 192.168.10.0/24 --routing static \
  --tunnel "203.0.113.50,psk-file=$E2E_TMP/psk2"
expect_rc "spoke add (site, static, psk-file) exits 0" 0
expect_row "spoke add shows the site tunnel with PSK set" "$OUT" \
  'hub-a +203\.0\.113\.50 .* set' "hub-a  203.0.113.50 ... set"

ctl spoke list
expect_rc "spoke list exits 0" 0
expect_row "spoke list shows vpc-a" "$OUT" \
  'vpc-a +vpc +bgp +64512 +default +10\.1\.0\.0/16 +2 +1' \
  "vpc-a vpc bgp 64512 default 10.1.0.0/16 2 1"
expect_row "spoke list shows site-b" "$OUT" \
  'site-b +site +static +- +default +192\.168\.10\.0/24 +1 +1' \
  "site-b site static - default 192.168.10.0/24 1 1"

ctl --json spoke show vpc-a
expect_rc "--json spoke show exits 0" 0
SHOW_JSON="$OUT"
SHOW_CHECK="$(python3 - "$SHOW_JSON" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
def keys(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from keys(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys(x)
print("name=%s tunnels=%d psk_set=%s psk_key=%s" % (
    d["name"], len(d["tunnels"]), ",".join(str(t.get("psk_set")) for t in d["tunnels"]),
    "psk" in set(keys(d))))
EOF
)" || fail "--json spoke show prints JSON (expected a spoke object," \
  "got $(e2e_excerpt "$SHOW_JSON"))"
expect_eq "--json spoke show: both tunnels have psk_set true and no psk key" \
  "name=vpc-a tunnels=2 psk_set=True,True psk_key=False" "$SHOW_CHECK"

ctl spoke show site-b
expect_rc "spoke show (table) exits 0" 0
expect_contains "spoke show shows the routing" "$OUT" "routing: static"

ctl hub
expect_rc "hub exits 0" 0
expect_contains "hub counts the spokes" "$OUT" "spokes: vpc=1, site=1"

# Refusals and their exit codes.
ctl spoke add vpc-c --kind vpc --cidr 10.1.2.0/24 --asn 64513 --tunnel 198.51.100.20
expect_rc "an overlapping CIDR is refused with exit 1" 1
expect_contains "the overlap message names field cidrs[0]" "$ERR" "cidrs[0]"

run_cmd "$HUBCTL" --server "$HUB_URL" --token-file "$E2E_TMP/wrong.token" spoke list
expect_rc "a wrong token exits 4" 4

run_cmd env TRANSIT_HUB_URL="$HUB_URL" TRANSIT_HUB_TOKEN="$(head -n 1 "$E2E_TMP/read.token")" \
  "$HUBCTL" spoke list
expect_rc "a read token (TRANSIT_HUB_URL/TRANSIT_HUB_TOKEN) may list spokes" 0
expect_contains "the read token sees vpc-a" "$OUT" "vpc-a"
run_cmd "$HUBCTL" --server "$HUB_URL" --token-file "$E2E_TMP/read.token" \
  spoke add vpc-d --kind vpc --cidr 10.4.0.0/16 --asn 64514 --tunnel 198.51.100.30
expect_rc "a read token may not add a spoke (exit 4)" 4

# Port 1 on loopback: nothing listens there.
run_cmd "$HUBCTL" --server http://127.0.0.1:1 --token-file "$E2E_TMP/admin.token" --timeout 5 \
  spoke list
expect_rc "an unreachable server exits 3" 3

run_cmd "$HUBCTL" --server "$HUB_URL" --token-file "$E2E_TMP/admin.token" spoke frobnicate
expect_rc "an unknown command is a usage error (exit 2)" 2

# ---- the API through curl --------------------------------------------------------------------

AUTH=(-H "Authorization: Bearer $(head -n 1 "$E2E_TMP/admin.token")")

http GET /v1/spokes/vpc-a "${AUTH[@]}"
expect_eq "GET /v1/spokes/vpc-a" 200 "$STATUS"
ETAG="$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' <<<"$HEADERS")"
expect_eq "GET returns the generation as ETag" '"1"' "$ETAG"
SPOKE_BODY="$BODY"
# The same spoke with a second CIDR; its tunnels (as GET shows them) carry no PSK.
CHANGED_BODY="$(json_get 'dict(d, cidrs=d["cidrs"] + ["10.2.0.0/16"])' <<<"$SPOKE_BODY")"

http PUT /v1/spokes/vpc-a "${AUTH[@]}" -H 'Content-Type: application/json' -H 'If-Match: "1"' \
  --data-binary "$CHANGED_BODY"
expect_eq "PUT with the current If-Match" 200 "$STATUS"
expect_eq "PUT bumps the generation" 2 "$(json_get 'd["generation"]' <<<"$BODY")"
expect_eq "PUT stores the new CIDRs" '["10.1.0.0/16", "10.2.0.0/16"]' \
  "$(json_get 'd["cidrs"]' <<<"$BODY")"
expect_eq "PUT without PSKs keeps them" "true,true" \
  "$(json_get '",".join(str(t["psk_set"]).lower() for t in d["tunnels"])' <<<"$BODY")"

http PUT /v1/spokes/vpc-a "${AUTH[@]}" -H 'Content-Type: application/json' -H 'If-Match: "1"' \
  --data-binary "$SPOKE_BODY"
expect_eq "PUT with a stale If-Match" 412 "$STATUS"
expect_eq "the 412 error code" precondition_failed "$(json_get 'd["error"]["code"]' <<<"$BODY")"

http POST /v1/spokes "${AUTH[@]}" -H 'Content-Type: text/plain' --data-binary "$SPOKE_BODY"
expect_eq "POST with Content-Type text/plain" 415 "$STATUS"

# Both ways a client may send a body the hub refuses: waiting for "100 Continue", and sending it
# all without waiting (the hub drains it before closing, so the 413 is not lost to a reset).
python3 -c 'import sys; sys.stdout.write("{\"name\": \"" + "x" * (2 * 1024 * 1024) + "\"}")' \
  >"$E2E_TMP/big.json"
http POST /v1/spokes "${AUTH[@]}" -H 'Content-Type: application/json' \
  -H 'Expect: 100-continue' --data-binary "@$E2E_TMP/big.json"
expect_eq "POST of a 2 MiB body, waiting for 100 Continue" 413 "$STATUS"
for attempt in 1 2 3 4 5; do
  http POST /v1/spokes "${AUTH[@]}" -H 'Content-Type: application/json' -H 'Expect:' \
    --data-binary "@$E2E_TMP/big.json"
  expect_eq "POST of a 2 MiB body sent without waiting (attempt $attempt)" 413 "$STATUS"
done

http GET /v1/spokes
expect_eq "GET /v1/spokes without a token" 401 "$STATUS"
expect_contains "the 401 asks for a bearer token" "$HEADERS" "WWW-Authenticate: Bearer"
http GET /v1/spokes -H "Authorization: Bearer $(head -n 1 "$E2E_TMP/wrong.token")"
expect_eq "GET /v1/spokes with a wrong token" 401 "$STATUS"
http DELETE /v1/spokes/site-b -H "Authorization: Bearer $(head -n 1 "$E2E_TMP/read.token")"
expect_eq "DELETE with a read token" 403 "$STATUS"

# ---- dry-run renders what live mode would load, beside the store -----------------------------

DRY="$E2E_TMP/dry-run"
wait_file() {  # wait_file SECONDS PATH: polls every 0.1 s; returns 1 when it never appears
  local i
  for ((i = 0; i < $1 * 10; i++)); do [[ -e "$2" ]] && return 0; sleep 0.1; done
  return 1
}
wait_file 10 "$DRY/ipsec/th-vpc-a-1.conf" ||
  fail "dry-run renders vpc-a's first conn (expected $DRY/ipsec/th-vpc-a-1.conf)"
pass "dry-run renders vpc-a's conn into $DRY/ipsec"
expect_contains "the conn is vpc-a's tunnel 1" "$(cat "$DRY/ipsec/th-vpc-a-1.conf")" \
  "right=198.51.100.10"
wait_file 10 "$DRY/bird/transit-hub.conf" || fail "dry-run renders the BIRD include file"
expect_contains "the BIRD include has vpc-a's session" "$(cat "$DRY/bird/transit-hub.conf")" \
  "protocol bgp th_vpc_a_1"
expect_eq "mode of the rendered secrets file" 600 "$(stat -c %a "$DRY/ipsec/transit-hub.secrets")"
expect_contains "the secrets file holds vpc-a's PSK" "$(cat "$DRY/ipsec/transit-hub.secrets")" \
  "$PSK1"
expect_contains "the log shows the commands live mode would run" "$(cat "$E2E_TMP/hubd.log")" \
  "dry-run: would run"
expect_not_contains "no PSK in the daemon's log" "$(cat "$E2E_TMP/hubd.log")" "$PSK1"

# ---- delete through the CLI ------------------------------------------------------------------

ctl spoke delete site-b
expect_rc "spoke delete exits 0" 0
ctl spoke show site-b
expect_rc "spoke show of a deleted spoke exits 1 (404)" 1
ctl spoke delete vpc-a --if-match 1
expect_rc "spoke delete with a stale --if-match exits 1 (412)" 1
ctl spoke delete vpc-a --if-match 2
expect_rc "spoke delete with the current --if-match exits 0" 0
for ((i = 0; i < 100; i++)); do [[ -e "$DRY/ipsec/th-vpc-a-1.conf" ]] || break; sleep 0.1; done
[[ ! -e "$DRY/ipsec/th-vpc-a-1.conf" ]] || fail "dry-run removes a deleted spoke's conn"
pass "dry-run removes a deleted spoke's conn"
ctl spoke list
expect_rc "spoke list of an empty hub exits 0" 0
expect_eq "spoke list of an empty hub" "No spokes." "$OUT"

# ---- onboarding a VPN connection made in AWS from its customer-gateway document ---------------

AWS_DATA="$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/aws" && pwd)"
ctl spoke import-aws "$AWS_DATA/aws-bgp-reversed.xml" --name prod-x --cidr 10.7.0.0/16 \
  --segment prod
expect_rc "spoke import-aws exits 0" 0
expect_contains "spoke import-aws names the spoke" "$OUT" "Created spoke prod-x"
expect_row "the VGW's first tunnel, its inside /30 from the document" "$OUT" \
  'hub-a +198\.51\.100\.11 +169\.254\.80\.144/30 .* set' "hub-a  198.51.100.11  169.254.80.144/30 ... set"
expect_row "the second tunnel" "$OUT" 'hub-a +198\.51\.100\.22 +169\.254\.172\.84/30 .* set' \
  "hub-a  198.51.100.22  169.254.172.84/30 ... set"
ctl --json spoke show prod-x
expect_contains "the VGW's ASN from the document" "$OUT" '"asn":64512'
# Dry-run renders what live mode would load: the document's PSKs, each with its own tunnel.
SECRETS="$E2E_TMP/dry-run/ipsec/transit-hub.secrets"
secret_rendered() {  # secret_rendered OUTSIDE_IP PSK: within a reconciler pass (bounded: 10 s)
  local line="$1 : PSK \"$2\""
  for _ in $(seq 1 100); do
    grep -qF "$line" "$SECRETS" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
secret_rendered 198.51.100.22 LabOnly.tunnel_two.k3yB ||
  fail "tunnel two's PSK is the document's (expected it in $SECRETS)"
secret_rendered 198.51.100.11 LabOnly.tunnel_one.k3yA ||
  fail "tunnel one's PSK is the document's (expected it in $SECRETS)"
pass "the imported tunnels carry the document's PSKs, each with its own tunnel"
# The connection changed in AWS (PSKs rotated, tunnel 2 moved): re-import the new document.
ctl spoke import-aws "$AWS_DATA/aws-bgp-modified.xml" --name prod-x --update
expect_rc "spoke import-aws --update exits 0" 0
expect_contains "spoke import-aws --update names the spoke" "$OUT" "Updated spoke prod-x"
expect_row "tunnel two moved to the document's new inside /30" "$OUT" \
  'hub-a +198\.51\.100\.22 +169\.254\.200\.8/30 .* set' "hub-a  198.51.100.22  169.254.200.8/30 ... set"
ctl --json spoke show prod-x
expect_contains "the spoke keeps its CIDR" "$OUT" '"cidrs":["10.7.0.0/16"]'
expect_contains "the spoke keeps its segment" "$OUT" '"segment":"prod"'
secret_rendered 198.51.100.22 LabOnly.tunnel_two.r0tated ||
  fail "tunnel two's rotated PSK is rendered (expected it in $SECRETS)"
secret_rendered 198.51.100.11 LabOnly.tunnel_one.r0tated ||
  fail "tunnel one's rotated PSK is rendered (expected it in $SECRETS)"
! grep -q "k3y" "$SECRETS" || fail "no old PSK is left in $SECRETS"
pass "the re-imported tunnels carry the rotated PSKs; the old ones are gone"
ctl spoke import-aws "$AWS_DATA/aws-bad-billion-laughs.xml" --name prod-y --cidr 10.8.0.0/16
expect_rc "a hostile document is refused (exit 1)" 1
expect_contains "the refusal names the problem" "$ERR" "DTDs and entity declarations"
ctl spoke delete prod-x
expect_rc "the imported spoke deletes" 0

# ---- the store's files are private -----------------------------------------------------------

for file in "$STORE" "$STORE-wal"; do
  [[ -e "$file" ]] || fail "store file exists (expected $file, got: $(ls "$E2E_TMP"))"
  expect_eq "mode of $(basename "$file")" 600 "$(stat -c %a "$file")"
done
if [[ -e "$STORE-shm" ]]; then
  expect_eq "mode of $(basename "$STORE-shm")" 600 "$(stat -c %a "$STORE-shm")"
fi

stop_process "$HUB_PID"
expect_eq "transit-hubd exit status after SIGTERM" 0 "$STOP_STATUS"

# ---- no secret anywhere ----------------------------------------------------------------------

for secret in "$PSK1" "$PSK2" LabOnly.tunnel_one.k3yA LabOnly.tunnel_two.k3yB \
  "$(head -n 1 "$E2E_TMP/admin.token")" \
  "$(head -n 1 "$E2E_TMP/read.token")"; do
  found="$(grep -lF -- "$secret" "$E2E_TMP/all-output.log" "$E2E_TMP/hubd.log" || true)"
  if [[ -n "$found" ]]; then
    fail "no secret in CLI output, API responses or the daemon log" \
      "(expected none, got one in: $(xargs -n1 basename <<<"$found" | tr '\n' ' '))"
  fi
done
pass "no PSK or token in any CLI output, API response or the daemon log"

echo "PASS: cli_api"
