// The routing policy the planner derives from the desired state and the routes BIRD reports:
// segments, never back to the sender, summarisation under the export limit, preferred hubs and
// static spokes.
#include "hub/core/planner.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "tests/hub/hub_harness.hpp"

namespace transit::hub {
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;

Ipv4Prefix pfx(std::string_view text) { return *Ipv4Prefix::parse(text); }
Ipv4Address addr(std::string_view text) { return *Ipv4Address::parse(text); }

// Spokes with route tags in the order they are added (as the registry allocates them), and
// routes as the hub's BIRD reports them: a route learned over a spoke's protocol carries the
// spoke's tag, stamped by the import filter (routing/bird/bird_render.cpp).
struct Builder {
  DesiredState state;
  int next_inside = 0;
  std::uint32_t next_tag = 1;
  std::map<std::string, std::uint32_t> tag_of_protocol;  // "th_vpc_a_1" -> vpc-a's tag

  peers::Spoke& add(std::string name, std::string segment, std::vector<std::string> cidrs,
                    peers::RoutingMode mode = peers::RoutingMode::kBgp) {
    auto spoke = std::make_shared<peers::Spoke>();
    spoke->name = name;
    spoke->kind = peers::SpokeKind::kVpc;
    spoke->segment = std::move(segment);
    for (const auto& cidr : cidrs) spoke->cidrs.push_back(pfx(cidr));
    spoke->routing = mode;
    spoke->route_tag = next_tag++;
    if (mode == peers::RoutingMode::kBgp) spoke->asn = 64512;
    for (int i = 0; i < 2; ++i, ++next_inside) {
      const auto inside =
          fmt::format("169.254.{}.{}/30", 100 + next_inside / 64, (next_inside % 64) * 4);
      spoke->tunnels.push_back(peers::Tunnel{addr(fmt::format("198.51.100.{}", 10 + next_inside)),
                                             pfx(inside), "psk.for.tests", "hub-a"});
    }
    std::string protocol = "th_" + name;
    std::ranges::replace(protocol, '-', '_');
    for (const auto* suffix : {"_1", "_2", "_static"}) {
      tag_of_protocol[protocol + suffix] = spoke->route_tag;
    }
    auto* raw = spoke.get();
    state.spokes.emplace(name, std::move(spoke));
    return *raw;
  }

  std::uint32_t tagOf(const std::string& spoke) const { return state.spokes.at(spoke)->route_tag; }

  // A route of `protocol`, tagged as BIRD tags it when the protocol is one of a spoke's.
  routing::ObservedRoute route(std::string_view prefix, std::string protocol,
                               bool filtered = false) const {
    routing::ObservedRoute r;
    r.prefix = pfx(prefix);
    r.filtered = filtered;
    if (const auto tag = tag_of_protocol.find(protocol); tag != tag_of_protocol.end()) {
      r.large_communities = {{65000, 1, 1}, {65000, routing::kSpokeTagKind, tag->second}};
    }
    r.protocol = std::move(protocol);
    return r;
  }
};

PlanOptions options() {
  PlanOptions o;
  o.local_address = addr("203.0.113.10");
  o.public_address = addr("203.0.113.10");
  o.local_as = 65000;
  o.router_id = addr("203.0.113.10");
  o.links = peers::TunnelLinks::kExternal;
  o.hub_name = "hub-a";
  o.segments = {{"prod", {"shared"}}, {"dev", {"shared"}}};
  return o;
}

const routing::BgpSessionSpec& session(const Plan& plan, std::string_view name) {
  const auto it = std::ranges::find(plan.routing.sessions, name, &routing::BgpSessionSpec::name);
  EXPECT_NE(it, plan.routing.sessions.end()) << name;
  return *it;
}

std::vector<Ipv4Prefix> sent(const Plan& plan, const std::string& spoke) {
  std::vector<Ipv4Prefix> out;
  for (const auto& entry : plan.exports.at(spoke).prefixes) out.push_back(entry.prefix);
  return out;
}

TEST(PlannerSegments, ReachIsSymmetricAndEverySegmentReachesItself) {
  const auto o = options();
  EXPECT_TRUE(segmentsReach(o, "prod", "shared"));
  EXPECT_TRUE(segmentsReach(o, "shared", "prod"));
  EXPECT_TRUE(segmentsReach(o, "dev", "dev"));
  EXPECT_FALSE(segmentsReach(o, "prod", "dev"));
  EXPECT_FALSE(segmentsReach(o, "default", "prod"));
}

TEST(PlannerSegments, ProdAndDevReachSharedButNotEachOther) {
  Builder b;
  b.add("prod-a", "prod", {"10.1.0.0/16"});
  b.add("dev-a", "dev", {"10.2.0.0/16"});
  b.add("onprem", "shared", {"172.16.1.0/24"});
  const std::vector<routing::ObservedRoute> routes = {b.route("10.1.0.0/16", "th_prod_a_1"),
                                                      b.route("10.2.0.0/16", "th_dev_a_1"),
                                                      b.route("172.16.1.0/24", "th_onprem_1")};
  const Plan plan = hub::plan(b.state, options(), {routes, {}});

  EXPECT_EQ(session(plan, "th_prod_a_1").export_segments,
            (std::vector<std::string>{"prod", "shared"}));
  EXPECT_EQ(session(plan, "th_dev_a_2").export_segments,
            (std::vector<std::string>{"dev", "shared"}));
  EXPECT_EQ(session(plan, "th_onprem_1").export_segments,
            (std::vector<std::string>{"dev", "prod", "shared"}));
  EXPECT_EQ(sent(plan, "prod-a"), std::vector<Ipv4Prefix>{pfx("172.16.1.0/24")});
  EXPECT_EQ(sent(plan, "dev-a"), std::vector<Ipv4Prefix>{pfx("172.16.1.0/24")});
  EXPECT_EQ(sent(plan, "onprem"),
            (std::vector<Ipv4Prefix>{pfx("10.1.0.0/16"), pfx("10.2.0.0/16")}));
}

TEST(PlannerExports, NeverBackToTheSenderAndNeverAFilteredRoute) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("vpc-b", "default", {"10.2.0.0/16"});
  const std::vector<routing::ObservedRoute> routes = {
      b.route("10.1.0.0/16", "th_vpc_a_1"), b.route("10.1.0.0/16", "th_vpc_a_2"),
      b.route("10.2.5.0/24", "th_vpc_a_1", /*filtered=*/true),  // inside vpc-b: refused
      b.route("10.2.0.0/16", "th_vpc_b_1"), b.route("10.9.0.0/16", "th_someone_else_1")};
  const Plan plan = hub::plan(b.state, options(), {routes, {}});

  EXPECT_EQ(sent(plan, "vpc-a"), std::vector<Ipv4Prefix>{pfx("10.2.0.0/16")});
  EXPECT_EQ(sent(plan, "vpc-b"), std::vector<Ipv4Prefix>{pfx("10.1.0.0/16")});
  EXPECT_FALSE(plan.exports.at("vpc-b").summarized);
  EXPECT_FALSE(session(plan, "th_vpc_b_1").export_only);  // routes go out as they are
  EXPECT_TRUE(plan.routing.summaries.empty());
}

TEST(PlannerExports, ThreeHundredScatteredRoutesAreSummarisedToTheVgwLimit) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("vpc-b", "default", {"10.2.0.0/16"});
  std::vector<routing::ObservedRoute> routes;
  for (int i = 0; i < 300; ++i) {
    // every other /26 of 10.1.0.0/16's first 150 /24s: nothing merges for free
    routes.push_back(b.route(fmt::format("10.1.{}.{}/26", i / 2, (i % 2) * 128), "th_vpc_a_1"));
  }
  const Plan plan = hub::plan(b.state, options(), {routes, {}});

  const auto& exports = plan.exports.at("vpc-b");
  EXPECT_TRUE(exports.summarized);
  EXPECT_TRUE(exports.within_limit);
  EXPECT_EQ(exports.must_reach, 300u);
  EXPECT_LE(exports.prefixes.size(), 100u);
  EXPECT_GT(exports.wasted_addresses, 0u);
  std::size_t covered = 0;
  for (const auto& entry : exports.prefixes) {
    EXPECT_FALSE(entry.prefix.overlaps(pfx("10.2.0.0/16"))) << entry.prefix.toString();
    covered += entry.covers.size();
  }
  EXPECT_EQ(covered, 300u);  // every /26 is covered by exactly one summary
  const auto& s = session(plan, "th_vpc_b_1");
  ASSERT_TRUE(s.export_only);
  EXPECT_EQ(s.export_only->size(), exports.prefixes.size());
  EXPECT_EQ(s.export_limit, 100u);
  EXPECT_EQ(plan.routing.summaries.size(), exports.prefixes.size());
  // vpc-a itself is sent only vpc-b's route (vpc-b announced nothing yet): not summarised.
  EXPECT_FALSE(plan.exports.at("vpc-a").summarized);
}

TEST(PlannerExports, SummariesNeverCoverASpokeTheReceiverMayNotReach) {
  Builder b;
  auto& receiver = b.add("prod-b", "prod", {"10.200.0.0/16"});
  receiver.export_limit = 1;
  b.add("prod-a", "prod", {"10.1.0.0/24", "10.1.2.0/24"});
  b.add("dev-a", "dev", {"10.1.1.0/24"});  // between prod-a's two CIDRs
  const std::vector<routing::ObservedRoute> routes = {b.route("10.1.0.0/24", "th_prod_a_1"),
                                                      b.route("10.1.2.0/24", "th_prod_a_1"),
                                                      b.route("10.1.1.0/24", "th_dev_a_1")};
  const Plan plan = hub::plan(b.state, options(), {routes, {}});

  const auto& exports = plan.exports.at("prod-b");
  EXPECT_TRUE(exports.summarized);
  // One prefix cannot cover both /24s without covering dev's /24: the fewest is two.
  EXPECT_FALSE(exports.within_limit);
  for (const auto& entry : exports.prefixes) {
    EXPECT_FALSE(entry.prefix.overlaps(pfx("10.1.1.0/24"))) << entry.prefix.toString();
  }
}

TEST(PlannerExports, ANotPreferredHubPrependsAndSetsTheMed) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"}).preferred_hub = "hub-b";
  b.add("vpc-b", "default", {"10.2.0.0/16"}).preferred_hub = "hub-a";  // this hub
  const Plan plan = hub::plan(b.state, options(), {});

  EXPECT_EQ(session(plan, "th_vpc_a_1").prepend, 2u);
  EXPECT_EQ(session(plan, "th_vpc_a_1").med, 100u);
  EXPECT_EQ(session(plan, "th_vpc_b_1").prepend, 0u);
  EXPECT_FALSE(session(plan, "th_vpc_b_1").med);
}

TEST(PlannerStatic, StaticSpokeIsRoutedOverBothTunnelsAndRedistributed) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("vpc-s", "default", {"10.3.0.0/16"}, peers::RoutingMode::kStatic);
  const std::vector<routing::ObservedRoute> routes = {b.route("10.1.0.0/16", "th_vpc_a_1")};
  const Plan plan = hub::plan(b.state, options(), {routes, {}});

  ASSERT_EQ(plan.routing.statics.size(), 1u);
  const auto& route = plan.routing.statics[0];
  EXPECT_EQ(route.name, "th_vpc_s_static");
  EXPECT_EQ(route.cidrs, std::vector<Ipv4Prefix>{pfx("10.3.0.0/16")});
  EXPECT_EQ(route.next_hops.size(), 2u);  // ECMP over both tunnels
  EXPECT_TRUE(std::ranges::none_of(plan.routing.sessions,
                                   [](const auto& s) { return s.spoke == "vpc-s"; }));
  // The other spokes reach it; it is given the routes to enter on its side, within 50.
  EXPECT_EQ(sent(plan, "vpc-a"), std::vector<Ipv4Prefix>{pfx("10.3.0.0/16")});
  EXPECT_EQ(sent(plan, "vpc-s"), std::vector<Ipv4Prefix>{pfx("10.1.0.0/16")});
  EXPECT_EQ(plan.exports.at("vpc-s").limit, 50u);
}

TEST(PlannerStatic, OnXfrmOnlyTunnelsWithAnInstalledChildSaCarryTheRoute) {
  Builder b;
  b.add("vpc-s", "default", {"10.3.0.0/16"}, peers::RoutingMode::kStatic);
  auto o = options();
  o.links = peers::TunnelLinks::kXfrm;

  const Plan none = hub::plan(b.state, o, {});
  ASSERT_EQ(none.routing.statics.size(), 1u);
  EXPECT_TRUE(none.routing.statics[0].next_hops.empty());

  const Plan one = hub::plan(b.state, o, {{}, {"th-vpc-s-2"}});
  ASSERT_EQ(one.routing.statics[0].next_hops.size(), 1u);
  EXPECT_EQ(one.routing.statics[0].next_hops[0],
            peers::peerInsideAddress(peers::SpokeKind::kVpc,
                                     b.state.spokes.at("vpc-s")->tunnels[1].inside_cidr));
}

TEST(PlannerNames, TunnelsAndSessionsAreNamedStablyAndTheHubSitsOnEachLink) {
  testing::HubHarness<> hub(testing::registryOnly());
  auto vpc =
      testing::spokeDraft("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10", "198.51.100.11"});
  (*vpc.tunnels)[0].inside_cidr = "169.254.20.0/30";
  ASSERT_TRUE(hub.registry->create(vpc));
  auto site = testing::spokeDraft("site-1", "site", "172.16.1.0/24", {"198.51.100.30"});
  (*site.tunnels)[0].inside_cidr = "169.254.30.0/30";
  ASSERT_TRUE(hub.registry->create(site));
  ASSERT_TRUE(hub.registry->create(
      testing::spokeDraft("static-x", "vpc", "10.9.0.0/16", {"198.51.100.90"}, "static")));

  PlanOptions options;
  options.hub_name = "hub-a";
  options.local_address = *Ipv4Address::parse("10.0.0.10");
  options.public_address = *Ipv4Address::parse("203.0.113.10");
  options.local_as = 65000;
  const Plan p = plan(*hub.registry->snapshot(), options);

  ASSERT_EQ(p.tunnels.size(), 4u);
  const auto& t = p.tunnels[0];
  EXPECT_EQ(t.name, "th-prod-a-1");
  EXPECT_EQ(t.remote_address.toString(), "198.51.100.10");
  EXPECT_EQ(t.local_address.toString(), "10.0.0.10");
  EXPECT_EQ(t.local_id.toString(), "203.0.113.10");
  EXPECT_EQ(t.hub_inside.toString(), "169.254.20.2");  // vpc: the customer gateway's address
  EXPECT_EQ(t.interface_id, (20u * 256) / 4 + 1);      // the /30's place in 169.254/16, plus one
  EXPECT_EQ(p.tunnels[2].name, "th-site-1-1");         // sorted: th-site-1-1 before th-static-x-1
  EXPECT_EQ(p.tunnels[2].hub_inside.toString(), "169.254.30.1");  // site: the hub plays AWS

  // BGP sessions only for BGP spokes; '-' becomes '_' in protocol names.
  ASSERT_EQ(p.routing.sessions.size(), 3u);
  const auto& s = p.routing.sessions[0];
  EXPECT_EQ(s.name, "th_prod_a_1");
  EXPECT_EQ(s.neighbor_address.toString(), "169.254.20.1");
  EXPECT_EQ(s.local_address.toString(), "169.254.20.2");
  EXPECT_EQ(s.neighbor_as, 64512u);
  ASSERT_EQ(s.accepted.size(), 1u);
  EXPECT_EQ(s.accepted[0].toString(), "10.1.0.0/16");
  EXPECT_EQ(p.routing.sessions[2].name, "th_site_1_1");
  EXPECT_EQ(p.routing.local_as, 65000u);
}

// Route owners (RouteOwners): by the spoke's route tag alone; the tunnel when the route came
// over this hub's own session with that spoke.

routing::ObservedRoute tagged(std::string_view prefix, std::string protocol,
                              std::vector<routing::LargeCommunity> communities) {
  routing::ObservedRoute r;
  r.prefix = pfx(prefix);
  r.protocol = std::move(protocol);
  r.large_communities = std::move(communities);
  return r;
}

TEST(PlannerOwners, ARouteBelongsToTheSpokeItsTagNamesOverTheTunnelItCameThrough) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("site-c", "default", {"10.3.0.0/24"}, peers::RoutingMode::kStatic);
  const auto owners = routeOwners(b.state, options());
  EXPECT_EQ(owners.of(b.route("10.1.0.0/16", "th_vpc_a_2")), (RouteOwner{"vpc-a", 2}));
  EXPECT_EQ(owners.of(b.route("10.3.0.0/24", "th_site_c_static")),
            (RouteOwner{"site-c", std::nullopt}));
  EXPECT_EQ(owners.of(b.route("10.9.0.0/16", "upstream")), std::nullopt);  // untagged
}

// The protocol's name does not attribute: a route without the tag has no owner, whatever
// protocol it came from, and a route's tag wins over the protocol it came through.
TEST(PlannerOwners, TheTagNotTheProtocolNameSaysWhoseRouteItIs) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("vpc-b", "default", {"10.2.0.0/16"});
  const auto owners = routeOwners(b.state, options());
  EXPECT_EQ(owners.of(tagged("10.1.0.0/16", "th_vpc_a_1", {})), std::nullopt);
  EXPECT_EQ(owners.of(tagged("10.2.0.0/16", "th_vpc_a_1", {{65000, 2, b.tagOf("vpc-b")}})),
            (RouteOwner{"vpc-b", std::nullopt}));
}

TEST(PlannerOwners, ARouteFromTheOtherHubBelongsToTheSpokeItsTagNames) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("vpc-b", "default", {"10.2.0.0/16"});
  const auto o = options();
  const auto tag_b = b.tagOf("vpc-b");
  // iBGP from the other hub: no spoke's protocol, the hub's spoke tag for vpc-b. The desired
  // state's tags read it; so does the running configuration's.
  const routing::RoutingSpec applied = plan(b.state, o).routing;
  for (const auto* running : {static_cast<const routing::RoutingSpec*>(nullptr), &applied}) {
    const auto owners = routeOwners(b.state, o, running);
    EXPECT_EQ(owners.of(tagged("10.2.0.0/16", "th_ibgp_hub_b", {{65000, 1, 1}, {65000, 2, tag_b}})),
              (RouteOwner{"vpc-b", std::nullopt}));
    // Another AS's communities, or a tag no spoke holds: no owner.
    EXPECT_EQ(owners.of(tagged("10.2.0.0/16", "th_ibgp_hub_b", {{64512, 2, tag_b}})), std::nullopt);
    EXPECT_EQ(owners.of(tagged("10.2.0.0/16", "th_ibgp_hub_b", {{65000, 2, 99}})), std::nullopt);
  }
}

// A removed spoke's tag may be taken by a new spoke before BIRD runs the new configuration; the
// routes BIRD still holds under that tag are the removed spoke's, as the running file says.
TEST(PlannerOwners, WhileAChangeIsOnItsWayTheRunningConfigurationsTagsWin) {
  Builder before;
  before.add("old-a", "default", {"10.1.0.0/16"});
  const auto o = options();
  const routing::RoutingSpec running = plan(before.state, o).routing;
  Builder after;
  after.add("new-b", "default", {"10.2.0.0/16"});  // route tag 1 again
  ASSERT_EQ(after.tagOf("new-b"), before.tagOf("old-a"));
  const auto route = tagged("10.1.0.0/16", "th_old_a_1", {{65000, 2, 1}});
  EXPECT_EQ(routeOwners(after.state, o, &running).of(route), (RouteOwner{"old-a", std::nullopt}));
  EXPECT_EQ(routeOwners(after.state, o).of(route), (RouteOwner{"new-b", std::nullopt}));
}

TEST(PlannerOwners, RoutesFromTheOtherHubAreSentToTheOtherSpokes) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"});
  b.add("vpc-b", "default", {"10.2.0.0/16"});
  const auto o = options();
  const std::vector<routing::ObservedRoute> routes = {
      tagged("10.2.0.0/16", "th_ibgp_hub_b", {{65000, 2, b.tagOf("vpc-b")}})};
  RoutePlanInputs inputs;
  inputs.routes = routes;
  const RoutingPlan plan = planRouting(b.state, o, inputs);
  ASSERT_TRUE(plan.exports.contains("vpc-a"));
  ASSERT_EQ(plan.exports.at("vpc-a").prefixes.size(), 1u);
  EXPECT_EQ(plan.exports.at("vpc-a").prefixes[0].prefix, pfx("10.2.0.0/16"));
  EXPECT_TRUE(plan.exports.at("vpc-b").prefixes.empty());  // never back to its own spoke
}

// Every session and static protocol stamps its spoke's route tag (the registry's number).
TEST(PlannerOwners, SessionsAndStaticsCarryTheSpokesRouteTag) {
  Builder b;
  b.add("vpc-a", "default", {"10.1.0.0/16"}).route_tag = 12;
  b.add("site-c", "default", {"10.3.0.0/24"}, peers::RoutingMode::kStatic).route_tag = 5;
  const Plan p = plan(b.state, options());
  ASSERT_EQ(p.routing.sessions.size(), 2u);
  for (const auto& s : p.routing.sessions) EXPECT_EQ(s.spoke_tag, 12u) << s.name;
  ASSERT_EQ(p.routing.statics.size(), 1u);
  EXPECT_EQ(p.routing.statics[0].spoke_tag, 5u);
  EXPECT_EQ(routing::spokeTagIds(p.routing),
            (std::map<std::uint32_t, std::string>{{5, "site-c"}, {12, "vpc-a"}}));
}

TEST(PlannerPlan, ComposesTunnelsRoutingAndForwarding) {
  Builder b;
  b.add("prod-a", "prod", {"10.1.0.0/16"});
  b.add("dev-a", "dev", {"10.2.0.0/16"});
  const auto o = options();
  const Plan whole = hub::plan(b.state, o);
  EXPECT_EQ(whole.tunnels, planTunnels(b.state, o));
  EXPECT_EQ(whole.routing, planRouting(b.state, o, {}).spec);
  EXPECT_EQ(whole.forwarding, planForwarding(b.state, o, whole.tunnels));
  EXPECT_EQ(whole.owners, routeOwners(b.state, o));
}

// ---- tunnels per hub (the pair) -------------------------------------------------------------

// Puts the spoke's tunnels on hubs: hubs[i] is tunnel i's (a third and fourth tunnel are added
// for the other hub when the list is longer than the spoke's two).
void placeOnHubs(peers::Spoke& spoke, std::vector<std::string> hubs) {
  for (std::size_t i = spoke.tunnels.size(); i < hubs.size(); ++i) {
    spoke.tunnels.push_back(peers::Tunnel{addr(fmt::format("198.51.100.{}", 200 + i)),
                                          pfx(fmt::format("169.254.200.{}/30", 4 * i)),
                                          "psk.for.tests", ""});
  }
  for (std::size_t i = 0; i < hubs.size(); ++i) spoke.tunnels[i].hub = hubs[i];
}

// Each hub plans only its own tunnels, numbered among them: hub-a's names are what a single
// hub's always were, and hub-b's own two are its 1 and 2.
TEST(PlannerPair, EachHubPlansOnlyItsOwnTunnelsIndexedAmongThem) {
  Builder b;
  auto& vpc = b.add("vpc-a", "prod", {"10.1.0.0/16"});
  placeOnHubs(vpc, {"hub-b", "hub-a", "hub-b", "hub-a"});
  const auto a = options();
  auto hub_b = options();
  hub_b.hub_name = "hub-b";

  const Plan on_a = plan(b.state, a);
  ASSERT_EQ(on_a.tunnels.size(), 2u);
  EXPECT_EQ(on_a.tunnels[0].name, "th-vpc-a-1");
  EXPECT_EQ(on_a.tunnels[0].remote_address, vpc.tunnels[1].outside_ip);
  EXPECT_EQ(on_a.tunnels[1].name, "th-vpc-a-2");
  EXPECT_EQ(on_a.tunnels[1].remote_address, vpc.tunnels[3].outside_ip);
  ASSERT_EQ(on_a.routing.sessions.size(), 2u);
  EXPECT_EQ(on_a.routing.sessions[0].name, "th_vpc_a_1");
  EXPECT_EQ(on_a.routing.sessions[0].neighbor_address,
            peers::peerInsideAddress(peers::SpokeKind::kVpc, vpc.tunnels[1].inside_cidr));
  EXPECT_EQ(on_a.routing.sessions[1].index, 2);

  const Plan on_b = plan(b.state, hub_b);
  ASSERT_EQ(on_b.tunnels.size(), 2u);
  EXPECT_EQ(on_b.tunnels[0].remote_address, vpc.tunnels[0].outside_ip);
  EXPECT_EQ(on_b.tunnels[1].remote_address, vpc.tunnels[2].outside_ip);
  EXPECT_EQ(on_b.routing.sessions.size(), 2u);
  // Route owners: a route over hub-a's session 2 came through the spoke's fourth tunnel.
  EXPECT_EQ(on_a.owners.protocols.at("th_vpc_a_2"), (RouteOwner{"vpc-a", 2}));
}

// With XFRM links each hub makes interfaces only for its own tunnels.
TEST(PlannerPair, XfrmLinksAreOnlyForThisHubsTunnels) {
  Builder b;
  auto& vpc = b.add("vpc-a", "prod", {"10.1.0.0/16"});
  placeOnHubs(vpc, {"hub-a", "hub-a", "hub-b", "hub-b"});
  auto o = options();
  o.links = peers::TunnelLinks::kXfrm;
  const Plan p = plan(b.state, o);
  ASSERT_EQ(p.tunnels.size(), 2u);
  EXPECT_EQ(p.forwarding.mss_clamp.links.size(), 2u);
  for (const auto& t : p.tunnels) {
    EXPECT_TRUE(p.forwarding.mss_clamp.links.contains(peers::xfrmDeviceName(t.interface_id)));
  }
}

// A spoke connected to the other hub only gets no tunnel, session or static protocol here; its
// routes (learned from the other hub, tagged with its route tag) still reach the other spokes,
// and what it is sent is still planned.
TEST(PlannerPair, ASpokeOnlyOnTheOtherHubHasNoSessionHereButCountsInExports) {
  Builder b;
  b.add("vpc-a", "prod", {"10.1.0.0/16"});
  auto& remote = b.add("vpc-b", "prod", {"10.2.0.0/16"});
  placeOnHubs(remote, {"hub-b", "hub-b"});
  auto& remote_static = b.add("static-c", "prod", {"10.3.0.0/16"}, peers::RoutingMode::kStatic);
  placeOnHubs(remote_static, {"hub-b"});
  remote_static.tunnels.pop_back();

  // vpc-b's route as hub-a's BIRD learns it from hub-b over iBGP: tagged, another protocol.
  auto learned = b.route("10.2.0.0/16", "ibgp_hub_b");
  learned.large_communities = {{65000, routing::kSpokeTagKind, b.tagOf("vpc-b")}};
  const std::vector<routing::ObservedRoute> routes{learned};
  const Plan p = plan(b.state, options(), RoutePlanInputs{routes, {}, nullptr});

  for (const auto& t : p.tunnels) EXPECT_EQ(t.spoke, "vpc-a") << t.name;
  for (const auto& s : p.routing.sessions) EXPECT_EQ(s.spoke, "vpc-a") << s.name;
  EXPECT_TRUE(p.routing.statics.empty());
  EXPECT_FALSE(p.owners.protocols.contains("th_vpc_b_1"));
  EXPECT_FALSE(p.owners.protocols.contains("th_static_c_static"));
  // vpc-a is sent vpc-b's route and static-c's CIDRs; vpc-b's own export plan exists too.
  EXPECT_EQ(sent(p, "vpc-a"), (std::vector<Ipv4Prefix>{pfx("10.2.0.0/16"), pfx("10.3.0.0/16")}));
  EXPECT_EQ(sent(p, "vpc-b"), (std::vector<Ipv4Prefix>{pfx("10.3.0.0/16")}));
}

}  // namespace
}  // namespace transit::hub
