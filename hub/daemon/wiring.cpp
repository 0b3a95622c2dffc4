#include "hub/daemon/wiring.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace transit::hub {

namespace fs = std::filesystem;

spdlog::level::level_enum logLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

EtcdStoreOptions etcdStoreOptions(const Config::Store::Etcd& etcd, std::string password) {
  EtcdStoreOptions options;
  options.endpoints = etcd.endpoints;
  options.prefix = etcd.prefix;
  options.tls.ca_file = etcd.tls.ca.string();
  options.tls.cert_file = etcd.tls.cert.string();
  options.tls.key_file = etcd.tls.key.string();
  options.user = etcd.user;
  options.password = std::move(password);
  return options;
}

Registry::Options registryOptions(const Config& config) {
  Registry::Options options;
  options.validation.hub_asn = config.hub.asn;
  options.validation.hub_addresses = {config.hub.public_ip, config.hub.local_ip};
  options.validation.hub_name = config.hub.name;
  if (config.pair) {
    options.reserved_inside = {config.pair->link.inside};
    // A tunnel may be the other hub's, and no spoke may use the other hub's addresses either.
    options.validation.peer_hub = config.pair->peer.name;
    options.validation.hub_addresses.push_back(config.pair->peer.public_ip);
    options.validation.hub_addresses.push_back(config.pair->peer.local_ip);
  }
  return options;
}

http::HubInfo hubInfo(const Config& config, std::string version) {
  http::HubInfo info{config.hub.name,      config.hub.asn,
                     config.hub.public_ip, config.hub.local_ip,
                     std::move(version),   std::string(toString(config.drivers.mode))};
  if (config.pair) {
    info.peer = http::HubInfo::Peer{config.pair->peer.name, config.pair->peer.public_ip};
  }
  return info;
}

peers::LibreswanOptions libreswanOptions(const Config& config) {
  const auto& drivers = config.drivers;
  peers::LibreswanOptions libreswan;
  libreswan.whack = drivers.libreswan.whack.string();
  libreswan.addconn = drivers.libreswan.addconn.string();
  libreswan.ctl_socket = drivers.libreswan.ctl_socket.string();
  libreswan.pid_file = drivers.libreswan.pid_file.string();
  libreswan.conf_dir = drivers.libreswan.conf_dir.string();
  libreswan.secrets_file = drivers.libreswan.secrets_file.string();
  libreswan.links = drivers.tunnel_links;
  libreswan.xfrm.underlay_device = drivers.xfrm.underlay_device;
  return libreswan;
}

routing::BirdOptions birdOptions(const Config& config) {
  routing::BirdOptions bird;
  bird.socket_path = config.drivers.bird.socket.string();
  bird.include_path = config.drivers.bird.include_file.string();
  bird.main_config_path = config.drivers.bird.main_config.string();
  bird.router_id = config.hub.local_ip;
  return bird;
}

routing::NftForwardingFilterOptions segmentFilterOptions(const Config& config) {
  routing::NftForwardingFilterOptions segment_filter;
  segment_filter.dir = config.drivers.runtime_dir.string();
  return segment_filter;
}

PlanOptions planOptions(const Config& config) {
  PlanOptions plan;
  plan.local_address = config.hub.local_ip;
  plan.public_address = config.hub.public_ip;
  plan.local_as = config.hub.asn;
  plan.router_id = config.hub.local_ip;
  plan.links = config.drivers.tunnel_links;
  plan.hub_name = config.hub.name;
  plan.segments = config.routing.segments;
  plan.reserved = config.routing.reserved;
  plan.not_preferred_prepend = config.routing.not_preferred_prepend;
  plan.not_preferred_med = config.routing.not_preferred_med;
  if (config.pair) {
    const auto& pair = *config.pair;
    plan.pair = PlanOptions::Pair{pair.peer.name,
                                  pair.peer.local_ip,
                                  pair.link.vni,
                                  pair.link.port,
                                  pair.link.inside,
                                  pair.link.mtu,
                                  pair.link.underlay_device,
                                  pair.bfd.interval_ms,
                                  pair.bfd.multiplier};
  }
  // The drivers touch only names with their prefix; the planner must name things with it.
  plan.tunnel_prefix = peers::LibreswanOptions{}.prefix;
  plan.session_prefix = routing::BirdOptions{}.protocol_prefix;
  return plan;
}

Reconciler::Options reconcilerOptions(const Config& config) {
  Reconciler::Options options;
  options.plan = planOptions(config);
  return options;
}

DriverOptions driverOptions(const Config& config) {
  DriverOptions live{libreswanOptions(config), birdOptions(config), segmentFilterOptions(config)};
  if (config.drivers.mode == DriverMode::kLive) return live;
  return dryRunOptions(std::move(live), config.drivers.dry_run_dir);
}

DriverOptions dryRunOptions(DriverOptions live, const fs::path& root) {
  DriverOptions dry = std::move(live);
  dry.libreswan.conf_dir = (root / "ipsec").string();
  dry.libreswan.secrets_file = (root / "ipsec" / "transit-hub.secrets").string();
  dry.libreswan.pid_file = (root / "pluto.pid").string();
  dry.bird.include_path = (root / "bird" / "transit-hub.conf").string();
  dry.segment_filter.dir = (root / "nft").string();
  return dry;
}

std::vector<http::Server::Listener> listeners(const Config& config) {
  std::vector<http::Server::Listener> out;
  for (const auto& address : config.api.listen) {
    const bool open =
        std::ranges::find(config.api.unauthenticated, address) != config.api.unauthenticated.end();
    out.push_back(http::Server::Listener{address, open});
  }
  return out;
}

std::string endpointText(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address().to_string();
  return endpoint.address().is_v6() ? fmt::format("[{}]:{}", address, endpoint.port())
                                    : fmt::format("{}:{}", address, endpoint.port());
}

}  // namespace transit::hub
