#include "hub/daemon/readiness.hpp"

#include <fmt/format.h>

#include <chrono>

#include "peers/model/spoke_json.hpp"

namespace transit::hub {

void addReadinessChecks(Health& health, const Registry& registry, const Reconciler& reconciler,
                        const std::atomic<bool>& serving) {
  health.add("store", [&registry] {
    if (const auto view = registry.storeView(); !view.current) {
      const auto since = view.since.value_or(std::chrono::system_clock::time_point{});
      return Health::Status{
          false, fmt::format("stale since {}{}: {}",
                             peers::formatTimestamp(
                                 std::chrono::time_point_cast<std::chrono::seconds>(since)),
                             view.loaded ? "" : " (never loaded)", view.reason)};
    }
    const auto status = registry.storeHealth();
    return Health::Status{status.ok, status.problem};
  });
  health.add("drivers", [&reconciler] {
    const auto status = reconciler.status();
    std::string reason;
    if (!status->pluto.up) reason = "pluto: " + status->pluto.error;
    if (!status->bird.up) reason += (reason.empty() ? "" : "; ") + ("BIRD: " + status->bird.error);
    // The hub cannot make the link to the other hub: nothing it hands over would arrive.
    if (status->pair && status->pair->link.state == ObjectState::kError) {
      reason += (reason.empty() ? "" : "; ") + ("pair link: " + status->pair->link.last_error);
    }
    return Health::Status{reason.empty(), reason};
  });
  health.add("initial_sync", [&reconciler, &serving] {
    const bool done = serving.load() && reconciler.status()->initial_sync_done;
    return Health::Status{done, done ? "" : "the initial sync has not finished"};
  });
}

}  // namespace transit::hub
