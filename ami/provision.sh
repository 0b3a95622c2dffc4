#!/usr/bin/env bash
# Provisions a Transit Hub appliance on Debian 12 from the transit-hub package.
#   provision.sh PATH/transit-hub_VERSION_amd64.deb        (as root)
#
# One script for both images: the AMI (Packer's amazon-ebs builder runs it on Debian's official
# Debian 12 AMI, ami/packer/) and the image test's local image (mmdebstrap runs it inside the new
# root, tests/image/). It installs the package with its dependencies (libreswan, BIRD, nftables,
# ... as its Depends say) and etcd-server (for the pair's members), sets up pluto and BIRD for
# the hub, and enables the services. It starts nothing: everything starts at the next boot, when
# transit-hub-bootstrap.service writes the hub's configuration from the instance's user data.
# Nothing only a developer needs is installed (no compiler, no test tools).
set -euo pipefail

die() { echo "provision.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root"
[[ $# -eq 1 ]] || die "usage: provision.sh PATH/transit-hub_VERSION_amd64.deb"
deb=$(realpath -e "$1") || die "no package at $1"
[[ $(dpkg-deb -f "$deb" Package 2>/dev/null) == transit-hub ]] || die "$1 is not the transit-hub package"
export DEBIAN_FRONTEND=noninteractive

echo "provision.sh: installing $(basename "$deb") and etcd-server"
install_packages() {
  apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
    "$deb" etcd-server
}
# Refresh the package lists only when something is missing from them (an image whose
# dependencies are already there provisions offline).
if ! apt-get install -s -q --no-install-recommends "$deb" etcd-server >/dev/null 2>&1; then
  apt-get update -q
fi
install_packages

# pluto: Debian's ipsec.conf and ipsec.secrets include /etc/ipsec.d/*.conf and *.secrets; the
# hub keeps its connection files in /etc/ipsec.d/transit-hub/ (loaded by the hub itself, never
# by pluto at start) and its pre-shared keys in /etc/ipsec.d/transit-hub.secrets.
grep -qE '^include /etc/ipsec.d/\*\.secrets' /etc/ipsec.secrets ||
  die "/etc/ipsec.secrets does not include /etc/ipsec.d/*.secrets (the hub's keys)"
install -d -m 0700 /etc/ipsec.d/transit-hub

# BIRD: its main configuration is written at first boot (the hub's router id is the instance's
# address); until then a placeholder that loads the hub's (empty) include. The hub runs in
# group bird (its unit's SupplementaryGroups=) and rewrites the include in /etc/bird, so the
# group may write that directory.
if ! grep -q '^# transit-hub: ' /etc/bird/bird.conf 2>/dev/null; then
  [[ -f /etc/bird/bird.conf ]] && mv /etc/bird/bird.conf /etc/bird/bird.conf.debian
  cat >/etc/bird/bird.conf <<'CONF'
# transit-hub: placeholder written by the image's provisioning. At first boot
# transit-hub-bootstrap.service replaces this file with the hub's main configuration (router id,
# kernel export) from the instance's user data; the hub owns /etc/bird/transit-hub.conf.
log syslog all;
protocol device { scan time 10; }
include "/etc/bird/transit-hub.conf";
CONF
  chown bird:bird /etc/bird/bird.conf
  chmod 0640 /etc/bird/bird.conf
fi
[[ -f /etc/bird/transit-hub.conf ]] || install -m 0644 /dev/null /etc/bird/transit-hub.conf
chown bird:bird /etc/bird
chmod 0770 /etc/bird

# etcd: installed for the pair's members but off; a member's user data writes /etc/default/etcd
# and enables it. Debian's package starts a single-member etcd when installed on a running
# system: stop it and drop the data it made.
systemctl disable etcd.service >/dev/null 2>&1 || true
if [[ -d /run/systemd/system ]]; then
  systemctl stop etcd.service || true
fi
rm -rf /var/lib/etcd/default

systemctl enable ipsec.service bird.service transit-hub-bootstrap.service transit-hubd.service

apt-get clean
rm -rf /var/lib/apt/lists/*
echo "provision.sh: done: transit-hub $(dpkg-query -W -f='${Version}' transit-hub)," \
  "libreswan $(dpkg-query -W -f='${Version}' libreswan), bird2 $(dpkg-query -W -f='${Version}' bird2)"
