// RoutingDriver: makes the BGP daemon's sessions and policy match a RoutingSpec.
//
// The hub owns one include file of the daemon's configuration and nothing else; protocols
// defined elsewhere are left alone. apply() replaces the whole file safely (write atomically,
// check, configure with a timeout, verify, confirm or undo). Called only from the reconciler's
// thread; calls block for a bounded time.
//
// Implementations: BirdDriver (routing/bird/bird_driver.hpp); tests/fakes has an in-memory one.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "routing/base/driver_error.hpp"
#include "routing/base/prefix.hpp"

namespace transit::routing {

// One BGP session over one tunnel's inside /30.
struct BgpSessionSpec {
  std::string name;              // protocol name: hub prefix + spoke + "_" + index (a-z0-9_)
  std::string spoke;             // routes learned here belong to this spoke
  std::uint32_t spoke_tag = 0;   // the spoke's route tag (kSpokeTagKind), from 1
  int index = 1;                 // tunnel 1 or 2
  Ipv4Address local_address;     // the hub's inside address
  Ipv4Address neighbor_address;  // the spoke's inside address
  std::uint32_t neighbor_as = 0;
  std::vector<Ipv4Prefix> accepted;   // import only prefixes inside these (the spoke's CIDRs)
  std::uint32_t import_limit = 1000;  // more accepted routes than this restarts the session
  std::uint32_t hold_time = 30;       // AWS: 30 s hold, 10 s keepalive
  std::uint32_t keepalive = 10;

  // Export policy (what this spoke is sent).
  std::string segment = "default";  // the spoke's segment (routes learned here are tagged so)
  // Segments whose routes this spoke may receive (its own segment included when allowed). Routes
  // of the spoke itself are never sent back to it, whatever its segment.
  std::vector<std::string> export_segments;
  // When set, the spoke is sent exactly these prefixes (the summaries the hub computed under
  // export_limit) instead of the routes themselves; the hub originates them (RoutingSpec::
  // summaries). Unset: the routes of export_segments' spokes, unchanged.
  std::optional<std::vector<Ipv4Prefix>> export_only;
  // A safety net: never more routes than this go out on the session (AWS drops a VGW's session
  // above 100); routes beyond it are held back, the session stays up.
  std::uint32_t export_limit = 100;
  std::uint32_t prepend = 0;         // extra copies of the hub's ASN on every exported path
  std::optional<std::uint32_t> med;  // MED on every exported route
  // BFD on the session (a site that asks for it; AWS VGWs do not speak BFD): a dead tunnel is
  // seen within BFD's detection time instead of the hold time.
  bool bfd = false;

  bool operator==(const BgpSessionSpec&) const = default;
};

// A spoke with `routing: static`: the hub routes its CIDRs over its tunnels (ECMP) and
// redistributes them to the other spokes as its own routes.
struct StaticSpokeSpec {
  std::string name;  // protocol name: hub prefix + spoke + "_static" (a-z0-9_)
  std::string spoke;
  std::uint32_t spoke_tag = 0;  // the spoke's route tag (kSpokeTagKind), from 1
  std::string segment = "default";
  std::vector<Ipv4Prefix> cidrs;       // the spoke's CIDRs
  std::vector<Ipv4Address> next_hops;  // the spoke's inside addresses of the usable tunnels
  bool operator==(const StaticSpokeSpec&) const = default;
};

// The iBGP session with the other hub of the pair, over the link between the two (a VXLAN
// device both hubs own, so the next hop is directly connected and the VPC's router, which knows
// no spoke prefix, never sees a packet addressed to a spoke). Both hubs have the same AS.
struct PeerHubSpec {
  std::string name;              // protocol name: hub prefix + "pair" (a-z0-9_)
  std::string hub;               // the other hub's name (for comments and logs)
  std::string interface;         // the link's device ("th-pair"): BFD runs on it
  Ipv4Address local_address;     // this hub's address on the link
  Ipv4Address neighbor_address;  // the other hub's address on the link
  std::uint32_t hold_time = 9;   // BFD sees a dead peer first; the hold time is the fallback
  std::uint32_t keepalive = 3;
  std::uint32_t bfd_interval_ms = 200;  // BFD's min rx and tx interval
  std::uint32_t bfd_multiplier = 3;
  // Every spoke of the registry by route tag, those with no tunnel on this hub too. A route
  // learned from the other hub is re-tagged with this file's segment id from its spoke tag
  // (segment ids differ between hubs); a route with no tag of this map is refused.
  struct Spoke {
    std::string name;
    std::string segment;
    bool operator==(const Spoke&) const = default;
  };
  std::map<std::uint32_t, Spoke> spokes;
  bool operator==(const PeerHubSpec&) const = default;
};

struct RoutingSpec {
  std::uint32_t local_as = 0;
  Ipv4Address router_id;
  std::vector<BgpSessionSpec> sessions;  // sorted by name
  std::vector<StaticSpokeSpec> statics;  // sorted by name
  // Every summary some session's export_only names: originated by the hub as unreachable routes
  // (so traffic to covered but unrouted space stops at the hub) with a preference below every
  // learned route, so a summary equal to a real route never displaces it. Sorted, unique.
  std::vector<Ipv4Prefix> summaries;
  std::optional<PeerHubSpec> peer_hub;  // the HA pair's iBGP session; none on a single hub
  bool operator==(const RoutingSpec&) const = default;
};

struct ObservedSession {
  std::string name;
  std::string protocol_state;  // BIRD's protocol state: up, start, down, ...
  std::string bgp_state;       // Established, Active, Connect, Idle, ...
  bool established = false;
  std::string last_error;  // e.g. "Route limit exceeded"
  std::uint32_t routes_imported = 0;
  std::uint32_t routes_filtered = 0;
  std::uint32_t routes_exported = 0;
};

// A BGP large community (RFC 8092): (global administrator, local data 1, local data 2).
struct LargeCommunity {
  std::uint32_t global = 0;
  std::uint32_t data1 = 0;
  std::uint32_t data2 = 0;
  auto operator<=>(const LargeCommunity&) const = default;
};

// The hub tags every route it learns from a spoke, on import, with the large community
// (local AS, kSpokeTagKind, spoke tag) (routing/bird/bird_render.cpp): the spoke's route_tag,
// allocated by the registry once per spoke and the same on every hub that shares the store. The
// tag is stamped before the import filter decides, so a route it refuses (kept for reporting)
// carries it too. Routes are attributed to spokes by this tag alone: a route learned from the
// other hub over iBGP names its spoke the same way as one learned from the spoke.
inline constexpr std::uint32_t kSpokeTagKind = 2;

// Spoke tag -> spoke name, for the routes of a daemon that runs `spec` (see kSpokeTagKind).
inline std::map<std::uint32_t, std::string> spokeTagIds(const RoutingSpec& spec) {
  std::map<std::uint32_t, std::string> ids;
  for (const auto& session : spec.sessions) ids.emplace(session.spoke_tag, session.spoke);
  for (const auto& spoke : spec.statics) ids.emplace(spoke.spoke_tag, spoke.spoke);
  if (spec.peer_hub) {
    for (const auto& [tag, spoke] : spec.peer_hub->spokes) ids.emplace(tag, spoke.name);
  }
  return ids;
}

// One route in the daemon's table, as the hub's protocols learned or originated it.
struct ObservedRoute {
  Ipv4Prefix prefix;
  std::string protocol;                // the protocol it came from ("th_vpc_a_1")
  bool primary = false;                // selected as the best route for the prefix
  bool filtered = false;               // refused by the import filter (kept for reporting)
  std::vector<std::uint32_t> as_path;  // as received (BGP routes), first AS first
  std::optional<std::uint32_t> med;
  std::vector<Ipv4Address> next_hops;  // gateways (two for ECMP)
  // BGP.large_community as the daemon stores it: for a route learned from a spoke (accepted or
  // refused), the hub's own spoke and segment tags among them (kSpokeTagKind).
  std::vector<LargeCommunity> large_communities;
  bool operator==(const ObservedRoute&) const = default;
};

struct RoutingObservation {
  std::string daemon_instance;            // changes when the daemon restarts (its start time)
  std::vector<ObservedSession> sessions;  // only the hub's protocols
  // Routes of the hub's protocols (BGP sessions and static spokes; not the summaries), the
  // filtered ones included, sorted by prefix then protocol.
  std::vector<ObservedRoute> routes;
  // Set when the routes could not be read (the sessions were): `routes` is then empty and the
  // reconciler keeps planning from the routes it saw last.
  std::optional<std::string> routes_error;
};

class RoutingDriver {
 public:
  virtual ~RoutingDriver() = default;
  virtual std::expected<void, DriverError> apply(const RoutingSpec& spec) = 0;
  virtual std::expected<RoutingObservation, DriverError> observe() = 0;
};

}  // namespace transit::routing
