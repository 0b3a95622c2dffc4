#!/usr/bin/env bash
# Transit Hub quick start, for a fresh Debian 12 machine (run as root):
#   ami/dev.sh run    install what is needed, build, and bring up the lab: transit-hubd driving
#                     real pluto and BIRD, with two VGW stand-ins and a site (tests/lab/lab)
#   ami/dev.sh test   install what is needed, build, and run every test (also under ASan+UBSan)
#   ami/dev.sh hub    the hub alone, dry-run, on a local SQLite store (no daemons driven)
# CI runs `ami/dev.sh test` through .ci/run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TRANSIT_BUILD_DIR:-$repo/build}
jobs=$(nproc)

usage() {
  echo "usage: $0 run|test|hub" >&2
  exit 2
}

step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

install_deps() {
  step "Installing Debian packages (ami/install-deps.sh)"
  bash "$repo/ami/install-deps.sh"
}

# build DIR TARGETS [CMAKE ARGS...]: configures DIR and builds TARGETS (space-separated; "all":
# everything).
build() {
  local dir=$1 target=$2
  shift 2
  step "Building ${target} in ${dir#"$repo"/}"
  cmake -S "$repo" -B "$dir" -G Ninja -DTRANSIT_WERROR=ON "$@" >/dev/null
  # shellcheck disable=SC2086 # TARGET may name several targets
  nice -n "${TRANSIT_NICE:-0}" cmake --build "$dir" -j "$jobs" --target $target
}

run_hub() {
  install_deps
  build "$build" all -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRANSIT_UNIT_TESTS=OFF
  local state=$repo/.run
  local listen=${TRANSIT_HUB_LISTEN:-127.0.0.1:8080}
  install -d -m 0700 "$state"
  if [[ ! -f $state/hub.yaml ]]; then
    step "Creating a development configuration in .run/ (kept across runs)"
    local token
    token=$(openssl rand -hex 24)
    (umask 077 && printf '%s\n' "$token" >"$state/admin.token")
    local hash
    hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
    (umask 077 && cat >"$state/hub.yaml" <<YAML
# Development configuration written by ami/dev.sh; every key is explained in
# hub/config/transit-hub.example.yaml and the README.
hub: {name: hub-a, asn: 65000, public_ip: 203.0.113.10, local_ip: 10.0.0.10}
api:
  listen: ["$listen"]
  tokens: [{name: admin, role: admin, sha256: "$hash"}]
store: {sqlite: $state/state.db}
drivers: {mode: dry-run}
log: {level: info}
YAML
    )
  fi
  local url
  url=http://$(sed -n 's/^  listen: \["\(.*\)"\]$/\1/p' "$state/hub.yaml")
  cat <<TXT

Transit Hub is starting on $url (Ctrl-C stops it; state stays in .run/).
In another terminal:
  export TRANSIT_HUB_URL=$url TRANSIT_HUB_TOKEN=\$(cat $state/admin.token)
  $build/hub/transit-hubctl spoke add prod-a --kind vpc --cidr 10.1.0.0/16 --asn 64512 \\
      --tunnel 198.51.100.10 --tunnel 198.51.100.11
  $build/hub/transit-hubctl spoke list
  curl -s $url/metrics | grep transit_hub_spokes
TXT
  exec "$build/hub/transit-hubd" --config "$state/hub.yaml"
}

# run_ctest DIR ARGS...: runs the tests and fails when any was skipped. This setup installs every
# tool the tests use, so a skip here is a missing dependency, not a pass.
run_ctest() {
  local dir="$1" log
  shift
  log="$dir/ctest-run.log"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
  if grep -q '(Skipped)$' "$log"; then
    echo "error: tests were skipped (a tool they need is missing):" >&2
    grep '(Skipped)$' "$log" >&2
    return 1
  fi
}

run_tests() {
  install_deps
  # The product build: everything but the unit tests, which are built and run once, under
  # ASan+UBSan, below.
  build "$build" all -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRANSIT_UNIT_TESTS=OFF
  # The lab and image tests are timing-sensitive: they run alone, before the sanitizer build (run
  # beside it at nice 19 a lab test once missed a summary route under the load).
  step "Running the product build's tests (tool, e2e, static, package, lab, image)"
  run_ctest "$build"
  # Only the unit tests and the fuzz targets run under the sanitizers, so only they are built,
  # with clang 19 (libFuzzer; every object also carries its coverage instrumentation); line
  # tables (-g1) are all a sanitizer report needs.
  build "$repo/build-asan" "unit_tests fuzz_targets" -DCMAKE_BUILD_TYPE=Debug \
    -DTRANSIT_SANITIZE=ON -DTRANSIT_BENCH=OFF -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DCMAKE_CXX_COMPILER=clang++-19
  local fuzz_seconds=${TRANSIT_FUZZ_SECONDS:-10}
  step "Running the unit tests and the fuzz smoke (${fuzz_seconds} s a target) under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    TRANSIT_FUZZ_SECONDS=$fuzz_seconds run_ctest "$repo/build-asan" -L 'unit|fuzz'
}

run_lab() {
  install_deps
  build "$build" all -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRANSIT_UNIT_TESTS=OFF
  local lab=$repo/tests/lab/lab
  "$lab" down >/dev/null 2>&1 || true
  local follower=""
  trap '[[ -n $follower ]] && kill "$follower" 2>/dev/null; "$lab" down >/dev/null 2>&1; exit 0' \
    INT TERM
  step "Bringing up the lab (tests/lab/lab up)"
  "$lab" up
  cat <<TXT

The lab is up: transit-hubd (live) drives real pluto and BIRD in namespace th-hub; vpc-a and
vpc-b are VGW stand-ins (FRR, ASN 64512, pluto), site-1 is an on-prem site (BIRD, pluto). Every
spoke was onboarded through the REST API. Try, in another terminal:
  $lab ctl spoke list
  $lab ctl --json spoke show vpc-b | jq .status
  $lab exec vpc-a -- ping -c 3 -I 10.1.0.1 10.2.0.1
  $lab status
Ctrl-C takes the lab down. Following the hub's log:
TXT
  tail -n 0 -F /run/th-lab/hub/hubd/transit-hubd.log &
  follower=$!
  wait
}

case ${1:-} in
  run) run_lab ;;
  hub) run_hub ;;
  test) run_tests ;;
  *) usage ;;
esac
