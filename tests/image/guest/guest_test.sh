#!/bin/bash
# The image test's part inside the VM (tests/image/image_test.sh). cloud-init's runcmd starts it
# as a transient unit once the appliance has booted from its user data. It checks the hub that
# transit-hub-bootstrap.service configured and systemd started, then builds the spokes around
# it in network namespaces of the VM and checks the EC2 data path with real ESP:
#   vpc-a, vpc-b  VGW stand-ins: pluto (two route-based tunnels each, XFRM interfaces) + FRR
#   site-1        an on-premises site: strongSwan (charon) + BIRD, loading the hub's generated
#                 site configuration unmodified, its XFRM interfaces made by the generated script
# all reaching the hub (10.0.2.15, the VM's own address) through a bridge in the root namespace.
# Each check is one line on the second serial port (/dev/ttyS1): "ok NAME: DETAIL" or
# "not ok NAME: DETAIL", "info NAME: DETAIL" for figures, and "done" last; then the VM powers
# off. The host side reads them.
set -uo pipefail

readonly OUT=/dev/ttyS1
readonly HUB_IP=10.0.2.15
readonly API=https://${HUB_IP}:8443
readonly CA=/etc/transit-hub/tls/cert.pem
readonly WORK=/run/transit-hub-test
readonly PLUTO=/usr/libexec/ipsec/pluto WHACK=/usr/libexec/ipsec/whack
readonly ADDCONN=/usr/libexec/ipsec/addconn
readonly CHARON=/opt/strongswan/usr/sbin/charon-systemd SWANCTL=/opt/strongswan/usr/sbin/swanctl
readonly CHARON_PLUGINS="random nonce openssl pem pkcs1 pkcs8 x509 pubkey curve25519 aes sha1 sha2 hmac gcm kdf kernel-netlink socket-default vici updown"
TOKEN=$(cat /opt/transit-hub-test/admin.token)
readonly TOKEN

mkdir -p "$WORK"
exec >>"$WORK/guest_test.log" 2>&1
ok() { say "ok $1: $2"; }
notok() { say "not ok $1: $2"; }
info() { say "info $1: $2"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
finish() {
  say "info uptime: $(uptime_s) s at the end of the in-VM test"
  # What the host shows when something failed: the hub's journal and the daemons' state.
  {
    echo "----- journal of transit-hubd, transit-hub-bootstrap, ipsec, bird (last 80 lines) -----"
    journalctl -b -u transit-hubd -u transit-hub-bootstrap -u ipsec -u bird --no-pager | tail -80
  } >"$WORK/journal.txt" 2>&1
  if grep -q '^not ok' "$WORK/results.txt" 2>/dev/null; then
    sed 's/^/journal| /' "$WORK/journal.txt" >"$OUT"
    sed 's/^/guest| /' "$WORK/guest_test.log" | tail -120 >"$OUT"
  fi
  say "done"
  sync
  systemctl poweroff --no-block
}
trap finish EXIT
# Every line said is also kept, so finish() knows whether something failed.
say() { printf '%s\n' "$*" >"$OUT"; printf '%s\n' "$*" >>"$WORK/results.txt"; echo "$*"; }

# wait_until SECONDS CMD...: polls every second; true when CMD succeeded in time.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}
api() { curl -sS --fail-with-body --max-time 20 --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$@"; }
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# ---------------------------------------------------------------------------------------------
# 1. The appliance came up from its user data
# ---------------------------------------------------------------------------------------------
hub_active() { [[ $(systemctl is-active transit-hubd.service) == active ]]; }
if wait_until 300 hub_active; then
  ok hub.started "transit-hubd.service active under systemd at uptime $(uptime_s) s"
else
  notok hub.started "transit-hubd.service is $(systemctl is-active transit-hubd.service)"
  exit 1
fi
[[ $(systemctl is-active transit-hub-bootstrap.service) == active ]] &&
  ok bootstrap.ran "transit-hub-bootstrap.service: $(journalctl -b -u transit-hub-bootstrap -o cat | grep -m1 'wrote')" ||
  notok bootstrap.ran "transit-hub-bootstrap.service is $(systemctl is-active transit-hub-bootstrap.service)"
[[ $(stat -c '%a %U' /etc/transit-hub/hub.yaml) == "600 root" ]] &&
  ok bootstrap.config "/etc/transit-hub/hub.yaml is 0600 root" ||
  notok bootstrap.config "/etc/transit-hub/hub.yaml: $(stat -c '%a %U' /etc/transit-hub/hub.yaml 2>&1)"
grep -q "^router id ${HUB_IP};" /etc/bird/bird.conf &&
  ok bootstrap.bird "BIRD's main configuration has router id ${HUB_IP}" ||
  notok bootstrap.bird "/etc/bird/bird.conf: $(head -c 300 /etc/bird/bird.conf)"
# The self-signed certificate verifies for the hub's address (curl checks name and chain).
if hub_json=$(api "$API/v1/hub"); then
  ok api.tls "GET /v1/hub over HTTPS, verified against the self-signed certificate"
else
  notok api.tls "GET /v1/hub: $hub_json"
fi
[[ $(sysctl -n net.ipv4.ip_forward) == 1 && $(sysctl -n net.ipv4.conf.default.rp_filter) == 0 ]] &&
  ok sysctl "ip_forward 1, default rp_filter 0 (the package's sysctl file)" ||
  notok sysctl "ip_forward $(sysctl -n net.ipv4.ip_forward), rp_filter $(sysctl -n net.ipv4.conf.default.rp_filter)"
security=$(systemd-analyze security transit-hubd.service 2>/dev/null | tail -1)
info unit.security "${security#→ }"
watchdog=$(systemctl show -p WatchdogUSec --value transit-hubd.service)
caps=$(systemctl show -p CapabilityBoundingSet --value transit-hubd.service)
[[ $watchdog == 30s && $caps == "cap_net_bind_service cap_net_admin" ]] &&
  ok unit.hardened "WatchdogUSec=$watchdog, CapabilityBoundingSet=$caps" ||
  notok unit.hardened "WatchdogUSec=$watchdog, CapabilityBoundingSet=$caps"

# ---------------------------------------------------------------------------------------------
# 2. The spokes' side: an underlay bridge, VGW stand-ins, the site
# ---------------------------------------------------------------------------------------------
# SPOKE  KIND  ASN    SEGMENT  CIDR           HOST
readonly SPOKES=(
  "vpc-a  vpc   64512  prod     10.1.0.0/16    10.1.0.1"
  "vpc-b  vpc   64512  prod     10.2.0.0/16    10.2.0.1"
  "site-1 site  65010  shared   172.16.1.0/24  172.16.1.1"
)
# SPOKE  INDEX  OUTSIDE_IP     INSIDE_CIDR       PSK (test-only)
readonly TUNNELS=(
  "vpc-a  1  198.51.100.10  169.254.10.0/30  image.vpcA.tun1_Key2026"
  "vpc-a  2  198.51.100.11  169.254.10.4/30  image.vpcA.tun2_Key2026"
  "vpc-b  1  198.51.100.20  169.254.20.0/30  image.vpcB.tun1_Key2026"
  "vpc-b  2  198.51.100.21  169.254.20.4/30  image.vpcB.tun2_Key2026"
  "site-1 1  198.51.100.30  169.254.30.0/30  image.site1.tun1_Key2026"
  "site-1 2  198.51.100.31  169.254.30.4/30  image.site1.tun2_Key2026"
)
field() { awk -v i="$2" '{print $i}' <<<"$1"; }
tunnels_of() { local t; for t in "${TUNNELS[@]}"; do [[ $(field "$t" 1) == "$1" ]] && echo "$t"; done; return 0; }
# "a.b.c.d/30" + n -> a.b.c.(d+n)
ip_offset() { local base=${1%/*}; echo "${base%.*}.$((${base##*.} + $2))"; }

step_fail() { notok "$1" "$2"; exit 1; }

# The spokes sit behind a router, as the Internet is behind the VPC router for an EC2 instance:
# the hub reaches every peer through one gateway, its default route (namespace inet).
{
  ip netns add inet &&
    ip link add up0 type veth peer name eth0 netns inet &&
    ip addr add 100.64.0.2/30 dev up0 && ip link set up0 up &&
    ip route replace default via 100.64.0.1 dev up0 &&
    nsx inet ip link set lo up && nsx inet ip link set eth0 up &&
    nsx inet ip addr add 100.64.0.1/30 dev eth0 &&
    nsx inet ip route add "${HUB_IP}/32" via 100.64.0.2 &&
    nsx inet ip link add br-ul type bridge && nsx inet ip link set br-ul up &&
    nsx inet ip addr add 198.51.100.1/24 dev br-ul &&
    nsx inet sysctl -qw net.ipv4.ip_forward=1
} || step_fail underlay "cannot make the router namespace"
for s in "${SPOKES[@]}"; do
  sp=$(field "$s" 1)
  ip netns add "$sp"
  nsx inet ip link add "ul-$sp" type veth peer name eth0 netns "$sp"
  nsx inet ip link set "ul-$sp" master br-ul up
  nsx "$sp" ip link set lo up
  nsx "$sp" ip link set eth0 up
  while read -r t; do
    nsx "$sp" ip addr add "$(field "$t" 3)/24" dev eth0
  done < <(tunnels_of "$sp")
  nsx "$sp" ip route add default via 198.51.100.1
  # The spoke's own network: a dummy interface holding its first host address.
  nsx "$sp" ip link add lan0 type dummy
  nsx "$sp" ip addr add "$(field "$s" 6)/$(field "$s" 5 | cut -d/ -f2)" dev lan0
  nsx "$sp" ip link set lan0 up
  nsx "$sp" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
done
ok underlay "vpc-a, vpc-b and site-1 reach the hub ${HUB_IP} through a router (namespace inet), the hub's default route"

# Onboarding through the API, as an operator does.
spoke_json() {
  local s=$1 sp tj='' sep='' t
  sp=$(field "$s" 1)
  while read -r t; do
    tj+="${sep}$(jq -cn --arg o "$(field "$t" 3)" --arg c "$(field "$t" 4)" --arg p "$(field "$t" 5)" \
      '{outside_ip:$o, inside_cidr:$c, psk:$p}')"
    sep=,
  done < <(tunnels_of "$sp")
  jq -cn --arg n "$sp" --arg k "$(field "$s" 2)" --argjson a "$(field "$s" 3)" \
    --arg g "$(field "$s" 4)" --arg c "$(field "$s" 5)" --argjson t "[${tj}]" \
    '{name:$n, kind:$k, asn:$a, segment:$g, cidrs:[$c], routing:"bgp", tunnels:$t}'
}
for s in "${SPOKES[@]}"; do
  sp=$(field "$s" 1)
  if answer=$(api -X POST -H 'Content-Type: application/json' --data "$(spoke_json "$s")" \
    "$API/v1/spokes"); then
    ok "onboard.$sp" "POST /v1/spokes $sp: created"
  else
    step_fail "onboard.$sp" "POST /v1/spokes $sp: $answer"
  fi
done

# VGW stand-ins: pluto in the namespace (its own run directory, NSS db and secrets), one
# route-based connection per tunnel (ipsec-interface=N: pluto 4.10 makes ipsecN when the SA is
# up; an ipsec1 that exists before its first such connection makes it refuse them all), the
# VGW's inside address put on ipsecN once it exists, and FRR's bgpd to the hub's inside
# addresses. leftnexthop: pluto routes the SA's ESP packets to the peer through that next hop
# (its default is the peer itself, which is not on this link).
readonly SPOKE_IKE='aes256-sha2_256;dh14,aes128-sha2_256;dh14,aes_gcm256-sha2_256;dh14'
readonly SPOKE_ESP='aes256-sha2_256;dh14,aes128-sha2_256;dh14,aes_gcm256;dh14'
start_vgw() {
  local s=$1 sp asn cidr d t i oip cidr_in
  sp=$(field "$s" 1) asn=$(field "$s" 3) cidr=$(field "$s" 5)
  d=$WORK/$sp
  mkdir -p "$d/nss" "$d/ipsec.d" "$d/frr"
  printf 'config setup\n\tplutodebug=none\n\tuniqueids=yes\n' >"$d/pluto.conf"
  : >"$d/conns.conf"
  (umask 077 && : >"$d/ipsec.secrets")
  while read -r t; do
    i=$(field "$t" 2) oip=$(field "$t" 3)
    cat >>"$d/conns.conf" <<EOF
conn $sp-t$i
	auto=add
	type=tunnel
	authby=secret
	ikev2=yes
	left=$oip
	leftid=$oip
	right=$HUB_IP
	rightid=$HUB_IP
	leftsubnet=0.0.0.0/0
	rightsubnet=0.0.0.0/0
	ike=$SPOKE_IKE
	esp=$SPOKE_ESP
	dpddelay=10
	retransmit-timeout=30s
	dpdaction=clear
	ipsec-interface=$i
	leftnexthop=%defaultroute

EOF
    printf '%s %s : PSK "%s"\n' "$oip" "$HUB_IP" "$(field "$t" 5)" >>"$d/ipsec.secrets"
  done < <(tunnels_of "$sp")
  ipsec initnss --nssdir "$d/nss" >/dev/null 2>&1 || true
  (exec ip netns exec "$sp" "$PLUTO" --nofork --stderrlog --config "$d/pluto.conf" \
    --rundir "$d" --dumpdir "$d" --nssdir "$d/nss" --secretsfile "$d/ipsec.secrets" \
    --ipsecdir "$d/ipsec.d" </dev/null >"$d/pluto.log" 2>&1) &
  wait_until 20 test -S "$d/pluto.ctl" || return 1
  while read -r t; do
    nsx "$sp" "$ADDCONN" --ctlsocket "$d/pluto.ctl" --config "$d/conns.conf" \
      "$sp-t$(field "$t" 2)" >>"$d/addconn.log" 2>&1 || return 1
  done < <(tunnels_of "$sp")
  "$WHACK" --ctlsocket "$d/pluto.ctl" --listen >/dev/null
  {
    echo "hostname $sp"
    echo "bgp as-path access-list vpc-out seq 5 permit ^\$"
    echo "router bgp $asn"
    echo " bgp router-id $(ip_offset "$(field "$(tunnels_of "$sp" | head -1)" 4)" 1)"
    echo " no bgp ebgp-requires-policy"
    echo " no bgp network import-check"
    while read -r t; do
      echo " neighbor $(ip_offset "$(field "$t" 4)" 2) remote-as 65000"
      echo " neighbor $(ip_offset "$(field "$t" 4)" 2) timers 10 30"
    done < <(tunnels_of "$sp")
    echo " address-family ipv4 unicast"
    echo "  network $cidr"
    echo "  maximum-paths 2"
    while read -r t; do
      echo "  neighbor $(ip_offset "$(field "$t" 4)" 2) filter-list vpc-out out"
    done < <(tunnels_of "$sp")
    echo " exit-address-family"
  } >"$d/frr/bgpd.conf"
  printf 'hostname %s\nip forwarding\n' "$sp" >"$d/frr/zebra.conf"
  chown -R frr:frr "$d/frr"
  nsx "$sp" /usr/lib/frr/zebra -d -F traditional -A 127.0.0.1 -f "$d/frr/zebra.conf" \
    -i "$d/frr/zebra.pid" -z "$d/frr/zserv.api" --vty_socket "$d/frr" --log "file:$d/frr/zebra.log" &&
    wait_until 20 test -S "$d/frr/zebra.vty" &&
    nsx "$sp" /usr/lib/frr/bgpd -d -F traditional -A 127.0.0.1 -f "$d/frr/bgpd.conf" \
      -i "$d/frr/bgpd.pid" -z "$d/frr/zserv.api" --vty_socket "$d/frr" --log "file:$d/frr/bgpd.log" ||
    return 1
  # The hub initiates; each ipsecN appears with its SA.
  while read -r t; do
    i=$(field "$t" 2)
    wait_until 120 nsx "$sp" ip link show dev "ipsec$i" >/dev/null 2>&1 || {
      echo "$sp: ipsec$i did not appear (no SA): $(tail -n 3 "$d/pluto.log")"
      return 1
    }
    nsx "$sp" ip addr add "$(ip_offset "$(field "$t" 4)" 1)/30" dev "ipsec$i"
    nsx "$sp" ip link set "ipsec$i" mtu 1399 up
  done < <(tunnels_of "$sp")
}
for sp in vpc-a vpc-b; do
  for s in "${SPOKES[@]}"; do [[ $(field "$s" 1) == "$sp" ]] && line=$s; done
  start_vgw "$line" && ok "stand-in.$sp" "pluto (SAs up, ipsec1 and ipsec2 with the VGW's inside addresses) and FRR bgpd" ||
    step_fail "stand-in.$sp" "could not start: $(tail -n 5 "$WORK/$sp/pluto.log" "$WORK/$sp/addconn.log" 2>&1 | tr '\n' ' ')"
done

# The site: the hub's generated configuration for strongSwan and BIRD, loaded unmodified.
start_site() {
  local sp=site-1 d=$WORK/site-1 gen
  gen=$d/generated
  mkdir -p "$d/charon"
  printf '%s\n' "$TOKEN" >"$d/token"
  transit-hubctl --server "$API" --ca-file "$CA" --token-file "$d/token" \
    spoke config "$sp" --format strongswan --output-dir "$gen" >"$d/fetch.log" 2>&1 || return 1
  local links swan bgp
  links=$(ls "$gen"/*-links.sh) swan=$gen/swanctl/conf.d/transit-hub-$sp.conf
  bgp=$gen/bird/transit-hub-$sp.conf
  [[ -s $links && -s $swan && -s $bgp ]] || { echo "generated files missing: $(ls -R "$gen")"; return 1; }
  nsx "$sp" env UNDERLAY=eth0 sh "$links" || return 1
  mkdir -p "$d/charon/swanctl"
  chmod 700 "$d/charon/swanctl"
  cat >"$d/charon/strongswan.conf" <<EOF
charon-systemd {
  journal {
    default = -1
  }
  filelog {
    site {
      path = $d/charon/charon.log
      default = 1
      ike = 2
      flush_line = yes
    }
  }
}
charon {
  load = $CHARON_PLUGINS
  # route-based: the XFRM interfaces and BGP route; charon installs no routes of its own
  install_routes = no
  install_virtual_ip = no
  plugins {
    vici {
      socket = unix://$d/charon/charon.vici
    }
  }
}
swanctl {
  socket = unix://$d/charon/charon.vici
}
EOF
  swanctl_site() {
    nsx "$sp" env STRONGSWAN_CONF="$d/charon/strongswan.conf" SWANCTL_DIR="$d/charon/swanctl" \
      "$SWANCTL" "$@" --uri "unix://$d/charon/charon.vici"
  }
  (exec ip netns exec "$sp" env STRONGSWAN_CONF="$d/charon/strongswan.conf" "$CHARON" \
    </dev/null >"$d/charon/stdout.log" 2>&1) &
  wait_until 20 swanctl_site --stats >/dev/null 2>&1 || return 1
  swanctl_site --load-all --file "$swan" >"$d/charon/load.log" 2>&1 || return 1
  cat >"$d/bird.conf" <<EOF
log "$d/bird.log" all;
router id 172.16.1.1;
protocol device { scan time 10; }
protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }
protocol static site_lan { ipv4; route 172.16.1.0/24 unreachable; }
include "$bgp";
EOF
  nsx "$sp" bird -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" >"$d/bird-start.log" 2>&1
}
start_site && ok stand-in.site-1 "strongSwan and BIRD with the hub's generated configuration, unmodified" ||
  step_fail stand-in.site-1 "$(cat "$WORK/site-1/fetch.log" "$WORK/site-1/charon/load.log" "$WORK/site-1/bird-start.log" 2>/dev/null | tail -5 | tr '\n' ' ')"

# ---------------------------------------------------------------------------------------------
# 3. Convergence, as the API reports it
# ---------------------------------------------------------------------------------------------
all_up() {
  local s sp view
  for s in "${SPOKES[@]}"; do
    sp=$(field "$s" 1)
    view=$(api "$API/v1/spokes/$sp") || return 1
    jq -e '[.status.tunnels[] | .ipsec_up and .ike_up and (.bgp.state == "Established")] |
      length > 0 and all' <<<"$view" >/dev/null || return 1
  done
}
t0=$SECONDS
if wait_until 240 all_up; then
  ok converged "every tunnel ike_up and ipsec_up with BGP Established (API) after $((SECONDS - t0)) s"
else
  for s in "${SPOKES[@]}"; do
    sp=$(field "$s" 1)
    info "status.$sp" "$(api "$API/v1/spokes/$sp" | jq -c '.status.tunnels' 2>&1 | head -c 1500)"
  done
  info pluto "$(ipsec whack --trafficstatus 2>&1 | head -20 | tr '\n' ';')"
  step_fail converged "not every tunnel up within 240 s"
fi

# ---------------------------------------------------------------------------------------------
# 4. The EC2 data path: XFRM interfaces, MTU, MSS clamp, real ESP
# ---------------------------------------------------------------------------------------------
links=$(ip -j -d link show type xfrm)
n_links=$(jq 'length' <<<"$links")
mtus=$(jq -r '[.[].mtu] | unique | map(tostring) | join(",")' <<<"$links")
[[ $n_links -eq 6 && $mtus == 1399 ]] &&
  ok hub.xfrm_links "6 XFRM interfaces (one per tunnel), MTU $mtus" ||
  notok hub.xfrm_links "$n_links XFRM interfaces, MTUs $mtus: $(jq -c '[.[] | {ifname, mtu}]' <<<"$links")"
inside=$(ip -j addr show type xfrm | jq -r '[.[].addr_info[] | "\(.local)/\(.prefixlen)"] | sort | join(" ")')
[[ $inside == *169.254.10.2/30* && $inside == *169.254.30.1/30* ]] &&
  ok hub.inside "inside /30s on the hub's XFRM interfaces: $inside" ||
  notok hub.inside "addresses: $inside"
nft list table inet transit_hub_mss >"$WORK/mss.nft" 2>&1 && grep -q 'maxseg size set' "$WORK/mss.nft" &&
  ok hub.mss_clamp "nftables table inet transit_hub_mss clamps the TCP MSS: $(grep -m1 -o 'maxseg size set [0-9a-z ]*' "$WORK/mss.nft")" ||
  notok hub.mss_clamp "$(head -c 400 "$WORK/mss.nft")"

# ESP counters before and after traffic across the hub.
# The current byte counts of every SA ("  1234(bytes), 21(packets)"; the limits say "soft" first).
esp_bytes() {
  ip -s xfrm state | grep -oE '[0-9]+\(bytes\), [0-9]+\(packets\)' |
    awk -F'(' '{sum += $1} END {print sum + 0}'
}
before=$(esp_bytes)
ping_ok() { nsx "$1" ping -q -c 5 -i 0.2 -W 2 -I "$2" "$3" >/dev/null 2>&1; }
wait_until 60 ping_ok vpc-a 10.1.0.1 10.2.0.1 &&
  ok ping.vpc-a_vpc-b "vpc-a 10.1.0.1 -> vpc-b 10.2.0.1 through the hub (ESP both ways)" ||
  notok ping.vpc-a_vpc-b "no answer from 10.2.0.1: vpc-a routes $(nsx vpc-a ip route | tr '\n' ';')"
wait_until 60 ping_ok vpc-a 10.1.0.1 172.16.1.1 &&
  ok ping.vpc-a_site-1 "vpc-a 10.1.0.1 -> site-1 172.16.1.1 (prod reaches shared)" ||
  notok ping.vpc-a_site-1 "no answer from 172.16.1.1: vpc-a routes $(nsx vpc-a ip route | tr '\n' ';')"
after=$(esp_bytes)
((after > before)) && ok esp.counters "the hub's SAs carried $((after - before)) more bytes (ip -s xfrm state)" ||
  notok esp.counters "ESP byte counters did not move ($before -> $after)"
info esp.sas "$(ip xfrm state | grep -Eo '(enc|aead|auth-trunc) [a-z0-9()]+' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
# A full-size packet crosses with DF set: the MTU (1399) leaves room for ESP's overhead.
nsx vpc-a ping -q -c 2 -W 2 -M do -s 1371 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1 &&
  ok esp.mtu "a 1399-byte packet with DF set crosses vpc-a -> hub -> vpc-b" ||
  notok esp.mtu "a 1399-byte DF packet did not cross"

view=$(api "$API/v1/spokes/vpc-a")
jq -e '[.status.tunnels[].ipsec_up] | all' <<<"$view" >/dev/null &&
  ok api.ipsec_up "GET /v1/spokes/vpc-a: ipsec_up true on both tunnels" ||
  notok api.ipsec_up "$(jq -c '.status.tunnels' <<<"$view")"
metrics=$(api "$API/metrics")
in_b=$(awk '/^transit_hub_tunnel_in_bytes_total\{.*spoke="vpc-a"/ {s += $NF} END {print s + 0}' <<<"$metrics")
out_b=$(awk '/^transit_hub_tunnel_out_bytes_total\{.*spoke="vpc-a"/ {s += $NF} END {print s + 0}' <<<"$metrics")
awk -v i="$in_b" -v o="$out_b" 'BEGIN { exit !(i > 0 && o > 0) }' &&
  ok metrics.bytes "transit_hub_tunnel_{in,out}_bytes_total for vpc-a: $in_b in, $out_b out" ||
  notok metrics.bytes "vpc-a bytes in $in_b, out $out_b"

# ---------------------------------------------------------------------------------------------
# 5. A spoke deleted through the API takes its interfaces and SAs with it
# ---------------------------------------------------------------------------------------------
api -X DELETE "$API/v1/spokes/vpc-b" >/dev/null && ok api.delete "DELETE /v1/spokes/vpc-b" ||
  notok api.delete "DELETE /v1/spokes/vpc-b failed"
vpc_b_gone() {
  ! ip xfrm state | grep -qE '198\.51\.100\.2[01]' &&
    ! ip -j addr show type xfrm | grep -q '169.254.20.'
}
wait_until 60 vpc_b_gone &&
  ok delete.cleaned "vpc-b's XFRM interfaces and SAs are gone; $(ip -j link show type xfrm | jq length) XFRM interfaces left" ||
  notok delete.cleaned "left: $(ip xfrm state | grep -E '198\.51\.100\.2[01]' | head -2 | tr '\n' ' ') $(ip -br addr show type xfrm | tr '\n' ';')"
ping_ok vpc-a 10.1.0.1 172.16.1.1 && ok delete.others "vpc-a still reaches site-1" ||
  notok delete.others "vpc-a lost site-1 after vpc-b was deleted"

# ---------------------------------------------------------------------------------------------
# 6. Bad user data: a clear message, no hub.yaml, no hub started
# ---------------------------------------------------------------------------------------------
systemctl stop transit-hubd.service
mv /etc/transit-hub/hub.yaml "$WORK/hub.yaml.good"
mv /etc/transit-hub/user-data.yaml "$WORK/user-data.yaml.good"
sed 's/asn: 65000/asn: 23456/' "$WORK/user-data.yaml.good" >/etc/transit-hub/user-data.yaml
chmod 600 /etc/transit-hub/user-data.yaml
systemctl restart transit-hub-bootstrap.service
[[ $(systemctl is-active transit-hub-bootstrap.service) == failed ]] &&
  ok bad_user_data.unit "transit-hub-bootstrap.service failed on asn 23456" ||
  notok bad_user_data.unit "transit-hub-bootstrap.service is $(systemctl is-active transit-hub-bootstrap.service)"
message=$(journalctl -b -u transit-hub-bootstrap -o cat | grep 'user-data.yaml: hub.asn' | tail -1)
[[ -n $message ]] && ok bad_user_data.journal "journal: $message" ||
  notok bad_user_data.journal "no message naming hub.asn in the journal"
systemctl start transit-hubd.service
[[ ! -e /etc/transit-hub/hub.yaml && $(systemctl is-active transit-hubd.service) != active ]] &&
  ok bad_user_data.no_hub "no hub.yaml written; transit-hubd did not start (its condition)" ||
  notok bad_user_data.no_hub "hub.yaml $(ls /etc/transit-hub/), transit-hubd $(systemctl is-active transit-hubd.service)"
# Put the good configuration back: the hub comes up again with vpc-a and site-1.
mv "$WORK/user-data.yaml.good" /etc/transit-hub/user-data.yaml
mv "$WORK/hub.yaml.good" /etc/transit-hub/hub.yaml
systemctl start transit-hubd.service
wait_until 60 hub_active && ok restart "transit-hubd active again with the good configuration" ||
  notok restart "transit-hubd is $(systemctl is-active transit-hubd.service)"
