// Route attribution and conflicts over what a real BIRD reported: tests/data/bird/
// routes-tagged.txt, recorded from the lab's hub BIRD running transit-hubd's rendered include
// while vpc-a announced 10.2.5.0/24 (inside vpc-b's CIDR) and 192.168.77.0/24 (nobody's). The
// routes go through the BIRD driver's parser and the planner's RouteOwners, as in a pass.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hub/core/conflicts.hpp"
#include "hub/core/planner.hpp"
#include "routing/bird/bird_reply.hpp"
#include "routing/bird/bird_routes.hpp"
#include "tests/fakes/fake_bird_server.hpp"

namespace transit::hub {
namespace {

Ipv4Prefix pfx(std::string_view text) { return *Ipv4Prefix::parse(text); }

// The lab's spokes with the route tags the lab's registry gave them (creation order).
DesiredState labSpokes() {
  struct Lab {
    const char* name;
    std::uint32_t tag;
    const char* segment;
    const char* cidr;
    peers::RoutingMode routing;
  };
  DesiredState state;
  for (const Lab& lab : {Lab{"vpc-a", 1, "prod", "10.1.0.0/16", peers::RoutingMode::kBgp},
                         Lab{"vpc-b", 2, "prod", "10.2.0.0/16", peers::RoutingMode::kBgp},
                         Lab{"vpc-c", 3, "dev", "10.3.0.0/16", peers::RoutingMode::kStatic},
                         Lab{"site-1", 4, "shared", "172.16.1.0/24", peers::RoutingMode::kBgp}}) {
    auto spoke = std::make_shared<peers::Spoke>();
    spoke->name = lab.name;
    spoke->route_tag = lab.tag;
    spoke->segment = lab.segment;
    spoke->cidrs = {pfx(lab.cidr)};
    spoke->routing = lab.routing;
    if (lab.routing == peers::RoutingMode::kBgp) spoke->asn = 64512;
    spoke->tunnels.resize(2);
    state.spokes.emplace(spoke->name, spoke);
  }
  return state;
}

PlanOptions labOptions() {
  PlanOptions options;
  options.local_as = 65000;
  return options;
}

// Every route of both observe() queries, as the BIRD driver reads them.
std::vector<routing::ObservedRoute> recordedRoutes() {
  const auto transcript =
      fakes::loadTranscript(std::string(TRANSIT_BIRD_DATA_DIR) + "/routes-tagged.txt");
  std::vector<routing::ObservedRoute> out;
  for (const auto& exchange : transcript.exchanges) {
    routing::BirdReplyReader reader;
    reader.feed(exchange.reply);
    routing::BirdReply reply;
    EXPECT_EQ(reader.next(reply), routing::BirdReplyReader::Status::kReply) << exchange.command;
    const bool filtered = exchange.command.starts_with("show route filtered");
    auto routes = routing::parseShowRouteAll(reply, filtered);
    EXPECT_TRUE(routes.has_value()) << exchange.command;
    if (!routes) continue;
    EXPECT_EQ(routes->skipped, 0u) << exchange.command;
    out.insert(out.end(), routes->routes.begin(), routes->routes.end());
  }
  EXPECT_EQ(out.size(), 11u);
  return out;
}

std::optional<RouteOwner> ownerOf(const RouteOwners& owners,
                                  const std::vector<routing::ObservedRoute>& routes,
                                  std::string_view prefix, std::string_view protocol) {
  for (const auto& route : routes) {
    if (route.prefix == pfx(prefix) && route.protocol == protocol) return owners.of(route);
  }
  ADD_FAILURE() << "no route " << prefix << " from " << protocol;
  return std::nullopt;
}

TEST(RecordedRoutes, EveryRouteIsAttributedByItsTagToItsSpokeAndTunnel) {
  const auto routes = recordedRoutes();
  const auto owners = routeOwners(labSpokes(), labOptions());
  for (const auto& route : routes) {
    EXPECT_TRUE(owners.of(route).has_value()) << route.prefix.toString() << " " << route.protocol;
  }
  EXPECT_EQ(ownerOf(owners, routes, "10.1.0.0/16", "th_vpc_a_1"), (RouteOwner{"vpc-a", 1}));
  EXPECT_EQ(ownerOf(owners, routes, "10.1.0.0/16", "th_vpc_a_2"), (RouteOwner{"vpc-a", 2}));
  EXPECT_EQ(ownerOf(owners, routes, "10.2.0.0/16", "th_vpc_b_2"), (RouteOwner{"vpc-b", 2}));
  EXPECT_EQ(ownerOf(owners, routes, "172.16.1.0/24", "th_site_1_1"), (RouteOwner{"site-1", 1}));
  EXPECT_EQ(ownerOf(owners, routes, "10.3.0.0/16", "th_vpc_c_static"),
            (RouteOwner{"vpc-c", std::nullopt}));
  // The refused routes carry vpc-a's tag too: BIRD stamped it before the filter refused them.
  EXPECT_EQ(ownerOf(owners, routes, "10.2.5.0/24", "th_vpc_a_2"), (RouteOwner{"vpc-a", 2}));
  EXPECT_EQ(ownerOf(owners, routes, "192.168.77.0/24", "th_vpc_a_1"), (RouteOwner{"vpc-a", 1}));
}

TEST(RecordedRoutes, TheRefusedRouteInsideVpcBsCidrIsOneConflictOverBothTunnels) {
  const auto desired = labSpokes();
  const auto conflicts =
      findConflicts(desired, routeOwners(desired, labOptions()), recordedRoutes());
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].prefix, pfx("10.2.5.0/24"));
  EXPECT_EQ(conflicts[0].announced_by, "vpc-a");
  EXPECT_EQ(conflicts[0].tunnels, (std::vector<int>{1, 2}));
  EXPECT_EQ(conflicts[0].overlaps_spoke, "vpc-b");
  EXPECT_EQ(conflicts[0].overlaps_cidr, pfx("10.2.0.0/16"));
}

// The same routes as the other hub would pass them on over iBGP (one protocol, no spoke's name,
// the tags kept): the spokes are the same; only the tunnel, a fact of the other hub, is unknown.
TEST(RecordedRoutes, TheSameRoutesFromTheOtherHubBelongToTheSameSpokes) {
  auto routes = recordedRoutes();
  for (auto& route : routes) route.protocol = "th_ibgp_hub_b";
  const auto desired = labSpokes();
  const auto owners = routeOwners(desired, labOptions());
  for (const auto& route : routes) {
    const auto owner = owners.of(route);
    ASSERT_TRUE(owner.has_value()) << route.prefix.toString();
    EXPECT_FALSE(owner->tunnel.has_value()) << route.prefix.toString();
  }
  EXPECT_EQ(ownerOf(owners, routes, "10.3.0.0/16", "th_ibgp_hub_b")->spoke, "vpc-c");
  const auto conflicts = findConflicts(desired, owners, routes);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].announced_by, "vpc-a");
  EXPECT_TRUE(conflicts[0].tunnels.empty());
}

}  // namespace
}  // namespace transit::hub
