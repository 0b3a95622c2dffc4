// Wiring: pure functions from the daemon's Config to each component's options. The one place
// where a configuration key meets the option it sets (tests/hub/daemon/wiring_test.cpp holds
// every key to its option, and the config's default paths to the drivers' own defaults).
//
// Owns nothing; no I/O. Called once by main.cpp and drivers.cpp at start, on the main thread.
#pragma once

#include <spdlog/common.h>

#include <filesystem>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "http/handlers/context.hpp"
#include "http/server.hpp"
#include "hub/config/config.hpp"
#include "hub/core/planner.hpp"
#include "hub/core/reconciler.hpp"
#include "hub/core/registry.hpp"
#include "hub/store/etcd/etcd_store.hpp"
#include "peers/libreswan/libreswan_render.hpp"
#include "routing/bird/bird_render.hpp"
#include "routing/nft/nft_filter.hpp"

namespace transit::hub {

spdlog::level::level_enum logLevel(LogLevel level);

// store.etcd's keys as the etcd store's options; `password` is what store.etcd.password_file
// holds (read by the caller; empty without a user).
EtcdStoreOptions etcdStoreOptions(const Config::Store::Etcd& etcd, std::string password);

// hub.asn, hub.name, the pair's other hub and both hubs' addresses: what spoke validation checks
// against.
Registry::Options registryOptions(const Config& config);

// The live drivers' options: the paths and commands of drivers.*, the tunnel links, the underlay
// device, the runtime directory for the nft scripts, the router id. Prefixes and timeouts are the
// drivers' own defaults.
peers::LibreswanOptions libreswanOptions(const Config& config);
routing::BirdOptions birdOptions(const Config& config);
routing::NftForwardingFilterOptions segmentFilterOptions(const Config& config);

// The planner's view of the hub (hub.*, routing.*, drivers.tunnel_links) with the drivers'
// name prefixes: the drivers touch only names with their prefix, so the planner must use them.
PlanOptions planOptions(const Config& config);
Reconciler::Options reconcilerOptions(const Config& config);

// The three drivers' options, for the live or the dry-run factory (drivers.hpp).
struct DriverOptions {
  peers::LibreswanOptions libreswan;
  routing::BirdOptions bird;
  routing::NftForwardingFilterOptions segment_filter;
};

// Live: the three *Options above. Dry-run (drivers.mode dry-run): the same, with every file the
// drivers write or read back moved under drivers.dry_run_dir (dryRunOptions).
DriverOptions driverOptions(const Config& config);

// Where dry-run puts each file instead of its live path. Commands, sockets and BIRD's main config
// keep their live values, so the log names what live mode would run.
//   ROOT/ipsec/NAME.conf, ROOT/ipsec/transit-hub.secrets   libreswan's conns and secrets
//   ROOT/bird/transit-hub.conf                             the BIRD include
//   ROOT/nft/<table>.nft                                   the segment filter and the MSS clamp
//   ROOT/pluto.pid                                         the dry-run pluto's pid file
DriverOptions dryRunOptions(DriverOptions live, const std::filesystem::path& root);

// The hub's identity for the API (hub.*, and pair.peer's name and public address) with the
// daemon's `version`.
http::HubInfo hubInfo(const Config& config, std::string version);

// The HTTP listeners: api.listen, each open for /healthz, /readyz and /metrics when it is also
// in api.unauthenticated.
std::vector<http::Server::Listener> listeners(const Config& config);

// "127.0.0.1:8080", "[::1]:8080": a bound endpoint as the "listening on" line prints it.
std::string endpointText(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace transit::hub
