#include "routing/bird/bird_driver.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "routing/bird/bird_routes.hpp"

namespace transit::routing {
namespace {

// "2026-11-26 08:00:18.927" -> milliseconds since the epoch (UTC reading; only differences matter).
std::optional<long long> parseBirdTime(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d-%d-%d %d:%d:%d.%d", &y, &mo, &d, &h, &mi, &sec, &ms) != 7) {
    return std::nullopt;
  }
  const auto days =
      std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(static_cast<unsigned>(mo)) /
                            std::chrono::day(static_cast<unsigned>(d)));
  return (days.time_since_epoch().count() * 86400LL + h * 3600LL + mi * 60LL + sec) * 1000LL + ms;
}

constexpr int kConfigOk = 20;  // configure check: "Configuration OK"
constexpr int kReconfigured = 3;
constexpr int kReconfiguring = 4;   // success; protocols restart asynchronously
constexpr int kReconfigQueued = 5;  // success; queued behind a running reconfiguration
constexpr int kConfirmed = 18;
constexpr int kConfigFileError = 8002;

DriverError transient(std::string message) {
  return DriverError{DriverError::Kind::kTransient, std::move(message)};
}

// A configure reply that is not the expected success: 8002 means BIRD refused our file.
DriverError classify(const BirdReply& reply, std::string_view what) {
  if (reply.code == kConfigFileError) {
    return DriverError{DriverError::Kind::kInvalid,
                       fmt::format("BIRD refused the configuration: {}", reply.errorText())};
  }
  std::string text = reply.lines.empty() ? std::string() : reply.lines.back().text;
  return transient(fmt::format("{}: BIRD answered {} {}", what, reply.code, text));
}

}  // namespace

BirdDriver::BirdDriver(BirdOptions options)
    : options_(std::move(options)),
      owned_channel_(std::make_unique<BirdClient>(BirdClientOptions{
          options_.socket_path, options_.command_timeout, options_.command_timeout})),
      channel_(*owned_channel_) {}

BirdDriver::BirdDriver(BirdOptions options, BirdChannel& channel)
    : options_(std::move(options)), channel_(channel) {}

std::expected<BirdReply, DriverError> BirdDriver::run(std::string_view command) {
  return channel_.command(command);
}

std::expected<std::vector<BirdProtocol>, DriverError> BirdDriver::ownedProtocols() {
  auto reply = run(fmt::format("show protocols \"{}*\"", options_.protocol_prefix));
  if (!reply) return std::unexpected(reply.error());
  auto protocols = parseShowProtocols(*reply);
  if (!protocols) return std::unexpected(transient(protocols.error()));
  std::erase_if(*protocols, [&](const BirdProtocol& protocol) {
    return protocol.name.compare(0, options_.protocol_prefix.size(), options_.protocol_prefix) != 0;
  });
  return std::move(*protocols);
}

std::expected<void, DriverError> BirdDriver::apply(const RoutingSpec& spec) {
  auto text = renderInclude(spec, options_);
  if (!text) return std::unexpected(text.error());
  const auto previous = readWholeFile(options_.include_path);

  if (previous && *previous == *text) {
    auto running = ownedProtocols();
    if (!running) return std::unexpected(running.error());
    std::set<std::string> have;
    for (const auto& protocol : *running) have.insert(protocol.name);
    std::set<std::string> want;
    for (const auto& session : spec.sessions) want.insert(session.name);
    for (const auto& route : spec.statics) want.insert(route.name);
    if (!spec.summaries.empty()) want.insert(options_.protocol_prefix + "summaries");
    if (have == want) return {};
  }

  if (auto written = writeFileAtomically(options_.include_path, *text); !written) {
    return std::unexpected(transient(written.error()));
  }
  auto result = reconfigure(spec);
  if (!result) {
    // BIRD still runs the old configuration (refused, undone, or undone by its timeout);
    // put the old file back so a BIRD restart reads what is running.
    if (previous) {
      (void)writeFileAtomically(options_.include_path, *previous);
    } else {
      ::unlink(options_.include_path.c_str());
    }
  }
  return result;
}

std::expected<void, DriverError> BirdDriver::reconfigure(const RoutingSpec& spec) {
  const auto& main = options_.main_config_path;
  auto check = run(fmt::format("configure check \"{}\"", main));
  if (!check) return std::unexpected(check.error());
  if (check->code != kConfigOk) return std::unexpected(classify(*check, "configure check"));

  auto configure = run(fmt::format("configure \"{}\" timeout {}", main,
                                   std::max<long long>(1, options_.configure_timeout.count())));
  if (!configure) return std::unexpected(configure.error());  // BIRD's timeout undoes it
  if (configure->code != kReconfigured && configure->code != kReconfiguring &&
      configure->code != kReconfigQueued) {
    return std::unexpected(classify(*configure, "configure"));
  }

  auto undo = [&](DriverError error) -> std::expected<void, DriverError> {
    (void)run("configure undo");
    return std::unexpected(std::move(error));
  };
  auto running = ownedProtocols();
  if (!running) return undo(running.error());
  for (const auto& session : spec.sessions) {
    const bool found = std::any_of(running->begin(), running->end(),
                                   [&](const BirdProtocol& p) { return p.name == session.name; });
    if (!found) {
      return undo(transient(fmt::format("protocol {} missing after configure", session.name)));
    }
  }
  auto confirm = run("configure confirm");
  if (!confirm) return undo(confirm.error());
  if (confirm->code != kConfirmed) return undo(classify(*confirm, "configure confirm"));
  return {};
}

// BIRD prints its boot time by converting a monotonic stamp to wall time on every call, so the
// text jitters by a millisecond. A boot time within a second of the one seen before is the same
// daemon; only a real restart (a new boot time) changes the identity the reconciler sees.
std::string BirdDriver::stableInstance(const std::string& last_reboot) {
  const auto parsed = parseBirdTime(last_reboot);
  if (parsed && last_instance_ms_ && std::llabs(*parsed - *last_instance_ms_) <= 1000) {
    return last_instance_;
  }
  last_instance_ = last_reboot;
  last_instance_ms_ = parsed;
  return last_instance_;
}

std::expected<std::vector<ObservedRoute>, std::string> BirdDriver::observeRoutes() {
  const auto& prefix = options_.protocol_prefix;
  std::vector<ObservedRoute> routes;
  std::size_t skipped = 0;
  for (const bool filtered : {false, true}) {
    const auto command =
        fmt::format("show route {}all where proto ~ \"{}*\"", filtered ? "filtered " : "", prefix);
    auto reply = run(command);
    if (!reply) return std::unexpected(fmt::format("{}: {}", command, reply.error().message));
    auto parsed = parseShowRouteAll(*reply, filtered);
    if (!parsed) return std::unexpected(fmt::format("{}: {}", command, parsed.error()));
    skipped += parsed->skipped;
    routes.insert(routes.end(), std::make_move_iterator(parsed->routes.begin()),
                  std::make_move_iterator(parsed->routes.end()));
  }
  if (skipped != last_routes_skipped_ && skipped > 0) {
    spdlog::warn("BIRD routes: {} route entries could not be parsed and were left out", skipped);
  }
  last_routes_skipped_ = skipped;

  // The summaries are the hub's own output, not an observation.
  const auto summaries = prefix + "summaries";
  std::erase_if(routes, [&](const ObservedRoute& route) {
    return route.protocol == summaries || route.protocol.compare(0, prefix.size(), prefix) != 0;
  });
  std::sort(routes.begin(), routes.end(), [](const ObservedRoute& a, const ObservedRoute& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (a.protocol != b.protocol) return a.protocol < b.protocol;
    return a.filtered < b.filtered;
  });
  return routes;
}

std::expected<RoutingObservation, DriverError> BirdDriver::observe() {
  auto status_reply = run("show status");
  if (!status_reply) return std::unexpected(status_reply.error());
  auto status = parseShowStatus(*status_reply);
  if (!status) return std::unexpected(transient(status.error()));

  auto all = run(fmt::format("show protocols all \"{}*\"", options_.protocol_prefix));
  if (!all) return std::unexpected(all.error());
  auto sessions = parseShowProtocolsAll(*all, options_.protocol_prefix);
  if (!sessions) return std::unexpected(transient(sessions.error()));

  RoutingObservation observation;
  observation.daemon_instance = stableInstance(status->last_reboot);
  observation.sessions = std::move(*sessions);
  std::sort(observation.sessions.begin(), observation.sessions.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });

  // Routes are a best effort: the sessions above are what the reconciler acts on.
  if (auto routes = observeRoutes()) {
    if (!last_route_error_.empty()) spdlog::info("BIRD routes can be read again");
    last_route_error_.clear();
    observation.routes = std::move(*routes);
  } else {
    ++route_query_failures_;
    if (routes.error() != last_route_error_) {
      spdlog::warn("BIRD routes not observed: {}", routes.error());
      last_route_error_ = routes.error();
    }
    observation.routes_error = routes.error();
  }
  return observation;
}

}  // namespace transit::routing
