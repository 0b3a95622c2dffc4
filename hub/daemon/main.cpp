// transit-hubd: lifetime and signals. Builds the store, the registry, the drivers
// (drivers.hpp), the reconciler, the metrics registry, the io_context and the HTTP server from
// the configuration (wiring.hpp maps each key to its option), serves until SIGINT/SIGTERM and
// shuts down in order.
//
//   transit-hubd --config FILE           run the hub
//   transit-hubd --check --config FILE   validate the configuration and exit (0 when valid)
//   transit-hubd --migrate-store --from-sqlite DB --config FILE
//                                        copy a single hub's SQLite registry into the etcd
//                                        store FILE names (migrate_store.hpp), then exit
//   transit-hubd --bootstrap USER_DATA --config FILE
//                                        first boot: write FILE from the cloud-init user data,
//                                        asking the instance metadata for what it leaves out
//                                        (bootstrap.hpp), then exit (0; 2: fix the input; 1: the
//                                        metadata or a file failed)
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "http/api.hpp"
#include "http/api_metrics.hpp"
#include "http/auth.hpp"
#include "http/server.hpp"
#include "hub/config/config.hpp"
#include "hub/core/clock.hpp"
#include "hub/core/reconciler.hpp"
#include "hub/core/registry.hpp"
#include "hub/daemon/bootstrap.hpp"
#include "hub/daemon/drivers.hpp"
#include "hub/daemon/imds.hpp"
#include "hub/daemon/migrate_store.hpp"
#include "hub/daemon/readiness.hpp"
#include "hub/daemon/self_signed.hpp"
#include "hub/daemon/shutdown.hpp"
#include "hub/daemon/store_factory.hpp"
#include "hub/daemon/wiring.hpp"
#include "hub/metrics/hub_metrics.hpp"
#include "hub/metrics/reconciler_metrics.hpp"
#include "hub/store/sqlite/sqlite_store.hpp"

namespace {

using namespace transit;
namespace asio = boost::asio;

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;
constexpr auto kShutdownGrace = std::chrono::seconds(10);

// Descriptors the hub needs besides its API connections: the store, the daemons' sockets, the
// log, pipes for commands.
constexpr rlim_t kReservedDescriptors = 256;

// The API's connection limit, after making room for it: the soft open-file limit is raised to
// fit (up to the hard limit); when it cannot be, the limit is lowered to what fits, with a
// warning, so the hub refuses connections cleanly instead of failing to accept them.
std::size_t fitConnectionLimit(std::size_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  const rlim_t needed = static_cast<rlim_t>(wanted) + kReservedDescriptors;
  if (limit.rlim_cur < needed) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    const std::size_t fits =
        limit.rlim_cur > 2 * kReservedDescriptors ? limit.rlim_cur - kReservedDescriptors : 16;
    spdlog::warn(
        "api.max_connections {} needs {} open files and the limit is {}: serving at most {} "
        "connections (raise LimitNOFILE)",
        wanted, needed, limit.rlim_cur, fits);
    return std::min(wanted, fits);
  }
  return wanted;
}

int run(const hub::Config& config) {
  ::umask(0077);  // every file the hub creates (store, rendered secrets) is private
  auto logger = spdlog::stderr_color_mt("transit-hubd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(hub::logLevel(config.log.level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  // Declared first so it is destroyed last: the registry's writer posts answers into it.
  asio::io_context io(static_cast<int>(config.api.threads));

  auto store = hub::openStore(config);
  if (!store) {
    spdlog::critical("{}", store.error());
    return kExitRuntime;
  }
  auto metrics_registry = std::make_shared<prometheus::Registry>();
  hub::HubMetrics hub_metrics(*metrics_registry, TRANSIT_HUB_VERSION);
  hub::SystemClock clock;

  auto registry = hub::Registry::create(**store, clock, &hub_metrics, hub::registryOptions(config));
  if (!registry) {
    spdlog::critical("cannot start: {}", registry.error().message);
    return kExitRuntime;
  }
  const auto initial = (*registry)->snapshot();
  if (initial->loaded) {
    spdlog::info("loaded {} spoke(s) from {} (revision {})", initial->spokes.size(),
                 (*store)->describe(), initial->revision);
  } else {
    // Serve /healthz and /readyz (not ready) and retry; pluto and BIRD keep what they run.
    spdlog::warn("the store {} cannot be read yet ({}); nothing is reconciled until it is",
                 (*store)->describe(), (*registry)->storeView().reason);
  }

  // The drivers (live, or dry-run into drivers.dry_run_dir) and the reconciler that makes the
  // daemons match the registry.
  auto drivers = hub::makeDrivers(config);
  if (!drivers) {
    spdlog::critical("{}", drivers.error());
    return kExitRuntime;
  }
  auto reconciler_metrics = std::make_unique<hub::ReconcilerMetrics>(*metrics_registry);
  auto reconciler = std::make_unique<hub::Reconciler>(
      **registry, *drivers->tunnel, *drivers->routing, drivers->forwarding.get(), clock,
      reconciler_metrics.get(), hub::reconcilerOptions(config), drivers->pair_link.get());
  // The reconciler starts from the first loaded state: a hub started while the store is down
  // must not make pluto and BIRD match "no spokes" (that would tear every tunnel down).
  std::mutex reconciler_mutex;
  bool reconciler_started = false;  // guarded by reconciler_mutex
  auto startReconciler = [&](const hub::DesiredState& state) {
    std::lock_guard lock(reconciler_mutex);
    if (reconciler_started) {
      reconciler->wake();
    } else if (state.loaded) {
      reconciler->start();
      reconciler_started = true;
    }
  };
  auto reconciler_subscription = (*registry)->subscribe(
      [&startReconciler](const auto& state, auto) { startReconciler(*state); });
  startReconciler(*(*registry)->snapshot());

  // Readiness: the store takes writes, the daemons answer, and a first full pass has run.
  std::atomic<bool> serving{false};
  hub::Health health;
  hub::addReadinessChecks(health, **registry, *reconciler, serving);

  http::ApiMetrics api_metrics(*metrics_registry);
  http::Api api(
      http::HandlerContext{
          .registry = **registry,
          .health = health,
          .metrics = *metrics_registry,
          .clock = clock,
          .hub = hub::hubInfo(config, TRANSIT_HUB_VERSION),
          .reconcile_status = [r = reconciler.get()] { return r->status(); },
      },
      http::TokenAuth(config.api.tokens), api_metrics);

  auto server =
      http::Server::create(io, api, hub::listeners(config), config.api.tls,
                           {.max_connections = fitConnectionLimit(config.api.max_connections)});
  if (!server) {
    spdlog::critical("{}", server.error());
    return kExitRuntime;
  }
  (*server)->start();
  for (const auto& endpoint : (*server)->endpoints()) {
    // Printed whatever the log level: scripts and tests read the bound port from this line.
    fmt::print(stderr, "transit-hubd: listening on {} ({})\n", hub::endpointText(endpoint),
               config.api.tls ? "https" : "http");
  }
  std::fflush(stderr);
  serving = true;
  sd_notifyf(0, "READY=1\nSTATUS=serving %zu spoke(s)", initial->spokes.size());

  hub::serveUntilSignal(io, **server, config.api.threads, kShutdownGrace);
  reconciler_subscription.reset();
  reconciler->stop();
  spdlog::info("stopped");
  return 0;
}

// --migrate-store: the SQLite file is opened read-only (never modified); etcd is the store the
// configuration names. Prints what it copied on stdout (names and counts, never a PSK).
int migrate(const hub::Config& config, const std::string& sqlite_path) {
  auto logger = spdlog::stderr_color_mt("transit-hubd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);
  if (!config.store.etcd) {
    fmt::print(stderr,
               "transit-hubd: --migrate-store: the configuration's store is not etcd (set "
               "store.etcd to the etcd the hubs will share)\n");
    return kExitConfig;
  }
  hub::SqliteStoreOptions read_only;
  read_only.read_only = true;
  read_only.hub_name = config.hub.name;  // records older than tunnels' hubs are this hub's
  auto from = hub::SqliteStore::open(sqlite_path, read_only);
  if (!from) {
    fmt::print(stderr, "transit-hubd: --migrate-store: cannot open {} read-only: {}\n", sqlite_path,
               from.error().message);
    return kExitRuntime;
  }
  auto to = hub::openStore(config);
  if (!to) {
    fmt::print(stderr, "transit-hubd: --migrate-store: {}\n", to.error());
    return kExitRuntime;
  }
  auto report = hub::migrateStore(**from, **to);
  if (!report) {
    fmt::print(stderr, "transit-hubd: --migrate-store: {}\n", report.error());
    return kExitRuntime;
  }
  fmt::print("transit-hubd: {}\n", hub::describeMigration(*report, **from, **to));
  return 0;
}

// --bootstrap: the real instance metadata client and certificate maker; one line on stdout
// (what was written) or on stderr (why nothing was).
int bootstrap(const std::string& user_data, const std::string& out) {
  auto logger = spdlog::stderr_color_mt("transit-hubd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto imds_options = hub::imdsOptionsFromEnvironment();
  if (!imds_options) {
    fmt::print(stderr, "transit-hubd: bootstrap: {}\n", imds_options.error());
    return kExitConfig;
  }
  hub::SystemClock clock;
  hub::ImdsClient imds(*imds_options, clock,
                       [](std::chrono::milliseconds pause) { std::this_thread::sleep_for(pause); });
  const hub::BootstrapDeps deps{
      .metadata = [&imds](std::string_view item) { return imds.get(item); },
      .certificate =
          [&clock](const std::filesystem::path& dir, const hub::SelfSignedRequest& request) {
            return hub::ensureSelfSignedFiles(dir, request, clock.now());
          },
  };
  auto report = hub::runBootstrap(user_data, out, deps);
  if (!report) {
    fmt::print(stderr, "transit-hubd: bootstrap: {}\n", report.error().message);
    return report.error().kind == hub::BootstrapError::Kind::kInvalid ? kExitConfig : kExitRuntime;
  }
  fmt::print("transit-hubd: bootstrap: {}\n", report->summary());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"transit-hubd: Transit Hub daemon (IPsec + BGP transit hub with a REST API)"};
  std::string config_path;
  bool check = false;
  app.add_option("-c,--config", config_path, "YAML configuration file")->required();
  app.add_flag("--check", check, "validate the configuration and exit (0 when valid)");
  bool migrate_store = false;
  std::string from_sqlite;
  auto* migrate_flag = app.add_flag(
      "--migrate-store", migrate_store,
      "copy every spoke of the SQLite registry --from-sqlite into the etcd store the "
      "configuration names (store.etcd), keeping generations, route tags, inside /30s, PSKs and "
      "times, then exit; the SQLite file is only read. Refuses, writing nothing, if etcd already "
      "holds a spoke that differs; a re-run after a complete migration says \"already migrated\" "
      "and exits 0");
  app.add_option("--from-sqlite", from_sqlite,
                 "the SQLite database to migrate (with --migrate-store)")
      ->needs(migrate_flag);
  migrate_flag->excludes("--check");
  std::string bootstrap_user_data;
  auto* bootstrap_option =
      app.add_option("--bootstrap", bootstrap_user_data,
                     "first boot: write the --config file from this cloud-init user data (the "
                     "configuration's schema; hub.public_ip and hub.local_ip may be left out and "
                     "are then asked from the EC2 instance metadata; api.tls may be self-signed), "
                     "then exit. Refuses, writing nothing, if the --config file exists or the "
                     "result is not a valid configuration");
  bootstrap_option->type_name("USER_DATA");
  bootstrap_option->excludes("--check");
  bootstrap_option->excludes(migrate_flag);
  app.set_version_flag("--version", std::string("transit-hubd ") + TRANSIT_HUB_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (migrate_store && from_sqlite.empty()) {
    fmt::print(stderr, "transit-hubd: --migrate-store needs --from-sqlite PATH\n");
    return kExitConfig;
  }
  if (*bootstrap_option) return bootstrap(bootstrap_user_data, config_path);
  auto config = hub::loadConfig(config_path);
  if (!config) {
    fmt::print(stderr, "transit-hubd: {}: {}\n", config_path, config.error().toString());
    return kExitConfig;
  }
  if (migrate_store) return migrate(*config, from_sqlite);
  if (check) {
    fmt::print("transit-hubd: {}: configuration is valid (hub {}, {} listener(s), {} token(s))\n",
               config_path, config->hub.name, config->api.listen.size(), config->api.tokens.size());
    return 0;
  }
  return run(*config);
}
