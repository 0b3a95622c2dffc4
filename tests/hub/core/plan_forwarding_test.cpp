// planForwarding: which segment pairs the forwarding plane drops, from the desired state, and
// which tunnel links it clamps the TCP MSS on, from the planned tunnels.
#include <gtest/gtest.h>

#include <memory>

#include "hub/core/planner.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

namespace transit::hub {
namespace {

using routing::ForwardingPolicy;
using Pair = std::pair<std::string, std::string>;

using routing::test::pfx;
using routing::test::pfxs;

void addSpoke(DesiredState& state, std::string name, std::string segment,
              std::initializer_list<std::string_view> cidrs) {
  auto spoke = std::make_shared<peers::Spoke>();
  spoke->name = name;
  spoke->segment = std::move(segment);
  spoke->cidrs = pfxs(cidrs);
  state.spokes.emplace(std::move(name), std::move(spoke));
}

// The example configuration: prod and dev both reach shared, not each other.
PlanOptions exampleOptions() {
  PlanOptions options;
  options.segments = {{"prod", {"shared"}}, {"dev", {"shared"}}};
  return options;
}

DesiredState exampleState() {
  DesiredState state;
  addSpoke(state, "prod-a", "prod", {"10.1.0.0/16"});
  addSpoke(state, "prod-b", "prod", {"10.11.0.0/16"});
  addSpoke(state, "dev-a", "dev", {"10.3.0.0/16", "10.2.0.0/16"});
  addSpoke(state, "tools", "shared", {"10.100.0.0/16"});
  return state;
}

ForwardingPolicy examplePolicy() { return planForwarding(exampleState(), exampleOptions(), {}); }

// ---- planForwarding ----

TEST(PlanForwarding, ProdAndDevAreIsolatedAndSharedIsInNoPair) {
  const auto policy = examplePolicy();
  const std::set<Pair> isolated{{"dev", "prod"}, {"prod", "dev"}};
  EXPECT_EQ(policy.isolated, isolated);
  const std::map<std::string, std::vector<Ipv4Prefix>> cidrs{
      {"dev", pfxs({"10.2.0.0/16", "10.3.0.0/16"})},
      {"prod", pfxs({"10.1.0.0/16", "10.11.0.0/16"})}};
  EXPECT_EQ(policy.segment_cidrs, cidrs);
}

TEST(PlanForwarding, OneSegmentGivesAnEmptyPolicy) {
  DesiredState state;
  addSpoke(state, "a", "default", {"10.1.0.0/16"});
  addSpoke(state, "b", "default", {"10.2.0.0/16"});
  EXPECT_EQ(planForwarding(state, PlanOptions{}, {}), ForwardingPolicy{});
}

TEST(PlanForwarding, NoSpokesGivesAnEmptyPolicy) {
  EXPECT_EQ(planForwarding(DesiredState{}, exampleOptions(), {}), ForwardingPolicy{});
}

TEST(PlanForwarding, SegmentWithoutCidrsIsIgnored) {
  auto state = exampleState();
  addSpoke(state, "lab-a", "lab", {});  // reaches nobody, but has nothing to isolate
  EXPECT_EQ(planForwarding(state, exampleOptions(), {}), examplePolicy());
}

TEST(PlanForwarding, UnconfiguredSegmentIsIsolatedFromEveryOther) {
  auto state = exampleState();
  addSpoke(state, "lab-a", "lab", {"10.50.0.0/16"});
  const auto policy = planForwarding(state, exampleOptions(), {});
  const std::set<Pair> isolated{{"dev", "lab"},  {"dev", "prod"},   {"lab", "dev"},
                                {"lab", "prod"}, {"lab", "shared"}, {"prod", "dev"},
                                {"prod", "lab"}, {"shared", "lab"}};
  EXPECT_EQ(policy.isolated, isolated);
  EXPECT_EQ(policy.segment_cidrs.size(), 4U);  // shared is now in a pair too
  EXPECT_EQ(policy.segment_cidrs.at("shared"), pfxs({"10.100.0.0/16"}));
}

TEST(PlanForwarding, ReachabilityListedOnOneSideIsEnough) {
  DesiredState state;
  addSpoke(state, "a", "blue", {"10.1.0.0/16"});
  addSpoke(state, "b", "green", {"10.2.0.0/16"});
  PlanOptions options;
  options.segments = {{"green", {"blue"}}};
  EXPECT_EQ(planForwarding(state, options, {}), ForwardingPolicy{});
}

TEST(PlanForwarding, SegmentCidrsAreSortedAndDeduplicated) {
  DesiredState state;
  addSpoke(state, "a", "blue", {"10.9.0.0/16", "10.1.0.0/16"});
  addSpoke(state, "b", "blue", {"10.1.0.0/16", "10.5.0.0/16"});  // a duplicate, as if by hand
  addSpoke(state, "c", "green", {"10.2.0.0/16"});
  const auto policy = planForwarding(state, PlanOptions{}, {});
  EXPECT_EQ(policy.segment_cidrs.at("blue"), pfxs({"10.1.0.0/16", "10.5.0.0/16", "10.9.0.0/16"}));
}

// ---- the MSS clamp ----

peers::TunnelSpec tunnel(std::string name, std::uint32_t interface_id, std::uint32_t mss = 1379) {
  peers::TunnelSpec spec;
  spec.name = std::move(name);
  spec.interface_id = interface_id;
  spec.tcp_mss = mss;
  return spec;
}

TEST(PlanForwarding, XfrmTunnelsAreClampedOnTheirIpsecDevices) {
  const std::vector<peers::TunnelSpec> tunnels{tunnel("th-a-1", 7), tunnel("th-a-2", 8)};
  const auto policy = planForwarding(DesiredState{}, PlanOptions{}, tunnels);
  EXPECT_EQ(policy.mss_clamp, (routing::MssClamp{{"ipsec7", "ipsec8"}, 1379}));
  EXPECT_TRUE(policy.isolated.empty());  // a clamp isolates nothing
}

TEST(PlanForwarding, NoTunnelsNoClamp) {
  EXPECT_EQ(planForwarding(exampleState(), exampleOptions(), {}).mss_clamp, routing::MssClamp{});
}

TEST(PlanForwarding, ExternalLinksAreNeverClamped) {
  PlanOptions options;
  options.links = peers::TunnelLinks::kExternal;
  const std::vector<peers::TunnelSpec> tunnels{tunnel("th-a-1", 7)};
  EXPECT_EQ(planForwarding(DesiredState{}, options, tunnels).mss_clamp, routing::MssClamp{});
}

TEST(PlanForwarding, OneClampForAllLinksAtTheSmallestMss) {
  const std::vector<peers::TunnelSpec> tunnels{tunnel("th-a-1", 7, 1379),
                                               tunnel("th-b-1", 9, 1300)};
  EXPECT_EQ(planForwarding(DesiredState{}, PlanOptions{}, tunnels).mss_clamp,
            (routing::MssClamp{{"ipsec7", "ipsec9"}, 1300}));
}

TEST(PlanForwarding, TheClampFollowsThePlannedTunnels) {
  DesiredState state;
  auto spoke = std::make_shared<peers::Spoke>();
  spoke->name = "prod-a";
  spoke->segment = "prod";
  spoke->tunnels = {{Ipv4Address::parse("203.0.113.9").value(), pfx("169.254.0.24/30"), "k1"},
                    {Ipv4Address::parse("203.0.113.10").value(), pfx("169.254.0.28/30"), "k2"}};
  state.spokes.emplace("prod-a", spoke);
  const auto planned = plan(state, PlanOptions{});
  const auto policy = planForwarding(state, PlanOptions{}, planned.tunnels);
  // if_id: the /30's position in 169.254.0.0/16 plus 1.
  EXPECT_EQ(policy.mss_clamp, (routing::MssClamp{{"ipsec7", "ipsec8"}, 1379}));
}

}  // namespace
}  // namespace transit::hub
