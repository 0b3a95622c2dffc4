#!/usr/bin/env bash
# Lab test (CTest label "lab"): real pluto, BIRD and FRR in network namespaces, transit-hubd in
# live mode, everything driven through the REST API as a user would. Always tears the lab down.
#   tests/lab/lab_test.sh [TRANSIT_HUBD TRANSIT_HUBCTL]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

ike_states() {
  hub "${WHACK}" --ctlsocket "${STATE}/hub/pluto.ctl" --showstates 2>/dev/null |
    grep -o '#[0-9]*: "th-[^"]*"[^ ]* STATE_V2_ESTABLISHED_IKE_SA' | sort || true
}
bgp_up() { hub birdc -s "${STATE}/hub/bird.ctl" show protocols | grep -E '^th_' | grep -c Established || true; }
ike_count() { ike_states | wc -l; }
no_site_ike() { ! ike_states | grep -q th-site-1; }

lab_up

# 1. IKE SAs on every tunnel and BGP sessions up, as pluto, BIRD and the API report them.
[[ "$(ike_states | wc -l)" == 8 ]] || fail "8 IKE SAs established at the hub (got $(ike_states | wc -l))"
pass "8 IKE SAs established (4 spokes, 2 tunnels each)"
[[ "$(bgp_up)" == 6 ]] || fail "6 BGP sessions Established at the hub (got $(bgp_up))"
pass "6 BGP sessions Established (vpc-c is a static spoke: no BGP)"
# The API shows the reconciler's last observation (refreshed every 2 s): poll it.
api_all_up() {
  api http://127.0.0.1:8080/v1/tunnels | jq -e '[.tunnels[] | select(.ike_up and .state == "applied"
    and (.bgp.established or (.spoke == "vpc-c" and .bgp == null)))] | length == 8' >/dev/null
}
eventually 10 "GET /v1/tunnels: 8 tunnels applied, IKE up, BGP up on the BGP spokes" api_all_up
[[ "$(api http://127.0.0.1:8080/v1/tunnels | jq '[.tunnels[] | select(.ipsec_up)] | length')" == 0 ]] ||
  fail "no tunnel claims an installed IPsec SA on a kernel without ESP"
pass "no tunnel pretends to carry ESP traffic (this kernel has no ESP)"

# 2. Traffic between spokes through the hub, on routes learned over BGP only.
eventually 20 "vpc-a learned 10.2.0.0/16 over BGP (vpc-a and vpc-b share ASN 64512)" \
  has_bgp_route vpc-a 10.2.0.0/16
eventually 20 "vpc-a learned 172.16.1.0/24 over BGP" has_bgp_route vpc-a 172.16.1.0/24
ping_from vpc-a 10.1.0.1 10.2.0.1 || fail "ping 10.1.0.1 -> 10.2.0.1 through the hub"
ping_from vpc-a 10.1.0.1 172.16.1.1 || fail "ping 10.1.0.1 -> 172.16.1.1 through the hub"
pass "10.1.0.1 reaches 10.2.0.1 and 172.16.1.1 through the hub"

# 3. A crashed and restarted transit-hubd changes nothing that worked.
before="$(ike_states)"
since_before="$(hub birdc -s "${STATE}/hub/bird.ctl" show protocols | grep -E '^th_' | awk '{print $1, $5, $6}')"
"${lab}" restart-hubd >/dev/null 2>&1 || fail "transit-hubd restarts"
sleep 5  # several reconcile passes
[[ "$(ike_states)" == "${before}" ]] || fail "IKE SAs unchanged after kill -9 of transit-hubd"
since_after="$(hub birdc -s "${STATE}/hub/bird.ctl" show protocols | grep -E '^th_' | awk '{print $1, $5, $6}')"
[[ "${since_after}" == "${since_before}" ]] || fail "BGP sessions not restarted by the hub's restart"
ping_from vpc-a 10.1.0.1 10.2.0.1 || fail "traffic still flows after the hub's restart"
pass "kill -9 and restart of transit-hubd: same IKE SAs, same BGP sessions, traffic flows"

# 4. pluto and BIRD killed in the hub node: detected and healed with no API call.
kill -9 "$(cat "${STATE}/hub/pluto.pid")"
eventually 30 "pluto killed: every IKE SA back without an API call" count_is 8 ike_count
kill -9 "$(cat "${STATE}/hub/bird.pid")"
eventually 60 "BIRD killed: every BGP session back without an API call" count_is 6 bgp_up
eventually 30 "traffic flows again" ping_from vpc-a 10.1.0.1 172.16.1.1

# 5. Deleting a spoke through the API removes its tunnels and routes everywhere else.
api -X DELETE http://127.0.0.1:8080/v1/spokes/site-1 >/dev/null || fail "DELETE /v1/spokes/site-1"
eventually 20 "site-1's IKE SAs gone from the hub" no_site_ike
hub birdc -s "${STATE}/hub/bird.ctl" show protocols | grep -q th_site_1 && fail "site-1's BGP sessions removed"
[[ -z "$(ls "${STATE}/hub/ipsec.d/transit-hub/" | grep site-1 || true)" ]] || fail "site-1's connection files removed"
grep -q 'site-1' "${STATE}/hub/ipsec.secrets" && fail "site-1's secrets removed"
eventually 20 "172.16.1.0/24 withdrawn from vpc-a" no_route vpc-a 172.16.1.0/24
ping_from vpc-a 10.1.0.1 10.2.0.1 || fail "vpc-a still reaches vpc-b"
pass "site-1 deleted: its tunnels, sessions, files, secrets and routes are gone; the rest works"

lab_down_leaves_nothing
echo "lab test: all checks passed"
