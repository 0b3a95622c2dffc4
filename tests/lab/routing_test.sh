#!/usr/bin/env bash
# Lab test of the routing policy (CTest label "lab"): the VGW stand-ins (FRR, both ASN 64512,
# dropping a session above 100 prefixes, as AWS does) are the referee. Segments in the lab:
# vpc-a and vpc-b in prod, vpc-c (a static spoke) in dev, site-1 in shared; prod and dev reach
# shared, not each other. Always tears the lab down.
#   tests/lab/routing_test.sh [TRANSIT_HUBD TRANSIT_HUBCTL]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

# What the FRR stand-in NODE received from the hub on its session to PEER (the hub's inside IP).
frr_neighbor() { vty "$1" -c 'show bgp neighbors json' | jq -c --arg p "$2" '.[$p]'; }
frr_path() {  # frr_path NODE PREFIX -> "aspath med" of its best path
  vty "$1" -c "show bgp ipv4 unicast $2 json" |
    jq -r '[.paths[] | select(.bestpath.overall)][0] | "\(.aspath.string) \(.metric // "none")"'
}
nexthops() {  # nexthops NODE PREFIX -> how many next hops the kernel route has
  local out
  out="$("${lab}" exec "$1" -- ip route show "$2")"
  [[ -n "${out}" ]] || { echo 0; return; }
  local n
  n="$(grep -c nexthop <<<"${out}" || true)"
  ((n > 0)) || n=1
  echo "$n"
}
readonly VPC_A_T1=169.254.10.2 VPC_A_T2=169.254.10.6  # the hub's side of vpc-a's tunnels
readonly VPC_B_T1=169.254.20.2 VPC_B_T2=169.254.20.6
readonly VPC_C_T1=169.254.40.2

lab_up

# --- 1. Two VGWs with the same ASN learn each other's routes; ECMP on both tunnels -----------
eventually 20 "vpc-b learned 10.1.0.0/16 over BGP" has_bgp_route vpc-b 10.1.0.0/16
eventually 20 "vpc-a learned 10.2.0.0/16 over BGP" has_bgp_route vpc-a 10.2.0.0/16
[[ "$(frr_path vpc-b 10.1.0.0/16)" == "65000 none" ]] ||
  fail "vpc-b sees 10.1.0.0/16 with AS path '65000' (got '$(frr_path vpc-b 10.1.0.0/16)')"
pass "64512 is rewritten out of the path: vpc-b sees vpc-a's CIDR with AS path 65000"
ping_from vpc-b 10.2.0.1 10.1.0.1 || fail "ping 10.2.0.1 -> 10.1.0.1"
pass "vpc-b reaches vpc-a through the hub"
[[ "$(nexthops hub 10.1.0.0/16)" == 2 ]] || fail "the hub routes 10.1.0.0/16 over both tunnels"
[[ "$(nexthops vpc-b 10.1.0.0/16)" == 2 ]] || fail "vpc-b routes 10.1.0.0/16 over both tunnels"
pass "ECMP: the hub and vpc-b route over both tunnels (2 next hops each)"
routes_json="$(get '/v1/routes?spoke=vpc-a')"
jq -e '[.routes[] | select(.prefix == "10.1.0.0/16" and .filtered == false)] |
  (map(.tunnel) | sort) == [1, 2] and all(.as_path == [64512])' <<<"${routes_json}" >/dev/null ||
  fail "GET /v1/routes lists 10.1.0.0/16 from vpc-a's tunnels 1 and 2 with path [64512]"
jq -e '[.routes[] | select(.selected)] | length >= 1' <<<"${routes_json}" >/dev/null ||
  fail "GET /v1/routes marks the selected route"
pass "GET /v1/routes: 10.1.0.0/16 learned from vpc-a over tunnels 1 and 2, AS path [64512]"

# --- 2. A static spoke end to end ----------------------------------------------------------
[[ "$(nexthops hub 10.3.0.0/16)" == 2 ]] ||
  fail "the hub routes static vpc-c's 10.3.0.0/16 over both tunnels"
pass "the hub installed vpc-c's CIDR over both tunnels (ECMP)"
eventually 20 "site-1 learned static vpc-c's 10.3.0.0/16 over BGP" has_bgp_route site-1 10.3.0.0/16
[[ "$(get /v1/spokes/vpc-c/static-routes | jq -c '[.routes[].prefix]')" == '["172.16.1.0/24"]' ]] ||
  fail "GET /v1/spokes/vpc-c/static-routes lists exactly what dev may reach (172.16.1.0/24)"
pass "GET /v1/spokes/vpc-c/static-routes: [172.16.1.0/24] (the lab entered them in vpc-c)"
ping_from vpc-c 10.3.0.1 172.16.1.1 || fail "ping 10.3.0.1 -> 172.16.1.1"
pass "static vpc-c reaches site-1 and back"
[[ "$(api -o /dev/null -w "%{http_code}" "${API}/v1/spokes/vpc-a/static-routes" 2>/dev/null || true)" == 409 ]] ||
  fail "static-routes of a BGP spoke is 409"

# --- 3. Segments: prod and dev reach shared, never each other, in routing and forwarding -----
no_route vpc-a 10.3.0.0 || fail "prod vpc-a has no route to dev's 10.3.0.0/16"
no_route vpc-b 10.3.0.0 || fail "prod vpc-b has no route to dev's 10.3.0.0/16"
ping_from vpc-c 10.3.0.1 10.1.0.1 && fail "dev vpc-c must not reach prod vpc-a"
ping_from vpc-a 10.1.0.1 10.3.0.1 && fail "prod vpc-a must not reach dev vpc-c"
pass "routing: prod is not sent dev's routes, dev is not sent prod's; pings fail"
# Both ends force a route through the hub by hand: the hub's forwarding filter still drops it.
"${lab}" exec vpc-c -- ip route add 10.1.0.0/16 via "${VPC_C_T1}"
"${lab}" exec vpc-a -- ip route add 10.3.0.0/16 via "${VPC_A_T1}"
dropped_before="$(metric transit_hub_segment_dropped_packets_total)"
ping_from vpc-c 10.3.0.1 10.1.0.1 && fail "dev vpc-c reaches prod vpc-a over a hand-made route"
eventually 10 "the hub counts the dropped packets (transit_hub_segment_dropped_packets_total)" \
  bash -c "(( \$(ip netns exec th-hub curl -fsS ${API}/metrics |
    awk '\$1 == \"transit_hub_segment_dropped_packets_total\" {print int(\$2)}') > ${dropped_before%.*} ))"
"${lab}" exec vpc-c -- ip route del 10.1.0.0/16
"${lab}" exec vpc-a -- ip route del 10.3.0.0/16
pass "forwarding: with hand-made routes on both sides, the hub drops dev <-> prod traffic"
ping_from site-1 172.16.1.1 10.1.0.1 || fail "shared site-1 reaches prod vpc-a"
ping_from site-1 172.16.1.1 10.3.0.1 || fail "shared site-1 reaches dev vpc-c"
pass "shared site-1 reaches both prod and dev"

# --- 4. Import policy: a route inside another spoke's CIDR is refused, counted, listed ------
"${lab}" announce vpc-a 10.2.5.0/24 192.168.77.0/24 >/dev/null 2>&1 || fail "lab announce"
filtered_is() { [[ "$(metric 'transit_hub_bgp_routes_filtered{spoke="vpc-a"}')" == "$1" ]]; }
eventually 20 "transit_hub_bgp_routes_filtered{spoke=vpc-a} counts both refused routes" filtered_is 2
conflict_listed() {
  get /v1/conflicts | jq -e '.conflicts == [{"prefix": "10.2.5.0/24",
    "announced_by": {"spoke": "vpc-a", "tunnels": [1, 2]},
    "overlaps": {"spoke": "vpc-b", "cidr": "10.2.0.0/16"},
    "resolution": "refused: inside vpc-b'"'"'s declared CIDR 10.2.0.0/16; vpc-b'"'"'s routes are used"}]' \
    >/dev/null
}
eventually 10 "GET /v1/conflicts: 10.2.5.0/24 from vpc-a (tunnels 1 and 2) inside vpc-b's CIDR" \
  conflict_listed
[[ "$(metric transit_hub_route_conflicts)" == 1 ]] || fail "transit_hub_route_conflicts is 1"
[[ "$(get '/v1/routes?spoke=vpc-a&filtered=true' | jq -c '[.routes[].prefix] | unique')" == \
  '["10.2.5.0/24","192.168.77.0/24"]' ]] || fail "GET /v1/routes?filtered=true lists the refused routes"
pass "GET /v1/routes?spoke=vpc-a&filtered=true lists 10.2.5.0/24 and 192.168.77.0/24"
# BIRD keeps the refused route with vpc-a's route tag on it (stamped before the filter refused
# it): that tag, not the session's name, is what attributes it.
vpc_a_tag="$(get /v1/spokes/vpc-a | jq -r .route_tag)"
[[ "${vpc_a_tag}" =~ ^[1-9][0-9]*$ ]] || fail "GET /v1/spokes/vpc-a shows its route_tag"
refused_entry="$("${lab}" exec hub -- birdc -s "${STATE}/hub/bird.ctl" show route filtered all 10.2.5.0/24)"
grep -q "BGP.large_community:.*(65000, 2, ${vpc_a_tag})" <<<"${refused_entry}" ||
  fail "BIRD's refused 10.2.5.0/24 carries vpc-a's route tag (65000, 2, ${vpc_a_tag}): ${refused_entry}"
pass "BIRD's refused 10.2.5.0/24 carries vpc-a's route tag (65000, 2, ${vpc_a_tag})"
"${lab}" exec vpc-b -- ip route show 10.2.5.0/24 | grep -q . && fail "vpc-b was sent 10.2.5.0/24"
"${lab}" exec site-1 -- ip route show 192.168.77.0/24 | grep -q . && fail "site-1 was sent 192.168.77.0/24"
pass "no spoke is sent a refused route"
"${lab}" withdraw vpc-a 10.2.5.0/24 192.168.77.0/24 >/dev/null 2>&1 || fail "lab withdraw"
eventually 20 "withdrawn: the filtered count goes back to 0" filtered_is 0
[[ "$(get /v1/conflicts | jq -c .conflicts)" == "[]" ]] || fail "no conflict once withdrawn"
pass "no conflict once vpc-a withdraws"

# --- 5. Preferred hub: a spoke that prefers another hub gets a longer path and a MED -------
put_preferred() {  # put_preferred SPOKE HUB|null
  get "/v1/spokes/$1" | jq -c --argjson h "$2" '{name, kind, cidrs, routing, asn, segment,
    preferred_hub: $h, tunnels: [.tunnels[] | {outside_ip, inside_cidr}]}' |
    api -X PUT -H 'Content-Type: application/json' --data-binary @- "${API}/v1/spokes/$1" \
      >/dev/null
}
put_preferred vpc-a '"hub-b"' || fail "PUT vpc-a with preferred_hub hub-b"
path_is() { [[ "$(frr_path "$1" "$2")" == "$3" ]]; }
eventually 20 "vpc-a (preferring hub-b) sees 10.2.0.0/16 via 65000 65000 65000, MED 100" \
  path_is vpc-a 10.2.0.0/16 "65000 65000 65000 100"
path_is vpc-b 10.1.0.0/16 "65000 none" || fail "vpc-b (preferring no other hub) keeps path 65000"
put_preferred vpc-a null || fail "PUT vpc-a without preferred_hub"
eventually 20 "vpc-a back to path 65000, no MED" path_is vpc-a 10.2.0.0/16 "65000 none"

# --- 6. Path selection between a spoke's two tunnels: shorter AS path, then lower MED, else ECMP
selected_tunnel() {  # selected_tunnel T NEXTHOPS: the hub selects tunnel T and installs NEXTHOPS
  [[ "$(get '/v1/routes?spoke=site-1' | jq -c '[.routes[] | select(.prefix == "172.16.1.0/24"
    and .selected) | .tunnel]')" == "[$1]" && "$(nexthops hub 172.16.1.0/24)" == "$2" ]]
}
"${lab}" site-path 2 prepend 2 >/dev/null 2>&1 || fail "lab site-path 2 prepend 2"
eventually 20 "site-1 prepends on tunnel 2: the hub selects tunnel 1's shorter path, one next hop" \
  selected_tunnel 1 1
"${lab}" site-path 2 >/dev/null 2>&1 && "${lab}" site-path 1 med 50 >/dev/null 2>&1 &&
  "${lab}" site-path 2 med 10 >/dev/null 2>&1 || fail "lab site-path med"
eventually 20 "equal paths, MED 50 on tunnel 1 and 10 on tunnel 2: the hub selects tunnel 2" \
  selected_tunnel 2 1
"${lab}" site-path 1 >/dev/null 2>&1 && "${lab}" site-path 2 >/dev/null 2>&1 || fail "lab site-path"
both_tunnels() { [[ "$(nexthops hub 172.16.1.0/24)" == 2 ]]; }
eventually 20 "equal paths and MEDs again: the hub installs both tunnels (ECMP)" both_tunnels

# --- 7. 300 scattered /26s instead of a /16: summaries keep vpc-b within 100 prefixes ------
prefixes=()
hosts=()
for i in $(seq 0 299); do
  k=$(((i * 331) % 1024))  # 331 is odd: 300 distinct /26s of the 1024 in 10.1.0.0/16
  prefixes+=("10.1.$((k / 4)).$(((k % 4) * 64))/26")
  hosts+=("10.1.$((k / 4)).$(((k % 4) * 64 + 33))")
done
dropped() { vty vpc-b -c 'show bgp neighbors json' | jq '[.[] | .connectionsDropped] | add'; }
drops_before="$(dropped)"
"${lab}" withdraw vpc-a 10.1.0.0/16 >/dev/null 2>&1 || fail "lab withdraw vpc-a 10.1.0.0/16"
"${lab}" announce vpc-a "${prefixes[@]}" >/dev/null 2>&1 || fail "lab announce 300 /26s"
# Sampled while the hub converges: vpc-b never holds more than 100 (it would drop the session).
within_limit_and_summarized() {
  local b1 b2
  b1="$(frr_neighbor vpc-b "${VPC_B_T1}")"
  b2="$(frr_neighbor vpc-b "${VPC_B_T2}")"
  for n in "$b1" "$b2"; do
    jq -e '.bgpState == "Established"' <<<"$n" >/dev/null || fail "vpc-b's session stays up: $n"
    (($(jq '.addressFamilyInfo.ipv4Unicast.acceptedPrefixCounter // 0' <<<"$n") <= 100)) ||
      fail "vpc-b holds at most 100 prefixes per session"
  done
  get /v1/spokes/vpc-b/exports | jq -e '.summarized and .within_limit and .must_reach == 301
    and (.prefixes | length) <= 100' >/dev/null
}
eventually 60 "vpc-b is sent at most 100 summaries for 301 prefixes; its sessions stay up" \
  within_limit_and_summarized
exports="$(get /v1/spokes/vpc-b/exports)"
covered="$(jq -r '[.prefixes[].covers[]] | sort | .[]' <<<"${exports}")"
[[ "${covered}" == "$(printf '%s\n' "${prefixes[@]}" 172.16.1.0/24 | sort)" ]] ||
  fail "GET /v1/spokes/vpc-b/exports: the summaries cover exactly the 300 /26s and 172.16.1.0/24"
jq -e '[.prefixes[].prefix] | all(startswith("10.2.") | not)' <<<"${exports}" >/dev/null ||
  fail "no summary sent to vpc-b covers its own 10.2.0.0/16"
jq -e '.warnings | length == 1' <<<"${exports}" >/dev/null || fail "the exports carry a warning"
pass "GET /v1/spokes/vpc-b/exports: $(jq '.prefixes | length' <<<"${exports}") prefixes covering all 301, $(jq .wasted_addresses <<<"${exports}") extra addresses, warning: $(jq -r '.warnings[0]' <<<"${exports}")"
[[ "$(metric 'transit_hub_bgp_export_summarized{spoke="vpc-b"}')" == 1 ]] ||
  fail "transit_hub_bgp_export_summarized{spoke=vpc-b} is 1"
[[ "$(metric 'transit_hub_bgp_export_limit{spoke="vpc-b"}')" == 100 ]] ||
  fail "transit_hub_bgp_export_limit{spoke=vpc-b} is 100"
(($(metric 'transit_hub_bgp_export_wasted_addresses{spoke="vpc-b"}') > 0)) ||
  fail "transit_hub_bgp_export_wasted_addresses{spoke=vpc-b} is set"
pass "metrics: export limit 100, summarized 1, wasted addresses > 0 for vpc-b"
unreachable="$("${lab}" exec vpc-b -- bash -c 'for a in "$@"; do
  ping -c 1 -W 1 -q -I 10.2.0.1 "$a" >/dev/null 2>&1 || echo "$a"; done' _ "${hosts[@]}")"
[[ -z "${unreachable}" ]] || fail "vpc-b reaches every /26 (unreachable: ${unreachable})"
pass "vpc-b reaches a host in every one of the 300 /26s"
# Longest prefix first: at the hub a /26 beats the summary around it; space a summary covers
# that no spoke routes stops at the hub (the summary is an unreachable route there).
ip2int() { local a b c d; IFS=. read -r a b c d <<<"$1"; echo $(((a << 24) | (b << 16) | (c << 8) | d)); }
int2ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }
gap=""
for summary in $(jq -r '.prefixes[] | select(.covers != [.prefix]) | .prefix' <<<"${exports}"); do
  base="$(ip2int "${summary%/*}")"
  for ((k = 0; k < (1 << (32 - ${summary#*/})) / 64; k++)); do
    candidate="$(int2ip $((base + k * 64)))/26"
    printf '%s\n' "${prefixes[@]}" | grep -qxF "${candidate}" || { gap="$(int2ip $((base + k * 64 + 33)))"; break 2; }
  done
done
[[ -n "${gap}" ]] || fail "some summary covers space that no /26 routes"
hub ip route get "${hosts[0]}" | grep -q "via 169.254.10" ||
  fail "the hub forwards ${hosts[0]} on vpc-a's /26, not the summary"
# The summary's unreachable route reaches the kernel after BIRD's next export: wait for it (a
# loaded machine once looked before it was there).
summary_unreachable() { { hub ip route get "${gap}" 2>&1 || true; } | grep -q "No route to host"; }
for ((i = 0; i < 30; i++)); do summary_unreachable && break; sleep 1; done
summary_unreachable ||
  fail "the hub has no route for ${gap} (covered by a summary, routed by no spoke)"
pass "longest prefix: the hub forwards on the /26s; ${gap} (summarized, unrouted) is unreachable at the hub"
unreachable="$("${lab}" exec site-1 -- bash -c 'for a in "$@"; do
  ping -c 1 -W 1 -q -I 172.16.1.1 "$a" >/dev/null 2>&1 || echo "$a"; done' _ "${hosts[@]}")"
[[ -z "${unreachable}" ]] || fail "site-1 reaches every /26 (unreachable: ${unreachable})"
pass "site-1 (BIRD, import limit 100) reaches every one of the 300 /26s too"
[[ "$(dropped)" == "${drops_before}" ]] || fail "vpc-b's sessions were never dropped"
pass "vpc-b's sessions were never reset (connectionsDropped unchanged)"
"${lab}" withdraw vpc-a "${prefixes[@]}" >/dev/null 2>&1 || fail "lab withdraw 300 /26s"
"${lab}" announce vpc-a 10.1.0.0/16 >/dev/null 2>&1 || fail "lab announce vpc-a 10.1.0.0/16"
not_summarized() {
  get /v1/spokes/vpc-b/exports | jq -e '(.summarized | not) and ([.prefixes[].prefix] | sort) ==
    ["10.1.0.0/16", "172.16.1.0/24"]' >/dev/null
}
eventually 30 "back to the /16: vpc-b is sent 10.1.0.0/16 and 172.16.1.0/24, no summary" \
  not_summarized
eventually 20 "vpc-b routes 10.1.0.0/16 again" has_bgp_route vpc-b 10.1.0.0/16

lab_down_leaves_nothing
echo "routing lab test: all checks passed"
