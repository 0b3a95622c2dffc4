// The Reconciler against in-memory drivers, with a manual clock (tests/hub/hub_harness.hpp).
#include "hub/core/reconciler.hpp"

#include <gtest/gtest.h>

#include "tests/hub/hub_harness.hpp"

namespace transit::hub {
namespace {

using namespace std::chrono_literals;

using testing::spokeDraft;

class ReconcilerTest : public ::testing::Test {
 protected:
  static peers::SpokeDraft spoke(std::string name, std::string kind, std::string cidr,
                                 std::vector<std::string> outsides,
                                 std::optional<std::string> routing = {}) {
    return spokeDraft(std::move(name), std::move(kind), std::move(cidr), std::move(outsides),
                      std::move(routing));
  }

  const TunnelStatus& tunnel(const std::string& name) {
    status_ = hub_.status();
    return status_->tunnels.at(name);
  }

  testing::HubHarness<> hub_;
  fakes::FakeTunnelDriver& tunnels_ = hub_.tunnels;
  fakes::FakeRoutingDriver& routing_ = hub_.routing;
  fakes::ManualClock& clock_ = hub_.clock;
  std::unique_ptr<Registry>& registry_ = hub_.registry;
  std::unique_ptr<Reconciler>& reconciler_ = hub_.reconciler;
  std::shared_ptr<const ReconcileStatus> status_;
};

TEST_F(ReconcilerTest, AppliesWhatIsWantedOnceAndReportsItApplied) {
  ASSERT_TRUE(
      registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10", "198.51.100.11"})));
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.loaded.size(), 2u);
  ASSERT_TRUE(routing_.running.has_value());
  EXPECT_EQ(routing_.running->sessions.size(), 2u);

  reconciler_->runOnce();  // observed now; everything in sync
  const auto status = reconciler_->status();
  EXPECT_TRUE(status->initial_sync_done);
  EXPECT_TRUE(status->pluto.up);
  EXPECT_EQ(status->tunnels.at("th-prod-a-1").object.state, ObjectState::kApplied);
  EXPECT_TRUE(status->tunnels.at("th-prod-a-1").observed.ike_up);
  EXPECT_TRUE(status->sessions.at("th_prod_a_2").observed.established);

  const int applies = tunnels_.apply_calls;
  const int routing_applies = routing_.apply_calls;
  reconciler_->runOnce();
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.apply_calls, applies) << "a pass in sync must not touch the daemon";
  EXPECT_EQ(routing_.apply_calls, routing_applies);
}

TEST_F(ReconcilerTest, DeletingASpokeRemovesItsTunnelsAndSessionsAndNothingElse) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  ASSERT_TRUE(registry_->create(spoke("prod-b", "vpc", "10.2.0.0/16", {"198.51.100.20"})));
  reconciler_->runOnce();
  ASSERT_TRUE(registry_->remove("prod-a", std::nullopt));
  reconciler_->runOnce();
  EXPECT_FALSE(tunnels_.loaded.contains("th-prod-a-1"));
  EXPECT_TRUE(tunnels_.loaded.contains("th-prod-b-1"));
  ASSERT_EQ(routing_.running->sessions.size(), 1u);
  EXPECT_EQ(routing_.running->sessions[0].name, "th_prod_b_1");
  EXPECT_FALSE(reconciler_->status()->tunnels.contains("th-prod-a-1"));
}

TEST_F(ReconcilerTest, FailuresBackOffExponentiallyAndAChangedSpecIsTriedAtOnce) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  tunnels_.fail_next_applies = 3;
  reconciler_->runOnce();
  {
    const auto& t = tunnel("th-prod-a-1");
    EXPECT_EQ(t.object.state, ObjectState::kError);
    EXPECT_EQ(t.object.attempts, 1u);
    EXPECT_EQ(t.object.last_error, "pluto refused the connection");
    EXPECT_EQ(*t.object.next_retry - clock_.monotonicNow(), 1s);
  }
  reconciler_->runOnce();  // not due yet
  EXPECT_EQ(tunnels_.apply_calls, 1);
  clock_.advance(1s);
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.apply_calls, 2);
  EXPECT_EQ(*tunnel("th-prod-a-1").object.next_retry - clock_.monotonicNow(), 2s);

  // The operator fixes the spoke: the new spec is tried without waiting for the backoff.
  auto fixed = spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"});
  fixed.segment = "prod";  // any change of the spoke's document
  (*fixed.tunnels)[0].psk = "NewKey_12345678";
  ASSERT_TRUE(registry_->replace("prod-a", fixed, std::nullopt));
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.apply_calls, 3);
  clock_.advance(10s);
  reconciler_->runOnce();
  EXPECT_EQ(tunnel("th-prod-a-1").object.state, ObjectState::kApplied);
  EXPECT_EQ(tunnels_.loaded.at("th-prod-a-1").psk, "NewKey_12345678");
}

TEST_F(ReconcilerTest, BackoffIsCapped) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  tunnels_.fail_next_applies = 1000;
  for (int i = 0; i < 12; ++i) {
    reconciler_->runOnce();
    clock_.advance(120s);
  }
  reconciler_->runOnce();
  EXPECT_EQ(*tunnel("th-prod-a-1").object.next_retry - clock_.monotonicNow(), 60s);
}

TEST_F(ReconcilerTest, DriftIsHealedWithoutAnApiCall) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  reconciler_->runOnce();
  tunnels_.loaded.erase("th-prod-a-1");  // someone unloaded it behind the hub's back
  reconciler_->runOnce();
  EXPECT_TRUE(tunnels_.loaded.contains("th-prod-a-1"));
}

TEST_F(ReconcilerTest, ADaemonRestartTriggersAFullResync) {
  ASSERT_TRUE(
      registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10", "198.51.100.11"})));
  reconciler_->runOnce();
  tunnels_.restart();
  routing_.restart();
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.loaded.size(), 2u);
  EXPECT_TRUE(routing_.running.has_value());
  EXPECT_EQ(reconciler_->status()->pluto.instance, "pluto-1");
}

TEST_F(ReconcilerTest, ADaemonThatIsDownIsReportedAndCaughtUpWhenItReturns) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  tunnels_.down = "pluto.ctl: No such file or directory";
  reconciler_->runOnce();
  {
    const auto status = reconciler_->status();
    EXPECT_FALSE(status->pluto.up);
    EXPECT_FALSE(status->initial_sync_done);
    const auto& t = status->tunnels.at("th-prod-a-1");
    EXPECT_EQ(t.object.state, ObjectState::kPending);
    EXPECT_NE(t.object.last_error.find("pluto is not reachable"), std::string::npos);
  }
  EXPECT_NE(hub_.scrape().find(R"(transit_hub_daemon_up{daemon="pluto"} 0)"), std::string::npos);
  tunnels_.down.reset();
  reconciler_->runOnce();
  EXPECT_TRUE(tunnels_.loaded.contains("th-prod-a-1"));
}

TEST_F(ReconcilerTest, ARestartedHubAdoptsWhatRunsAndRemovesNothingThatIsWanted) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  reconciler_->runOnce();
  const auto before = tunnels_.loaded;
  hub_.restartReconciler();  // transit-hubd restarted: no memory of what it applied
  reconciler_->runOnce();
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.remove_calls, 0);
  EXPECT_EQ(tunnels_.loaded, before);
  EXPECT_EQ(tunnel("th-prod-a-1").object.state, ObjectState::kApplied);
}

TEST_F(ReconcilerTest, MetricsFollowTunnelsAndForgetDeletedSpokes) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  tunnels_.bytes = 1000;
  reconciler_->runOnce();
  reconciler_->runOnce();
  tunnels_.bytes = 1500;
  reconciler_->runOnce();
  std::string text = hub_.scrape();
  EXPECT_NE(text.find(R"(transit_hub_tunnel_ike_up{spoke="prod-a",tunnel="1"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(transit_hub_tunnel_in_bytes_total{spoke="prod-a",tunnel="1"} 1500)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_session_up{spoke="prod-a",tunnel="1"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_routes_received{spoke="prod-a"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_routes_advertised{spoke="prod-a"} 7)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_reconcile_total{result="ok"})"), std::string::npos);

  // A new SA counts from zero again: the counter still only goes up.
  tunnels_.bytes = 200;
  reconciler_->runOnce();
  EXPECT_NE(
      hub_.scrape().find(R"(transit_hub_tunnel_in_bytes_total{spoke="prod-a",tunnel="1"} 1700)"),
      std::string::npos);

  ASSERT_TRUE(registry_->remove("prod-a", std::nullopt));
  reconciler_->runOnce();
  text = hub_.scrape();
  EXPECT_EQ(text.find("spoke=\"prod-a\""), std::string::npos) << text;
}

TEST_F(ReconcilerTest, DuplicateIkeSasAreDeletedAndCounted) {
  ASSERT_TRUE(registry_->create(
      spoke("site-1", "site", "172.16.1.0/24", {"198.51.100.30", "198.51.100.31"})));
  reconciler_->runOnce();
  tunnels_.duplicates["th-site-1-1"] = {23};
  tunnels_.duplicates["th-site-1-2"] = {24, 26};
  reconciler_->runOnce();
  const std::vector<std::pair<std::string, std::uint64_t>> expected{
      {"th-site-1-1", 23}, {"th-site-1-2", 24}, {"th-site-1-2", 26}};
  EXPECT_EQ(tunnels_.deleted_ike_sas, expected);
  EXPECT_EQ(tunnel("th-site-1-2").duplicate_ike_sas_deleted, 2U);
  reconciler_->runOnce();  // none left: nothing more is deleted, the counter stays
  EXPECT_EQ(tunnels_.deleted_ike_sas.size(), 3U);
  const std::string text = hub_.scrape();
  EXPECT_NE(
      text.find(
          R"(transit_hub_tunnel_duplicate_ike_sas_deleted_total{spoke="site-1",tunnel="1"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(transit_hub_tunnel_duplicate_ike_sas_deleted_total{spoke="site-1",tunnel="2"} 2)"),
      std::string::npos);
}

TEST_F(ReconcilerTest, AFailedDuplicateDeletionIsRetriedAndTheTunnelStaysApplied) {
  ASSERT_TRUE(registry_->create(spoke("site-1", "site", "172.16.1.0/24", {"198.51.100.30"})));
  reconciler_->runOnce();
  tunnels_.duplicates["th-site-1-1"] = {23};
  tunnels_.fail_deletes = true;
  reconciler_->runOnce();
  EXPECT_EQ(tunnel("th-site-1-1").duplicate_ike_sas_deleted, 0U);
  EXPECT_EQ(tunnel("th-site-1-1").object.state, ObjectState::kApplied);
  tunnels_.fail_deletes = false;
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.deleted_ike_sas.size(), 2U);
  EXPECT_TRUE(tunnels_.duplicates["th-site-1-1"].empty());
}

// The routing driver's failure paths.

TEST_F(ReconcilerTest, ARefusedRoutingConfigurationBacksOffAndRecovers) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  routing_.fail_next_applies = 2;
  reconciler_->runOnce();
  {
    const auto status = hub_.status();
    const auto& session = status->sessions.at("th_prod_a_1");
    EXPECT_EQ(session.object.state, ObjectState::kError);
    EXPECT_EQ(session.object.last_error, "8002 parse error");
    EXPECT_EQ(session.object.attempts, 1u);
    EXPECT_EQ(*session.object.next_retry - clock_.monotonicNow(), 1s);
  }
  reconciler_->runOnce();  // not due yet: BIRD is not asked again
  EXPECT_EQ(routing_.apply_calls, 1);
  clock_.advance(1s);
  reconciler_->runOnce();  // fails again: the next retry waits twice as long
  EXPECT_EQ(routing_.apply_calls, 2);
  EXPECT_EQ(*hub_.status()->sessions.at("th_prod_a_1").object.next_retry - clock_.monotonicNow(),
            2s);
  clock_.advance(2s);
  reconciler_->runOnce();
  EXPECT_EQ(routing_.apply_calls, 3);
  ASSERT_TRUE(routing_.running.has_value());
  EXPECT_EQ(hub_.status()->sessions.at("th_prod_a_1").object.state, ObjectState::kApplied);
  EXPECT_TRUE(hub_.status()->sessions.at("th_prod_a_1").object.last_error.empty());
}

TEST_F(ReconcilerTest, AChangedRoutingSpecIsTriedAtOnceAfterAFailure) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  routing_.fail_next_applies = 1;
  reconciler_->runOnce();
  ASSERT_TRUE(registry_->create(spoke("prod-b", "vpc", "10.2.0.0/16", {"198.51.100.20"})));
  reconciler_->runOnce();  // the backoff has not run out, but the wanted spec changed
  EXPECT_EQ(routing_.apply_calls, 2);
  ASSERT_TRUE(routing_.running.has_value());
  EXPECT_EQ(routing_.running->sessions.size(), 2u);
}

TEST_F(ReconcilerTest, BirdDownIsPendingNotAnErrorAndCaughtUpWhenItAnswers) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  routing_.down = "bird.ctl: Connection refused";
  for (int i = 0; i < 3; ++i) {
    reconciler_->runOnce();
    clock_.advance(10s);
  }
  {
    const auto status = hub_.status();
    EXPECT_FALSE(status->bird.up);
    EXPECT_EQ(status->bird.error, "bird.ctl: Connection refused");
    EXPECT_FALSE(status->initial_sync_done);
    const auto& session = status->sessions.at("th_prod_a_1");
    EXPECT_EQ(session.object.state, ObjectState::kPending);
    EXPECT_EQ(session.object.attempts, 0u);  // waiting is not a failed attempt
    EXPECT_FALSE(session.object.next_retry.has_value());
    EXPECT_NE(session.object.last_error.find("BIRD is not reachable"), std::string::npos);
  }
  EXPECT_EQ(routing_.apply_calls, 0);     // nothing was sent to a daemon that does not answer
  EXPECT_EQ(tunnels_.loaded.size(), 1u);  // the tunnels do not wait for BIRD
  EXPECT_NE(hub_.scrape().find(R"(transit_hub_daemon_up{daemon="bird"} 0)"), std::string::npos);
  routing_.down.reset();
  reconciler_->runOnce();
  EXPECT_EQ(routing_.apply_calls, 1);
  EXPECT_TRUE(hub_.status()->initial_sync_done);
  reconciler_->runOnce();
  EXPECT_EQ(hub_.status()->sessions.at("th_prod_a_1").object.state, ObjectState::kApplied);
}

TEST_F(ReconcilerTest, AFailedStrayRemovalShowsInTheStatusAndIsRetriedAfterTheBackoff) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  reconciler_->runOnce();
  ASSERT_TRUE(registry_->remove("prod-a", std::nullopt));
  tunnels_.fail_next_removes = 1;
  reconciler_->runOnce();
  {
    const auto status = hub_.status();
    ASSERT_TRUE(status->removals.contains("th-prod-a-1"));
    const auto& removal = status->removals.at("th-prod-a-1");
    EXPECT_EQ(removal.state, ObjectState::kError);
    EXPECT_EQ(removal.last_error, "could not remove: pluto: delete failed");
    EXPECT_EQ(*removal.next_retry - clock_.monotonicNow(), 1s);
  }
  EXPECT_TRUE(tunnels_.loaded.contains("th-prod-a-1"));
  reconciler_->runOnce();  // not due yet
  EXPECT_EQ(tunnels_.remove_calls, 1);
  clock_.advance(1s);
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.remove_calls, 2);
  EXPECT_FALSE(tunnels_.loaded.contains("th-prod-a-1"));
  EXPECT_TRUE(hub_.status()->removals.empty());
}

TEST_F(ReconcilerTest, AStrayTheHubAppliedIsRemovedEvenWhenPlutoNoLongerListsIt) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  reconciler_->runOnce();
  ASSERT_TRUE(registry_->remove("prod-a", std::nullopt));
  tunnels_.loaded.erase("th-prod-a-1");  // pluto dropped it, its files may remain
  reconciler_->runOnce();
  EXPECT_EQ(tunnels_.remove_calls, 1);
}

TEST_F(ReconcilerTest, UnreadableRoutesAreCountedAndPlannedFromTheLastOnesSeen) {
  // A FakeRoutingDriver reports routes_error only through a custom observation: wrap it.
  class FlakyRoutes final : public routing::RoutingDriver {
   public:
    explicit FlakyRoutes(fakes::FakeRoutingDriver& inner) : inner_(inner) {}
    std::expected<void, DriverError> apply(const routing::RoutingSpec& spec) override {
      return inner_.apply(spec);
    }
    std::expected<routing::RoutingObservation, DriverError> observe() override {
      auto seen = inner_.observe();
      if (seen && fail) {
        seen->routes.clear();
        seen->routes_error = "BIRD answered 8004: Stopped due to reconfiguration";
      }
      return seen;
    }
    bool fail = false;

   private:
    fakes::FakeRoutingDriver& inner_;
  } flaky(routing_);
  Reconciler reconciler(*registry_, tunnels_, flaky, nullptr, clock_, &hub_.metrics,
                        hub_.reconcilerOptions());
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  ASSERT_TRUE(registry_->create(spoke("prod-b", "vpc", "10.2.0.0/16", {"198.51.100.20"})));
  routing::ObservedRoute a;
  a.prefix = *Ipv4Prefix::parse("10.1.0.0/16");
  a.protocol = "th_prod_a_1";
  routing_.routes = {a};
  reconciler.runOnce();  // applies the sessions
  reconciler.runOnce();  // BIRD reports their routes, tagged with their spokes
  flaky.fail = true;
  reconciler.runOnce();
  reconciler.runOnce();
  const auto status = reconciler.status();
  EXPECT_EQ(status->bird_route_query_failures, 2u);
  EXPECT_EQ(status->routes.size(), 1u);  // the last ones seen
  EXPECT_EQ(status->exports.at("prod-b").prefixes.size(), 1u);
  EXPECT_NE(hub_.scrape().find("transit_hub_bird_route_query_failures_total 2"), std::string::npos)
      << hub_.scrape();
}

TEST_F(ReconcilerTest, ThePassPublishesRouteOwnersConflictsAndASpokeIndex) {
  ASSERT_TRUE(
      registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10", "198.51.100.11"})));
  ASSERT_TRUE(registry_->create(spoke("prod-b", "vpc", "10.2.0.0/16", {"198.51.100.20"})));
  routing::ObservedRoute refused;
  refused.prefix = *Ipv4Prefix::parse("10.1.99.0/24");  // prod-a's space, announced by prod-b
  refused.protocol = "th_prod_b_1";
  refused.filtered = true;
  routing_.routes = {refused};
  reconciler_->runOnce();  // applies the sessions
  reconciler_->runOnce();  // BIRD reports their routes, tagged with their spokes
  const auto status = hub_.status();
  ASSERT_EQ(status->route_owners.size(), 1u);
  EXPECT_EQ(status->route_owners[0], (RouteOwner{"prod-b", 1}));
  ASSERT_EQ(status->conflicts.size(), 1u);
  EXPECT_EQ(status->conflicts[0].announced_by, "prod-b");
  EXPECT_EQ(status->conflicts[0].overlaps_spoke, "prod-a");
  EXPECT_EQ(status->spokes.at("prod-a").tunnels,
            (std::map<int, std::string>{{1, "th-prod-a-1"}, {2, "th-prod-a-2"}}));
  EXPECT_EQ(status->spokes.at("prod-a").sessions,
            (std::map<int, std::string>{{1, "th_prod_a_1"}, {2, "th_prod_a_2"}}));
  EXPECT_NE(hub_.scrape().find("transit_hub_route_conflicts 1"), std::string::npos);
}

}  // namespace
}  // namespace transit::hub
