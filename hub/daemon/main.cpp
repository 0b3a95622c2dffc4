// transit-hubd: the composition root. The only place that builds the store, the registry, the
// metrics registry, the io_context and the HTTP server, and wires them together.
//
//   transit-hubd --config FILE           run the hub
//   transit-hubd --check --config FILE   validate the configuration and exit (0 when valid)
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "http/api.hpp"
#include "http/api_metrics.hpp"
#include "http/auth.hpp"
#include "http/server.hpp"
#include "hub/core/clock.hpp"
#include "hub/config/config.hpp"
#include "hub/daemon/dry_run_drivers.hpp"
#include "hub/core/health.hpp"
#include "hub/metrics/hub_metrics.hpp"
#include "hub/core/reconciler.hpp"
#include "hub/metrics/reconciler_metrics.hpp"
#include "hub/core/registry.hpp"
#include "hub/store/sqlite/sqlite_store.hpp"
#include "routing/base/command_runner.hpp"
#include "peers/libreswan/libreswan_driver.hpp"
#include "routing/bird/bird_driver.hpp"

namespace {

using namespace transit;
namespace asio = boost::asio;

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;
constexpr auto kShutdownGrace = std::chrono::seconds(10);

spdlog::level::level_enum toSpdlog(hub::LogLevel level) {
  switch (level) {
    case hub::LogLevel::kTrace:
      return spdlog::level::trace;
    case hub::LogLevel::kDebug:
      return spdlog::level::debug;
    case hub::LogLevel::kInfo:
      return spdlog::level::info;
    case hub::LogLevel::kWarn:
      return spdlog::level::warn;
    case hub::LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string endpointText(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address().to_string();
  return endpoint.address().is_v6() ? fmt::format("[{}]:{}", address, endpoint.port())
                                    : fmt::format("{}:{}", address, endpoint.port());
}

int run(const hub::Config& config) {
  ::umask(0077);  // every file the hub creates (store, rendered secrets) is private
  auto logger = spdlog::stderr_color_mt("transit-hubd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(toSpdlog(config.log.level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  // Declared first so it is destroyed last: the registry's writer posts answers into it.
  asio::io_context io(static_cast<int>(config.api.threads));

  auto store = hub::SqliteStore::open(config.store.sqlite);
  if (!store) {
    spdlog::critical("cannot open the store {}: {}", config.store.sqlite.string(),
                     store.error().message);
    return kExitRuntime;
  }
  auto metrics_registry = std::make_shared<prometheus::Registry>();
  hub::HubMetrics hub_metrics(*metrics_registry, TRANSIT_HUB_VERSION);
  hub::SystemClock clock;

  hub::Registry::Options options;
  options.validation.hub_asn = config.hub.asn;
  options.validation.hub_addresses = {config.hub.public_ip, config.hub.local_ip};
  auto registry = hub::Registry::create(**store, clock, &hub_metrics, std::move(options));
  if (!registry) {
    spdlog::critical("cannot start: {}", registry.error().message);
    return kExitRuntime;
  }
  const auto initial = (*registry)->snapshot();
  spdlog::info("loaded {} spoke(s) from {} (revision {})", initial->spokes.size(),
               (*store)->describe(), initial->revision);

  // The drivers and the reconciler that makes pluto and BIRD match the registry. Live mode
  // drives the daemons; dry-run renders the same files into drivers.dry_run_dir and logs the
  // commands it would run.
  const auto& drivers = config.drivers;
  const bool live = drivers.mode == hub::DriverMode::kLive;
  peers::LibreswanOptions libreswan;
  libreswan.whack = drivers.libreswan.whack.string();
  libreswan.addconn = drivers.libreswan.addconn.string();
  libreswan.ctl_socket = drivers.libreswan.ctl_socket.string();
  libreswan.pid_file = drivers.libreswan.pid_file.string();
  libreswan.conf_dir = drivers.libreswan.conf_dir.string();
  libreswan.secrets_file = drivers.libreswan.secrets_file.string();
  libreswan.links = drivers.tunnel_links;
  libreswan.xfrm.underlay_device = drivers.xfrm.underlay_device;
  libreswan.xfrm.nft_dir = drivers.runtime_dir.string();
  routing::NftForwardingFilterOptions segment_filter;
  segment_filter.dir = drivers.runtime_dir.string();
  routing::BirdOptions bird;
  bird.socket_path = drivers.bird.socket.string();
  bird.include_path = drivers.bird.include_file.string();
  bird.main_config_path = drivers.bird.main_config.string();
  bird.router_id = config.hub.local_ip;
  hub::Reconciler::Options reconcile;
  reconcile.plan.local_address = config.hub.local_ip;
  reconcile.plan.public_address = config.hub.public_ip;
  reconcile.plan.local_as = config.hub.asn;
  reconcile.plan.router_id = config.hub.local_ip;
  reconcile.plan.links = drivers.tunnel_links;
  reconcile.plan.hub_name = config.hub.name;
  reconcile.plan.segments = config.routing.segments;
  reconcile.plan.reserved = config.routing.reserved;
  reconcile.plan.not_preferred_prepend = config.routing.not_preferred_prepend;
  reconcile.plan.not_preferred_med = config.routing.not_preferred_med;
  // The drivers touch only names with their prefix; the planner must name things with it.
  reconcile.plan.tunnel_prefix = libreswan.prefix;
  reconcile.plan.session_prefix = bird.protocol_prefix;

  std::unique_ptr<PosixCommandRunner> runner;
  std::unique_ptr<peers::TunnelDriver> tunnel_driver;
  std::unique_ptr<routing::RoutingDriver> routing_driver;
  std::unique_ptr<routing::ForwardingFilter> forwarding_filter;
  if (live) {
    runner = std::make_unique<PosixCommandRunner>();
    auto libreswan_driver = peers::LibreswanDriver::create(libreswan, *runner);
    if (!libreswan_driver) {
      spdlog::critical("cannot start the libreswan driver: {}", libreswan_driver.error().message);
      return kExitRuntime;
    }
    tunnel_driver = std::move(*libreswan_driver);
    routing_driver = std::make_unique<routing::BirdDriver>(bird);
    forwarding_filter = std::make_unique<routing::NftForwardingFilter>(segment_filter, *runner);
    spdlog::info("live drivers: pluto at {}, BIRD at {}", drivers.libreswan.ctl_socket.string(),
                 drivers.bird.socket.string());
  } else {
    tunnel_driver = std::make_unique<hub::DryRunTunnelDriver>(drivers.dry_run_dir, libreswan);
    routing_driver = std::make_unique<hub::DryRunRoutingDriver>(drivers.dry_run_dir, bird);
    forwarding_filter =
        std::make_unique<hub::DryRunForwardingFilter>(drivers.dry_run_dir, segment_filter);
    spdlog::info("dry-run: rendering into {}; no daemon is driven", drivers.dry_run_dir.string());
  }
  auto reconciler_metrics = std::make_unique<hub::ReconcilerMetrics>(*metrics_registry);
  auto reconciler = std::make_unique<hub::Reconciler>(
      **registry, *tunnel_driver, *routing_driver, clock, reconciler_metrics.get(), reconcile);
  reconciler->setForwardingFilter(forwarding_filter.get());
  (*registry)->setOnPublish([r = reconciler.get()] { r->wake(); });
  reconciler->start();

  // Readiness: the store takes writes, the daemons answer, and a first full pass has run.
  std::atomic<bool> serving{false};
  hub::Health health;
  health.add("store", [&registry] {
    const auto status = (*registry)->storeHealth();
    return hub::Health::Status{status.ok, status.problem};
  });
  health.add("drivers", [&reconciler] {
    const auto status = reconciler->status();
    std::string reason;
    if (!status->pluto.up) reason = "pluto: " + status->pluto.error;
    if (!status->bird.up) reason += (reason.empty() ? "" : "; ") + ("BIRD: " + status->bird.error);
    return hub::Health::Status{reason.empty(), reason};
  });
  health.add("initial_sync", [&reconciler, &serving] {
    const bool done = serving.load() && reconciler->status()->initial_sync_done;
    return hub::Health::Status{done, done ? "" : "the initial sync has not finished"};
  });

  http::ApiMetrics api_metrics(*metrics_registry);
  http::Api api(
      http::HandlerContext{
          .registry = **registry,
          .health = health,
          .metrics = *metrics_registry,
          .clock = clock,
          .hub = http::HubInfo{config.hub.name, config.hub.asn, config.hub.public_ip,
                               config.hub.local_ip, TRANSIT_HUB_VERSION,
                               std::string(hub::toString(config.drivers.mode))},
          .reconcile_status = [r = reconciler.get()] { return r->status(); },
          .session_prefix = bird.protocol_prefix,
      },
      http::TokenAuth(config.api.tokens), api_metrics);

  std::vector<http::Server::Listener> listeners;
  for (const auto& address : config.api.listen) {
    const bool open =
        std::ranges::find(config.api.unauthenticated, address) != config.api.unauthenticated.end();
    listeners.push_back(http::Server::Listener{address, open});
  }
  auto server = http::Server::create(io, api, listeners, config.api.tls);
  if (!server) {
    spdlog::critical("{}", server.error());
    return kExitRuntime;
  }
  (*server)->start();
  for (const auto& endpoint : (*server)->endpoints()) {
    // Printed whatever the log level: scripts and tests read the bound port from this line.
    fmt::print(stderr, "transit-hubd: listening on {} ({})\n", endpointText(endpoint),
               config.api.tls ? "https" : "http");
  }
  std::fflush(stderr);
  serving = true;
  sd_notifyf(0, "READY=1\nSTATUS=serving %zu spoke(s)", initial->spokes.size());

  // SIGINT/SIGTERM: stop accepting, close idle connections, let requests in flight write their
  // answers, then stop the threads once every session has ended (at the latest after
  // kShutdownGrace, when whatever is left is closed).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer grace(io);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received, shutting down", signal);
    sd_notify(0, "STOPPING=1");
    (*server)->stop();
    grace.expires_after(kShutdownGrace);
    grace.async_wait([&](boost::system::error_code timer_ec) {
      if (timer_ec) return;  // cancelled: every session ended in time
      spdlog::warn("requests still running after {} s; closing their connections",
                   kShutdownGrace.count());
      (*server)->closeAll();
      io.stop();
    });
    (*server)->whenDrained([&] {
      asio::post(io, [&] {
        grace.cancel();
        io.stop();
      });
    });
  });
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < config.api.threads; ++i) {
    threads.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : threads) {
    t.join();
  }
  (*registry)->setOnPublish(nullptr);
  reconciler->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"transit-hubd: Transit Hub daemon (IPsec + BGP transit hub with a REST API)"};
  std::string config_path;
  bool check = false;
  app.add_option("-c,--config", config_path, "YAML configuration file")->required();
  app.add_flag("--check", check, "validate the configuration and exit (0 when valid)");
  app.set_version_flag("--version", std::string("transit-hubd ") + TRANSIT_HUB_VERSION);
  CLI11_PARSE(app, argc, argv);

  auto config = hub::loadConfig(config_path);
  if (!config) {
    fmt::print(stderr, "transit-hubd: {}: {}\n", config_path, config.error().toString());
    return kExitConfig;
  }
  if (check) {
    fmt::print("transit-hubd: {}: configuration is valid (hub {}, {} listener(s), {} token(s))\n",
               config_path, config->hub.name, config->api.listen.size(), config->api.tokens.size());
    return 0;
  }
  return run(*config);
}
