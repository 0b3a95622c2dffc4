// BirdDriver: the RoutingDriver for BIRD 2.0.12 over its control socket.
//
// Owns: the hub's include file (BirdOptions::include_path). Talks to BIRD through a BirdChannel:
// the live control socket (a BirdClient it owns, or one injected) or, in dry-run, a
// DryRunBirdChannel, so dry-run runs exactly this logic. Called
// only from the reconciler's thread; each call blocks for a bounded time (command timeouts).
// apply(): render; if the file is unchanged and BIRD runs exactly the spec's protocols, done;
// otherwise write the file atomically, `configure check`, `configure timeout N`, verify with
// `show protocols`, `configure confirm`; on failure `configure undo` and restore the old file.
// observe(): `show status` + `show protocols all "PREFIX*"`, then the routes of the hub's protocols
// (`show route all where proto ~ "PREFIX*"` and the same with `filtered`), the hub's own
// summaries protocol (PREFIX + "summaries") left out. A failed route query does not fail
// observe(): routes stay empty, it is logged at warn once per distinct error and counted in
// routeQueryFailures(). Protocols without the prefix are never touched or reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "routing/base/file_io.hpp"
#include "routing/bird/bird_client.hpp"
#include "routing/bird/bird_render.hpp"
#include "routing/bird/bird_status.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::routing {

class BirdDriver final : public RoutingDriver {
 public:
  // Over a BirdClient of its own on options.socket_path (timeouts: options.command_timeout).
  explicit BirdDriver(BirdOptions options);
  // Over `channel`, which must outlive the driver.
  BirdDriver(BirdOptions options, BirdChannel& channel);

  std::expected<void, DriverError> apply(const RoutingSpec& spec) override;
  std::expected<RoutingObservation, DriverError> observe() override;

  // Observations since construction whose route queries failed or were refused. Each of them
  // sets RoutingObservation::routes_error, which is what the reconciler counts and publishes
  // (ReconcileStatus::bird_route_query_failures, transit_hub_bird_route_query_failures_total).
  std::uint64_t routeQueryFailures() const { return route_query_failures_; }

 private:
  std::expected<BirdReply, DriverError> run(std::string_view command);
  std::expected<std::vector<BirdProtocol>, DriverError> ownedProtocols();
  std::expected<void, DriverError> reconfigure(const RoutingSpec& spec);
  // The routes of the hub's protocols, sorted; an error when either route query failed.
  std::expected<std::vector<ObservedRoute>, std::string> observeRoutes();

  std::string stableInstance(const std::string& last_reboot);

  BirdOptions options_;
  std::unique_ptr<BirdChannel> owned_channel_;  // the BirdClient, when none was injected
  BirdChannel& channel_;
  std::string last_instance_;                  // the identity reported last
  std::optional<long long> last_instance_ms_;  // its boot time, to absorb BIRD's jitter

  std::string last_route_error_;         // logged already; cleared when a query works again
  std::size_t last_routes_skipped_ = 0;  // unparsable route entries logged already
  std::uint64_t route_query_failures_ = 0;
};

}  // namespace transit::routing
