// The planner's pair: this hub's end of the link, the iBGP session's spec with every spoke of the
// registry, BFD for the sites that ask for it, and routes learned from the other hub counted as
// their spokes' routes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "hub/core/planner.hpp"

namespace transit::hub {
namespace {

Ipv4Prefix pfx(std::string_view text) { return *Ipv4Prefix::parse(text); }
Ipv4Address addr(std::string_view text) { return *Ipv4Address::parse(text); }

PlanOptions options(std::string hub = "hub-a", std::string peer = "hub-b") {
  PlanOptions o;
  o.local_address = addr("10.0.1.10");
  o.public_address = addr("203.0.113.10");
  o.local_as = 65000;
  o.router_id = o.local_address;
  o.links = peers::TunnelLinks::kExternal;
  o.hub_name = std::move(hub);
  PlanOptions::Pair pair;
  pair.peer_name = std::move(peer);
  pair.peer_local_ip = addr("10.0.2.10");
  pair.vni = 4242;
  pair.port = 4789;
  pair.inside = pfx("169.254.253.252/30");
  pair.mtu = 1400;
  pair.underlay_device = "ens5";
  o.pair = pair;
  return o;
}

// vpc-a (tag 1, prod) with a tunnel here; site-b (tag 2, default, BFD) with a tunnel here;
// vpc-c (tag 3, prod) connected only to the other hub (no tunnel on this one).
DesiredState registry() {
  DesiredState state;
  auto add = [&](std::string name, peers::SpokeKind kind, std::string segment, std::uint32_t tag,
                 std::string cidr, bool tunnel) {
    auto spoke = std::make_shared<peers::Spoke>();
    spoke->name = name;
    spoke->kind = kind;
    spoke->segment = std::move(segment);
    spoke->cidrs = {pfx(cidr)};
    spoke->asn = kind == peers::SpokeKind::kVpc ? 64512 : 65010;
    spoke->route_tag = tag;
    if (tunnel) {
      spoke->tunnels = {peers::Tunnel{addr("198.51.100.1"),
                                      pfx(fmt::format("169.254.10.{}/30", tag * 4)), "psk"}};
    }
    state.spokes.emplace(name, std::move(spoke));
  };
  add("vpc-a", peers::SpokeKind::kVpc, "prod", 1, "10.1.0.0/16", true);
  add("site-b", peers::SpokeKind::kSite, "default", 2, "10.2.0.0/16", true);
  add("vpc-c", peers::SpokeKind::kVpc, "prod", 3, "10.3.0.0/16", false);
  std::const_pointer_cast<peers::Spoke>(state.spokes.at("site-b"))->bfd = true;
  return state;
}

TEST(PlannerPair, TheHubWhoseNameSortsFirstTakesTheFirstAddressOfTheLink) {
  const auto a = planPairLink(options("hub-a", "hub-b"));
  const auto b = planPairLink(options("hub-b", "hub-a"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->address.toString(), "169.254.253.253");
  EXPECT_EQ(b->address.toString(), "169.254.253.254");
  EXPECT_EQ(a->local.toString(), "10.0.1.10");
  EXPECT_EQ(a->remote.toString(), "10.0.2.10");
  EXPECT_EQ(a->vni, 4242u);
  EXPECT_EQ(a->mtu, 1400u);
  EXPECT_EQ(a->underlay_device, "ens5");
  EXPECT_EQ(a->device, "th-pair");
}

TEST(PlannerPair, ASingleHubHasNoLinkAndNoIbgp) {
  auto o = options();
  o.pair.reset();
  const auto plan = hub::plan(registry(), o);
  EXPECT_FALSE(plan.pair_link.has_value());
  EXPECT_FALSE(plan.routing.peer_hub.has_value());
}

TEST(PlannerPair, TheIbgpSessionKnowsEverySpokeIncludingThoseOnlyTheOtherHubHas) {
  const auto plan = hub::plan(registry(), options("hub-b", "hub-a"));
  ASSERT_TRUE(plan.routing.peer_hub.has_value());
  const auto& peer = *plan.routing.peer_hub;
  EXPECT_EQ(peer.name, "th_pair");
  EXPECT_EQ(peer.hub, "hub-a");
  EXPECT_EQ(peer.interface, "th-pair");
  EXPECT_EQ(peer.local_address.toString(), "169.254.253.254");
  EXPECT_EQ(peer.neighbor_address.toString(), "169.254.253.253");
  EXPECT_EQ(peer.spokes,
            (std::map<std::uint32_t, routing::PeerHubSpec::Spoke>{
                {1, {"vpc-a", "prod"}}, {2, {"site-b", "default"}}, {3, {"vpc-c", "prod"}}}));
  // vpc-c has no session here, but its routes (from the other hub) are attributed to it.
  EXPECT_EQ(routing::spokeTagIds(plan.routing).at(3), "vpc-c");
}

TEST(PlannerPair, OnlyTheSitesThatAskForBfdGetIt) {
  const auto plan = hub::plan(registry(), options());
  for (const auto& session : plan.routing.sessions) {
    EXPECT_EQ(session.bfd, session.spoke == "site-b") << session.name;
  }
}

TEST(PlannerPair, ARouteFromTheOtherHubIsItsSpokesAndReachesTheSpokesOfItsSegment) {
  // vpc-c's 10.3/16, learned over iBGP (tagged by the other hub with vpc-c's route tag).
  routing::ObservedRoute route;
  route.prefix = pfx("10.3.0.0/16");
  route.protocol = "th_pair";
  route.large_communities = {{65000, 1, 1}, {65000, routing::kSpokeTagKind, 3}};
  const std::vector<routing::ObservedRoute> routes{route};
  const auto plan = hub::plan(registry(), options(), {routes, {}});
  EXPECT_EQ(plan.owners.of(route), (RouteOwner{"vpc-c", std::nullopt}));
  EXPECT_EQ(plan.exports.at("vpc-a").must_reach, 1u);   // prod reaches prod
  EXPECT_EQ(plan.exports.at("site-b").must_reach, 0u);  // default does not reach prod
}

}  // namespace
}  // namespace transit::hub
