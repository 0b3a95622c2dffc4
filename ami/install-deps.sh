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
# clang 19 with its runtime (libFuzzer, ASan, UBSan) builds the sanitizer tree, which holds the
# unit tests and the fuzz targets (tests/fuzz); the product is built with GCC 12.
BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev
  libsqlite3-dev libyaml-cpp-dev libpugixml-dev libspdlog-dev libcli11-dev
  libsystemd-dev libssl-dev ccache clang-format lld
  clang-19 libclang-rt-19-dev
)
# The Debian package and the appliance image: help2man (the manual pages, from --help), lintian
# and man-db/file/bsdextrautils (the package test), packer (the AMI template's validation),
# mmdebstrap, qemu, genisoimage and e2fsprogs (the image test builds and boots a Debian 12 image).
IMAGE_PACKAGES=(
  help2man lintian man-db file bsdextrautils packer
  mmdebstrap qemu-system-x86 qemu-utils genisoimage e2fsprogs
)
# Run-time and test tools: prometheus (promtool and a real scrape in the e2e tests), wrk
# (benchmarks), curl, sqlite3, openssl (tokens, test certificates), python3 (JSON checks in tests),
# python3-jsonschema (the API's contract test), etcd-server and etcd-client (/usr/bin/etcd and
# /usr/bin/etcdctl for the etcd store's tool tests and the pair's lab, which start their own
# private etcd; the package's own service is disabled below when this script installs it).
TOOL_PACKAGES=(
  prometheus wrk curl sqlite3 openssl ca-certificates iproute2 procps python3 python3-yaml jq
  python3-jsonschema
  etcd-server etcd-client
)

# The daemons the hub drives, and the lab's peers of other makes: libreswan (pluto), BIRD 2, FRR
# (the AWS VGW stand-in), nftables (TCP MSS clamping on tunnel links, segment isolation in forwarding), ping for lab checks.
# In containers /usr/sbin/policy-rc.d keeps their services from starting; transit-hubd and the
# lab start the instances they need.
DAEMON_PACKAGES=(
  libreswan libnss3-tools bird2 frr nftables iputils-ping
)

missing=()
for p in "${BUILD_PACKAGES[@]}" "${IMAGE_PACKAGES[@]}" "${TOOL_PACKAGES[@]}" "${DAEMON_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps.sh: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Debian's etcd-server starts a single-member etcd on 127.0.0.1:2379 at install. Nothing here
  # uses it (tests start their own; the pair's members are configured by the operator), so when
  # this script installed the package on a systemd machine it stops and disables that service.
  # An etcd-server installed before is left as it is.
  if [[ " ${missing[*]} " == *" etcd-server "* && -d /run/systemd/system ]]; then
    systemctl disable --now etcd.service >/dev/null 2>&1 || true
  fi
else
  echo "install-deps.sh: all packages present"
fi

# ---------------------------------------------------------------------------------------------
# strongSwan (charon-systemd + swanctl), UNPACKED, next to libreswan from apt.
# The lab can run an on-prem site's IKE daemon as strongSwan (tests/lab/README.md). Debian 12's
# libreswan Conflicts: with strongswan-libcharon, so the strongSwan packages are never installed:
# their .debs are downloaded with `apt-get download` and unpacked with `dpkg-deb -x` into
# /opt/strongswan (dpkg does not know about them and libreswan stays installed).
# charon's plugin directory (/usr/lib/ipsec/plugins) is compiled in and its binaries have
# RUNPATH /usr/lib/ipsec, so /usr/lib/ipsec is made a symlink to the unpacked tree. libreswan
# owns nothing there (it uses /usr/libexec/ipsec); an existing /usr/lib/ipsec that is not our
# symlink is never touched: the script stops instead.
# Binaries: /opt/strongswan/usr/sbin/charon-systemd and /opt/strongswan/usr/sbin/swanctl; use
# them with STRONGSWAN_CONF=<file> (the unpacked etc/ is not read: /etc/strongswan.conf is the
# compiled-in default and does not exist).
# Idempotent: the stamp file records the version and package list that were unpacked; nothing
# is done (and nothing printed) while it matches apt's candidate version and the tree is whole.
# ---------------------------------------------------------------------------------------------
readonly SS_ROOT=/opt/strongswan
readonly SS_LINK=/usr/lib/ipsec
readonly SS_STAMP="${SS_ROOT}/.transit-hub-unpacked"
SS_DEBS=(
  libstrongswan libstrongswan-standard-plugins libstrongswan-extra-plugins
  strongswan-libcharon libcharon-extra-plugins strongswan-swanctl charon-systemd strongswan-charon
)
# Shared libraries the unpacked binaries and the plugins the lab loads need (the Depends: of the
# packages above, installed normally: none conflicts with libreswan). Not included: the libraries
# of plugins the lab does not load (tpm: libtss2-sys1; curl, ldap, gcrypt).
SS_RUNTIME_PACKAGES=(libcap2 libgmp10 libsystemd0 libssl3 libip4tc2 libpam0g)

ss_candidate() {
  apt-cache policy charon-systemd 2>/dev/null | awk '/Candidate:/ {print $2}'
}

ss_missing=()
for p in "${SS_RUNTIME_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    ss_missing+=("$p")
  fi
done
if ((${#ss_missing[@]} > 0)); then
  echo "install-deps.sh: installing ${ss_missing[*]} (for the unpacked strongSwan)"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${ss_missing[@]}"
fi

ss_version="$(ss_candidate)"
if [[ -z "${ss_version}" || "${ss_version}" == "(none)" ]]; then
  apt-get update -q >/dev/null   # package lists were cleaned since the last update
  ss_version="$(ss_candidate)"
fi
if [[ -z "${ss_version}" || "${ss_version}" == "(none)" ]]; then
  echo "install-deps.sh: apt knows no version of charon-systemd (sources.list?)" >&2
  exit 1
fi
ss_want="${ss_version} ${SS_DEBS[*]}"

# /usr/lib/ipsec: absent (we create the link) or already our link; anything else stops here.
if [[ -e "${SS_LINK}" || -L "${SS_LINK}" ]] &&
  [[ "$(readlink "${SS_LINK}" || true)" != "${SS_ROOT}/usr/lib/ipsec" ]]; then
  echo "install-deps.sh: ${SS_LINK} exists and is not a link to ${SS_ROOT}/usr/lib/ipsec" \
    "($(dpkg -S "${SS_LINK}" 2>/dev/null || echo 'owned by no package')); not touching it." \
    "The unpacked strongSwan needs it: remove it and run this script again." >&2
  exit 1
fi

ss_whole=no
if [[ -x "${SS_ROOT}/usr/sbin/charon-systemd" && -x "${SS_ROOT}/usr/sbin/swanctl" &&
  -f "${SS_ROOT}/usr/lib/ipsec/plugins/libstrongswan-vici.so" && -L "${SS_LINK}" ]]; then
  ss_whole=yes
fi
if [[ "$(cat "${SS_STAMP}" 2>/dev/null || true)" != "${ss_want}" || "${ss_whole}" != yes ]]; then
  ss_tmp="$(mktemp -d)"
  trap 'rm -rf "${ss_tmp}" "${SS_ROOT}.new"' EXIT
  # apt's download sandbox user must be able to write the download directory
  id -u _apt >/dev/null 2>&1 && chown _apt "${ss_tmp}"
  ss_debs_at_version=()
  for p in "${SS_DEBS[@]}"; do ss_debs_at_version+=("${p}=${ss_version}"); done
  if ! (cd "${ss_tmp}" && apt-get download -q "${ss_debs_at_version[@]}") \
    >"${ss_tmp}/download.log" 2>&1; then
    cat "${ss_tmp}/download.log" >&2
    if [[ "${ss_whole}" == yes ]]; then   # offline with a working older tree: keep it
      echo "install-deps.sh: WARNING: apt-get download of strongSwan ${ss_version} failed;" \
        "keeping $(cut -d' ' -f1 "${SS_STAMP}" 2>/dev/null || echo 'the') tree in ${SS_ROOT}" >&2
      exit 0
    fi
    echo "install-deps.sh: apt-get download of strongSwan ${ss_version} failed" >&2
    exit 1
  fi
  # Unpack next to the old tree and swap at the end: an interrupted run leaves the old one.
  rm -rf "${SS_ROOT}.new"
  mkdir -p "${SS_ROOT}.new"
  for deb in "${ss_tmp}"/*.deb; do dpkg-deb -x "${deb}" "${SS_ROOT}.new"; done
  rm -rf "${SS_ROOT}.old"
  if [[ -e "${SS_ROOT}" ]]; then mv "${SS_ROOT}" "${SS_ROOT}.old"; fi
  mv "${SS_ROOT}.new" "${SS_ROOT}"
  rm -rf "${SS_ROOT}.old"
  [[ -L "${SS_LINK}" ]] || ln -s "${SS_ROOT}/usr/lib/ipsec" "${SS_LINK}"
  # Check that it runs (libraries found through the link, plugin loader, settings) before
  # writing the stamp: a failed run is redone next time.
  ss_ldd="$(ldd "${SS_ROOT}/usr/sbin/charon-systemd" "${SS_ROOT}/usr/sbin/swanctl" 2>&1 || true)"
  printf '# empty: swanctl must initialize without /etc/strongswan.conf\n' >"${ss_tmp}/empty.conf"
  if [[ "${ss_ldd}" == *"not found"* ]] ||
    ! STRONGSWAN_CONF="${ss_tmp}/empty.conf" "${SS_ROOT}/usr/sbin/swanctl" --help >/dev/null 2>&1
  then
    echo "${ss_ldd}" >&2
    echo "install-deps.sh: the unpacked strongSwan does not run (libraries missing?)" >&2
    exit 1
  fi
  printf '%s\n' "${ss_want}" >"${SS_STAMP}"
  rm -rf "${ss_tmp}"
  trap - EXIT
  echo "install-deps.sh: strongSwan ${ss_version} unpacked into ${SS_ROOT}" \
    "(${SS_LINK} -> ${SS_ROOT}/usr/lib/ipsec)"
fi
