// Route conflicts: routes a spoke announced into another spoke's declared address space.
//
// Owns: nothing; a pure function over the desired state and the routes BIRD reports. Called by
// the reconciler once per pass; the conflicts it publishes (ReconcileStatus::conflicts) are what
// GET /v1/conflicts and transit_hub_route_conflicts render. Any thread.
//
// Each BGP session accepts only prefixes inside its own spoke's CIDRs, so a route that another
// spoke's CIDR owns arrives filtered: BIRD keeps it (for reporting) but never uses it. A conflict
// is such a filtered route of spoke X that overlaps a declared CIDR of another spoke Y; the
// resolution is always the same: X's announcement is refused and Y's routes are used.
//
// Which spoke a route belongs to is the planner's RouteOwners (hub/core/planner.hpp).
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

struct Conflict {
  Ipv4Prefix prefix;           // the refused route
  std::string announced_by;    // the spoke that announced it
  std::vector<int> tunnels;    // over which of its BGP sessions (1, 2), ascending; may be empty
  std::string overlaps_spoke;  // the spoke whose declared CIDR it overlaps
  Ipv4Prefix overlaps_cidr;
  std::string resolution;  // for humans: "refused: inside prod-b's declared CIDR ..."
  bool operator==(const Conflict&) const = default;
};

// Every (filtered prefix, announcing spoke, overlapped CIDR of another spoke), once however many
// of the spoke's sessions carried it, sorted by prefix, then the announcing spoke, then the
// overlapped spoke and CIDR. Routes that `owners` attributes to no spoke and routes that were
// not filtered are ignored.
std::vector<Conflict> findConflicts(const DesiredState& desired, const RouteOwners& owners,
                                    std::span<const routing::ObservedRoute> routes);

}  // namespace transit::hub
