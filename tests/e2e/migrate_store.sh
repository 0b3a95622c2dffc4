#!/usr/bin/env bash
# e2e: transit-hubd --migrate-store, a single hub's SQLite registry into a real etcd. A dry-run
# hub on SQLite onboards spokes (one replaced, so generations differ); the migration copies them
# without touching the SQLite file and without printing a PSK; a hub on etcd then serves every
# spoke exactly as the SQLite hub did, site configs (with their PSKs) and route tags included;
# a re-run says "already migrated"; an etcd prefix that holds a different spoke is refused and
# left as it was; a SQLite file a running hub holds is refused.
# Usage: migrate_store.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum etcd

etcd_ports
make_token admin
AUTH=(-H "Authorization: Bearer $(cat "$E2E_TMP/admin.token")")
DB="$E2E_TMP/state.db"
printf 'e2e.site.psk_one' >"$E2E_TMP/psk-site"
chmod 600 "$E2E_TMP/psk-site"

# ---- a single hub on SQLite --------------------------------------------------------------------
write_config "$E2E_TMP/sqlite.yaml" "$DB" "$TOKEN_HASH"
sed -i -e "s|^  mode: dry-run$|  mode: dry-run\n  dry_run_dir: $E2E_TMP/dry-sqlite|" \
  "$E2E_TMP/sqlite.yaml"
start_hub "$E2E_TMP/sqlite.yaml" "$E2E_TMP/sqlite-hub.log"
SQLITE_PID=$HUB_PID
ctl --json spoke add prod-a --kind vpc --cidr 10.1.0.0/16 --asn 64512 \
  --tunnel 198.51.100.10 --tunnel 198.51.100.11
expect_rc "the SQLite hub creates prod-a" 0
ctl --json spoke add site-b --kind site --cidr 192.168.10.0/24 --routing static \
  --tunnel "203.0.113.50,psk-file=$E2E_TMP/psk-site"
expect_rc "the SQLite hub creates site-b" 0
ctl --json spoke add prod-c --kind vpc --cidr 10.3.0.0/16 --asn 64513 --tunnel 198.51.100.30
expect_rc "the SQLite hub creates prod-c" 0
http PUT /v1/spokes/prod-c "${AUTH[@]}" -H 'Content-Type: application/json' \
  -d '{"name": "prod-c", "kind": "vpc", "cidrs": ["10.3.0.0/16", "10.4.0.0/16"], "asn": 64513,
       "tunnels": [{"outside_ip": "198.51.100.30"}]}'
expect_eq "the SQLite hub replaces prod-c (generation 2)" 200 "$STATUS"

# snapshot URL FILE: every spoke (without its reconcile status, which is this hub's own) and the
# site config of site-b, as that hub serves them.
snapshot() {
  local name
  : >"$2"
  for name in prod-a site-b prod-c; do
    HUB_URL=$1 http GET "/v1/spokes/$name" "${AUTH[@]}"
    [[ "$STATUS" == 200 ]] || fail "GET /v1/spokes/$name on $1 (expected 200, got $STATUS)"
    python3 -c 'import json, sys
d = json.load(sys.stdin)
d.pop("status")
print(json.dumps(d, sort_keys=True))' <<<"$BODY" >>"$2"
  done
  HUB_URL=$1 http GET "/v1/spokes/site-b/config?format=strongswan" "${AUTH[@]}"
  [[ "$STATUS" == 200 ]] || fail "GET site-b's site config on $1 (expected 200, got $STATUS)"
  echo "$BODY" >>"$2"
}
snapshot "$HUB_URL" "$E2E_TMP/on-sqlite.json"
expect_contains "site-b's site config holds its PSK" "$(cat "$E2E_TMP/on-sqlite.json")" \
  "e2e.site.psk_one"
PSKS=("e2e.site.psk_one")  # and the generated ones, from the dry-run secrets
while read -r psk; do PSKS+=("$psk"); done < <(
  sed -n 's/.*PSK "\([^"]*\)".*/\1/p' "$E2E_TMP/dry-sqlite/ipsec/transit-hub.secrets")

# A hub holds the SQLite file: the migration refuses it.
start_etcd first
hub_config hub-a "$E2E_TMP/etcd.yaml" /migrated/
run_cmd "$HUBD" --migrate-store --from-sqlite "$DB" --config "$E2E_TMP/etcd.yaml"
expect_rc "a migration from a SQLite file a hub holds fails" 1
expect_contains "it says the file is in use" "$ERR" "in use by another process"

stop_process "$SQLITE_PID"
DB_SUM="$(sha256sum "$DB" | cut -d' ' -f1)"

# ---- the migration ----------------------------------------------------------------------------
run_cmd "$HUBD" --migrate-store --from-sqlite "$DB" --config "$E2E_TMP/etcd.yaml"
expect_rc "the migration exits 0" 0
expect_contains "it prints what it copied" "$OUT" \
  "copied 3 spoke(s) from sqlite:$DB to etcd:$ETCD_URL/migrated/: prod-a, prod-c, site-b"
for psk in "${PSKS[@]}"; do
  expect_not_contains "the migration prints no PSK" "$OUT$ERR" "$psk"
done
expect_eq "the SQLite file is unchanged" "$DB_SUM" "$(sha256sum "$DB" | cut -d' ' -f1)"

run_cmd "$HUBD" --migrate-store --from-sqlite "$DB" --config "$E2E_TMP/etcd.yaml"
expect_rc "a re-run exits 0" 0
expect_contains "a re-run says already migrated" "$OUT" "already migrated, 3 spoke(s)"

# ---- a hub on etcd serves the spokes exactly as the SQLite hub did ------------------------------
start_hub "$E2E_TMP/etcd.yaml" "$E2E_TMP/etcd-hub.log"
snapshot "$HUB_URL" "$E2E_TMP/on-etcd.json"
expect_eq "every spoke (generations, route tags, inside /30s, times) and site-b's site config" \
  "$(cat "$E2E_TMP/on-sqlite.json")" "$(cat "$E2E_TMP/on-etcd.json")"
expect_eq "prod-c keeps generation 2" 2 \
  "$(sed -n 3p "$E2E_TMP/on-etcd.json" | json_get 'd["generation"]')"
expect_eq "the route tags are 1, 2, 3 as allocated on SQLite" "1 2 3" \
  "$(head -n 3 "$E2E_TMP/on-etcd.json" | python3 -c 'import json, sys
print(*sorted(json.loads(l)["route_tag"] for l in sys.stdin))')"
# The claims a normal create makes: a new spoke cannot take prod-a's outside address, and gets
# a fresh /30 and route tag.
ctl --json spoke add prod-d --kind vpc --cidr 10.9.0.0/16 --asn 64514 --tunnel 198.51.100.10
expect_rc "an outside address migrated with prod-a is claimed" 1
ctl --json spoke add prod-d --kind vpc --cidr 10.9.0.0/16 --asn 64514 --tunnel 198.51.100.40
expect_rc "a new spoke on the etcd hub" 0
expect_eq "it gets the next route tag" 4 "$(json_get 'd["route_tag"]' <<<"$OUT")"

# ---- a prefix that holds a different spoke is refused, and left as it was ------------------------
hub_config hub-x "$E2E_TMP/other.yaml" /other/
start_hub "$E2E_TMP/other.yaml" "$E2E_TMP/other-hub.log"
OTHER_PID=$HUB_PID
ctl --json spoke add prod-a --kind vpc --cidr 10.1.0.0/16 --asn 64512 --tunnel 198.51.100.10
expect_rc "another registry's prod-a in /other/" 0
stop_process "$OTHER_PID"
run_cmd "$HUBD" --migrate-store --from-sqlite "$DB" --config "$E2E_TMP/other.yaml"
expect_rc "a migration into a prefix holding a different spoke fails" 1
expect_contains "it says why and that it wrote nothing" "$ERR" \
  "refused, nothing written: etcd:$ETCD_URL/other/ already holds 1 spoke(s) of another registry: spoke prod-a differs"
start_hub "$E2E_TMP/other.yaml" "$E2E_TMP/other-hub-2.log"
ctl --json spoke list
expect_eq "the refused prefix still holds only its own spoke" '["prod-a"]' \
  "$(json_get '[s["name"] for s in d["spokes"]]' <<<"$OUT")"

# A configuration whose store is not etcd is a usage error.
run_cmd "$HUBD" --migrate-store --from-sqlite "$DB" --config "$E2E_TMP/sqlite.yaml"
expect_rc "a migration to a configuration on SQLite fails" 2
expect_contains "it says the store is not etcd" "$ERR" "store is not etcd"
