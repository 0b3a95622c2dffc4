#!/bin/bash
# Probe: site-1 runs strongSwan (charon-systemd + swanctl) instead of pluto, and the hub's
# libreswan (driven by transit-hubd) establishes both IKE SAs to it.
#
# Brings the lab up, stops site-1's pluto, starts charon with the lab's start_charon, loads a
# hand-written swanctl.conf for site-1's two tunnels (values from the lab table), waits until the
# hub's conns th-site-1-1/-2 are STATE_V2_ESTABLISHED_IKE_SA and swanctl lists both IKE SAs
# ESTABLISHED, then takes the lab down (also on failure) and checks nothing is left.
# Child SAs fail on a kernel without ESP (tests/lab/README.md); that is expected.
#
# Run as root after ami/install-deps.sh and a build (TRANSIT_HUBD / TRANSIT_HUBCTL as for lab).
# Exit 0: PASS.
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab"
# shellcheck source=lab
source "${LAB}"   # the lab's functions and table; sourcing does not run its main

readonly SITE=site-1
readonly WAIT_IKE_S=90   # bound for the hub to (re)establish both IKE SAs to charon

require_root
if lab_exists; then
  die "a lab already exists; this probe brings up its own: run '${LAB} down' first"
fi

CHARON_PID=""
finish() {
  local rc=$?
  trap - EXIT
  echo "probe: taking the lab down" >&2
  "${LAB}" down || rc=1
  local left
  left="$(ip netns list | awk '{print $1}' | grep "^${NS_PREFIX}" || true)"
  [[ -z "${left}" ]] || { echo "probe: FAIL namespaces left: ${left}" >&2; rc=1; }
  if pid_alive "${CHARON_PID}"; then echo "probe: FAIL charon ${CHARON_PID} still runs" >&2; rc=1; fi
  [[ ! -e "${STATE}" ]] || { echo "probe: FAIL ${STATE} left" >&2; rc=1; }
  ((rc == 0)) && echo "probe: PASS (lab down: no ${NS_PREFIX}* namespace, no charon, no ${STATE})"
  exit "${rc}"
}
trap finish EXIT

"${LAB}" up >/dev/null

hub_site_states() {  # the hub's established IKE SAs to the site: "#serial conn" lines
  nsx hub "${WHACK}" --ctlsocket "${STATE}/hub/pluto.ctl" --showstates 2>/dev/null |
    sed -nE "s/^000 (#[0-9]+): \"(th-${SITE}-[0-9]+)\".*STATE_V2_ESTABLISHED_IKE_SA.*/\1 \2/p"
}
# the IKE SAs the hub had with site-1's pluto; the ones with charon must be new ones
PLUTO_ERA="$(hub_site_states)"
echo "probe: hub IKE SAs with ${SITE}'s pluto: $(tr '\n' ' ' <<<"${PLUTO_ERA}")"

d="${STATE}/${SITE}"
step "probe: stop ${SITE}'s pluto"
p="$(pidfile_pid "$d/pluto.pid")"
[[ -n "$p" ]] || die "no pid in $d/pluto.pid"
kill_all "$p"
rm -f "$d/pluto.pid" "$d/pluto.ctl"   # pluto removes them on a clean exit; not after SIGKILL

cdir="$(charon_dir "${SITE}")"
start_charon "${SITE}" "${cdir}"
CHARON_PID="$(pidfile_pid "${cdir}/charon.pid")"
echo "probe: charon-systemd runs in $(ns "${SITE}") (pid ${CHARON_PID}):" \
  "$(grep -m1 'loaded plugins' "${cdir}/charon.log" | cut -d' ' -f3-)"

step "probe: hand-written swanctl.conf for ${SITE}"
# The hub proposes IKE aes_gcm256-sha2_256 / aes256-sha2_256 with dh20+dh19+dh14 and ESP aes_gcm256
# / aes256-sha2_256 with dh20; the hub initiates, the site waits (start_action = none).
{
  echo "connections {"
  while read -r t; do
    i="$(field "$t" 2)"; oip="$(field "$t" 3)"
    cat <<EOF
  ${SITE}-t${i} {
    version = 2
    local_addrs = ${oip}
    remote_addrs = ${HUB_PUBLIC_IP}
    proposals = aes256gcm16-prfsha256-ecp384-ecp256-modp2048, aes256-sha256-ecp384-ecp256-modp2048
    dpd_delay = 10s
    local {
      auth = psk
      id = ${oip}
    }
    remote {
      auth = psk
      id = ${HUB_PUBLIC_IP}
    }
    children {
      ${SITE}-t${i} {
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        esp_proposals = aes256gcm16-ecp384, aes256-sha256-ecp384
        start_action = none
        dpd_action = clear
      }
    }
  }
EOF
  done < <(tunnels_of "${SITE}")
  echo "}"
  echo "secrets {"
  while read -r t; do
    i="$(field "$t" 2)"; oip="$(field "$t" 3)"
    printf '  ike-%s-t%s {\n    id-1 = %s\n    id-2 = %s\n    secret = "%s"\n  }\n' \
      "${SITE}" "$i" "${oip}" "${HUB_PUBLIC_IP}" "$(field "$t" 5)"
  done < <(tunnels_of "${SITE}")
  echo "}"
} >"${cdir}/swanctl/swanctl.conf"
chmod 600 "${cdir}/swanctl/swanctl.conf"
swanctl_at "${cdir}" --load-all | sed 's/^/probe: swanctl: /'

hub_ike_up() {  # both hub conns th-site-1-N have an established IKE SA made since pluto left
  local states t
  states="$(hub_site_states | grep -vxF -f <(echo "${PLUTO_ERA}") || true)"
  while read -r t; do
    grep -q " th-${SITE}-$(field "$t" 2)\$" <<<"${states}" || return 1
  done < <(tunnels_of "${SITE}")
}
site_ike_up() {  # charon lists every site-1-tN IKE SA ESTABLISHED
  local sas t
  sas="$(swanctl_at "${cdir}" --list-sas 2>/dev/null)"
  while read -r t; do
    grep -qE "^${SITE}-t$(field "$t" 2): #[0-9]+, ESTABLISHED" <<<"${sas}" || return 1
  done < <(tunnels_of "${SITE}")
}

step "probe: wait for the hub to establish both IKE SAs to charon"
t0=${SECONDS}
wait_for "${WAIT_IKE_S}" "hub IKE SAs th-${SITE}-N established" hub_ike_up
wait_for 10 "charon's IKE SAs ESTABLISHED" site_ike_up
echo "probe: OK both IKE SAs up after $((SECONDS - t0))s (new on the hub:" \
  "$(hub_site_states | grep -vxF -f <(echo "${PLUTO_ERA}") | tr '\n' ' '))." \
  "Hub (whack --showstates):"
nsx hub "${WHACK}" --ctlsocket "${STATE}/hub/pluto.ctl" --showstates | grep -F "\"th-${SITE}-" |
  sed 's/^/    /'
echo "probe: ${SITE} (swanctl --list-sas):"
swanctl_at "${cdir}" --list-sas | sed 's/^/    /'
echo "probe: child SAs (expected to fail on a kernel without ESP), from ${cdir}/charon.log:"
grep -E 'unable to install|failed to establish CHILD_SA|received netlink error' "${cdir}/charon.log" |
  sort -u -k2 | head -4 | sed 's/^/    /' || true
