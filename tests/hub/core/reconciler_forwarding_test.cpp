// The reconciler's segment filter step: the policy planned from the registry goes to the
// forwarding filter when it changed or its table is gone, failures back off and show in the
// status, and the packets the filter dropped reach the status and the metric.
#include <gtest/gtest.h>

#include "hub/core/reconciler.hpp"
#include "tests/hub/hub_harness.hpp"

namespace transit::hub {
namespace {

using namespace std::chrono_literals;

using fakes::FakeForwardingFilter;

class ReconcilerForwardingTest : public ::testing::Test {
 protected:
  void prodAndDev() {
    ASSERT_TRUE(registry_->create(spoke("prod-a", "10.1.0.0/16", "prod", "198.51.100.10")));
    ASSERT_TRUE(registry_->create(spoke("dev-a", "10.3.0.0/16", "dev", "198.51.100.30")));
  }

  static peers::SpokeDraft spoke(std::string name, std::string cidr, std::string segment,
                                 std::string outside) {
    return testing::spokeDraft(std::move(name), "vpc", std::move(cidr), {std::move(outside)}, {},
                               std::move(segment));
  }

  testing::HubHarness<> hub_{testing::withForwarding({{"prod", {"shared"}}, {"dev", {"shared"}}})};
  FakeForwardingFilter& filter_ = hub_.filter;
  fakes::ManualClock& clock_ = hub_.clock;
  std::unique_ptr<Registry>& registry_ = hub_.registry;
  std::unique_ptr<Reconciler>& reconciler_ = hub_.reconciler;
};

TEST_F(ReconcilerForwardingTest, IsolatedSegmentsReachTheFilter) {
  prodAndDev();
  reconciler_->runOnce();
  ASSERT_EQ(filter_.applied.size(), 1u);
  const auto& policy = filter_.applied.back();
  EXPECT_EQ(policy.isolated,
            (std::set<std::pair<std::string, std::string>>{{"dev", "prod"}, {"prod", "dev"}}));
  EXPECT_EQ(policy.segment_cidrs.at("prod"),
            std::vector<Ipv4Prefix>{*Ipv4Prefix::parse("10.1.0.0/16")});
  EXPECT_EQ(reconciler_->status()->forwarding.state, ObjectState::kApplied);
}

TEST_F(ReconcilerForwardingTest, ADeletedSpokeLeavesThePolicy) {
  prodAndDev();
  reconciler_->runOnce();
  ASSERT_TRUE(registry_->remove("dev-a", std::nullopt));
  reconciler_->runOnce();
  EXPECT_TRUE(filter_.applied.back().isolated.empty());
}

TEST_F(ReconcilerForwardingTest, NothingIsObservedWhileNothingIsIsolated) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "10.1.0.0/16", "prod", "198.51.100.10")));
  reconciler_->runOnce();
  EXPECT_EQ(filter_.observed, 0);
  EXPECT_FALSE(reconciler_->status()->segment_dropped_packets.has_value());
  EXPECT_TRUE(filter_.applied.back().isolated.empty());  // still applied: removes a stale table
}

TEST_F(ReconcilerForwardingTest, AFailureShowsInTheStatusAndIsRetriedAfterTheBackoff) {
  prodAndDev();
  filter_.fail = true;
  reconciler_->runOnce();
  auto status = reconciler_->status();
  EXPECT_EQ(status->forwarding.state, ObjectState::kError);
  EXPECT_EQ(status->forwarding.last_error, "nft: refused");
  reconciler_->runOnce();  // not due yet
  EXPECT_EQ(filter_.applied.size(), 1u);
  filter_.fail = false;
  clock_.advance(1s);
  reconciler_->runOnce();
  EXPECT_EQ(filter_.applied.size(), 2u);
  EXPECT_EQ(reconciler_->status()->forwarding.state, ObjectState::kApplied);
}

TEST_F(ReconcilerForwardingTest, DroppedPacketsReachTheStatusAndAMonotonicCounter) {
  prodAndDev();
  filter_.dropped = 5;
  reconciler_->runOnce();
  EXPECT_EQ(reconciler_->status()->segment_dropped_packets, 5u);
  filter_.dropped = 2;  // the table was reloaded: its counters restarted
  reconciler_->runOnce();
  EXPECT_NE(hub_.scrape().find("transit_hub_segment_dropped_packets_total 7"), std::string::npos)
      << hub_.scrape();
}

TEST_F(ReconcilerForwardingTest, AnUnchangedPolicyWhoseTableRunsIsNotAppliedAgain) {
  prodAndDev();
  filter_.dropped = 0;  // the table is loaded
  reconciler_->runOnce();
  reconciler_->runOnce();
  reconciler_->runOnce();
  EXPECT_EQ(filter_.applied.size(), 1u);
  EXPECT_EQ(reconciler_->status()->forwarding.state, ObjectState::kApplied);
}

TEST_F(ReconcilerForwardingTest, ATableRemovedBehindTheHubsBackIsLoadedAgain) {
  prodAndDev();
  filter_.dropped = 0;
  reconciler_->runOnce();
  filter_.dropped.reset();  // nft flush ruleset: the table is gone
  reconciler_->runOnce();
  EXPECT_EQ(filter_.applied.size(), 2u);
  EXPECT_EQ(filter_.applied.back(), filter_.applied.front());
}

TEST_F(ReconcilerForwardingTest, WithoutAFilterForwardingStaysPending) {
  testing::HubHarness<> hub;  // no forwarding filter
  ASSERT_TRUE(hub.registry->create(spoke("prod-a", "10.1.0.0/16", "prod", "198.51.100.10")));
  hub.reconciler->runOnce();
  EXPECT_EQ(hub.status()->forwarding.state, ObjectState::kPending);
  EXPECT_TRUE(hub.filter.applied.empty());
}

}  // namespace
}  // namespace transit::hub
