// ReconcilerMetrics' routing-policy series, from hand-built statuses as the reconciler would
// record them after a pass: they appear with their spokes and disappear with them.
#include "hub/metrics/reconciler_metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <sstream>

#include "hub/core/reconciler.hpp"

namespace transit::hub {
namespace {

Ipv4Prefix pfx(std::string_view text) { return *Ipv4Prefix::parse(text); }

std::shared_ptr<const peers::Spoke> bgpSpoke(std::string name, std::uint32_t route_tag,
                                             std::string_view cidr, int tunnels) {
  auto s = std::make_shared<peers::Spoke>();
  s->name = std::move(name);
  s->route_tag = route_tag;
  s->cidrs = {pfx(cidr)};
  s->asn = 64512;
  s->tunnels.resize(static_cast<std::size_t>(tunnels));
  return s;
}

SessionStatus session(std::string spoke, int index, std::uint32_t filtered) {
  SessionStatus s;
  s.name = "th_" + spoke + "_" + std::to_string(index);
  for (auto& c : s.name) c = c == '-' ? '_' : c;
  s.spoke = std::move(spoke);
  s.index = index;
  s.observed.name = s.name;
  s.observed.established = true;
  s.observed.routes_filtered = filtered;
  return s;
}

ExportPlan exportPlan(std::string spoke, std::uint32_t limit, std::size_t sent, bool summarized,
                      std::uint64_t wasted) {
  ExportPlan plan;
  plan.spoke = std::move(spoke);
  plan.limit = limit;
  plan.must_reach = summarized ? limit + 1 : sent;
  plan.summarized = summarized;
  plan.wasted_addresses = wasted;
  for (std::size_t i = 0; i < sent; ++i) {
    const auto prefix = Ipv4Prefix::containing(
        Ipv4Address(0x0a000000u + (static_cast<std::uint32_t>(i) << 16)), 16);
    plan.prefixes.push_back({prefix, {prefix}});
  }
  return plan;
}

class ReconcilerMetricsTest : public ::testing::Test {
 protected:
  ReconcilerMetricsTest() {
    for (auto s :
         {bgpSpoke("vpc-a", 1, "10.1.0.0/16", 2), bgpSpoke("vpc-b", 2, "10.2.0.0/16", 1)}) {
      desired_.spokes.emplace(s->name, s);
    }
    options_.local_as = 65000;
  }

  // A route refused by the import filter of `protocol`, tagged with its spoke's route tag.
  static routing::ObservedRoute refusedRoute(std::string_view prefix, std::string protocol) {
    routing::ObservedRoute route;
    route.prefix = pfx(prefix);
    route.filtered = true;
    const std::uint32_t tag = protocol.starts_with("th_vpc_a_") ? 1 : 2;
    route.large_communities = {{65000, routing::kSpokeTagKind, tag}};
    route.protocol = std::move(protocol);
    return route;
  }

  // vpc-a: two sessions refusing 3 routes each, sent 2 summaries for 3 prefixes; vpc-b: one
  // session refusing none, sent 1 route, and announcing a route inside vpc-a's CIDR.
  ReconcileStatus bothSpokes() {
    ReconcileStatus status;
    for (auto s : {session("vpc-a", 1, 3), session("vpc-a", 2, 3), session("vpc-b", 1, 0)}) {
      status.sessions.emplace(s.name, s);
    }
    status.exports.emplace("vpc-a", exportPlan("vpc-a", 2, 2, true, 512));
    status.exports.emplace("vpc-b", exportPlan("vpc-b", 100, 1, false, 0));
    status.routes = {refusedRoute("10.1.9.0/24", "th_vpc_b_1")};
    return status;
  }

  // As the reconciler does: the status indexed (owners, conflicts) from what the pass planned,
  // then recorded.
  void record(ReconcileStatus status) {
    indexStatus(status, desired_, routeOwners(desired_, options_));
    metrics_.record(status, true, 0.01);
  }

  std::string scrape() {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, prometheus_.Collect());
    return out.str();
  }
  bool has(std::string_view line) { return scrape().find(line) != std::string::npos; }

  prometheus::Registry prometheus_;
  ReconcilerMetrics metrics_{prometheus_};
  DesiredState desired_;
  PlanOptions options_;
};

TEST_F(ReconcilerMetricsTest, ExportPlanOfEverySpokeIsExposed) {
  record(bothSpokes());
  const auto text = scrape();
  EXPECT_NE(text.find(R"(transit_hub_bgp_export_limit{spoke="vpc-a"} 2)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(transit_hub_bgp_exports{spoke="vpc-a"} 2)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_export_wasted_addresses{spoke="vpc-a"} 512)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_export_summarized{spoke="vpc-a"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_export_limit{spoke="vpc-b"} 100)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_exports{spoke="vpc-b"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_export_summarized{spoke="vpc-b"} 0)"), std::string::npos);
}

TEST_F(ReconcilerMetricsTest, EachPhaseOfAPassIsTimed) {
  ReconcileStatus status = bothSpokes();
  status.timings = PassTimings{0.002, 0.003, 0.004, 0.5, 0.001};
  record(status);
  record(status);
  const auto text = scrape();
  EXPECT_TRUE(has(R"(transit_hub_reconcile_phase_seconds_count{phase="observe_pluto"} 2)")) << text;
  EXPECT_TRUE(has(R"(transit_hub_reconcile_phase_seconds_sum{phase="observe_bird"} 0.006)"));
  EXPECT_TRUE(has(R"(transit_hub_reconcile_phase_seconds_sum{phase="plan"} 0.008)"));
  EXPECT_TRUE(has(R"(transit_hub_reconcile_phase_seconds_sum{phase="apply"} 1)"));
  EXPECT_TRUE(has(R"(transit_hub_reconcile_phase_seconds_bucket{phase="index",le="0.001"} 2)"));
}

TEST_F(ReconcilerMetricsTest, FilteredRoutesAreBirdsCountOnceForASpokeWithTwoSessions) {
  record(bothSpokes());
  // Both sessions of vpc-a refuse the same 3 routes: the spoke refused 3, not 6.
  EXPECT_TRUE(has(R"(transit_hub_bgp_routes_filtered{spoke="vpc-a"} 3)")) << scrape();
  EXPECT_TRUE(has(R"(transit_hub_bgp_routes_filtered{spoke="vpc-b"} 0)"));
}

TEST_F(ReconcilerMetricsTest, ConflictsCountRefusedRoutesInAnotherSpokesCidr) {
  record(bothSpokes());
  EXPECT_TRUE(has("transit_hub_route_conflicts 1")) << scrape();
  auto fixed = bothSpokes();
  fixed.routes.clear();
  record(fixed);
  EXPECT_TRUE(has("transit_hub_route_conflicts 0"));
}

TEST_F(ReconcilerMetricsTest, ARefusedRouteOverBothTunnelsIsOneConflict) {
  auto status = bothSpokes();
  for (const auto* protocol : {"th_vpc_a_1", "th_vpc_a_2"}) {
    status.routes.push_back(refusedRoute("10.2.7.0/24", protocol));
  }
  record(status);
  EXPECT_TRUE(has("transit_hub_route_conflicts 2")) << scrape();  // 10.1.9.0/24 and 10.2.7.0/24
}

TEST_F(ReconcilerMetricsTest, TheConflictCountIsThePublishedConflicts) {
  ReconcileStatus status;  // no routes, but conflicts as a pass published them
  status.conflicts.resize(3);
  metrics_.record(status, true, 0.01);
  EXPECT_TRUE(has("transit_hub_route_conflicts 3")) << scrape();
}

TEST_F(ReconcilerMetricsTest, RouteQueryFailuresAreACounter) {
  ReconcileStatus status;
  status.bird_route_query_failures = 2;
  metrics_.record(status, true, 0.01);
  status.bird_route_query_failures = 5;
  metrics_.record(status, true, 0.01);
  EXPECT_TRUE(has("transit_hub_bird_route_query_failures_total 5")) << scrape();
}

TEST_F(ReconcilerMetricsTest, SeriesOfADeletedSpokeDisappear) {
  record(bothSpokes());
  ASSERT_TRUE(has(R"(spoke="vpc-a")"));

  desired_.spokes.erase("vpc-a");
  auto status = bothSpokes();
  status.sessions.erase("th_vpc_a_1");
  status.sessions.erase("th_vpc_a_2");
  status.exports.erase("vpc-a");
  status.routes.clear();
  record(status);

  const auto text = scrape();
  EXPECT_EQ(text.find(R"(spoke="vpc-a")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(transit_hub_bgp_exports{spoke="vpc-b"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_bgp_routes_filtered{spoke="vpc-b"} 0)"), std::string::npos);
  EXPECT_NE(text.find("transit_hub_route_conflicts 0"), std::string::npos);
}

}  // namespace
}  // namespace transit::hub
