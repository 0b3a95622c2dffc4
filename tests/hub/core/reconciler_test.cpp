// Planner and Reconciler against in-memory drivers, with a manual clock.
#include "hub/core/reconciler.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "hub/metrics/reconciler_metrics.hpp"
#include "tests/fakes/fake_drivers.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::hub {
namespace {

using namespace std::chrono_literals;

peers::SpokeDraft spoke(std::string name, std::string kind, std::string cidr,
                        std::vector<std::string> outsides, std::optional<std::string> routing = {}) {
  peers::SpokeDraft d;
  d.name = std::move(name);
  d.kind = std::move(kind);
  d.cidrs = std::vector<std::string>{std::move(cidr)};
  d.routing = routing;
  if (routing != "static") d.asn = d.kind == "vpc" ? 64512 : 65010;
  std::vector<peers::TunnelDraft> tunnels;
  for (auto& o : outsides) tunnels.push_back(peers::TunnelDraft{o, std::nullopt, std::nullopt});
  d.tunnels = std::move(tunnels);
  return d;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    Registry::Options options;
    options.validation.hub_asn = 65000;
    registry_ = std::move(*Registry::create(store_, clock_, nullptr, std::move(options)));
    reconciler_ = makeReconciler();
  }

  std::unique_ptr<Reconciler> makeReconciler() {
    Reconciler::Options options;
    options.plan.local_address = *Ipv4Address::parse("10.0.0.10");
    options.plan.public_address = *Ipv4Address::parse("203.0.113.10");
    options.plan.local_as = 65000;
    options.plan.router_id = options.plan.public_address;
    return std::make_unique<Reconciler>(*registry_, tunnels_, routing_, clock_, &metrics_,
                                        options);
  }

  const TunnelStatus& tunnel(const std::string& name) {
    status_ = reconciler_->status();
    return status_->tunnels.at(name);
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
  prometheus::Registry prometheus_;
  ReconcilerMetrics metrics_{prometheus_};
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Reconciler> reconciler_;
  std::shared_ptr<const ReconcileStatus> status_;
};

TEST_F(ReconcilerTest, PlanNamesTunnelsAndSessionsStablyAndPlacesTheHubOnEachLink) {
  auto vpc = spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10", "198.51.100.11"});
  (*vpc.tunnels)[0].inside_cidr = "169.254.20.0/30";
  ASSERT_TRUE(registry_->create(vpc));
  auto site = spoke("site-1", "site", "172.16.1.0/24", {"198.51.100.30"});
  (*site.tunnels)[0].inside_cidr = "169.254.30.0/30";
  ASSERT_TRUE(registry_->create(site));
  ASSERT_TRUE(registry_->create(spoke("static-x", "vpc", "10.9.0.0/16", {"198.51.100.90"},
                                      "static")));

  PlanOptions options;
  options.local_address = *Ipv4Address::parse("10.0.0.10");
  options.public_address = *Ipv4Address::parse("203.0.113.10");
  options.local_as = 65000;
  const Plan p = plan(*registry_->snapshot(), options);

  ASSERT_EQ(p.tunnels.size(), 4u);
  const auto& t = p.tunnels[0];
  EXPECT_EQ(t.name, "th-prod-a-1");
  EXPECT_EQ(t.remote_address.toString(), "198.51.100.10");
  EXPECT_EQ(t.local_address.toString(), "10.0.0.10");
  EXPECT_EQ(t.local_id.toString(), "203.0.113.10");
  EXPECT_EQ(t.hub_inside.toString(), "169.254.20.2");  // vpc: the customer gateway's address
  EXPECT_EQ(t.interface_id, (20u * 256) / 4 + 1);      // the /30's place in 169.254/16, plus one
  EXPECT_EQ(p.tunnels[2].name, "th-site-1-1");  // sorted: th-site-1-1 before th-static-x-1
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

TEST_F(ReconcilerTest, AppliesWhatIsWantedOnceAndReportsItApplied) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16",
                                      {"198.51.100.10", "198.51.100.11"})));
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
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16",
                                      {"198.51.100.10", "198.51.100.11"})));
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
  EXPECT_NE(scrape().find(R"(transit_hub_daemon_up{daemon="pluto"} 0)"), std::string::npos);
  tunnels_.down.reset();
  reconciler_->runOnce();
  EXPECT_TRUE(tunnels_.loaded.contains("th-prod-a-1"));
}

TEST_F(ReconcilerTest, ARestartedHubAdoptsWhatRunsAndRemovesNothingThatIsWanted) {
  ASSERT_TRUE(registry_->create(spoke("prod-a", "vpc", "10.1.0.0/16", {"198.51.100.10"})));
  reconciler_->runOnce();
  const auto before = tunnels_.loaded;
  reconciler_ = makeReconciler();  // transit-hubd restarted: no memory of what it applied
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
  std::string text = scrape();
  EXPECT_NE(text.find(R"(transit_hub_tunnel_ike_up{spoke="prod-a",tunnel="1"} 1)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(transit_hub_tunnel_in_bytes_total{spoke="prod-a",tunnel="1"} 1500)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_session_up{spoke="prod-a",tunnel="1"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_routes_received{spoke="prod-a"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_routes_advertised{spoke="prod-a"} 7)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_reconcile_total{result="ok"})"), std::string::npos);

  // A new SA counts from zero again: the counter still only goes up.
  tunnels_.bytes = 200;
  reconciler_->runOnce();
  EXPECT_NE(scrape().find(R"(transit_hub_tunnel_in_bytes_total{spoke="prod-a",tunnel="1"} 1700)"),
            std::string::npos);

  ASSERT_TRUE(registry_->remove("prod-a", std::nullopt));
  reconciler_->runOnce();
  text = scrape();
  EXPECT_EQ(text.find("spoke=\"prod-a\""), std::string::npos) << text;
}

TEST_F(ReconcilerTest, DuplicateIkeSasAreDeletedAndCounted) {
  ASSERT_TRUE(registry_->create(spoke("site-1", "site", "172.16.1.0/24",
                                      {"198.51.100.30", "198.51.100.31"})));
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
  const std::string text = scrape();
  EXPECT_NE(text.find(
                R"(transit_hub_tunnel_duplicate_ike_sas_deleted_total{spoke="site-1",tunnel="1"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(
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

}  // namespace
}  // namespace transit::hub
