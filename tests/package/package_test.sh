#!/usr/bin/env bash
# The Debian package as CPack made it (ami/package/): lintian finds no error or warning, it holds
# what a hub needs with the right modes, declares the daemons it drives, its maintainer scripts
# parse, its manual pages render, and the hub's unit keeps its hardening score.
#   package_test.sh DEB
# Installing it on a fresh Debian 12 and running the hub is the image test's job (tests/image).
set -euo pipefail

deb=$1
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
[[ -f $deb ]] || fail "no package at $deb (the package.build test makes it)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

name=$(basename "$deb")
[[ $name =~ ^transit-hub_[0-9]+\.[0-9]+\.[0-9]+_amd64\.deb$ ]] ||
  fail "package file name $name is not transit-hub_<version>_amd64.deb"

echo "== lintian"
# Root is fine here (CI runs as root); lintian says so on stderr.
if ! lintian --fail-on error,warning --display-level '>=warning' "$deb" >"$work/lintian" 2>&1; then
  cat "$work/lintian" >&2
  fail "lintian reports errors or warnings"
fi
grep -E '^[EW]: ' "$work/lintian" && fail "lintian reports errors or warnings"
echo "lintian: no error, no warning"

echo "== control"
depends=$(dpkg-deb -f "$deb" Depends)
for need in libreswan bird2 nftables iproute2 libsystemd0 libboost-json1.81.0; do
  [[ ", $depends," == *", $need"[\ ,]* ]] || fail "Depends lacks $need: $depends"
done
[[ $(dpkg-deb -f "$deb" Package) == transit-hub ]] || fail "package name"
[[ $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || fail "architecture"

echo "== contents"
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | sed 's|^\(\S*\) \(\S*\) \./|\1 \2 /|' >"$work/contents"
expect() {  # expect MODE PATH
  grep -qxF -- "$1 root/root $2" "$work/contents" || {
    grep -F -- " $2" "$work/contents" >&2 || true
    fail "$2 missing or not $1 root/root"
  }
}
expect -rwxr-xr-x /usr/sbin/transit-hubd
expect -rwxr-xr-x /usr/bin/transit-hubctl
expect -rw-r--r-- /lib/systemd/system/transit-hubd.service
expect -rw-r--r-- /lib/systemd/system/transit-hub-bootstrap.service
expect -rw-r--r-- /lib/systemd/system/bird.service.d/transit-hub.conf
expect -rw-r--r-- /usr/lib/sysctl.d/60-transit-hub.conf
expect -rw-r--r-- /usr/lib/tmpfiles.d/transit-hub.conf
expect -rw-r--r-- /usr/lib/modules-load.d/transit-hub.conf
expect -rw-r--r-- /usr/share/man/man8/transit-hubd.8.gz
expect -rw-r--r-- /usr/share/man/man1/transit-hubctl.1.gz
expect -rw-r--r-- /usr/share/doc/transit-hub/copyright
expect -rw-r--r-- /usr/share/doc/transit-hub/changelog.gz
expect -rw-r--r-- /usr/share/doc/transit-hub/examples/transit-hub.example.yaml
expect -rw-r--r-- /usr/share/doc/transit-hub/examples/user-data.example.yaml
# Nothing but the product: no headers, libraries, test programs or build paths.
if grep -E '\.(h|hpp|a|so)$|/tests?/|/work/' "$work/contents"; then
  fail "the package holds files that are not the product's"
fi

dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
echo "== binaries"
for bin in usr/sbin/transit-hubd usr/bin/transit-hubctl; do
  file "$work/root/$bin" | grep -q 'stripped' || fail "$bin: not an ELF file"
  file "$work/root/$bin" | grep -q 'not stripped' && fail "$bin is not stripped"
  # The binaries run from the package (their libraries are the Depends above).
  "$work/root/$bin" --version | grep -qE "^$(basename "$bin") [0-9]+\.[0-9]+\.[0-9]+$" ||
    fail "$bin --version"
done
# The sysctl file is what a router needs and systemd-sysctl can read.
for key in net.ipv4.ip_forward net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter \
  net.ipv4.conf.all.send_redirects net.core.xfrm_larval_drop; do
  grep -qE "^$key = [01]$" "$work/root/usr/lib/sysctl.d/60-transit-hub.conf" ||
    fail "sysctl file lacks $key"
done
grep -qE '^net.ipv4.ip_forward = 1$' "$work/root/usr/lib/sysctl.d/60-transit-hub.conf" ||
  fail "ip_forward is not 1"
# tmpfiles: the configuration and state directories are root's alone.
grep -qE '^d +/etc/transit-hub +0700 root root' "$work/root/usr/lib/tmpfiles.d/transit-hub.conf" ||
  fail "tmpfiles: /etc/transit-hub"
grep -qE '^d +/var/lib/transit-hub +0700 root root' "$work/root/usr/lib/tmpfiles.d/transit-hub.conf" ||
  fail "tmpfiles: /var/lib/transit-hub"
systemd-tmpfiles --root="$work/root" --create transit-hub.conf
[[ $(stat -c '%a %U' "$work/root/etc/transit-hub") == "700 root" ]] || fail "/etc/transit-hub mode"

echo "== maintainer scripts"
for s in postinst prerm postrm; do
  [[ -x $work/control/$s ]] || fail "$s is not executable"
  sh -n "$work/control/$s" || fail "$s does not parse"
done

echo "== manual pages"
for page in usr/share/man/man8/transit-hubd.8.gz usr/share/man/man1/transit-hubctl.1.gz; do
  text=$(MANWIDTH=100 man -l "$work/root/$page" 2>"$work/man.err" | col -b)
  [[ -s $work/man.err ]] && { cat "$work/man.err" >&2; fail "$page: man warns"; }
  grep -q -- '--config' <<<"$text" || grep -q -- '--url\|spoke' <<<"$text" ||
    fail "$page does not describe the options"
done
# Read whole before grep: `man | grep -q` under pipefail fails when grep stops reading early.
text=$(MANWIDTH=100 man -l "$work/root/usr/share/man/man8/transit-hubd.8.gz" | col -b)
grep -q -- '--bootstrap' <<<"$text" || fail "transit-hubd(8) does not describe --bootstrap"

echo "== the hub's unit"
# The hardened unit's exposure, as systemd rates it (9.6 UNSAFE for a plain unit).
systemd-analyze security --offline=true --root="$work/root" transit-hubd.service \
  >"$work/security" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for transit-hubd.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' \
  "$work/security")
echo "systemd-analyze security: $score"
[[ -n $score ]] || { cat "$work/security" >&2; fail "no exposure score"; }
awk -v s="${score% *}" 'BEGIN { exit !(s <= 2.5) }' || fail "exposure $score is above 2.5"
grep -q '^WatchdogSec=' "$work/root/lib/systemd/system/transit-hubd.service" ||
  fail "the unit has no watchdog"
echo "package_test: OK ($name, $(stat -c %s "$deb") bytes)"
