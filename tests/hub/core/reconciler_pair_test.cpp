// The reconciler's pair steps: the link between the hubs is made before BIRD and only when it
// differs, a failure shows in the status and the metric, a leftover link goes when the pair is
// not configured, and BIRD is given the iBGP session with every spoke of the registry.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "hub/core/reconciler.hpp"
#include "tests/hub/hub_harness.hpp"

namespace transit::hub {
namespace {

using namespace std::chrono_literals;

PlanOptions::Pair pair() {
  PlanOptions::Pair p;
  p.peer_name = "hub-b";
  p.peer_local_ip = *Ipv4Address::parse("10.0.2.10");
  p.vni = 77;
  p.port = 4789;
  p.inside = *Ipv4Prefix::parse("169.254.253.252/30");
  p.mtu = 1450;
  p.bfd_interval_ms = 300;
  p.bfd_multiplier = 4;
  return p;
}

testing::HubHarnessOptions withPair() {
  testing::HubHarnessOptions options;
  options.pair = pair();
  return options;
}

class ReconcilerPairTest : public ::testing::Test {
 protected:
  testing::HubHarness<> hub_{withPair()};
  fakes::FakePairLink& link_ = hub_.pair_link;
};

TEST_F(ReconcilerPairTest, TheLinkIsMadeAsPlannedAndLeftAloneWhileItMatches) {
  hub_.reconciler->runOnce();
  ASSERT_EQ(link_.applied.size(), 1u);
  const auto& spec = link_.applied.back();
  EXPECT_EQ(spec.device, "th-pair");
  EXPECT_EQ(spec.vni, 77u);
  EXPECT_EQ(spec.local.toString(), "10.0.0.10");
  EXPECT_EQ(spec.remote.toString(), "10.0.2.10");
  EXPECT_EQ(spec.address.toString(), "169.254.253.253");  // "hub-a" sorts before "hub-b"
  const auto status = hub_.status();
  ASSERT_TRUE(status->pair.has_value());
  EXPECT_EQ(status->pair->link.state, ObjectState::kApplied);
  EXPECT_TRUE(status->pair->linkUp());
  EXPECT_NE(hub_.scrape().find("transit_hub_pair_link_up 1"), std::string::npos);
  hub_.reconciler->runOnce();
  hub_.reconciler->runOnce();
  EXPECT_EQ(link_.applied.size(), 1u);  // observed every pass, applied once
  EXPECT_GE(link_.observed, 3);
}

TEST_F(ReconcilerPairTest, ALinkChangedBehindTheHubsBackIsMadeAgain) {
  hub_.reconciler->runOnce();
  link_.link->vni = 5;  // someone changed it
  hub_.reconciler->runOnce();
  ASSERT_EQ(link_.applied.size(), 2u);
  EXPECT_EQ(link_.link->vni, 77u);
}

TEST_F(ReconcilerPairTest, AFailureShowsInTheStatusAndTheMetricAndIsRetriedAfterTheBackoff) {
  link_.fail = true;
  hub_.reconciler->runOnce();
  auto status = hub_.status();
  ASSERT_TRUE(status->pair.has_value());
  EXPECT_EQ(status->pair->link.state, ObjectState::kError);
  EXPECT_EQ(status->pair->link.last_error, "no device holds 10.0.0.10");
  EXPECT_FALSE(status->pair->linkUp());
  EXPECT_NE(hub_.scrape().find("transit_hub_pair_link_up 0"), std::string::npos);
  hub_.reconciler->runOnce();  // not due yet
  EXPECT_EQ(link_.applied.size(), 1u);
  link_.fail = false;
  hub_.clock.advance(1s);
  hub_.reconciler->runOnce();
  EXPECT_EQ(hub_.status()->pair->link.state, ObjectState::kApplied);
}

TEST_F(ReconcilerPairTest, BirdRunsTheIbgpSessionWithEverySpokeOfTheRegistry) {
  ASSERT_TRUE(hub_.registry->create(
      testing::spokeDraft("vpc-a", "vpc", "10.1.0.0/16", {"198.51.100.10"}, {}, "prod")));
  ASSERT_TRUE(hub_.registry->create(
      testing::spokeDraft("site-b", "site", "10.2.0.0/16", {"198.51.100.20"}, "static")));
  hub_.reconciler->runOnce();
  ASSERT_TRUE(hub_.routing.running.has_value());
  const auto& peer = hub_.routing.running->peer_hub;
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->name, "th_pair");
  EXPECT_EQ(peer->hub, "hub-b");
  EXPECT_EQ(peer->local_address.toString(), "169.254.253.253");
  EXPECT_EQ(peer->neighbor_address.toString(), "169.254.253.254");
  EXPECT_EQ(peer->bfd_interval_ms, 300u);
  EXPECT_EQ(peer->bfd_multiplier, 4u);
  ASSERT_EQ(peer->spokes.size(), 2u);
  const auto tag = hub_.registry->snapshot()->spokes.at("site-b")->route_tag;
  EXPECT_EQ(peer->spokes.at(tag).name, "site-b");
  EXPECT_EQ(peer->spokes.at(tag).segment, "default");
}

TEST_F(ReconcilerPairTest, TheRegistryNeverGivesTheLinksSlash30ToATunnel) {
  auto draft = testing::spokeDraft("vpc-a", "vpc", "10.1.0.0/16", {"198.51.100.10"});
  (*draft.tunnels)[0].inside_cidr = "169.254.253.252/30";
  const auto refused = hub_.registry->create(draft);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, "tunnels[0].inside_cidr");
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(
      refused.error().message,
      "169.254.253.252/30 overlaps 169.254.253.252/30, the link between the hubs of the pair");
  // Allocated /30s never are the link's, however many tunnels there are.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(hub_.registry->create(testing::spokeDraft(
        fmt::format("vpc-{}", i), "vpc", fmt::format("10.{}.0.0/16", 100 + i),
        {fmt::format("198.51.100.{}", 100 + i), fmt::format("198.51.101.{}", 100 + i)})));
  }
  for (const auto& [name, spoke] : hub_.registry->snapshot()->spokes) {
    for (const auto& tunnel : spoke->tunnels) {
      EXPECT_FALSE(tunnel.inside_cidr.overlaps(pair().inside)) << name;
    }
  }
}

TEST(RegistryPairLink, AllocationSkipsTheLinksSlash30) {
  // The /30 the allocator hands out first, made the link's: the first tunnel gets the next one.
  testing::HubHarness<> plain;
  ASSERT_TRUE(plain.registry->create(
      testing::spokeDraft("vpc-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  const auto first = plain.registry->snapshot()->spokes.at("vpc-a")->tunnels.at(0).inside_cidr;
  auto options = withPair();
  options.pair->inside = first;
  testing::HubHarness<> paired(options);
  ASSERT_TRUE(paired.registry->create(
      testing::spokeDraft("vpc-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  const auto got = paired.registry->snapshot()->spokes.at("vpc-a")->tunnels.at(0).inside_cidr;
  EXPECT_NE(got, first);
}

TEST(ReconcilerWithoutPair, ALeftoverLinkIsRemovedOnceAndNothingIsReported) {
  testing::HubHarness<> hub;  // no pair configured
  fakes::FakePairLink link;
  link.link = routing::PairLinkSpec{};
  Reconciler reconciler(*hub.registry, hub.tunnels, hub.routing, nullptr, hub.clock, &hub.metrics,
                        hub.reconcilerOptions(), &link);
  reconciler.runOnce();
  reconciler.runOnce();
  EXPECT_EQ(link.removed, std::vector<std::string>{"th-pair"});
  EXPECT_TRUE(link.applied.empty());
  EXPECT_FALSE(reconciler.status()->pair.has_value());
  EXPECT_FALSE(hub.routing.running->peer_hub.has_value());
  EXPECT_EQ(hub.scrape().find("transit_hub_pair_link_up"), std::string::npos);
}

}  // namespace
}  // namespace transit::hub
