// Route conflicts: routes a spoke announced into another spoke's declared address space.
//
// Owns: nothing; pure functions over the desired state and the routes BIRD reports. Called by
// the HTTP handlers (GET /v1/routes, GET /v1/conflicts) and by ReconcilerMetrics after each pass;
// any thread.
//
// Each BGP session accepts only prefixes inside its own spoke's CIDRs, so a route that another
// spoke's CIDR owns arrives filtered: BIRD keeps it (for reporting) but never uses it. A conflict
// is such a filtered route of spoke X that overlaps a declared CIDR of another spoke Y; the
// resolution is always the same: X's announcement is refused and Y's routes are used.
//
// Which spoke a route belongs to comes from its protocol's name, as the planner derives it
// (sessionName and staticName in hub/core/planner.hpp) from the desired state.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hub/core/planner.hpp"
#include "hub/core/registry.hpp"
#include "routing/base/prefix.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::hub {

// The spoke a protocol of the hub belongs to.
struct RouteOwner {
  std::string spoke;
  std::optional<int> tunnel;  // 1 or 2 for a BGP session; none for a static spoke's routes
  bool operator==(const RouteOwner&) const = default;
};

// Protocol name -> owner, for every protocol the planner names for `desired`.
using RouteOwners = std::map<std::string, RouteOwner, std::less<>>;
RouteOwners routeOwners(const DesiredState& desired, const PlanOptions& options);

struct Conflict {
  Ipv4Prefix prefix;  // the refused route
  std::string announced_by;    // the spoke that announced it
  std::vector<int> tunnels;    // over which of its BGP sessions (1, 2), ascending; may be empty
  std::string overlaps_spoke;  // the spoke whose declared CIDR it overlaps
  Ipv4Prefix overlaps_cidr;
  std::string resolution;  // for humans: "refused: inside prod-b's declared CIDR ..."
  bool operator==(const Conflict&) const = default;
};

// Every (filtered prefix, announcing spoke, overlapped CIDR of another spoke), once however many
// of the spoke's sessions carried it, sorted by prefix, then the announcing spoke, then the
// overlapped spoke and CIDR. Routes of protocols that `owners` does not know and routes that
// were not filtered are ignored.
std::vector<Conflict> findConflicts(const DesiredState& desired, const RouteOwners& owners,
                                    std::span<const routing::ObservedRoute> routes);
std::vector<Conflict> findConflicts(const DesiredState& desired, const PlanOptions& options,
                                    std::span<const routing::ObservedRoute> routes);

}  // namespace transit::hub
