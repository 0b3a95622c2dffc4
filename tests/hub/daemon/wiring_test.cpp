// Wiring: every configuration key reaches the option it sets, the config's default paths are the
// drivers' own defaults, and dry-run moves every file the drivers write under dry_run_dir while
// the commands it logs stay live mode's.
#include "hub/daemon/wiring.hpp"

#include <gtest/gtest.h>

namespace transit::hub {
namespace {

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

// A configuration with a value other than the default in every key the wiring reads.
Config fullConfig() {
  Config config;
  config.hub.name = "hub-b";
  config.hub.asn = 65010;
  config.hub.public_ip = ip("203.0.113.20");
  config.hub.local_ip = ip("10.0.0.20");
  config.api.listen = {ListenAddress{"127.0.0.1", 8080}, ListenAddress{"::1", 9090}};
  config.api.unauthenticated = {ListenAddress{"::1", 9090}};
  config.store.sqlite = "/var/lib/th/state.db";
  config.drivers.mode = DriverMode::kLive;
  config.drivers.tunnel_links = peers::TunnelLinks::kExternal;
  config.drivers.libreswan.whack = "/opt/ipsec/whack";
  config.drivers.libreswan.addconn = "/opt/ipsec/addconn";
  config.drivers.libreswan.ctl_socket = "/run/p/pluto.ctl";
  config.drivers.libreswan.pid_file = "/run/p/pluto.pid";
  config.drivers.libreswan.conf_dir = "/etc/p/conns";
  config.drivers.libreswan.secrets_file = "/etc/p/hub.secrets";
  config.drivers.xfrm.underlay_device = "ens5";
  config.drivers.bird.socket = "/run/b/bird.ctl";
  config.drivers.bird.include_file = "/etc/b/hub.conf";
  config.drivers.bird.main_config = "/etc/b/bird.conf";
  config.drivers.dry_run_dir = "/var/lib/th/dry";
  config.drivers.runtime_dir = "/run/th";
  config.routing.segments = {{"prod", {"shared"}}};
  config.routing.reserved = {*Ipv4Prefix::parse("10.0.0.0/16")};
  config.routing.not_preferred_prepend = 4;
  config.routing.not_preferred_med = 250;
  config.log.level = LogLevel::kDebug;
  return config;
}

TEST(WiringTest, EveryLibreswanKeyReachesTheDriver) {
  const auto options = libreswanOptions(fullConfig());
  EXPECT_EQ(options.whack, "/opt/ipsec/whack");
  EXPECT_EQ(options.addconn, "/opt/ipsec/addconn");
  EXPECT_EQ(options.ctl_socket, "/run/p/pluto.ctl");
  EXPECT_EQ(options.pid_file, "/run/p/pluto.pid");
  EXPECT_EQ(options.conf_dir, "/etc/p/conns");
  EXPECT_EQ(options.secrets_file, "/etc/p/hub.secrets");
  EXPECT_EQ(options.links, peers::TunnelLinks::kExternal);
  EXPECT_EQ(options.xfrm.underlay_device, "ens5");
}

TEST(WiringTest, EveryBirdKeyReachesTheDriver) {
  const auto options = birdOptions(fullConfig());
  EXPECT_EQ(options.socket_path, "/run/b/bird.ctl");
  EXPECT_EQ(options.include_path, "/etc/b/hub.conf");
  EXPECT_EQ(options.main_config_path, "/etc/b/bird.conf");
  EXPECT_EQ(options.router_id, ip("10.0.0.20"));
}

TEST(WiringTest, TheSegmentFilterWritesIntoTheRuntimeDirectory) {
  EXPECT_EQ(segmentFilterOptions(fullConfig()).dir, "/run/th");
}

TEST(WiringTest, EveryHubAndRoutingKeyReachesThePlanner) {
  const auto plan = planOptions(fullConfig());
  EXPECT_EQ(plan.local_address, ip("10.0.0.20"));
  EXPECT_EQ(plan.public_address, ip("203.0.113.20"));
  EXPECT_EQ(plan.local_as, 65010u);
  EXPECT_EQ(plan.router_id, ip("10.0.0.20"));
  EXPECT_EQ(plan.links, peers::TunnelLinks::kExternal);
  EXPECT_EQ(plan.hub_name, "hub-b");
  EXPECT_EQ(plan.segments, (std::map<std::string, std::vector<std::string>>{{"prod", {"shared"}}}));
  EXPECT_EQ(plan.reserved, std::vector<Ipv4Prefix>{*Ipv4Prefix::parse("10.0.0.0/16")});
  EXPECT_EQ(plan.not_preferred_prepend, 4u);
  EXPECT_EQ(plan.not_preferred_med, 250u);
  EXPECT_EQ(reconcilerOptions(fullConfig()).plan.hub_name, "hub-b");
}

TEST(WiringTest, NoMedIsNoMed) {
  auto config = fullConfig();
  config.routing.not_preferred_med.reset();
  EXPECT_FALSE(planOptions(config).not_preferred_med);
}

TEST(WiringTest, ThePlannerNamesThingsWithTheDriversPrefixes) {
  const auto plan = planOptions(fullConfig());
  EXPECT_EQ(plan.tunnel_prefix, libreswanOptions(fullConfig()).prefix);
  EXPECT_EQ(plan.session_prefix, birdOptions(fullConfig()).protocol_prefix);
}

TEST(WiringTest, SpokesAreValidatedAgainstTheHub) {
  const auto options = registryOptions(fullConfig());
  EXPECT_EQ(options.validation.hub_asn, 65010u);
  EXPECT_EQ(options.validation.hub_addresses,
            (std::vector<Ipv4Address>{ip("203.0.113.20"), ip("10.0.0.20")}));
}

// The pair: a tunnel may be the other hub's, and a spoke may use neither hub's addresses; the
// API knows the other hub (AWS documents for its customer gateway, sites' configurations).
TEST(WiringTest, ThePairsOtherHubIsKnownToValidationAndTheApi) {
  auto config = fullConfig();
  EXPECT_EQ(registryOptions(config).validation.hub_name, "hub-b");
  EXPECT_FALSE(registryOptions(config).validation.peer_hub);
  EXPECT_FALSE(hubInfo(config, "1.0").peer);
  config.pair = Config::Pair{};
  config.pair->peer.name = "hub-c";
  config.pair->peer.public_ip = ip("203.0.113.30");
  config.pair->peer.local_ip = ip("10.0.0.30");
  const auto options = registryOptions(config);
  EXPECT_EQ(options.validation.peer_hub, "hub-c");
  EXPECT_EQ(options.validation.hub_addresses,
            (std::vector<Ipv4Address>{ip("203.0.113.20"), ip("10.0.0.20"), ip("203.0.113.30"),
                                      ip("10.0.0.30")}));
  const auto info = hubInfo(config, "1.0");
  EXPECT_EQ(info.name, "hub-b");
  EXPECT_EQ(info.version, "1.0");
  ASSERT_TRUE(info.peer);
  EXPECT_EQ(info.peer->name, "hub-c");
  EXPECT_EQ(info.peer->public_ip, ip("203.0.113.30"));
}

TEST(WiringTest, EveryPairKeyReachesThePlannerAndTheRegistryKeepsTheLinksSlash30) {
  auto config = fullConfig();
  EXPECT_FALSE(planOptions(config).pair.has_value());
  EXPECT_TRUE(registryOptions(config).reserved_inside.empty());
  Config::Pair pair;
  pair.peer = {"hub-a", ip("198.51.100.7"), ip("10.0.1.7")};
  pair.link.vni = 900;
  pair.link.port = 8472;
  pair.link.inside = *Ipv4Prefix::parse("169.254.250.0/30");
  pair.link.mtu = 8950;
  pair.link.underlay_device = "ens6";
  pair.bfd = {500, 5};
  config.pair = pair;
  const auto plan = planOptions(config).pair;
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->peer_name, "hub-a");
  EXPECT_EQ(plan->peer_local_ip, ip("10.0.1.7"));
  EXPECT_EQ(plan->vni, 900u);
  EXPECT_EQ(plan->port, 8472);
  EXPECT_EQ(plan->inside, *Ipv4Prefix::parse("169.254.250.0/30"));
  EXPECT_EQ(plan->mtu, 8950u);
  EXPECT_EQ(plan->underlay_device, "ens6");
  EXPECT_EQ(plan->bfd_interval_ms, 500u);
  EXPECT_EQ(plan->bfd_multiplier, 5u);
  EXPECT_EQ(registryOptions(config).reserved_inside,
            std::vector<Ipv4Prefix>{*Ipv4Prefix::parse("169.254.250.0/30")});
}

TEST(WiringTest, ListenersAreOpenOnlyWhenUnauthenticated) {
  const auto list = listeners(fullConfig());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].address, (ListenAddress{"127.0.0.1", 8080}));
  EXPECT_FALSE(list[0].operational_open);
  EXPECT_EQ(list[1].address, (ListenAddress{"::1", 9090}));
  EXPECT_TRUE(list[1].operational_open);
}

TEST(WiringTest, EveryEtcdKeyReachesTheStore) {
  Config::Store::Etcd etcd;
  etcd.endpoints = {"https://10.0.1.5:2379", "https://10.0.2.5:2379"};
  etcd.prefix = "/pair-1/";
  etcd.tls.ca = "/etc/th/etcd-ca.pem";
  etcd.tls.cert = "/etc/th/etcd-client.pem";
  etcd.tls.key = "/etc/th/etcd-client.key";
  etcd.user = "hub";
  etcd.password_file = "/etc/th/etcd.password";
  const auto options = etcdStoreOptions(etcd, "from-the-file");
  EXPECT_EQ(options.endpoints, etcd.endpoints);
  EXPECT_EQ(options.prefix, "/pair-1/");
  EXPECT_EQ(options.tls.ca_file, "/etc/th/etcd-ca.pem");
  EXPECT_EQ(options.tls.cert_file, "/etc/th/etcd-client.pem");
  EXPECT_EQ(options.tls.key_file, "/etc/th/etcd-client.key");
  EXPECT_EQ(options.user, "hub");
  EXPECT_EQ(options.password, "from-the-file");
  // The config's default prefix is the store's own.
  EXPECT_EQ(Config::Store::Etcd{}.prefix, EtcdStoreOptions{}.prefix);
}

TEST(WiringTest, LogLevels) {
  EXPECT_EQ(logLevel(LogLevel::kTrace), spdlog::level::trace);
  EXPECT_EQ(logLevel(LogLevel::kDebug), spdlog::level::debug);
  EXPECT_EQ(logLevel(LogLevel::kInfo), spdlog::level::info);
  EXPECT_EQ(logLevel(LogLevel::kWarn), spdlog::level::warn);
  EXPECT_EQ(logLevel(LogLevel::kError), spdlog::level::err);
}

TEST(WiringTest, EndpointsPrintAsTheListeningLineShowsThem) {
  namespace ip_ns = boost::asio::ip;
  EXPECT_EQ(endpointText({ip_ns::make_address("127.0.0.1"), 8080}), "127.0.0.1:8080");
  EXPECT_EQ(endpointText({ip_ns::make_address("::1"), 9090}), "[::1]:9090");
}

// config.hpp writes Debian's paths as literals (it does not link the drivers); they must stay the
// drivers' own defaults.
TEST(WiringTest, TheConfigsDefaultPathsAreTheDriversOwnDefaults) {
  const Config defaults;
  const peers::LibreswanOptions libreswan;
  const routing::BirdOptions bird;
  const routing::NftForwardingFilterOptions segment_filter;
  EXPECT_EQ(defaults.drivers.libreswan.whack.string(), libreswan.whack);
  EXPECT_EQ(defaults.drivers.libreswan.addconn.string(), libreswan.addconn);
  EXPECT_EQ(defaults.drivers.libreswan.ctl_socket.string(), libreswan.ctl_socket);
  EXPECT_EQ(defaults.drivers.libreswan.pid_file.string(), libreswan.pid_file);
  EXPECT_EQ(defaults.drivers.libreswan.conf_dir.string(), libreswan.conf_dir);
  EXPECT_EQ(defaults.drivers.libreswan.secrets_file.string(), libreswan.secrets_file);
  EXPECT_EQ(defaults.drivers.tunnel_links, libreswan.links);
  EXPECT_EQ(defaults.drivers.xfrm.underlay_device, libreswan.xfrm.underlay_device);
  EXPECT_EQ(defaults.drivers.runtime_dir.string(), segment_filter.dir);
  EXPECT_EQ(defaults.drivers.bird.socket.string(), bird.socket_path);
  EXPECT_EQ(defaults.drivers.bird.include_file.string(), bird.include_path);
  EXPECT_EQ(defaults.drivers.bird.main_config.string(), bird.main_config_path);
  // So the default configuration wires the drivers exactly as their defaults.
  const auto wired = libreswanOptions(defaults);
  EXPECT_EQ(wired.conf_dir, libreswan.conf_dir);
  EXPECT_EQ(birdOptions(defaults).include_path, bird.include_path);
}

TEST(WiringTest, LiveModeUsesTheLivePaths) {
  const auto options = driverOptions(fullConfig());
  EXPECT_EQ(options.libreswan.conf_dir, "/etc/p/conns");
  EXPECT_EQ(options.bird.include_path, "/etc/b/hub.conf");
  EXPECT_EQ(options.segment_filter.dir, "/run/th");
}

TEST(WiringTest, DryRunMovesEveryFileUnderTheDryRunDirectoryAndKeepsTheCommands) {
  auto config = fullConfig();
  config.drivers.mode = DriverMode::kDryRun;
  const auto options = driverOptions(config);
  EXPECT_EQ(options.libreswan.conf_dir, "/var/lib/th/dry/ipsec");
  EXPECT_EQ(options.libreswan.secrets_file, "/var/lib/th/dry/ipsec/transit-hub.secrets");
  EXPECT_EQ(options.libreswan.pid_file, "/var/lib/th/dry/pluto.pid");
  EXPECT_EQ(options.bird.include_path, "/var/lib/th/dry/bird/transit-hub.conf");
  EXPECT_EQ(options.segment_filter.dir, "/var/lib/th/dry/nft");
  // What the log names: live mode's commands, sockets and BIRD's main config.
  EXPECT_EQ(options.libreswan.whack, "/opt/ipsec/whack");
  EXPECT_EQ(options.libreswan.addconn, "/opt/ipsec/addconn");
  EXPECT_EQ(options.libreswan.ctl_socket, "/run/p/pluto.ctl");
  EXPECT_EQ(options.libreswan.links, peers::TunnelLinks::kExternal);
  EXPECT_EQ(options.libreswan.xfrm.underlay_device, "ens5");
  EXPECT_EQ(options.bird.socket_path, "/run/b/bird.ctl");
  EXPECT_EQ(options.bird.main_config_path, "/etc/b/bird.conf");
  EXPECT_EQ(options.bird.router_id, ip("10.0.0.20"));
}

}  // namespace
}  // namespace transit::hub
