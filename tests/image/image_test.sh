#!/usr/bin/env bash
# The image test (CTest label image): the appliance booted for real, with real ESP.
#   image_test.sh DEB
# 1. builds a bootable Debian 12 image with the AMI's provisioning script and DEB
#    (build_image.sh; its slow base layer is cached outside the clone);
# 2. boots it under qemu (TCG, two vCPUs) with cloud-init user data on a NoCloud seed: the hub's
#    configuration (user-data.yaml, turned into hub.yaml by transit-hub-bootstrap.service) and a
#    runcmd that starts the in-VM test (guest/guest_test.sh) once the system is up;
# 3. reads the in-VM test's results from the VM's second serial port; the first is the console.
# Fails, printing the console log and the results, when any check fails or the VM does not
# finish in time. Leaves no qemu process and no image behind (everything is in one temporary
# directory, removed at exit; qemu is killed if still running).
set -euo pipefail

deb=$(realpath -e "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly VM_TIMEOUT_S=${TRANSIT_IMAGE_VM_TIMEOUT:-900}
log() { printf '%s image_test: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

work=$(mktemp -d /tmp/transit-image-test.XXXXXX)
qemu_pid=""
cleanup() {
  if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
show_logs() {
  echo "----- the VM's console (last 150 lines) -----"
  tail -n 150 "$work/console.log" 2>/dev/null || true
  echo "----- the in-VM test's results (and, after a failure, its log and the hub's journal) -----"
  tr -d '\r' <"$work/results.log" 2>/dev/null || true
}
fail() {
  log "FAIL: $*"
  show_logs
  exit 1
}

start=$(date +%s)
log "building the image"
bash "$here/build_image.sh" "$deb" "$work/image" || fail "the image could not be built"
built=$(date +%s)

# The API token of the test (only its hash goes into the hub's configuration).
token=$(openssl rand -hex 32)
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
mkdir -p "$work/seed"
sed -e "s/@ADMIN_SHA256@/$hash/" -e "s/@ADMIN_TOKEN@/$token/" "$here/user-data.yaml" \
  >"$work/seed/user-data"
printf 'instance-id: transit-hub-image-test-%s\nlocal-hostname: hub-a\n' "$$" \
  >"$work/seed/meta-data"
genisoimage -quiet -output "$work/seed.iso" -volid cidata -joliet -rock \
  "$work/seed/user-data" "$work/seed/meta-data"

log "booting the VM (qemu, TCG; at most ${VM_TIMEOUT_S} s)"
: >"$work/console.log"
: >"$work/results.log"
qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 2048 \
  -kernel "$work/image/vmlinuz" -initrd "$work/image/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0" \
  -drive "file=$work/image/root.raw,if=virtio,format=raw" \
  -drive "file=$work/seed.iso,if=virtio,format=raw,readonly=on" \
  -nic user,model=virtio-net-pci,restrict=on \
  -display none -monitor none -no-reboot \
  -serial "file:$work/console.log" -serial "file:$work/results.log" &
qemu_pid=$!

deadline=$((SECONDS + VM_TIMEOUT_S))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if ((SECONDS > deadline)); then
    fail "the VM did not finish within ${VM_TIMEOUT_S} s"
  fi
  sleep 2
done
wait "$qemu_pid" || true
qemu_pid=""
finished=$(date +%s)

# The in-VM test writes "ok NAME: DETAIL" / "not ok NAME: DETAIL" lines and, last, "done".
tr -d '\r' <"$work/results.log" >"$work/results.txt"
grep -qx 'done' "$work/results.txt" || fail "the in-VM test did not finish (no 'done' line)"
grep -q '^not ok ' "$work/results.txt" && fail "checks failed in the VM"
grep -q '^ok ' "$work/results.txt" || fail "the in-VM test reported no check"
# The console carries what transit-hub-bootstrap.service said about the bad user data.
grep -q 'transit-hubd: bootstrap: .*user-data.yaml: ' "$work/console.log" ||
  fail "the bootstrap's error about bad user data did not reach the console"
cat "$work/results.txt"
log "OK: image built in $((built - start)) s, VM ran $((finished - built)) s, total $((finished - start)) s"
