// Route conflicts (hub/core/conflicts.hpp): which refused routes fall in another spoke's space, and
// which spoke and tunnel each of the hub's protocols belongs to.
#include "hub/core/conflicts.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace transit::hub {
namespace {

Ipv4Prefix pfx(std::string_view text) { return *Ipv4Prefix::parse(text); }

// A spoke with the given CIDRs and `tunnels` tunnels; bgp unless `routing` says static.
std::shared_ptr<const peers::Spoke> spoke(std::string name, std::uint32_t route_tag,
                                          std::vector<std::string_view> cidrs, int tunnels = 1,
                                          peers::RoutingMode routing = peers::RoutingMode::kBgp) {
  auto s = std::make_shared<peers::Spoke>();
  s->name = std::move(name);
  s->route_tag = route_tag;
  for (auto cidr : cidrs) s->cidrs.push_back(pfx(cidr));
  s->routing = routing;
  if (routing == peers::RoutingMode::kBgp) s->asn = 64512;
  s->tunnels.resize(static_cast<std::size_t>(tunnels));
  return s;
}

constexpr std::uint32_t kHubAs = 65000;

// vpc-a (route tag 4; 10.1.0.0/16, two tunnels), vpc-b (tag 2; 10.2.0.0/16 and 10.20.0.0/16),
// site-c (tag 9; static, 10.3.0.0/24).
DesiredState threeSpokes() {
  DesiredState state;
  state.revision = 7;
  for (auto s :
       {spoke("vpc-a", 4, {"10.1.0.0/16"}, 2), spoke("vpc-b", 2, {"10.2.0.0/16", "10.20.0.0/16"}),
        spoke("site-c", 9, {"10.3.0.0/24"}, 1, peers::RoutingMode::kStatic)}) {
    state.spokes.emplace(s->name, s);
  }
  return state;
}

// A route as the hub's BIRD reports it: the import filter of each of the hub's protocols tags it
// with the protocol's spoke's route tag; other protocols' routes carry no tag.
routing::ObservedRoute route(std::string_view prefix, std::string protocol, bool filtered = true) {
  static const std::map<std::string, std::uint32_t, std::less<>> kTagOfProtocol = {
      {"th_vpc_a_1", 4},
      {"th_vpc_a_2", 4},
      {"th_vpc_b_1", 2},
      {"hub_vpc_a_1", 4},
      {"th_site_c_static", 9}};
  routing::ObservedRoute r;
  r.prefix = pfx(prefix);
  r.filtered = filtered;
  if (const auto tag = kTagOfProtocol.find(protocol); tag != kTagOfProtocol.end()) {
    r.large_communities = {{kHubAs, 1, 1}, {kHubAs, routing::kSpokeTagKind, tag->second}};
  }
  r.protocol = std::move(protocol);
  return r;
}

PlanOptions hubOptions() {
  PlanOptions o;
  o.local_as = kHubAs;
  return o;
}

std::vector<Conflict> conflicts(const std::vector<routing::ObservedRoute>& routes) {
  return findConflicts(threeSpokes(), routeOwners(threeSpokes(), hubOptions()), routes);
}

TEST(RouteOwners, NameEachSessionAndStaticProtocolAsThePlannerDoes) {
  PlanOptions options = hubOptions();
  options.session_prefix = "x_";
  const auto owners = routeOwners(threeSpokes(), options);
  EXPECT_EQ(owners.protocols, (std::map<std::string, RouteOwner, std::less<>>{
                                  {"x_site_c_static", RouteOwner{"site-c", std::nullopt}},
                                  {"x_vpc_a_1", RouteOwner{"vpc-a", 1}},
                                  {"x_vpc_a_2", RouteOwner{"vpc-a", 2}},
                                  {"x_vpc_b_1", RouteOwner{"vpc-b", 1}},
                              }));
  EXPECT_EQ(owners.protocols.at("x_vpc_a_2").tunnel, 2);
  EXPECT_EQ(sessionName(options, "vpc-a", 2), "x_vpc_a_2");
  EXPECT_EQ(staticName(options, "site-c"), "x_site_c_static");
}

TEST(Conflicts, RefusedRouteInsideAnotherSpokesCidrIsOne) {
  const auto got = conflicts({route("10.2.5.0/24", "th_vpc_a_1")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].prefix, pfx("10.2.5.0/24"));
  EXPECT_EQ(got[0].announced_by, "vpc-a");
  EXPECT_EQ(got[0].tunnels, std::vector<int>{1});
  EXPECT_EQ(got[0].overlaps_spoke, "vpc-b");
  EXPECT_EQ(got[0].overlaps_cidr, pfx("10.2.0.0/16"));
  EXPECT_EQ(got[0].resolution,
            "refused: inside vpc-b's declared CIDR 10.2.0.0/16; vpc-b's routes are used");
}

TEST(Conflicts, AnExactCopyOfAnotherSpokesCidrIsInsideIt) {
  const auto got = conflicts({route("10.3.0.0/24", "th_vpc_b_1")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].overlaps_spoke, "site-c");
  EXPECT_EQ(got[0].resolution,
            "refused: inside site-c's declared CIDR 10.3.0.0/24; site-c's routes are used");
}

TEST(Conflicts, AcceptedRoutesAreNeverConflicts) {
  EXPECT_TRUE(conflicts({route("10.2.5.0/24", "th_vpc_a_1", false)}).empty());
}

TEST(Conflicts, RefusedRouteOutsideEverySpokeIsNoConflict) {
  EXPECT_TRUE(conflicts({route("192.168.0.0/24", "th_vpc_a_1")}).empty());
  EXPECT_TRUE(conflicts({route("10.4.0.0/16", "th_vpc_a_1")}).empty());
}

TEST(Conflicts, RefusedRouteOverlappingOnlyItsOwnSpokeIsNoConflict) {
  // Larger than vpc-a's own /16, so refused, but no other spoke declared any of it.
  EXPECT_TRUE(conflicts({route("10.0.0.0/15", "th_vpc_a_1")}).empty());
}

TEST(Conflicts, ASupernetOverlapsEveryOtherSpokesCidrInsideIt) {
  const auto got = conflicts({route("10.0.0.0/8", "th_vpc_a_2")});
  ASSERT_EQ(got.size(), 3u);  // vpc-b twice, site-c once; never vpc-a itself
  EXPECT_EQ(got[0].overlaps_spoke, "site-c");
  EXPECT_EQ(got[0].overlaps_cidr, pfx("10.3.0.0/24"));
  EXPECT_EQ(got[1].overlaps_cidr, pfx("10.2.0.0/16"));
  EXPECT_EQ(got[2].overlaps_cidr, pfx("10.20.0.0/16"));
  EXPECT_EQ(got[1].resolution,
            "refused: overlaps vpc-b's declared CIDR 10.2.0.0/16; vpc-b's routes are used");
  for (const auto& c : got) {
    EXPECT_EQ(c.announced_by, "vpc-a");
    EXPECT_EQ(c.tunnels, std::vector<int>{2});
  }
}

TEST(Conflicts, AreSortedByPrefixThenSpoke) {
  const auto got = conflicts({
      route("10.20.1.0/24", "th_vpc_a_2"),
      route("10.3.0.0/25", "th_vpc_b_1"),
      route("10.20.1.0/24", "th_vpc_a_1"),
      route("10.2.0.0/24", "th_vpc_a_1"),
      route("10.3.0.0/25", "th_vpc_a_1"),
  });
  std::vector<std::tuple<std::string, std::string, std::vector<int>>> order;
  for (const auto& c : got) order.emplace_back(c.prefix.toString(), c.announced_by, c.tunnels);
  EXPECT_EQ(order, (std::vector<std::tuple<std::string, std::string, std::vector<int>>>{
                       {"10.2.0.0/24", "vpc-a", {1}},
                       {"10.3.0.0/25", "vpc-a", {1}},
                       {"10.3.0.0/25", "vpc-b", {1}},
                       {"10.20.1.0/24", "vpc-a", {1, 2}},
                   }));
}

TEST(Conflicts, ARouteOverBothTunnelsIsOneConflictNamingBoth) {
  const auto got =
      conflicts({route("10.2.5.0/24", "th_vpc_a_2"), route("10.2.5.0/24", "th_vpc_a_1")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tunnels, (std::vector<int>{1, 2}));
}

TEST(Conflicts, ARouteReportedTwiceIsOneConflict) {
  EXPECT_EQ(
      conflicts({route("10.2.5.0/24", "th_vpc_a_1"), route("10.2.5.0/24", "th_vpc_a_1")}).size(),
      1u);
}

TEST(Conflicts, UntaggedRoutesAndTagsNoSpokeHoldsAreIgnored) {
  auto foreign = route("10.2.5.0/24", "th_vpc_a_1");
  foreign.large_communities = {{kHubAs, routing::kSpokeTagKind, 77}};  // no spoke's tag
  auto other_as = route("10.2.5.0/24", "th_vpc_a_1");
  other_as.large_communities = {{64512, routing::kSpokeTagKind, 4}};  // not the hub's AS
  EXPECT_TRUE(conflicts({route("10.2.5.0/24", "upstream"), route("10.2.5.0/24", "th_vpc_z_1"),
                         foreign, other_as})
                  .empty());
}

// A refused route is the spoke's its tag names, however it arrived; the tunnel is known only
// when it came over this hub's own session with that spoke (named with the configured prefix).
TEST(Conflicts, TheTagNamesTheSpokeAndTheConfiguredPrefixTheTunnel) {
  PlanOptions options = hubOptions();
  options.session_prefix = "hub_";
  const std::vector<routing::ObservedRoute> routes{route("10.2.5.0/24", "th_vpc_a_1"),
                                                   route("10.2.6.0/24", "hub_vpc_a_1")};
  const auto got = findConflicts(threeSpokes(), routeOwners(threeSpokes(), options), routes);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].prefix, pfx("10.2.5.0/24"));
  EXPECT_EQ(got[0].announced_by, "vpc-a");
  EXPECT_TRUE(got[0].tunnels.empty());
  EXPECT_EQ(got[1].prefix, pfx("10.2.6.0/24"));
  EXPECT_EQ(got[1].tunnels, std::vector<int>{1});
}

}  // namespace
}  // namespace transit::hub
