#!/usr/bin/env bash
# Installs every Debian package Transit Hub needs to build, test and run.
# Used by developers, by CI (.ci/run through the README's test command) and by the image build.
# Idempotent: a second run on a machine that has everything is quick and changes nothing.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Build toolchain and libraries (Boost 1.81 explicitly: Debian 12's default Boost is 1.74).
BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev
  libsqlite3-dev libyaml-cpp-dev libpugixml-dev libspdlog-dev libcli11-dev
  libsystemd-dev libssl-dev
)
# Run-time and test tools: prometheus (promtool and a real scrape in the e2e tests), wrk
# (benchmarks), curl, sqlite3, openssl (tokens, test certificates), python3 (JSON checks in tests).
TOOL_PACKAGES=(
  prometheus wrk curl sqlite3 openssl ca-certificates iproute2 procps python3 jq
)

# The daemons the hub drives, and the lab's peers of other makes: libreswan (pluto), BIRD 2, FRR
# (the AWS VGW stand-in), nftables (TCP MSS clamping on tunnel links, segment isolation in forwarding), ping for lab checks.
# In containers /usr/sbin/policy-rc.d keeps their services from starting; transit-hubd and the
# lab start the instances they need.
DAEMON_PACKAGES=(
  libreswan libnss3-tools bird2 frr nftables iputils-ping
)

missing=()
for p in "${BUILD_PACKAGES[@]}" "${TOOL_PACKAGES[@]}" "${DAEMON_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps.sh: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps.sh: all packages present"
fi
