# Shared by the lab tests (sourced): checks, polling and access to the lab's hub.
#   source test_lib.sh [TRANSIT_HUBD TRANSIT_HUBCTL]   (sets `lab`, traps EXIT to tear down)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lab="${here}/lab"
[[ $# -ge 2 ]] && export TRANSIT_HUBD="$1" TRANSIT_HUBCTL="$2"
readonly STATE=/run/th-lab WHACK=/usr/libexec/ipsec/whack
readonly API=http://127.0.0.1:8080

pass() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  "${lab}" status >&2 || true
  local log
  for log in "${STATE}"/*/hubd/transit-hubd.log; do  # the hub's, or each hub's of the pair
    [[ -f "${log}" ]] || continue
    echo "--- ${log}" >&2
    tail -n 20 "${log}" >&2 || true
  done
  exit 1
}
cleanup() { "${lab}" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

hub() { ip netns exec th-hub "$@"; }
api() { hub curl -fsS -H "Authorization: Bearer $(cat "${STATE}/hub/hubd/admin.token")" "$@"; }
get() { api "${API}$1"; }
# The value of one sample of the hub's /metrics ("" when absent), e.g. metric 'x{spoke="a"}'.
metric() { hub curl -fsS "${API}/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
ping_from() {  # ping_from NODE SRC DST
  "${lab}" exec "$1" -- ping -c 2 -W 2 -I "$2" "$3" >/dev/null 2>&1
}
eventually() {  # eventually SECONDS WHAT CMD...: polls CMD until it succeeds
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || fail "${what} (not within ${seconds} s)"
    sleep 0.5
  done
  pass "${what}"
}
count_is() { [[ "$("${@:2}")" == "$1" ]]; }
# NODE's kernel routes PREFIX on a BGP-learned route (FRR installs proto bgp, BIRD proto bird).
has_bgp_route() { "${lab}" exec "$1" -- ip route show "$2" | grep -Eq 'proto (bgp|bird)'; }
no_route() { ! "${lab}" exec "$1" -- ip route | grep -q "$2"; }
vty() { local node="$1"; shift; "${lab}" exec "${node}" -- vtysh --vty_socket "${STATE}/${node}/frr" "$@"; }

lab_up() {
  cleanup
  "${lab}" up >/tmp/th-lab-up.log 2>&1 || { cat /tmp/th-lab-up.log >&2; fail "lab up"; }
  pass "lab up: every spoke onboarded through POST /v1/spokes and converged"
}

lab_down_leaves_nothing() {
  "${lab}" down >/dev/null 2>&1 || fail "lab down"
  [[ -z "$(ip netns list | grep '^th-' || true)" ]] || fail "lab down leaves no namespace"
  pgrep -f "${STATE}" >/dev/null && fail "lab down leaves no process"
  [[ ! -e "${STATE}" ]] || fail "lab down leaves no files"
  pass "lab down: no namespace, process or file left"
}
