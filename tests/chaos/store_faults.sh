#!/usr/bin/env bash
# chaos: the store's disk fills up, then its file system turns read-only, under a running hub.
# Writes must get 503 with the API's error shape and change nothing, and every acknowledged spoke
# stays readable. Once space returns the hub takes writes again without a restart. A file system
# the kernel turned read-only after an error (ext4's errors=remount-ro) stays so until it is
# unmounted and checked: the operator's repair (stop, fsck, mount, start) finds every
# acknowledged spoke and nothing else, and the database passes SQLite's integrity check.
# The store lives on a 16 MiB ext4 image, loop-mounted in a private mount namespace (the script
# re-runs itself under unshare), so nothing outside the test sees the mount.
# Usage: store_faults.sh PATH/transit-hubd PATH/transit-hubctl
if [[ -z ${TRANSIT_CHAOS_PRIVATE_MOUNTS:-} ]]; then
  exec env TRANSIT_CHAOS_PRIVATE_MOUNTS=1 unshare --mount --propagation private \
    bash "${BASH_SOURCE[0]}" "$@"
fi
# shellcheck source=../e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sqlite3 mount dd mkfs.ext4 e2fsck findmnt

STORE_DIR=$E2E_TMP/store
IMAGE=$E2E_TMP/store.ext4
mkdir -p "$STORE_DIR"
truncate -s 16M "$IMAGE"
mkfs.ext4 -q -F "$IMAGE"
mount_store() { mount -o loop,errors=remount-ro "$IMAGE" "$STORE_DIR"; }
mount_store
# The mount goes before the temp dir does (e2e_cleanup keeps the script's exit status).
trap 'status=$?; umount -l "$STORE_DIR" 2>/dev/null; (exit $status); e2e_cleanup' EXIT
make_token admin
write_config "$E2E_TMP/hub.yaml" "$STORE_DIR/state.db" "$TOKEN_HASH"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-1.log"
AUTH=(-H "Authorization: Bearer $(cat "$E2E_TMP/admin.token")" -H 'Content-Type: application/json')

# spoke_body I: spoke s-I, CIDR 10.I.0.0/16, one tunnel from 198.51.100.I.
spoke_body() {
  printf '{"name":"s-%d","kind":"vpc","cidrs":["10.%d.0.0/16"],"routing":"static","tunnels":[{"outside_ip":"198.51.100.%d"}]}' \
    "$1" "$1" "$1"
}
ACKED=()
create() {  # create I: POST spoke s-I; sets STATUS (and ACKED on 201)
  http POST /v1/spokes "${AUTH[@]}" --data "$(spoke_body "$1")"
  [[ $STATUS == 201 ]] && ACKED+=("s-$1")
  return 0
}
names() {
  http GET /v1/spokes "${AUTH[@]}"
  [[ $STATUS == 200 ]] || fail "GET /v1/spokes answers (expected 200, got $STATUS: $BODY)"
  json_get '" ".join(sorted(s["name"] for s in d["spokes"]))' <<<"$BODY"
}
sorted_acked() { printf '%s\n' "${ACKED[@]}" | sort | paste -sd' '; }
expect_refused_write() {  # expect_refused_write WHAT: the last answer is a 503 in the API's shape
  expect_eq "$1: 503" 503 "$STATUS"
  local code
  code=$(json_get 'd["error"]["code"]' <<<"$BODY")
  expect_eq "$1: error code" unavailable "$code"
  grep -qi "^retry-after: 1$" <<<"$HEADERS" || fail "$1: Retry-After 1 (got: $HEADERS)"
}
# eventually_created I SECONDS: POST s-I until it is acknowledged (the hub is retrying the store).
eventually_created() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    create "$1"
    [[ $STATUS == 201 ]] && return 0
    sleep 0.5
  done
  fail "s-$1 created once the store is writable again (expected 201 within $2 s, got $STATUS: $BODY)"
}

for i in 1 2 3 4 5; do
  create "$i"
  expect_eq "s-$i created" 201 "$STATUS"
done

# 1. The disk fills up.
dd if=/dev/zero of="$STORE_DIR/filler" bs=16k >/dev/null 2>&1 || true
create 6
expect_refused_write "POST on a full disk"
http PUT /v1/spokes/s-1 "${AUTH[@]}" -H 'If-Match: "1"' \
  --data '{"name":"s-1","kind":"vpc","cidrs":["10.1.0.0/16","10.101.0.0/16"],"routing":"static","tunnels":[{"outside_ip":"198.51.100.1"}]}'
expect_refused_write "PUT on a full disk"
http DELETE /v1/spokes/s-2 "${AUTH[@]}" -H 'If-Match: "1"'
expect_refused_write "DELETE on a full disk"
expect_eq "every acknowledged spoke still listed, the refused writes not applied" \
  "$(sorted_acked)" "$(names)"
http GET /v1/spokes/s-1 "${AUTH[@]}"
expect_eq "s-1 unchanged by the refused PUT" '["10.1.0.0/16"]' "$(json_get 'd["cidrs"]' <<<"$BODY")"
grep -q 'database or disk is full\|disk full\|SQLITE_FULL' "$E2E_TMP/hubd-1.log" ||
  fail "the hub's log says the disk is full (expected a line about it, got: $(e2e_excerpt "$(tail -n 5 "$E2E_TMP/hubd-1.log")"))"
pass "the hub's log says why writes fail"

# 2. Space returns: writes are taken again, with no restart.
rm -f "$STORE_DIR/filler"
eventually_created 6 15
pass "space returned: s-6 created without a restart"

# 3. The kernel turns the file system read-only (an I/O error; ext4's errors=remount-ro).
device=$(findmnt -no SOURCE "$STORE_DIR")
echo "transit-hub chaos test" >"/sys/fs/ext4/$(basename "$device")/trigger_fs_error"
[[ ",$(findmnt -no OPTIONS "$STORE_DIR")," == *,emergency_ro,* ]] ||
  fail "the store's file system is read-only (expected emergency_ro, got $(findmnt -no OPTIONS "$STORE_DIR"))"
create 7
expect_refused_write "POST on a read-only store"
http DELETE /v1/spokes/s-3 "${AUTH[@]}" -H 'If-Match: "1"'
expect_refused_write "DELETE on a read-only store"
expect_eq "every acknowledged spoke still listed" "$(sorted_acked)" "$(names)"
http GET /readyz
expect_eq "/readyz says the hub cannot take writes" 503 "$STATUS"

# 4. The operator's repair: stop the hub, check the file system, mount it again, start the hub.
stop_process "$HUB_PID"
e2e_forget "$HUB_PID"
umount "$STORE_DIR"
e2fsck -fy "$IMAGE" >/dev/null 2>&1 || true  # 1: errors corrected
e2fsck -fn "$IMAGE" >/dev/null 2>&1 || fail "the store's file system checks clean after the repair"
mount_store
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-2.log"
expect_eq "after the repair: exactly the acknowledged spokes" "$(sorted_acked)" "$(names)"
expect_eq "SQLite integrity check" ok "$(sqlite3 "$STORE_DIR/state.db" 'PRAGMA integrity_check;')"
create 7
expect_eq "the repaired hub takes writes" 201 "$STATUS"

# 5. A crash on top: what was acknowledged is on disk, whole.
kill -KILL "$HUB_PID"
{ wait "$HUB_PID"; } 2>/dev/null || true
e2e_forget "$HUB_PID"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd-3.log"
expect_eq "after kill -9 and restart: exactly the acknowledged spokes" "$(sorted_acked)" "$(names)"
echo "store faults: all checks passed"
