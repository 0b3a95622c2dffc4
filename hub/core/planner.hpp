// Planner: what the daemons should run, computed from the desired state. Pure; any thread.
//
// Every tunnel of a spoke that is this hub's (Tunnel::hub == PlanOptions::hub_name) becomes one
// TunnelSpec (a libreswan connection) and, for BGP spokes, one BgpSessionSpec over the tunnel's
// inside /30; the pair's other hub plans its own. Names are derived so that they are stable
// across restarts of transit-hubd and never collide; <index> is the tunnel's place among this
// hub's tunnels of the spoke (1 or 2, peers::tunnelsOf), so a single hub's names never change:
//   connection  <tunnel_prefix><spoke>-<index>     "th-prod-a-1"   (spoke names use a-z 0-9 -)
//   protocol    <session_prefix><spoke>_<index>    "th_prod_a_1"   ('-' becomes '_'; spoke names
//                                                                   have no '_', so no clashes)
//   XFRM if_id  the /30's position in 169.254.0.0/16 plus 1 (inside /30s are unique on a hub)
//   static      <session_prefix><spoke>_static         "th_prod_a_static" (sessions end in a digit)
//
// plan() composes planTunnels, planRouting and planForwarding; the reconciler calls it once per
// pass with what the daemons reported (RoutePlanInputs).
//
// Routing policy (planRouting): each spoke is sent the routes of the spokes whose segment its
// own segment reaches (never its own), at most its export limit of prefixes; when more must be
// reached, the optimal summaries (routing/policy/summarize.hpp) that never cover its own CIDRs nor
// any CIDR of a spoke it must not reach. A spoke whose preferred hub is another hub gets its paths
// prepended (and a MED). Static spokes are routed over their usable tunnels (ECMP). A spoke
// without a tunnel on this hub gets no session nor static protocol here, but its routes (learned
// from the other hub) count in every export plan.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "hub/core/registry.hpp"
#include "peers/model/tunnel_driver.hpp"
#include "routing/policy/forwarding_filter.hpp"
#include "routing/policy/pair_link.hpp"
#include "routing/policy/routing_driver.hpp"
#include "routing/policy/summarize.hpp"

namespace transit::hub {

struct PlanOptions {
  std::string tunnel_prefix = "th-";
  std::string session_prefix = "th_";
  Ipv4Address local_address;   // the hub's own address (left)
  Ipv4Address public_address;  // the address spokes see (leftid)
  std::uint32_t local_as = 0;
  Ipv4Address router_id;
  peers::TunnelLinks links = peers::TunnelLinks::kXfrm;
  // This hub: it plans only the tunnels that name it; a spoke whose preferred_hub is another
  // name is "not preferred" here.
  std::string hub_name;
  // Segment reachability as configured (routing.segments); made symmetric and reflexive here.
  std::map<std::string, std::vector<std::string>> segments;
  // Never covered by a summary, besides the hub's own two addresses (e.g. the hub's VPC CIDRs).
  std::vector<Ipv4Prefix> reserved;
  std::uint32_t not_preferred_prepend = 2;
  std::optional<std::uint32_t> not_preferred_med = 100;

  // The HA pair (the config's `pair`): the other hub, the link between the two, BFD. Unset: a
  // single hub (no link, no iBGP).
  struct Pair {
    std::string peer_name;      // the other hub's hub.name
    Ipv4Address peer_local_ip;  // its instance address: the far end of the link
    std::uint32_t vni = 4789;
    std::uint16_t port = 4789;
    Ipv4Prefix inside;  // the link's /30: the hub whose name sorts first takes .1
    std::uint32_t mtu = 1450;
    std::string underlay_device;  // empty: the device holding local_address
    std::uint32_t bfd_interval_ms = 200;
    std::uint32_t bfd_multiplier = 3;
  };
  std::optional<Pair> pair;
};

// What one spoke is sent, after summarisation. The API shows it (/v1/spokes/{name}/exports and,
// for static spokes, /static-routes: the routes the operator enters on the AWS side).
struct ExportPlan {
  std::string spoke;
  std::uint32_t limit = 0;                      // the spoke's export limit
  std::size_t must_reach = 0;                   // distinct prefixes the spoke must reach
  bool summarized = false;                      // more than `limit`: summaries are sent instead
  bool within_limit = true;                     // false: even the fewest summaries exceed the limit
  std::uint64_t wasted_addresses = 0;           // covered by summaries but routed nowhere
  std::vector<routing::SummaryEntry> prefixes;  // what is sent; each with the prefixes it covers
};

// The spoke a route belongs to.
struct RouteOwner {
  std::string spoke;
  std::optional<int> tunnel;  // 1 or 2 for a route of a BGP session; none for a static spoke's
  bool operator==(const RouteOwner&) const = default;
};

// Which spoke each route belongs to: the one answer the planner, the conflicts, the API and the
// metrics use (planned once per pass; published in the reconciler's status).
//
// By the spoke's route tag alone: every route a hub learns from a spoke carries the large
// community (local_as, routing::kSpokeTagKind, route tag) (routing/policy/routing_driver.hpp),
// stamped on import before the import filter decides, so refused routes (conflicts) carry it
// too, and a route learned from the other hub over iBGP names its spoke as well as one learned
// from the spoke. The tunnel is known only for a route learned over this hub's own session with
// that spoke (`protocols`). A route without the tag, or with a tag no spoke holds, has no owner.
struct RouteOwners {
  // This hub's sessions and static protocols: protocol name -> spoke and tunnel.
  std::map<std::string, RouteOwner, std::less<>> protocols;
  std::map<std::uint32_t, std::string> spoke_tags;  // route tag -> spoke name
  std::uint32_t local_as = 0;                       // the tags' global administrator

  std::optional<RouteOwner> of(const routing::ObservedRoute& route) const;
  bool operator==(const RouteOwners&) const = default;
};

// The owners for `desired`: every protocol the planner names (sessionName, staticName), and the
// spokes' route tags, those of `running` (the routing configuration the daemon runs, when
// known) winning over the desired state's.
RouteOwners routeOwners(const DesiredState& desired, const PlanOptions& options,
                        const routing::RoutingSpec* running = nullptr);

// What the daemons report that the routing plan depends on.
struct RoutePlanInputs {
  std::span<const routing::ObservedRoute> routes;  // the hub's protocols' routes (BIRD)
  std::set<std::string> usable_tunnels;            // tunnel names with an installed Child SA
  // The routing configuration the daemon runs (the route tags it stamps); none before the hub
  // applied one.
  const routing::RoutingSpec* running = nullptr;
};

// The routing part of a plan: what BIRD runs, what each spoke is sent, who owns each route.
struct RoutingPlan {
  routing::RoutingSpec spec;                  // sessions and statics sorted by name
  std::map<std::string, ExportPlan> exports;  // by spoke name
  RouteOwners owners;                         // the routes of `inputs` were attributed by these
};

struct Plan {
  std::optional<routing::PairLinkSpec> pair_link;  // planPairLink
  std::vector<peers::TunnelSpec> tunnels;          // sorted by name
  routing::RoutingSpec routing;                    // sessions sorted by name
  std::map<std::string, ExportPlan> exports;       // by spoke name
  RouteOwners owners;                              // as RoutingPlan::owners
  routing::ForwardingPolicy forwarding;            // planForwarding
};

// The whole plan, once per pass: planTunnels, planRouting (from `inputs`) and planForwarding.
Plan plan(const DesiredState& desired, const PlanOptions& options,
          const RoutePlanInputs& inputs = {});
// One TunnelSpec per spoke tunnel, sorted by name.
std::vector<peers::TunnelSpec> planTunnels(const DesiredState& desired, const PlanOptions& options);
// The link between the hubs of the pair (none on a single hub): this hub's end of it. Its /30's
// first usable address goes to the hub whose name sorts first, the second to the other.
std::optional<routing::PairLinkSpec> planPairLink(const PlanOptions& options);
// Sessions, statics, summaries and exports, from the routes and tunnels the daemons report. With
// a pair, also the iBGP session with the other hub (RoutingSpec::peer_hub), which knows every
// spoke of the registry by route tag and segment, those with no tunnel on this hub too.
RoutingPlan planRouting(const DesiredState& desired, const PlanOptions& options,
                        const RoutePlanInputs& inputs);

// The forwarding plane. Segment isolation: segments count only when at least one of their
// spokes declares CIDRs; two different segments are isolated when !segmentsReach(options, a, b);
// one segment (the default) isolates nothing. MSS clamp: with kXfrm links, the device
// (peers::xfrmDeviceName) of each of `tunnels` (the planned ones, plan().tunnels) with an
// interface id, clamped to the smallest tcp_mss among them; none with kExternal links.
routing::ForwardingPolicy planForwarding(const DesiredState& desired, const PlanOptions& options,
                                         std::span<const peers::TunnelSpec> tunnels);

// True when spokes of segment `a` and of segment `b` exchange routes.
bool segmentsReach(const PlanOptions& options, std::string_view a, std::string_view b);

std::string tunnelName(const PlanOptions& options, std::string_view spoke, int index);
std::string sessionName(const PlanOptions& options, std::string_view spoke, int index);
std::string staticName(const PlanOptions& options, std::string_view spoke);

}  // namespace transit::hub
