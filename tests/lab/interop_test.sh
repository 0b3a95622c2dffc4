#!/usr/bin/env bash
# Lab test (CTest label "lab"): real interop with the configuration the hub generates. site-1
# switches from pluto to strongSwan (charon + swanctl, Debian's) and its BIRD to the hub's
# generated BGP file, both loaded unmodified (lab site-stack strongswan, which fetches them with
# transit-hubctl spoke config). The hub's libreswan must establish IKE SAs with charon on both
# tunnels, the generated BGP sessions must come up and carry routes. Always tears the lab down.
#   tests/lab/interop_test.sh [TRANSIT_HUBD TRANSIT_HUBCTL]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

readonly CDIR=/run/th-lab/site-1/charon
hub_site_sas() {  # the hub's established IKE SAs of site-1's conns, "#serial conn" per line
  hub "${WHACK}" --ctlsocket "${STATE}/hub/pluto.ctl" --showstates 2>/dev/null |
    grep -oE '#[0-9]+: "th-site-1-[12]"[^ ]* STATE_V2_ESTABLISHED_IKE_SA' |
    sed -E 's/^(#[0-9]+): "([^"]+)".*/\1 \2/' | sort || true
}
swanctl_sas() {
  "${lab}" exec site-1 -- env STRONGSWAN_CONF="${CDIR}/strongswan.conf" \
    /opt/strongswan/usr/sbin/swanctl --list-sas --uri "unix://${CDIR}/charon.vici" 2>/dev/null ||
    true
}

lab_up
before="$(hub_site_sas)"
[[ "$(wc -l <<<"${before}")" == 2 ]] || fail "site-1's two IKE SAs (pluto) are up before the switch"

"${lab}" site-stack strongswan >/tmp/th-lab-site-stack.log 2>&1 ||
  { cat /tmp/th-lab-site-stack.log >&2; fail "lab site-stack strongswan"; }
pass "site-1 fetched its configuration from the hub and loaded it into strongSwan and BIRD"

# The generated files as the CLI wrote them: the PSKs only in the secret (0600) swanctl file.
swan="${CDIR}/generated/swanctl/conf.d/transit-hub-site-1.conf"
[[ "$(stat -c %a "${swan}")" == 600 ]] || fail "the swanctl file (PSKs) is 0600"
grep -q 'thlab.site1.tun1_Key2026' "${swan}" || fail "the swanctl file holds tunnel 1's PSK"
! grep -rq 'thlab.site1' "${CDIR}/generated/bird" "${CDIR}/generated/frr" ||
  fail "no PSK outside the secret file"
pass "generated files: swanctl (PSKs, 0600), links script, BIRD, FRR"

new_sas() {  # both hub conns have an IKE SA that did not exist with pluto
  local now
  now="$(hub_site_sas | grep -vxF -f <(echo "${before}") || true)"
  grep -q 'th-site-1-1' <<<"${now}" && grep -q 'th-site-1-2' <<<"${now}"
}
eventually 30 "the hub's libreswan establishes new IKE SAs with site-1's charon on both tunnels" \
  new_sas
charon_up() {
  local sas
  sas="$(swanctl_sas)"
  [[ "$(grep -c 'ESTABLISHED, IKEv2' <<<"${sas}")" == 2 ]]
}
eventually 20 "swanctl --list-sas in site-1: both IKE SAs ESTABLISHED (IKEv2)" charon_up
grep -q 'AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_384' <<<"$(swanctl_sas)" ||
  fail "the negotiated IKE proposal is the hub's first (AES-GCM-256, SHA2-256, DH 20)"
pass "negotiated AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_384, the hub's strongest proposal"

site_sessions() {
  [[ "$("${lab}" exec site-1 -- birdc -s "${STATE}/site-1/bird.ctl" show protocols |
    grep -cE '^hub_a_t[12] +BGP .* Established')" == 2 ]]
}
eventually 60 "site-1's generated BGP sessions (hub_a_t1, hub_a_t2) are Established" site_sessions
hub_sessions() {
  [[ "$(hub birdc -s "${STATE}/hub/bird.ctl" show protocols |
    grep -cE '^th_site_1_[12] +BGP .* Established')" == 2 ]]
}
eventually 30 "the hub's sessions with site-1 are Established" hub_sessions
eventually 30 "vpc-a learns site-1's 172.16.1.0/24 from the generated BGP configuration" \
  has_bgp_route vpc-a 172.16.1.0/24
eventually 30 "site-1 learns vpc-a's 10.1.0.0/16" has_bgp_route site-1 10.1.0.0/16
eventually 20 "10.1.0.1 reaches 172.16.1.1 through the hub" ping_from vpc-a 10.1.0.1 172.16.1.1

lab_down_leaves_nothing
pgrep -f charon-systemd >/dev/null && fail "lab down leaves no charon"
echo "interop lab test: all checks passed"
