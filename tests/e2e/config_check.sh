#!/usr/bin/env bash
# e2e: `transit-hubd --check` accepts a valid configuration and refuses bad ones with a message
# naming the key; the daemon refuses to start on a bad configuration and creates no store.
# Usage: config_check.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools openssl sha256sum

cd "$E2E_TMP"
make_token admin
ADMIN_HASH=$TOKEN_HASH
write_config valid.yaml "$E2E_TMP/state.db" "$ADMIN_HASH"

# A valid configuration.
run_cmd "$HUBD" --check --config valid.yaml
expect_rc "--check on a valid config exits 0" 0
expect_contains "--check on a valid config says so" "$OUT" "configuration is valid"
[[ ! -e state.db ]] || fail "--check creates no store (expected no state.db, got one)"
pass "--check creates no store"

# An unknown key is named by its path.
sed 's/^  name: hub-a$/  nmae: x\n  name: hub-a/' valid.yaml >unknown-key.yaml
grep -q '^  nmae: x$' unknown-key.yaml || fail "fixture unknown-key.yaml has hub.nmae"
run_cmd "$HUBD" --check --config unknown-key.yaml
[[ "$RC" != 0 ]] || fail "--check refuses an unknown key (expected non-zero exit, got 0)"
pass "--check refuses an unknown key (exit $RC)"
expect_contains "the message names hub.nmae" "$ERR" "hub.nmae"
expect_contains "the message names the file" "$ERR" "unknown-key.yaml"

# The same as flow-style YAML.
FLOW_HUB="hub: {nmae: x, name: hub-a, asn: 65000, public_ip: 203.0.113.10, local_ip: 10.0.0.10}"
sed "s/^hub:\$/$FLOW_HUB/; /^  name: hub-a\$/d; /^  asn: 65000\$/d; /^  public_ip: /d;
     /^  local_ip: /d" valid.yaml >unknown-key-flow.yaml
grep -qxF "$FLOW_HUB" unknown-key-flow.yaml || fail "fixture unknown-key-flow.yaml has a flow hub"
run_cmd "$HUBD" --check --config unknown-key-flow.yaml
[[ "$RC" != 0 ]] || fail "--check refuses hub: {nmae: x ...} (expected non-zero exit, got 0)"
expect_contains "the message names hub.nmae (flow style)" "$ERR" "hub.nmae"

# A token hash that is not 64 hex digits.
write_config bad-hash.yaml "$E2E_TMP/state.db" "${ADMIN_HASH:0:63}"
run_cmd "$HUBD" --check --config bad-hash.yaml
[[ "$RC" != 0 ]] || fail "--check refuses a 63-digit token hash (expected non-zero exit, got 0)"
pass "--check refuses a 63-digit token hash (exit $RC)"
expect_contains "the message names api.tokens[0].sha256" "$ERR" "api.tokens[0].sha256"
write_config bad-hash2.yaml "$E2E_TMP/state.db" "zz${ADMIN_HASH:2}"
run_cmd "$HUBD" --check --config bad-hash2.yaml
[[ "$RC" != 0 ]] || fail "--check refuses a non-hex token hash (expected non-zero exit, got 0)"
expect_contains "the message names api.tokens[0].sha256 (non-hex)" "$ERR" "api.tokens[0].sha256"

# drivers.mode live needs libreswan's programs: a missing one is refused, naming the key.
sed 's/^  mode: dry-run$/  mode: live\n  libreswan:\n    whack: \/nonexistent\/whack/' valid.yaml \
  >live-bad.yaml
grep -q '^  mode: live$' live-bad.yaml || fail "fixture live-bad.yaml has drivers.mode live"
run_cmd "$HUBD" --check --config live-bad.yaml
[[ "$RC" != 0 ]] || fail "--check refuses live mode without whack (expected non-zero exit, got 0)"
pass "--check refuses live mode without whack (exit $RC)"
expect_contains "the message names the key and says why" "$ERR" \
  "drivers.libreswan.whack: /nonexistent/whack is not an executable file"

# With the installed libreswan, live mode is a valid configuration.
sed 's/^  mode: dry-run$/  mode: live/' valid.yaml >live.yaml
run_cmd "$HUBD" --check --config live.yaml
expect_rc "--check accepts live mode with libreswan installed" 0

# A missing file.
run_cmd "$HUBD" --check --config "$E2E_TMP/no-such-config.yaml"
[[ "$RC" != 0 ]] || fail "--check on a missing file fails (expected non-zero exit, got 0)"
pass "--check on a missing file fails (exit $RC)"
expect_contains "the message names the missing file" "$ERR" "no-such-config.yaml"
expect_contains "the message says why" "$ERR" "No such file or directory"

# The daemon itself (no --check) refuses a bad configuration before creating its store.
for bad in unknown-key.yaml bad-hash.yaml live-bad.yaml; do
  run_cmd timeout 20 "$HUBD" --config "$bad"
  [[ "$RC" != 0 && "$RC" != 124 ]] ||
    fail "transit-hubd --config $bad exits non-zero at once (expected a non-zero exit, got $RC)"
  pass "transit-hubd --config $bad exits non-zero (exit $RC)"
  [[ "$ERR" != *"listening on"* ]] ||
    fail "transit-hubd --config $bad does not listen (expected no 'listening on'," \
      "got $(e2e_excerpt "$ERR"))"
  if compgen -G "$E2E_TMP/state.db*" >/dev/null; then
    fail "transit-hubd --config $bad creates no store (expected no state.db*," \
      "got: $(ls "$E2E_TMP"))"
  fi
  pass "transit-hubd --config $bad creates no store file"
done

echo "PASS: config_check"
