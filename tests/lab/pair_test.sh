#!/usr/bin/env bash
# Lab test of the HA pair (CTest label "lab"): `lab up --pair` (hub-a and hub-b with transit-hubd
# live, pluto, BIRD and an etcd member each, the witness; vpc-a and vpc-b with two tunnels to
# each hub, site-1 with BFD and one tunnel to each), then what a user of the pair relies on:
#   1. a write on one hub is seen, rendered and routed by the other; a delete on the other too;
#   2. a hub dies (every process of its node SIGKILLed): the spokes' traffic takes the other
#      hub, whose API keeps reading and writing;
#   3. it comes back: loads what was written meanwhile, runs each tunnel and session once, and
#      each spoke's traffic returns to its preferred hub;
#   4. a hub cut off from etcd keeps forwarding and says so (503 writes, stale reads, /readyz),
#      and catches up once etcd is reachable again;
#   5. a minute of concurrent creates, replaces and deletes on both hubs' APIs: no acknowledged
#      write lost, no /30 or outside address held twice, both hubs list the same spokes.
# Durations are printed as information; waits are bounded, never asserted as timings. Always
# tears the lab down. Section 5's log of every request stays in /tmp/th-lab-pair-writes.log.
#   [PAIR_WRITE_SECONDS=60] tests/lab/pair_test.sh [TRANSIT_HUBD TRANSIT_HUBCTL]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

readonly WRITE_SECONDS="${PAIR_WRITE_SECONDS:-60}"  # section 5's length
readonly WRITES_LOG="${TMPDIR:-/tmp}/th-lab-pair-writes.log"  # kept after the run
readonly CUT_TABLE=th_test_etcd_cut
# The lab's spokes answer IKE and BGP; a spoke the test makes has no live peer.
readonly LIVE_OUTSIDE=" 198.51.100.10 198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.20 198.51.100.21 198.51.100.22 198.51.100.23 198.51.100.30 "
readonly LIVE_BGP=" 169.254.10.1 169.254.10.5 169.254.10.9 169.254.10.13 169.254.20.1 169.254.20.5 169.254.20.9 169.254.20.13 169.254.30.2 169.254.30.6 "

writer_pids=()
pair_cleanup() {
  local p
  for p in ${writer_pids[@]+"${writer_pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${writer_pids[@]+"${writer_pids[@]}"}; do wait "$p" 2>/dev/null || true; done
  cleanup
}
trap pair_cleanup EXIT

now_ms() { date +%s%3N; }
since() { echo "$(($(now_ms) - $1)) ms"; }
in_ns() { local n="$1"; shift; ip netns exec "th-$n" "$@"; }
token() { cat "${STATE}/$1/hubd/admin.token"; }
# req HUB METHOD PATH [CURL ARGS...]: sets `code` (HTTP status, 000 without an answer) and `body`.
req() {
  local out
  out="$(in_ns "$1" curl -sS -m 30 -o - -w '\n%{http_code}' -X "$2" \
    -H "Authorization: Bearer $(token "$1")" "${@:4}" "${API}$3" 2>&1)" || true
  code="$(tail -n 1 <<<"${out}")"
  body="$(sed '$d' <<<"${out}")"
}
hget() { in_ns "$1" curl -fsS -m 30 -H "Authorization: Bearer $(token "$1")" "${API}$2"; }
json_post() { req "$1" POST /v1/spokes -H 'Content-Type: application/json' --data-binary "$2"; }
birdc_at() { local h="$1"; shift; in_ns "$h" birdc -s "${STATE}/$h/bird.ctl" "$@"; }
whack_at() { local h="$1"; shift; in_ns "$h" "${WHACK}" --ctlsocket "${STATE}/$h/pluto.ctl" "$@"; }

# What HUB's pluto has loaded: "CONN OUTSIDE_IP" per transit hub connection.
conns() {
  whack_at "$1" --status 2>/dev/null |
    sed -nE 's/^000 "(th-[^"]+)": [0-9./]+===[0-9.]+\.\.\.([0-9.]+)===.*/\1 \2/p' | sort || true
}
# HUB's established IKE SAs: the connection's name, once per SA.
ike_sas() {
  whack_at "$1" --showstates 2>/dev/null |
    sed -nE 's/^000 #[0-9]+: "(th-[^"]+)":[0-9]+ STATE_V2_ESTABLISHED_IKE_SA.*/\1/p' | sort || true
}
# HUB's BGP protocols: "NAME NEIGHBOR STATE".
bgp_protos() {
  birdc_at "$1" show protocols all 2>/dev/null | awk '
    /^[^ \t]/ { name = $1; bgp = ($2 == "BGP"); st = "?" }
    /BGP state:/ { st = $3 }
    /Neighbor address:/ { if (bgp) print name, $3, st }' | sort || true
}
# What the registry (HUB's API) says HUB must run: its tunnels' outside addresses, and the
# BGP neighbours (the spokes' inside addresses) of its tunnels of BGP spokes.
want_conns() {
  hget "$1" /v1/spokes | jq -r --arg h "$1" '[.spokes[].tunnels[] | select(.hub == $h) |
    .outside_ip] | sort | .[]'
}
want_bgp() {
  hget "$1" /v1/spokes | jq -r --arg h "$1" '[.spokes[] | select(.routing == "bgp") |
    .tunnels[] | select(.hub == $h) | .peer_inside_ip] | sort | .[]'
}
have_conns() { conns "$1" | awk '{print $2}' | sort; }
have_bgp() { bgp_protos "$1" | awk '$1 != "th_pair" {print $2}' | sort; }
# HUB's pluto and BIRD run exactly what names HUB in the registry: one connection per tunnel,
# one BGP protocol per BGP tunnel, none twice, none extra.
renders_registry() {
  local want_c have_c want_b have_b
  want_c="$(want_conns "$1")" && have_c="$(have_conns "$1")" && want_b="$(want_bgp "$1")" &&
    have_b="$(have_bgp "$1")" || return 1
  [[ "${want_c}" == "${have_c}" && "${want_b}" == "${have_b}" ]]
}
# Every connection of HUB to a live spoke has exactly one established IKE SA.
one_ike_sa_each() {
  local sas c ip n
  sas="$(ike_sas "$1")"
  while read -r c ip; do
    [[ "${LIVE_OUTSIDE}" == *" ${ip} "* ]] || continue
    n="$(grep -cxF "$c" <<<"${sas}" || true)"
    [[ "$n" == 1 ]] || return 1
  done < <(conns "$1")
}
# Every BGP session of HUB to a live spoke is Established, and the iBGP session to the other hub.
sessions_up() {
  local name ip st ibgp=0
  while read -r name ip st; do
    if [[ "${name}" == th_pair ]]; then
      [[ "${st}" == Established ]] && ibgp=1
    elif [[ "${LIVE_BGP}" == *" ${ip} "* && "${st}" != Established ]]; then
      return 1
    fi
  done < <(bgp_protos "$1")
  ((ibgp == 1))
}
hub_converged() { renders_registry "$1" && one_ike_sa_each "$1" && sessions_up "$1"; }
# via NODE CIDR: the hubs NODE's kernel sends CIDR through, e.g. "hub-a(2)" or "hub-b(2)".
via() {
  "${lab}" exec "$1" -- ip -4 route show "$2" | grep -oE 'dev t-hub-[ab]-[0-9]+' |
    sed -E 's/^dev t-//; s/-[0-9]+$//' | sort | uniq -c |
    awk '{printf "%s%s(%s)", (NR > 1 ? "+" : ""), $2, $1} END {if (NR == 0) printf "-"}'
}
via_is() { [[ "$(via "$1" "$2")" == "$3" ]]; }
reaches() { "${lab}" exec "$1" -- ping -n -q -c 1 -W 0.3 -I "$2" "$3" >/dev/null 2>&1; }
# wait_from T0_MS SECONDS WHAT CMD...: polls CMD every 50 ms until SECONDS after T0_MS; passes
# with the time since T0_MS (information), or fails.
wait_from() {
  local t0="$1" seconds="$2" what="$3"
  shift 3
  until "$@"; do
    (($(now_ms) - t0 < seconds * 1000)) || fail "${what} (not within ${seconds} s)"
    sleep 0.05
  done
  pass "${what} ($(since "${t0}"))"
}
wait_ms() { wait_from "$(now_ms)" "$@"; }  # wait_ms SECONDS WHAT CMD...: from now
# The spoke as it would be PUT back: GET's fields, the tunnels without status, no null.
put_body() {
  jq -c "$1"' | {name, kind, cidrs, routing, asn, segment, export_limit, import_limit,
    bgp_hold_time_seconds, tunnel_options, bfd, preferred_hub,
    tunnels: [.tunnels[] | {hub, outside_ip, inside_cidr}]} | with_entries(select(.value != null))'
}
# The fields both hubs must agree on for a spoke.
identity() { jq -cS '{name, generation, route_tag, export_limit, preferred_hub,
  tunnels: [.tunnels[] | {hub, outside_ip, inside_cidr}]}'; }

t_start="$(now_ms)"
cleanup
"${lab}" up --pair >/tmp/th-lab-up.log 2>&1 || { cat /tmp/th-lab-up.log >&2; fail "lab up --pair"; }
pass "lab up --pair: both hubs converged, every spoke onboarded through hub-a ($(since "${t_start}"))"
for h in hub-a hub-b; do
  eventually 30 "${h} runs every tunnel once with its IKE SA, every BGP session and the iBGP" \
    hub_converged "$h"
done

# --- 1. Written on hub-a, seen on hub-b; deleted on hub-b, gone from hub-a -------------------
t0="$(now_ms)"
"${lab}" ctl --hub hub-a spoke add pt-cross --kind vpc --cidr 10.61.0.0/16 --asn 64512 \
  --segment prod --tunnel 198.51.100.61 --tunnel 198.51.100.62,hub=hub-b >/dev/null ||
  fail "transit-hubctl spoke add pt-cross (one tunnel on each hub) through hub-a"
pass "hub-a's API created pt-cross, a tunnel on each hub ($(since "${t0}"))"
on_a="$(hget hub-a /v1/spokes/pt-cross | identity)"
same_on_b() { [[ "$(hget hub-b /v1/spokes/pt-cross 2>/dev/null | identity)" == "${on_a}" ]]; }
wait_ms 20 "hub-b's API lists pt-cross with hub-a's /30s, route tag and generation" same_on_b
jq -e '.route_tag > 0 and (.tunnels | length) == 2 and
  ([.tunnels[].inside_cidr] | unique | length) == 2' <<<"${on_a}" >/dev/null ||
  fail "pt-cross has a route tag and two distinct inside /30s: ${on_a}"
b_peer="$(jq -r '.tunnels[] | select(.hub == "hub-b") | .inside_cidr' <<<"${on_a}")"
b_conn() { conns hub-b | grep -qx 'th-pt-cross-1 198.51.100.62'; }
wait_ms 20 "hub-b's pluto loaded th-pt-cross-1 for its tunnel (198.51.100.62)" b_conn
conns hub-b | grep -q ' 198.51.100.61$' && fail "hub-b must not run hub-a's tunnel of pt-cross"
conns hub-a | grep -qx 'th-pt-cross-1 198.51.100.61' || fail "hub-a runs its tunnel of pt-cross"
conns hub-a | grep -q ' 198.51.100.62$' && fail "hub-a must not run hub-b's tunnel of pt-cross"
pass "each hub runs only its own tunnel of pt-cross (hub-a 198.51.100.61, hub-b 198.51.100.62)"
b_bgp_peer="$(hget hub-b /v1/spokes/pt-cross | jq -r '.tunnels[] | select(.hub == "hub-b") |
  .peer_inside_ip')"
b_proto() { bgp_protos hub-b | grep -q "^th_pt_cross_1 ${b_bgp_peer} "; }
wait_ms 20 "hub-b's BIRD has th_pt_cross_1 to ${b_bgp_peer} (in ${b_peer})" b_proto
renders_registry hub-b || fail "hub-b runs exactly the registry's connections and sessions"
renders_registry hub-a || fail "hub-a runs exactly the registry's connections and sessions"
pass "both hubs run exactly the tunnels and sessions that name them, none twice"

"${lab}" announce vpc-a 10.1.77.0/24 >/dev/null 2>&1 || fail "lab announce vpc-a 10.1.77.0/24"
t0="$(now_ms)"
b_learned() {  # from its own sessions with vpc-a and from hub-a over iBGP, with vpc-a's tag
  local r tag
  tag="$(hget hub-b /v1/spokes/vpc-a | jq -r .route_tag)"
  r="$(birdc_at hub-b show route 10.1.77.0/24 all 2>/dev/null)" || return 1
  grep -q 'unicast \[th_vpc_a_1 ' <<<"$r" && grep -q 'unicast \[th_vpc_a_2 ' <<<"$r" &&
    grep -q 'unicast \[th_pair ' <<<"$r" && grep -q "(65000, 2, ${tag})" <<<"$r"
}
wait_ms 20 "10.1.77.0/24 announced by vpc-a is in hub-b's BIRD (its sessions and hub-a's iBGP)" \
  b_learned
b_api_routes() {
  hget hub-b '/v1/routes?spoke=vpc-a' | jq -e '[.routes[] | select(.prefix == "10.1.77.0/24"
    and (.filtered | not)) | .protocol] | sort == ["th_pair", "th_vpc_a_1", "th_vpc_a_2"]' \
    >/dev/null
}
eventually 20 "GET /v1/routes on hub-b: 10.1.77.0/24 from vpc-a over th_vpc_a_1, th_vpc_a_2 and th_pair" \
  b_api_routes
eventually 20 "vpc-b learned 10.1.77.0/24 over BGP" has_bgp_route vpc-b 10.1.77.0/24
"${lab}" withdraw vpc-a 10.1.77.0/24 >/dev/null 2>&1 || fail "lab withdraw vpc-a 10.1.77.0/24"
b_dropped() { ! birdc_at hub-b show route 10.1.77.0/24 2>/dev/null | grep -q '^10.1.77.0/24'; }
wait_ms 20 "withdrawn by vpc-a: 10.1.77.0/24 gone from hub-b's BIRD" b_dropped

gen="$(hget hub-b /v1/spokes/pt-cross | jq -r .generation)"
req hub-b DELETE /v1/spokes/pt-cross -H "If-Match: \"${gen}\""
[[ "${code}" == 204 ]] || fail "DELETE pt-cross on hub-b: HTTP ${code} ${body}"
t0="$(now_ms)"
gone_from_a() {
  req hub-a GET /v1/spokes/pt-cross
  [[ "${code}" == 404 ]] && ! conns hub-a | grep -q th-pt-cross &&
    ! bgp_protos hub-a | grep -q th_pt_cross
}
wait_ms 20 "deleted through hub-b: hub-a's API, pluto and BIRD no longer have pt-cross" gone_from_a
b_clean() { ! conns hub-b | grep -q th-pt-cross && ! bgp_protos hub-b | grep -q th_pt_cross; }
eventually 20 "hub-b removed its connection and session of pt-cross" b_clean

# --- 2. Each VPC prefers a hub; hub-a dies ----------------------------------------------------
# vpc-a prefers hub-a (set through hub-a's API), vpc-b hub-b (through hub-b's): the other hub
# sends each a longer path with a MED, so each VGW sends through its preferred hub.
prefer() {  # prefer HUB SPOKE PREFERRED: PUT through HUB's API with If-Match
  local current
  current="$(hget "$1" "/v1/spokes/$2")"
  req "$1" PUT "/v1/spokes/$2" -H 'Content-Type: application/json' \
    -H "If-Match: \"$(jq -r .generation <<<"${current}")\"" \
    --data-binary "$(put_body ". + {preferred_hub: \"$3\"}" <<<"${current}")"
  [[ "${code}" == 200 ]] || fail "PUT $2 with preferred_hub $3 on $1: HTTP ${code} ${body}"
}
prefer hub-a vpc-a hub-a
prefer hub-b vpc-b hub-b
eventually 30 "vpc-a sends to vpc-b through hub-a, its preferred hub (2 tunnels)" \
  via_is vpc-a 10.2.0.0/16 "hub-a(2)"
eventually 30 "vpc-b sends to vpc-a through hub-b, its preferred hub (2 tunnels)" \
  via_is vpc-b 10.1.0.0/16 "hub-b(2)"
via_is vpc-a 172.16.1.0/24 "hub-a(2)" && via_is vpc-b 172.16.1.0/24 "hub-b(2)" ||
  fail "each VPC sends to site-1 through its preferred hub (vpc-a: $(via vpc-a 172.16.1.0/24), vpc-b: $(via vpc-b 172.16.1.0/24))"
vpc_b_paths() {  # "NEIGHBOR ASPATH MED" of each path vpc-b has for 10.1.0.0/16, and the best's
  vty vpc-b -c 'show bgp ipv4 unicast 10.1.0.0/16 json' |
    jq -r '.paths[] | "\(.peer.peerId) \(.aspath.string | gsub(" "; "_")) \(.metric // "none")\(if .bestpath.overall then " best" else "" end)"' | sort
}
paths="$(vpc_b_paths)"
[[ "$(grep -c '^169\.254\.20\.\(2\|6\) 65000_65000_65000 100$' <<<"${paths}")" == 2 &&
  "$(grep -cE '^169\.254\.20\.(10|14) 65000 none' <<<"${paths}")" == 2 &&
  "$(grep -E ' best$' <<<"${paths}" | grep -cE '^169\.254\.20\.(10|14) ')" == 1 ]] ||
  fail "vpc-b: hub-a's paths prepended twice with MED 100, hub-b's plain and best: ${paths}"
pass "vpc-b sees hub-a's paths as 65000 65000 65000 MED 100, hub-b's as 65000 (best)"
ping_from vpc-a 10.1.0.1 10.2.0.1 || fail "vpc-a reaches vpc-b with both hubs up"
ping_from vpc-a 10.1.0.1 172.16.1.1 || fail "vpc-a reaches site-1 with both hubs up"
hub_b_before="$(conns hub-b) $(bgp_protos hub-b | awk '{print $1, $2}')"

# The worst case for the store: hub-a's etcd member is the leader when it dies.
readonly ETCD_ALL=http://203.0.113.10:2379,http://203.0.113.20:2379,http://203.0.113.30:2379
etcd_row() {  # etcd_row IP: "HEX_ID IS_LEADER" of that member
  "${lab}" exec witness -- etcdctl --endpoints "${ETCD_ALL}" endpoint status -w table |
    awk -F'|' -v ip="$1" '$2 ~ ip ":" {gsub(/ /, ""); print $3, $6}'
}
hub_a_leads() { [[ "$(etcd_row 203.0.113.10)" == *" true" ]]; }
if ! hub_a_leads; then
  "${lab}" exec witness -- etcdctl --endpoints "${ETCD_ALL}" move-leader \
    "$(etcd_row 203.0.113.10 | cut -d' ' -f1)" >/dev/null || fail "etcdctl move-leader to hub-a"
fi
eventually 20 "hub-a's etcd member is the leader (the worst case for its death)" hub_a_leads
t_death="$(now_ms)"
"${lab}" stop-node hub-a >/dev/null || fail "lab stop-node hub-a"
echo "info: hub-a stopped (every process SIGKILLed, its etcd member too) in $(since "${t_death}")"
vpc_a_to_b() { via_is vpc-a 10.2.0.0/16 "hub-b(2)" && reaches vpc-a 10.1.0.1 10.2.0.1; }
vpc_a_to_site() { via_is vpc-a 172.16.1.0/24 "hub-b(2)" && reaches vpc-a 10.1.0.1 172.16.1.1; }
site_to_a() { via_is site-1 10.1.0.0/16 "hub-b(1)" && reaches site-1 172.16.1.1 10.1.0.1; }
# Timed from `lab stop-node` (information; the bound is what is asserted).
wait_from "${t_death}" 60 "vpc-a reaches vpc-b through hub-b's tunnels only, after hub-a's death" \
  vpc_a_to_b
wait_from "${t_death}" 60 "vpc-a reaches site-1 through hub-b's tunnels only, after hub-a's death" \
  vpc_a_to_site
wait_from "${t_death}" 60 "site-1 (BFD) reaches vpc-a through hub-b's tunnel only, after hub-a's death" \
  site_to_a
via_is vpc-b 10.1.0.0/16 "hub-b(2)" && reaches vpc-b 10.2.0.1 10.1.0.1 ||
  fail "vpc-b (preferring hub-b) still sends to vpc-a through hub-b"
pass "vpc-b, preferring hub-b, kept its route through hub-b"
[[ "$(conns hub-b) $(bgp_protos hub-b | awk '{print $1, $2}')" == "${hub_b_before}" ]] &&
  one_ike_sa_each hub-b || fail "hub-b keeps every connection, IKE SA and BGP protocol it had"
pass "hub-b kept its $(conns hub-b | wc -l) connections (one IKE SA each) and BGP protocols"
req hub-b GET /v1/hub
[[ "${code}" == 200 ]] && jq -e '.store.state == "current" and .ready' <<<"${body}" >/dev/null ||
  fail "hub-b's /v1/hub answers, store current, ready: HTTP ${code} ${body}"
# etcd lost hub-a's member, maybe its leader: until the other two elect one (about a second),
# a write is answered 503 with Retry-After: 1, as a client that retries expects.
t0="$(now_ms)"
refusals=0
until json_post hub-b '{"name": "pt-outage", "kind": "site", "routing": "bgp", "asn": 65061,
  "segment": "shared", "cidrs": ["172.16.61.0/24"],
  "tunnels": [{"hub": "hub-a", "outside_ip": "198.51.100.63"},
              {"hub": "hub-b", "outside_ip": "198.51.100.63"}]}'
  [[ "${code}" == 201 ]]; do
  [[ "${code}" == 503 ]] && (($(now_ms) - t0 < 30000)) ||
    fail "POST pt-outage on hub-b while hub-a is dead: HTTP ${code} after $(since "${t0}"): ${body}"
  refusals=$((refusals + 1))
  echo "info: 503 while etcd elects a leader: $(jq -r .error.message <<<"${body}" | head -c 200)"
  sleep 1
done
pass "hub-b's API takes a write while hub-a is dead (etcd: 2 of 3 members): ${refusals} x 503 first, acknowledged $(since "${t0}") after the first try"
outage="$(identity <<<"${body}")"

# --- 3. hub-a returns -------------------------------------------------------------------------
t_back="$(now_ms)"
"${lab}" start-node hub-a >/dev/null || fail "lab start-node hub-a"
echo "info: lab start-node hub-a (etcd member healthy, transit-hubd ready) in $(since "${t_back}")"
a_has_outage() { [[ "$(hget hub-a /v1/spokes/pt-outage 2>/dev/null | identity)" == "${outage}" ]]; }
wait_ms 30 "hub-a's API lists pt-outage, written on hub-b while hub-a was dead" a_has_outage
wait_ms 90 "hub-a converged: each tunnel once with one IKE SA, each BGP session, the iBGP" \
  hub_converged hub-a
conns hub-a | grep -qx 'th-pt-outage-1 198.51.100.63' ||
  fail "hub-a runs its tunnel of pt-outage (th-pt-outage-1 to 198.51.100.63)"
[[ "$(conns hub-a | awk '{print $1}' | sort | uniq -d)" == "" &&
  "$(conns hub-a | awk '{print $2}' | sort | uniq -d)" == "" ]] ||
  fail "hub-a's pluto: no connection name or outside address twice: $(conns hub-a)"
[[ "$(bgp_protos hub-a | awk '{print $1}' | sort | uniq -d)" == "" &&
  "$(bgp_protos hub-a | awk '{print $2}' | sort | uniq -d)" == "" ]] ||
  fail "hub-a's BIRD: no protocol or neighbour twice: $(bgp_protos hub-a)"
pass "hub-a: $(conns hub-a | wc -l) connections and $(bgp_protos hub-a | wc -l) BGP protocols, none twice, one IKE SA per live tunnel"
eventually 30 "hub-b converged too, iBGP to hub-a Established again" hub_converged hub-b
wait_from "${t_back}" 90 "vpc-a's traffic to vpc-b is back on hub-a's tunnels, its preferred hub" \
  via_is vpc-a 10.2.0.0/16 "hub-a(2)"
eventually 30 "vpc-a reaches site-1 through hub-a again" via_is vpc-a 172.16.1.0/24 "hub-a(2)"
ping_from vpc-a 10.1.0.1 10.2.0.1 || fail "vpc-a reaches vpc-b through hub-a"
via_is vpc-b 10.1.0.0/16 "hub-b(2)" || fail "vpc-b stays on hub-b, its preferred hub"
pass "vpc-b stays on hub-b, its preferred hub; vpc-a reaches vpc-b"
# The spokes' side: the IKE SAs they had with hub-a's killed pluto stay until their DPD clears
# them (hub-a's pluto, started anew, does not know them): information, not asserted.
for sp in vpc-a vpc-b site-1; do
  echo "info: ${sp}'s pluto holds $(whack_at "${sp}" --showstates 2>/dev/null |
    grep -c 'STATE_V2_ESTABLISHED_IKE_SA' || true) established IKE SAs for its $(whack_at "${sp}" \
    --status 2>/dev/null | grep -cE '^000 "lab-[^"]+": [0-9./]+===' || true) tunnels"
done
gen="$(hget hub-a /v1/spokes/pt-outage | jq -r .generation)"
req hub-a DELETE /v1/spokes/pt-outage -H "If-Match: \"${gen}\""
[[ "${code}" == 204 ]] || fail "DELETE pt-outage on hub-a: HTTP ${code} ${body}"
no_outage() { ! conns hub-a | grep -q th-pt-outage && ! conns hub-b | grep -q th-pt-outage; }
eventually 20 "pt-outage deleted through hub-a: gone from both hubs' pluto" no_outage

# --- 4. hub-b cut off from etcd ---------------------------------------------------------------
# hub-b's packets to and from the etcd ports on the underlay are dropped (its member loses the
# other two, transit-hubd loses every other member); IKE, BGP, BFD and the VXLAN link pass.
eventually 30 "before the cut: hub-b converged" hub_converged hub-b
b_conns_before="$(conns hub-b)"
b_protos_before="$(bgp_protos hub-b)"
b_sas_before="$(ike_sas hub-b | wc -l)"
t_cut="$(now_ms)"
in_ns hub-b nft -f - <<EOF
table inet ${CUT_TABLE} {
  chain out { type filter hook output priority 0; oifname != "lo" tcp dport { 2379, 2380 } drop; }
  chain in { type filter hook input priority 0; iifname != "lo" tcp dport { 2379, 2380 } drop; }
}
EOF
b_stale() { hget hub-b /v1/hub | jq -e '.store.state == "stale" and (.store.reason | length) > 0' >/dev/null; }
wait_ms 60 "hub-b's /v1/hub says store.state stale, with the reason, after the cut" b_stale
t0="$(now_ms)"
out="$("${lab}" ctl --hub hub-b spoke add pt-cut-b --kind site --cidr 172.16.62.0/24 --asn 65062 \
  --segment shared --tunnel 198.51.100.64,hub=hub-b 2>&1)" && rc=0 || rc=$?
took="$(since "${t0}")"
[[ "${rc}" == 1 && "${out}" == *"could not write, nothing changed"* && "${out}" == *unavailable* ]] ||
  fail "transit-hubctl spoke add on hub-b while cut: exit 1 with the 503's reason (exit ${rc}, ${took}): ${out}"
pass "a write on hub-b is refused, saying why (transit-hubctl exit 1 in ${took}): $(head -c 200 <<<"${out}")..."
t0="$(now_ms)"
json_post hub-b '{"name": "pt-cut-b", "kind": "site", "routing": "bgp", "asn": 65062,
  "segment": "shared", "cidrs": ["172.16.62.0/24"],
  "tunnels": [{"hub": "hub-b", "outside_ip": "198.51.100.64"}]}'
[[ "${code}" == 503 ]] && jq -e '.error.code == "unavailable" and
  (.error.message | test("unavailable since"))' <<<"${body}" >/dev/null ||
  fail "POST on hub-b while cut: 503 unavailable (HTTP ${code} in $(since "${t0}")): ${body}"
pass "POST /v1/spokes on hub-b: 503 unavailable ($(since "${t0}"))"
stale_header="$(in_ns hub-b curl -sS -m 30 -D - -o /dev/null -H "Authorization: Bearer $(token hub-b)" \
  "${API}/v1/spokes" | tr -d '\r' | sed -n 's/^Transit-Hub-Stale: //Ip')"
[[ "${stale_header}" == "store unavailable since "*"; revision "* ]] ||
  fail "GET /v1/spokes on hub-b carries Transit-Hub-Stale (got '${stale_header}')"
pass "GET /v1/spokes on hub-b: Transit-Hub-Stale: ${stale_header}"
ready="$(in_ns hub-b curl -sS -m 30 -o - -w '\n%{http_code}' "${API}/readyz")"
[[ "$(tail -n 1 <<<"${ready}")" == 503 ]] && sed '$d' <<<"${ready}" |
  jq -e '.ready == false and ([.checks[] | select(.name == "store" and (.ok | not) and
    (.reason | startswith("stale since")))] | length == 1)' >/dev/null ||
  fail "/readyz on hub-b: 503, store check failed: ${ready}"
pass "/readyz on hub-b: 503, check store: $(sed '$d' <<<"${ready}" | jq -r '.checks[] | select(.name == "store") | .reason' | head -c 120)..."
[[ "$(in_ns hub-b curl -fsS -m 30 "${API}/metrics" | awk '$1 == "transit_hub_store_up" {print $2}')" == 0 ]] ||
  fail "hub-b's transit_hub_store_up is 0 while cut off"
pass "hub-b's metrics: transit_hub_store_up 0"
t0="$(now_ms)"
json_post hub-a '{"name": "pt-cut-a", "kind": "site", "routing": "bgp", "asn": 65063,
  "segment": "shared", "cidrs": ["172.16.63.0/24"],
  "tunnels": [{"hub": "hub-a", "outside_ip": "198.51.100.65"},
              {"hub": "hub-b", "outside_ip": "198.51.100.65"}]}'
[[ "${code}" == 201 ]] || fail "POST pt-cut-a on hub-a while hub-b is cut: HTTP ${code} ${body}"
pass "hub-a takes a write meanwhile (pt-cut-a, a tunnel on each hub) ($(since "${t0}"))"
cut_a="$(identity <<<"${body}")"
req hub-b GET /v1/spokes/pt-cut-a
[[ "${code}" == 404 ]] || fail "hub-b, cut off, does not know pt-cut-a yet (HTTP ${code})"
ping_from vpc-b 10.2.0.1 10.1.0.1 && via_is vpc-b 10.1.0.0/16 "hub-b(2)" ||
  fail "vpc-b reaches vpc-a through hub-b while hub-b is cut off from etcd"
ping_from site-1 172.16.1.1 10.2.0.1 || fail "site-1 reaches vpc-b while hub-b is cut off"
ping_from vpc-a 10.1.0.1 10.2.0.1 || fail "vpc-a reaches vpc-b while hub-b is cut off"
pass "forwarding goes on: vpc-b reaches vpc-a through hub-b, site-1 and vpc-a reach vpc-b"
[[ "$(conns hub-b)" == "${b_conns_before}" && "$(bgp_protos hub-b)" == "${b_protos_before}" &&
  "$(ike_sas hub-b | wc -l)" == "${b_sas_before}" ]] ||
  fail "hub-b keeps every connection, IKE SA and BGP protocol while cut off (before: ${b_conns_before} / ${b_protos_before}; now: $(conns hub-b) / $(bgp_protos hub-b))"
pass "hub-b keeps its $(wc -l <<<"${b_conns_before}") connections, ${b_sas_before} IKE SAs and $(wc -l <<<"${b_protos_before}") BGP protocols, $(($(now_ms) - t_cut)) ms into the cut"

t_heal="$(now_ms)"
in_ns hub-b nft delete table inet "${CUT_TABLE}"
b_current() { hget hub-b /v1/hub | jq -e '.store.state == "current"' >/dev/null; }
wait_ms 60 "healed: hub-b's store.state is current again" b_current
b_has_cut_a() { [[ "$(hget hub-b /v1/spokes/pt-cut-a 2>/dev/null | identity)" == "${cut_a}" ]]; }
wait_ms 30 "hub-b lists pt-cut-a, written on hub-a during the cut" b_has_cut_a
b_renders_cut_a() { conns hub-b | grep -qx 'th-pt-cut-a-1 198.51.100.65' && renders_registry hub-b; }
wait_ms 30 "hub-b renders pt-cut-a (its connection and BGP session)" b_renders_cut_a
in_ns hub-b curl -fsS -m 30 -o /dev/null "${API}/readyz" || fail "/readyz on hub-b: 200 again"
[[ -z "$(in_ns hub-b curl -sS -m 30 -D - -o /dev/null -H "Authorization: Bearer $(token hub-b)" \
  "${API}/v1/spokes" | grep -i '^Transit-Hub-Stale' || true)" ]] ||
  fail "no Transit-Hub-Stale header once hub-b caught up"
pass "hub-b is ready again, its reads no longer marked stale (healed $(since "${t_heal}") ago)"
gen="$(hget hub-b /v1/spokes/pt-cut-a | jq -r .generation)"
req hub-b DELETE /v1/spokes/pt-cut-a -H "If-Match: \"${gen}\""
[[ "${code}" == 204 ]] || fail "DELETE pt-cut-a on hub-b: HTTP ${code} ${body}"

# --- 5. A minute of concurrent writes on both hubs -------------------------------------------
# Each hub's writer loops over its own four names and four shared ones (pc-s-*), on both hubs'
# tunnels, with outside addresses and inside /30s from small pools (or allocated by the hub) so
# that the writes clash for real. GET, then POST when absent, else PUT or DELETE with If-Match.
# Every write's export_limit is unique (a marker): the final registry names the write it holds.
pc_names=(pc-a-0 pc-a-1 pc-a-2 pc-a-3 pc-b-0 pc-b-1 pc-b-2 pc-b-3 pc-s-0 pc-s-1 pc-s-2 pc-s-3)
pc_cidr() {  # a fixed CIDR per name (10.70.K.0/24), in segment "pt", which reaches no other
  local i
  for i in "${!pc_names[@]}"; do [[ "${pc_names[$i]}" == "$1" ]] && echo "10.70.${i}.0/24"; done
}
pc_tunnel() {  # pc_tunnel HUB: a tunnel on HUB from the pools
  local t="{\"hub\": \"$1\", \"outside_ip\": \"198.51.100.$((200 + RANDOM % 16))\""
  ((RANDOM % 2)) && t+=", \"inside_cidr\": \"169.254.200.$(((RANDOM % 16) * 4))/30\""
  echo "${t}}"
}
pc_body() {  # pc_body NAME MARKER
  local tunnels
  case $((RANDOM % 3)) in
    0) tunnels="$(pc_tunnel hub-a), $(pc_tunnel hub-b)" ;;
    1) tunnels="$(pc_tunnel hub-a)" ;;
    2) tunnels="$(pc_tunnel hub-b)" ;;
  esac
  echo "{\"name\": \"$1\", \"kind\": \"vpc\", \"routing\": \"bgp\", \"asn\": 64512,
    \"segment\": \"pt\", \"cidrs\": [\"$(pc_cidr "$1")\"], \"export_limit\": $2,
    \"tunnels\": [${tunnels}]}"
}
# writer HUB FIRST_MARKER OWN_PREFIX LOG END_MS: one line per request, tab-separated:
# start_ms end_ms hub op name http_code marker generation outcome (2xx POST/PUT: the tunnels as
# answered, JSON; refused: the error's code and message)
writer() {
  local hub="$1" marker="$2" own="$3" log="$4" end="$5" name op t1 gen outcome
  RANDOM="${marker}"
  while (($(now_ms) < end)); do
    sleep 0.1  # each write makes both hubs reconfigure pluto and BIRD: leave the 2 cores some air
    if ((RANDOM % 2)); then name="pc-s-$((RANDOM % 4))"; else name="${own}-$((RANDOM % 4))"; fi
    req "${hub}" GET "/v1/spokes/${name}"
    t1="$(now_ms)"
    gen=""
    case "${code}" in
      404)
        op=create
        marker=$((marker + 1))
        json_post "${hub}" "$(pc_body "${name}" "${marker}")"
        ;;
      200)
        gen="$(jq -r .generation <<<"${body}")"
        if ((RANDOM % 3 == 0)); then
          op=delete
          req "${hub}" DELETE "/v1/spokes/${name}" -H "If-Match: \"${gen}\""
        else
          op=replace
          marker=$((marker + 1))
          req "${hub}" PUT "/v1/spokes/${name}" -H 'Content-Type: application/json' \
            -H "If-Match: \"${gen}\"" --data-binary "$(pc_body "${name}" "${marker}")"
        fi
        ;;
      *)
        printf '%s\t%s\t%s\tget\t%s\t%s\t-\t-\t-\n' "${t1}" "$(now_ms)" "${hub}" "${name}" \
          "${code}" >>"${log}"
        continue
        ;;
    esac
    outcome='-'
    if [[ "${code}" == 2* && "${op}" != delete ]]; then
      outcome="$(jq -c '[.tunnels[] | {hub, outside_ip, inside_cidr}]' <<<"${body}")"
      gen="$(jq -r .generation <<<"${body}")"
    elif [[ "${code}" != 2* ]]; then  # why it was refused
      outcome="$(jq -r '.error | "\(.code): \(.message)"' <<<"${body}" 2>/dev/null |
        tr '\t\n' '  ' | head -c 300 || true)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${t1}" "$(now_ms)" "${hub}" "${op}" "${name}" \
      "${code}" "$([[ "${op}" == delete ]] && echo - || echo "${marker}")" "${gen:--}" \
      "${outcome}" >>"${log}"
  done
}
: >"${WRITES_LOG}.hub-a"
: >"${WRITES_LOG}.hub-b"
t_writes="$(now_ms)"
end_ms=$((t_writes + WRITE_SECONDS * 1000))
writer hub-a 1 pc-a "${WRITES_LOG}.hub-a" "${end_ms}" &
writer_pids+=($!)
writer hub-b 5001 pc-b "${WRITES_LOG}.hub-b" "${end_ms}" &
writer_pids+=($!)
for p in "${writer_pids[@]}"; do wait "$p" || fail "a writer loop failed"; done
writer_pids=()
sort -n "${WRITES_LOG}.hub-a" "${WRITES_LOG}.hub-b" >"${WRITES_LOG}"
rm -f "${WRITES_LOG}.hub-a" "${WRITES_LOG}.hub-b"
echo "info: ${WRITE_SECONDS} s of writes done in $(since "${t_writes}"); log: ${WRITES_LOG}"
awk -F'\t' '$6 ~ /^2/ {n[$3 " " $4]++; t++} END {
  printf "info: acknowledged writes: %d;", t
  for (k in n) printf " %s %d;", k, n[k]; printf "\n" }' "${WRITES_LOG}"
awk -F'\t' '$6 !~ /^2/ {n[$4 " " $6]++} END {
  printf "info: refused or failed requests:"; for (k in n) printf " %s x%d;", k, n[k]; printf "\n" }' \
  "${WRITES_LOG}"
! awk -F'\t' '$6 == "000" || $6 ~ /^5/' "${WRITES_LOG}" | grep -q . ||
  fail "every request was answered, none with a 5xx: $(awk -F'\t' '$6 == "000" || $6 ~ /^5/' "${WRITES_LOG}" | head -5)"
pass "every request of both writers was answered, none 5xx"

pc_view() {  # HUB's pc-* spokes, as both hubs must agree on them
  hget "$1" /v1/spokes | jq -cS '[.spokes[] | select(.name | startswith("pc-")) |
    {name, generation, export_limit, tunnels: [.tunnels[] | {hub, outside_ip, inside_cidr}]}]'
}
hubs_agree() { [[ "$(pc_view hub-a)" == "$(pc_view hub-b)" ]]; }
hubs_agree_or_diff() {  # as hubs_agree; on the last try, fails with the difference
  hubs_agree && return 0
  (($(now_ms) - t_agree < 60000)) && return 1
  fail "GET /v1/spokes on hub-a and hub-b list the same pc-* spokes within 60 s: $(diff \
    <(pc_view hub-a | jq -c '.[]') <(pc_view hub-b | jq -c '.[]'))"
}
t_agree="$(now_ms)"
wait_ms 70 "GET /v1/spokes on hub-a and hub-b list the same pc-* spokes (names, generations, tunnels)" \
  hubs_agree_or_diff
final="$(pc_view hub-a)"
echo "info: $(jq length <<<"${final}") pc-* spokes at the end"
# Each name's final state is the outcome of an acknowledged write (its marker, generation and
# tunnels), or absent after an acknowledged delete; and no write acknowledged on that name
# started after that write had been acknowledged (it would be lost).
verdict="$(python3 - "${WRITES_LOG}" "${final}" <<'PY'
import json, sys
log, final = sys.argv[1], {s["name"]: s for s in json.loads(sys.argv[2])}
acks = {}
for line in open(log):
    start, end, hub, op, name, code, marker, gen, outcome = line.rstrip("\n").split("\t")
    if op == "get" or not code.startswith("2"):
        continue
    acks.setdefault(name, []).append(dict(start=int(start), end=int(end), hub=hub, op=op,
        marker=marker, gen=gen, tunnels=None if outcome == "-" else json.loads(outcome)))
problems = []
for name in sorted(set(acks) | set(final)):
    writes = acks.get(name, [])
    have = final.get(name)
    if have is None:
        holders = [w for w in writes if w["op"] == "delete"]
        if writes and not any(all(x["start"] <= d["end"] for x in writes if x["op"] != "delete")
                              for d in holders):
            problems.append(f"{name}: absent, yet no acknowledged delete came after its last "
                            f"acknowledged create or replace")
        continue
    match = [w for w in writes if w["op"] != "delete" and w["marker"] == str(have["export_limit"])]
    if not match:
        problems.append(f"{name}: holds export_limit {have['export_limit']}, no acknowledged write")
        continue
    w = match[0]
    if str(have["generation"]) != w["gen"] or sorted(json.dumps(t, sort_keys=True) for t in have["tunnels"]) != \
            sorted(json.dumps(t, sort_keys=True) for t in w["tunnels"]):
        problems.append(f"{name}: holds {have}, acknowledged as generation {w['gen']} {w['tunnels']}")
    later = [x for x in writes if x["start"] > w["end"]]
    if later:
        problems.append(f"{name}: holds the {w['op']} acknowledged at {w['end']} on {w['hub']}, "
                        f"but {later[0]['op']} on {later[0]['hub']} started at "
                        f"{later[0]['start']} and was acknowledged: lost")
print("\n".join(problems) if problems else "ok")
PY
)"
[[ "${verdict}" == ok ]] || fail "no acknowledged write lost: ${verdict}"
pass "no acknowledged write lost: each pc-* spoke is its last acknowledged write, or deleted"
all_spokes="$(hget hub-a /v1/spokes)"
dup_inside="$(jq -r '[.spokes[].tunnels[].inside_cidr] | group_by(.) | map(select(length > 1) | .[0]) | .[]' <<<"${all_spokes}")"
dup_outside="$(jq -r '[.spokes[].tunnels[] | "\(.hub) \(.outside_ip)"] | group_by(.) | map(select(length > 1) | .[0]) | .[]' <<<"${all_spokes}")"
[[ -z "${dup_inside}" ]] || fail "no inside /30 held twice: ${dup_inside}"
[[ -z "${dup_outside}" ]] || fail "no (hub, outside address) held twice: ${dup_outside}"
pass "no inside /30 and no (hub, outside address) held twice among $(jq '[.spokes[].tunnels[]] | length' <<<"${all_spokes}") tunnels"
# The claims in etcd are exactly what the spokes hold: none leaked by a write that lost a race.
claims="$("${lab}" exec witness -- etcdctl --endpoints http://203.0.113.30:2379 get --prefix \
  /transit-hub/claims/ | paste - - | awk '{print $1, $2}' | sed -E 's#^/transit-hub/claims/##' |
  sort)"
want_claims="$(jq -r '.spokes[] | .name as $n | "tag/\(.route_tag) \($n)", (.tunnels[] |
  "inside/\(.inside_cidr) \($n)", "outside/\(.hub)/\(.outside_ip) \($n)")' <<<"${all_spokes}" |
  sort -u)"
[[ "${claims}" == "${want_claims}" ]] ||
  fail "etcd's claims are exactly the spokes' /30s and outside addresses: $(diff <(echo "${want_claims}") <(echo "${claims}") | head -10)"
pass "etcd holds exactly the spokes' claims ($(wc -l <<<"${claims}") route tags, inside /30s and outside addresses)"
for h in hub-a hub-b; do eventually 60 "${h} runs exactly the registry's tunnels and sessions" renders_registry "$h"; done

for name in $(jq -r '.[].name' <<<"${final}"); do
  req hub-a DELETE "/v1/spokes/${name}"
  [[ "${code}" == 204 ]] || fail "DELETE ${name}: HTTP ${code} ${body}"
done
no_pc() {
  [[ "$(pc_view hub-a)" == "[]" && "$(pc_view hub-b)" == "[]" ]] &&
    ! conns hub-b | grep -q th-pc- && ! conns hub-a | grep -q th-pc- &&
    ! bgp_protos hub-b | grep -q th_pc_ && ! bgp_protos hub-a | grep -q th_pc_
}
eventually 60 "the pc-* spokes deleted: gone from both hubs' APIs, pluto and BIRD" no_pc
for h in hub-a hub-b; do eventually 60 "${h} still converged for the lab's spokes" hub_converged "$h"; done
ping_from vpc-a 10.1.0.1 10.2.0.1 && ping_from vpc-b 10.2.0.1 172.16.1.1 ||
  fail "the lab's spokes still reach each other"
pass "the lab's spokes still reach each other"

lab_down_leaves_nothing
echo "pair lab test: all checks passed in $(since "${t_start}")"
