// ForwardingFilter: the hub's forwarding plane, as the hub asks for it: segment isolation and
// the TCP MSS clamp on the XFRM tunnel links.
//
// BIRD's export filters already keep segments apart in routing; a ForwardingFilter makes the
// kernel drop forwarded packets between segments that may not reach each other, so a spoke that
// adds a route by hand still cannot reach a segment it is not allowed to. It also clamps the TCP
// MSS of traffic through the hub's XFRM links (ipsecN), whose MTU is below the underlay's. The
// hub's planner computes the ForwardingPolicy (hub/core/planner.hpp: planForwarding); the
// nftables filter (routing/nft/nft_filter.hpp) and its dry-run make the kernel match it.
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

// The TCP MSS clamp: SYNs through `links` (both directions, and the hub's own on the way out)
// get at most `mss`. No links: no clamp.
struct MssClamp {
  std::set<std::string> links;  // device names, e.g. "ipsec7"
  std::uint32_t mss = 0;        // bytes; 0 only when there are no links

  bool operator==(const MssClamp&) const = default;
};

struct ForwardingPolicy {
  // segment -> the declared CIDRs of its spokes (sorted, deduplicated); only segments that
  // appear in at least one isolated pair.
  std::map<std::string, std::vector<Ipv4Prefix>> segment_cidrs;
  // ordered pairs (from, to) of segments whose traffic is dropped, both directions listed.
  std::set<std::pair<std::string, std::string>> isolated;
  // The MSS clamp on the hub's XFRM tunnel links (empty with externally made links).
  MssClamp mss_clamp;

  bool operator==(const ForwardingPolicy&) const = default;
};

class ForwardingFilter {
 public:
  virtual ~ForwardingFilter() = default;
  // Makes the kernel drop exactly the isolated pairs' traffic and clamp exactly
  // policy.mss_clamp. Idempotent.
  virtual std::expected<void, DriverError> apply(const ForwardingPolicy& policy) = 0;
  // The packets the segment table's rules dropped since it was last loaded, or nullopt when the
  // table does not exist. A table the last apply() loaded that has gone missing is loaded again by
  // the next apply().
  virtual std::expected<std::optional<std::uint64_t>, DriverError> observe() = 0;
};

}  // namespace transit::routing
