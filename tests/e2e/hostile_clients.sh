#!/usr/bin/env bash
# e2e: hostile clients against the real daemon (dry-run, SQLite): every auth mistake, oversized
# headers and bodies, JSON that is not, slowloris, 2,000 idle connections and the connection
# limit (hostile_clients.py does the talking). Each is answered with the documented error, a
# normal client is served meanwhile, nothing changes, and no token reaches the hub's log.
# Usage: hostile_clients.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum

MAX_CONNECTIONS=2100

make_token admin
ADMIN_HASH=$TOKEN_HASH
make_token monitoring
write_config "$E2E_TMP/hub.yaml" "$E2E_TMP/state.db" "$ADMIN_HASH" "$TOKEN_HASH"
sed -i "s|^  threads: 2$|  threads: 2\n  max_connections: $MAX_CONNECTIONS|" "$E2E_TMP/hub.yaml"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd.log"

python3 "$(dirname "${BASH_SOURCE[0]}")/hostile_clients.py" "$HUB_PORT" "$E2E_TMP/admin.token" \
  "$E2E_TMP/monitoring.token" "$MAX_CONNECTIONS" || fail "hostile clients (see above)"

kill -0 "$HUB_PID" 2>/dev/null || fail "transit-hubd still runs (expected alive, got an exit)"
pass "transit-hubd survived every hostile client"
# The refusals are logged, boundedly (at most ten lines in ten seconds), and no token is.
log=$(cat "$E2E_TMP/hubd.log")
expect_contains "refused requests are logged" "$log" "refused a request from 127.0.0.1:"
lines=$(grep -c "refused a request from" <<<"$log" || true)
((lines <= 60)) || fail "refusal lines are rate-limited (expected at most 60, got $lines)"
pass "$lines refusal lines in the log"
for token in admin monitoring; do
  expect_not_contains "no $token token in the hub's log" "$log" "$(cat "$E2E_TMP/$token.token")"
done
stop_process "$HUB_PID"
expect_eq "transit-hubd stops cleanly" 0 "$STOP_STATUS"
