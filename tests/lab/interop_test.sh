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

# Tunnel options reach both ends: the spoke asks for AES-128, SHA2-512 and DH 16 in phase 1; the
# hub renders them into its conns and into the site's configuration, fetched and loaded again;
# the two daemons then negotiate exactly that. Both ends initiate, so the hub keeps one IKE SA
# per tunnel whichever way their attempts cross (it deletes the others, and the site its copy).
put_site_options() {  # put_site_options ENCRYPTION INTEGRITY DH
  get /v1/spokes/site-1 | jq -c --arg e "$1" --arg i "$2" --argjson g "$3" \
    '{name, kind, cidrs, routing, asn, segment,
      tunnel_options: {phase1_encryption: [$e], phase1_integrity: [$i], phase1_dh_groups: [$g]},
      tunnels: [.tunnels[] | {outside_ip, inside_cidr}]}' |
    api -X PUT -H 'Content-Type: application/json' --data-binary @- "${API}/v1/spokes/site-1" \
      >/dev/null || fail "PUT site-1 with tunnel_options"
}
reload_site() {
  "${lab}" site-stack strongswan >/tmp/th-lab-site-stack.log 2>&1 ||
    { cat /tmp/th-lab-site-stack.log >&2; fail "lab site-stack strongswan (reload)"; }
}
one_pair_with() {  # exactly one IKE SA per tunnel at both ends, with the proposal PROPOSAL
  local sas
  sas="$(swanctl_sas)"
  [[ "$(grep -c 'ESTABLISHED, IKEv2' <<<"${sas}")" == 2 &&
    "$(grep -c "$1" <<<"${sas}")" == 2 && "$(hub_site_sas | grep -c th-site-1-1)" == 1 &&
    "$(hub_site_sas | grep -c th-site-1-2)" == 1 ]]
}
put_site_options AES128 SHA2-512 16
reload_site
eventually 90 "both tunnels renegotiated with the spoke's options (AES_CBC-128, SHA2-512, MODP_4096), one IKE SA each at both ends" \
  one_pair_with 'AES_CBC-128/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/MODP_4096'
eventually 60 "the generated BGP sessions are back" site_sessions

# Crossed attempts, made certain. IKE is blocked at the site while the hub replaces its conns
# and charon reloads, so both keep initiating. Port 500 opens first: the hub's attempt completes
# (its IKE_AUTH runs on 500) and charon's gets as far as an answered IKE_SA_INIT (charon moves to
# 4500 for IKE_AUTH). Port 4500 opens next: charon's IKE_AUTH completes a second IKE SA on each
# tunnel. The hub must delete the older of each pair, and the site its copy with it.
ike_block() {  # ike_block PORTS: site-1 drops IKE to and from the PORTS ("" lifts the block)
  ip netns exec th-site-1 nft delete table inet th_lab_ike_block 2>/dev/null || true
  [[ -z "$1" ]] && return 0
  ip netns exec th-site-1 nft -f - <<NFT || fail "block IKE ($1) at site-1"
table inet th_lab_ike_block {
  chain in { type filter hook input priority 0; udp dport { $1 } drop; }
  chain out { type filter hook output priority 0; udp dport { $1 } drop; }
}
NFT
}
duplicates_deleted() {
  echo "$(metric "transit_hub_tunnel_duplicate_ike_sas_deleted_total{spoke=\"site-1\",tunnel=\"1\"}")" \
    "$(metric "transit_hub_tunnel_duplicate_ike_sas_deleted_total{spoke=\"site-1\",tunnel=\"2\"}")"
}
read -r dup1 dup2 <<<"$(duplicates_deleted)"
ike_block "500, 4500"
put_site_options AES256 SHA2-384 15
sleep 2  # the hub has replaced its conns and initiates into the block
reload_site
sleep 3  # charon initiates into the block too
ike_block 4500
hub_states() { hub "${WHACK}" --ctlsocket "${STATE}/hub/pluto.ctl" --showstates 2>/dev/null; }
half_crossed() {  # per tunnel: the hub's own IKE SA, and charon's attempt answered (R1)
  local states
  states="$(hub_states)"
  [[ "$(grep -cE '"th-site-1-[12]"[^ ]* STATE_V2_ESTABLISHED_IKE_SA' <<<"${states}")" == 2 &&
    "$(grep -cE '"th-site-1-[12]"[^ ]* STATE_V2_PARENT_R1' <<<"${states}")" == 2 ]]
}
eventually 60 "IKE on port 500 only: the hub's attempts complete, charon's wait for IKE_AUTH" \
  half_crossed
ike_block ""
crossed() {
  local now1 now2
  read -r now1 now2 <<<"$(duplicates_deleted)"
  ((${now1:-0} > ${dup1:-0} && ${now2:-0} > ${dup2:-0}))
}
eventually 90 "charon's attempts complete too, and the hub deletes the duplicate IKE SA of each tunnel (transit_hub_tunnel_duplicate_ike_sas_deleted_total)" \
  crossed
eventually 60 "one IKE SA per tunnel at both ends, with AES_CBC-256, SHA2-384, MODP_3072" \
  one_pair_with 'AES_CBC-256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_3072'
eventually 60 "the generated BGP sessions are back" site_sessions
eventually 20 "10.1.0.1 reaches 172.16.1.1 through the hub again" ping_from vpc-a 10.1.0.1 172.16.1.1

lab_down_leaves_nothing
pgrep -f charon-systemd >/dev/null && fail "lab down leaves no charon"
echo "interop lab test: all checks passed"
