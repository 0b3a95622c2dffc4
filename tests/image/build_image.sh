#!/usr/bin/env bash
# Builds the image test's bootable Debian 12 image: the AMI's base system, provisioned by the
# AMI's own script (ami/provision.sh) with the freshly built package, plus what only the test
# needs (the spokes' stand-ins and the in-VM test).
#   build_image.sh DEB OUT_DIR
# Writes OUT_DIR/root.raw (ext4, label root), OUT_DIR/vmlinuz and OUT_DIR/initrd.img.
#   build_image.sh --base DEB
# Only makes sure the base layer for DEB is in the cache (CTest's image.base, which downloads it
# while the lab tests run, before image.appliance needs it).
#
# Two layers:
#   base   mmdebstrap (minbase + the AMI's package list: netplan, systemd-networkd and -resolved,
#          cloud-init, the cloud kernel; no ifupdown, LANG=C.UTF-8, as Debian's official AMI)
#          plus the package's dependencies and the test's own packages. Slow (downloads, about
#          2.5 min), so it is cached in TRANSIT_IMAGE_CACHE (default /var/cache/transit-hub/image,
#          outside the clone), keyed by this recipe, the package's Depends and the strongSwan
#          tree the test copies in. A key that changes builds a new base; older ones are removed.
#   run    every time, offline: the base unpacked, ami/provision.sh run inside it with the .deb
#          (exactly as Packer runs it on the official AMI), the test's files copied in, and an
#          ext4 file system made from the tree (mkfs.ext4 -d: no loop device, no mount).
set -euo pipefail

base_only=false
if [[ ${1:-} == --base ]]; then
  base_only=true
  shift
fi
deb=$(realpath -e "$1")
$base_only || out=$(realpath -m "$2")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${TRANSIT_IMAGE_CACHE:-/var/cache/transit-hub/image}
log() { printf '%s build_image: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root (mmdebstrap, chroot)"

# ---- the base layer's recipe: everything that goes into its key
readonly SUITE=bookworm
readonly MIRRORS=(
  "deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main"
)
# Debian's official Debian 12 AMI: minbase plus this list (its cloud image recipe), without
# openssh-server (the test talks to the VM through its serial ports only).
readonly AMI_PACKAGES=(
  linux-image-cloud-amd64 init systemd-resolved systemd-timesyncd netplan.io polkitd
  libpam-systemd cloud-init cloud-guest-utils amazon-ec2-utils sudo iproute2 iputils-ping
  netbase apparmor zstd less ca-certificates kmod procps
)
# The image test's own: FRR (the VGW stand-ins' BGP), curl and jq (the API), and the libraries
# of the unpacked strongSwan (the site's IKE daemon, as in the lab: ami/install-deps.sh).
readonly TEST_PACKAGES=(
  frr curl jq libcap2 libgmp10 libsystemd0 libssl3 libip4tc2 libpam0g
)
# The package's dependencies by name (versions are apt's business), so provisioning runs offline.
deb_depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[(|].*//; s/ //g' | grep -v '^$' |
  sort -u | tr '\n' ' ')
readonly STRONGSWAN=/opt/strongswan
[[ -x $STRONGSWAN/usr/sbin/charon-systemd ]] ||
  die "no unpacked strongSwan in $STRONGSWAN (ami/install-deps.sh unpacks it)"

key=$( {
  sed -n '/^# ---- the base layer/,/^# ---- end of the base layer/p' "${BASH_SOURCE[0]}"
  echo "$deb_depends"
  cat "$STRONGSWAN/.transit-hub-unpacked" 2>/dev/null || true
} | sha256sum | cut -c1-16)
base=$cache/base-$key

build_base() {
  local include
  include=$(printf '%s,' "${AMI_PACKAGES[@]}" "${TEST_PACKAGES[@]}" $deb_depends etcd-server)
  log "building the base layer $key (mmdebstrap, about 2.5 min)"
  rm -rf "$base.tmp"
  mkdir -p "$base.tmp"
  mmdebstrap --variant=minbase --include="${include%,}" \
    --customize-hook='echo LANG=C.UTF-8 > "$1/etc/default/locale"' \
    --customize-hook='chroot "$1" systemctl enable systemd-networkd systemd-resolved' \
    --customize-hook='ln -sf /run/systemd/resolve/resolv.conf "$1/etc/resolv.conf"' \
    --customize-hook='echo "LABEL=root / ext4 defaults,errors=remount-ro 0 1" > "$1/etc/fstab"' \
    --customize-hook='echo localhost > "$1/etc/hostname"' \
    --customize-hook='chroot "$1" systemctl disable frr.service etcd.service' \
    --customize-hook="tar -C / -cf - ${STRONGSWAN#/} | tar -C \"\$1\" -xf -" \
    --customize-hook='ln -sfn /opt/strongswan/usr/lib/ipsec "$1/usr/lib/ipsec"' \
    "$SUITE" "$base.tmp/base.tar" "${MIRRORS[@]}" >"$base.tmp/mmdebstrap.log" 2>&1 ||
    { tail -30 "$base.tmp/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $base.tmp/mmdebstrap.log)"; }
  # The kernel and initrd, for qemu's direct kernel boot.
  tar -C "$base.tmp" -xf "$base.tmp/base.tar" --wildcards --no-anchored \
    './boot/vmlinuz-*' './boot/initrd.img-*'
  mv "$base.tmp"/boot/vmlinuz-* "$base.tmp/vmlinuz"
  mv "$base.tmp"/boot/initrd.img-* "$base.tmp/initrd.img"
  rm -rf "$base.tmp/boot"
  mv "$base.tmp" "$base"
}
# ---- end of the base layer

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ ! -f $base/base.tar ]]; then
  build_base
  # Older bases (other keys) are of no further use.
  find "$cache" -maxdepth 1 -name 'base-*' ! -name "base-$key" -exec rm -rf {} +
else
  log "base layer $key from the cache"
fi
if $base_only; then
  log "base layer $key ready: $base"
  exit 0
fi

log "provisioning: ami/provision.sh with $(basename "$deb")"
rm -rf "$out"
mkdir -p "$out/root"
tar -C "$out/root" -xf "$base/base.tar"
cp "$base/vmlinuz" "$base/initrd.img" "$out/"
install -m 0755 "$repo/ami/provision.sh" "$out/root/root/provision.sh"
install -m 0644 "$deb" "$out/root/root/$(basename "$deb")"
# In the chroot nothing may start (no systemd runs there anyway: this keeps invoke-rc.d quiet).
printf '#!/bin/sh\nexit 101\n' >"$out/root/usr/sbin/policy-rc.d"
chmod 0755 "$out/root/usr/sbin/policy-rc.d"
# A private mount namespace: /proc and /dev for dpkg's scripts vanish with it.
unshare --mount --propagation private bash -euc '
  root=$1 deb=$2
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  chroot "$root" /root/provision.sh "/root/$deb"
' _ "$out/root" "$(basename "$deb")" >"$out/provision.log" 2>&1 ||
  { cat "$out/provision.log" >&2; die "ami/provision.sh failed in the image"; }
tail -1 "$out/provision.log" >&2
rm -f "$out/root/usr/sbin/policy-rc.d" "$out/root/root/provision.sh" "$out/root/root/$(basename "$deb")"

# The in-VM test and what it runs: the guest script, and the exported site configuration's
# consumers come from the hub itself at run time.
install -d -m 0755 "$out/root/opt/transit-hub-test"
install -m 0755 "$repo/tests/image/guest/"*.sh "$out/root/opt/transit-hub-test/"

log "making the file system (mkfs.ext4 -d)"
mkfs.ext4 -q -F -L root -d "$out/root" "$out/root.raw" 3G
rm -rf "$out/root"
log "image ready: $out/root.raw ($(du -h --apparent-size "$out/root.raw" | cut -f1))"
