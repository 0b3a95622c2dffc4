// ForwardingFilter: segment isolation in the hub's forwarding plane, as the hub asks for it.
//
// BIRD's export filters already keep segments apart in routing; a ForwardingFilter makes the
// kernel drop forwarded packets between segments that may not reach each other, so a spoke that
// adds a route by hand still cannot reach a segment it is not allowed to. The hub's planner
// computes the ForwardingPolicy (hub/core/planner.hpp: planForwarding); the nftables filter
// (routing/nft/nft_filter.hpp) and its dry-run make the kernel match it.
//
// Threads: apply() and observe() are called by the reconciler's thread.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "routing/base/driver_error.hpp"
#include "routing/base/prefix.hpp"

namespace transit::routing {

struct ForwardingPolicy {
  // segment -> the declared CIDRs of its spokes (sorted, deduplicated); only segments that
  // appear in at least one isolated pair.
  std::map<std::string, std::vector<Ipv4Prefix>> segment_cidrs;
  // ordered pairs (from, to) of segments whose traffic is dropped, both directions listed.
  std::set<std::pair<std::string, std::string>> isolated;

  bool operator==(const ForwardingPolicy&) const = default;
};

class ForwardingFilter {
 public:
  virtual ~ForwardingFilter() = default;
  // Makes the kernel drop exactly the isolated pairs' traffic. Idempotent.
  virtual std::expected<void, DriverError> apply(const ForwardingPolicy& policy) = 0;
  // The packets the table's rules dropped since it was last loaded, or nullopt when the table
  // does not exist. A table the last apply() loaded that has gone missing is loaded again by the
  // next apply().
  virtual std::expected<std::optional<std::uint64_t>, DriverError> observe() = 0;
};

}  // namespace transit::routing
