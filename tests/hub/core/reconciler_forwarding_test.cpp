// The reconciler's segment filter step: the policy planned from the registry goes to the
// forwarding filter every pass, failures back off and show in the status, and the packets the
// filter dropped reach the status and the metric.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "hub/core/reconciler.hpp"
#include "hub/metrics/reconciler_metrics.hpp"
#include "tests/fakes/fake_drivers.hpp"
#include "tests/fakes/fake_forwarding_filter.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::hub {
namespace {

using namespace std::chrono_literals;

using fakes::FakeForwardingFilter;

peers::SpokeDraft spoke(std::string name, std::string cidr, std::string segment,
                        std::string outside) {
  peers::SpokeDraft d;
  d.name = std::move(name);
  d.kind = "vpc";
  d.cidrs = std::vector<std::string>{std::move(cidr)};
  d.asn = 64512;
  d.segment = std::move(segment);
  d.tunnels = std::vector<peers::TunnelDraft>{{std::move(outside), std::nullopt, std::nullopt}};
  return d;
}

class ReconcilerForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    Registry::Options options;
    options.validation.hub_asn = 65000;
    registry_ = std::move(*Registry::create(store_, clock_, nullptr, std::move(options)));
    Reconciler::Options reconcile;
    reconcile.plan.local_address = *Ipv4Address::parse("10.0.0.10");
    reconcile.plan.public_address = *Ipv4Address::parse("203.0.113.10");
    reconcile.plan.local_as = 65000;
    reconcile.plan.router_id = reconcile.plan.public_address;
    reconcile.plan.segments = {{"prod", {"shared"}}, {"dev", {"shared"}}};
    reconciler_ = std::make_unique<Reconciler>(*registry_, tunnels_, routing_, clock_, &metrics_,
                                               reconcile);
    reconciler_->setForwardingFilter(&filter_);
  }

  void prodAndDev() {
    ASSERT_TRUE(registry_->create(spoke("prod-a", "10.1.0.0/16", "prod", "198.51.100.10")));
    ASSERT_TRUE(registry_->create(spoke("dev-a", "10.3.0.0/16", "dev", "198.51.100.30")));
  }

  std::string scrape() {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, prometheus_.Collect());
    return out.str();
  }

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  fakes::FakeTunnelDriver tunnels_;
  fakes::FakeRoutingDriver routing_;
  FakeForwardingFilter filter_;
  prometheus::Registry prometheus_;
  ReconcilerMetrics metrics_{prometheus_};
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Reconciler> reconciler_;
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
  EXPECT_NE(scrape().find("transit_hub_segment_dropped_packets_total 7"), std::string::npos)
      << scrape();
}

}  // namespace
}  // namespace transit::hub
