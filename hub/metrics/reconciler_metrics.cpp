#include "hub/metrics/reconciler_metrics.hpp"

#include <algorithm>
#include <set>

#include "hub/core/reconciler.hpp"

namespace transit::hub {
namespace {

// From 0.1 ms: an idle phase at 1,000 spokes takes milliseconds, a busy one seconds.
prometheus::Histogram::BucketBoundaries phaseBuckets() {
  return {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& registry, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& registry, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

// A pluto counter belongs to one SA: when it goes down, a new SA started counting from zero.
void addObserved(prometheus::Counter& metric, std::uint64_t& last, std::uint64_t now) {
  metric.Increment(static_cast<double>(now >= last ? now - last : now));
  last = now;
}

}  // namespace

template <typename Metric>
Metric& ReconcilerMetrics::Series<Metric>::at(const Key& key) {
  auto& slot = metrics[key];
  if (slot == nullptr) {
    std::map<std::string, std::string> labels{{"spoke", key.first}};
    if (!key.second.empty()) labels.emplace("tunnel", key.second);
    slot = &family->Add(labels);
  }
  return *slot;
}

template <typename Metric>
void ReconcilerMetrics::Series<Metric>::keepOnly(const std::set<Key>& live) {
  for (auto it = metrics.begin(); it != metrics.end();) {
    if (live.contains(it->first)) {
      ++it;
    } else {
      family->Remove(it->second);
      it = metrics.erase(it);
    }
  }
}

ReconcilerMetrics::ReconcilerMetrics(prometheus::Registry& registry)
    : passes_ok_(
          counter(registry, "transit_hub_reconcile_total", "Reconciliation passes, by result")
              .Add({{"result", "ok"}})),
      passes_error_(
          counter(registry, "transit_hub_reconcile_total", "Reconciliation passes, by result")
              .Add({{"result", "error"}})),
      duration_(prometheus::BuildHistogram()
                    .Name("transit_hub_reconcile_duration_seconds")
                    .Help("Time one reconciliation pass took")
                    .Register(registry)
                    .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1,
                                                                     0.25, 0.5, 1, 2.5, 5, 10})),
      phase_family_(prometheus::BuildHistogram()
                        .Name("transit_hub_reconcile_phase_seconds")
                        .Help("Time one reconciliation pass spent in each phase")
                        .Register(registry)),
      observe_pluto_(phase_family_.Add({{"phase", "observe_pluto"}}, phaseBuckets())),
      observe_bird_(phase_family_.Add({{"phase", "observe_bird"}}, phaseBuckets())),
      plan_(phase_family_.Add({{"phase", "plan"}}, phaseBuckets())),
      apply_(phase_family_.Add({{"phase", "apply"}}, phaseBuckets())),
      index_(phase_family_.Add({{"phase", "index"}}, phaseBuckets())),
      pluto_up_(gauge(registry, "transit_hub_daemon_up", "1 when the daemon answers the hub")
                    .Add({{"daemon", "pluto"}})),
      bird_up_(gauge(registry, "transit_hub_daemon_up", "1 when the daemon answers the hub")
                   .Add({{"daemon", "bird"}})),
      pair_link_family_(gauge(registry, "transit_hub_pair_link_up",
                              "1 when the link to the other hub of the pair exists as configured "
                              "and is up")),
      conflicts_(gauge(registry, "transit_hub_route_conflicts",
                       "Routes refused because they fall in another spoke's declared CIDRs")
                     .Add({})),
      segment_dropped_(counter(registry, "transit_hub_segment_dropped_packets_total",
                               "Packets dropped in forwarding between segments that may not "
                               "reach each other")
                           .Add({})),
      route_query_failures_(counter(registry, "transit_hub_bird_route_query_failures_total",
                                    "BIRD observations whose routes could not be read")
                                .Add({})) {
  ike_up_.family =
      &gauge(registry, "transit_hub_tunnel_ike_up", "1 when the tunnel's IKE SA is established");
  ipsec_up_.family = &gauge(registry, "transit_hub_tunnel_ipsec_up",
                            "1 when the tunnel's IPsec (Child) SA is installed");
  session_up_.family = &gauge(registry, "transit_hub_bgp_session_up",
                              "1 when the BGP session over the tunnel is Established");
  received_.family =
      &gauge(registry, "transit_hub_bgp_routes_received", "Routes accepted from the spoke");
  advertised_.family =
      &gauge(registry, "transit_hub_bgp_routes_advertised", "Routes advertised to the spoke");
  filtered_.family = &gauge(registry, "transit_hub_bgp_routes_filtered",
                            "Routes from the spoke refused by its import filter");
  export_limit_.family = &gauge(registry, "transit_hub_bgp_export_limit",
                                "At most this many prefixes are sent to the spoke");
  exports_.family = &gauge(registry, "transit_hub_bgp_exports",
                           "Prefixes the hub sends the spoke, after summarisation");
  export_wasted_.family = &gauge(registry, "transit_hub_bgp_export_wasted_addresses",
                                 "Addresses the spoke's summaries cover that no spoke routes");
  export_summarized_.family =
      &gauge(registry, "transit_hub_bgp_export_summarized",
             "1 when the spoke is sent summaries to stay within its export limit");
  in_bytes_.family = &counter(registry, "transit_hub_tunnel_in_bytes_total",
                              "Bytes received through the tunnel, after decryption");
  out_bytes_.family = &counter(registry, "transit_hub_tunnel_out_bytes_total",
                               "Bytes sent through the tunnel, before encryption");
  duplicate_ike_sas_.family =
      &counter(registry, "transit_hub_tunnel_duplicate_ike_sas_deleted_total",
               "IKE SAs the hub deleted as duplicates of the tunnel's newest (both ends "
               "initiated at once)");
}

void ReconcilerMetrics::record(const ReconcileStatus& status, bool ok, double seconds) {
  (ok ? passes_ok_ : passes_error_).Increment();
  if (status.segment_dropped_packets) {
    addObserved(segment_dropped_, last_segment_dropped_, *status.segment_dropped_packets);
  }
  duration_.Observe(seconds);
  observe_pluto_.Observe(status.timings.observe_pluto);
  observe_bird_.Observe(status.timings.observe_bird);
  plan_.Observe(status.timings.plan);
  apply_.Observe(status.timings.apply);
  index_.Observe(status.timings.index);
  pluto_up_.Set(status.pluto.up ? 1 : 0);
  bird_up_.Set(status.bird.up ? 1 : 0);
  if (status.pair) {
    if (pair_link_up_ == nullptr) pair_link_up_ = &pair_link_family_.Add({});
    pair_link_up_->Set(status.pair->linkUp() ? 1 : 0);
  } else if (pair_link_up_ != nullptr) {
    pair_link_family_.Remove(pair_link_up_);  // the pair left the configuration
    pair_link_up_ = nullptr;
  }
  conflicts_.Set(static_cast<double>(status.conflicts.size()));
  if (status.bird_route_query_failures >= last_route_query_failures_) {
    route_query_failures_.Increment(
        static_cast<double>(status.bird_route_query_failures - last_route_query_failures_));
  }
  last_route_query_failures_ = status.bird_route_query_failures;

  std::set<Key> tunnel_keys;
  for (const auto& [name, tunnel] : status.tunnels) {
    const Key key{tunnel.spoke, std::to_string(tunnel.index)};
    tunnel_keys.insert(key);
    ike_up_.at(key).Set(tunnel.observed.ike_up ? 1 : 0);
    ipsec_up_.at(key).Set(tunnel.observed.ipsec_up ? 1 : 0);
    addObserved(in_bytes_.at(key), last_in_[key], tunnel.observed.in_bytes);
    addObserved(out_bytes_.at(key), last_out_[key], tunnel.observed.out_bytes);
    duplicate_ike_sas_.at(key).Increment(tunnel.duplicate_ike_sas_deleted);
  }
  std::set<Key> session_keys;
  std::set<Key> spoke_keys;
  std::map<std::string, std::uint32_t> received, advertised, filtered;
  for (const auto& [name, session] : status.sessions) {
    const Key key{session.spoke, std::to_string(session.index)};
    session_keys.insert(key);
    session_up_.at(key).Set(session.observed.established ? 1 : 0);
    received[session.spoke] = std::max(received[session.spoke], session.observed.routes_imported);
    advertised[session.spoke] =
        std::max(advertised[session.spoke], session.observed.routes_exported);
    filtered[session.spoke] = std::max(filtered[session.spoke], session.observed.routes_filtered);
  }
  for (const auto& [spoke, count] : received) {
    const Key key{spoke, ""};
    spoke_keys.insert(key);
    received_.at(key).Set(count);
    advertised_.at(key).Set(advertised[spoke]);
    filtered_.at(key).Set(filtered[spoke]);
  }
  std::set<Key> export_keys;
  for (const auto& [spoke, plan] : status.exports) {
    const Key key{spoke, ""};
    export_keys.insert(key);
    export_limit_.at(key).Set(plan.limit);
    exports_.at(key).Set(static_cast<double>(plan.prefixes.size()));
    export_wasted_.at(key).Set(static_cast<double>(plan.wasted_addresses));
    export_summarized_.at(key).Set(plan.summarized ? 1 : 0);
  }
  ike_up_.keepOnly(tunnel_keys);
  ipsec_up_.keepOnly(tunnel_keys);
  in_bytes_.keepOnly(tunnel_keys);
  out_bytes_.keepOnly(tunnel_keys);
  duplicate_ike_sas_.keepOnly(tunnel_keys);
  std::erase_if(last_in_, [&](const auto& e) { return !tunnel_keys.contains(e.first); });
  std::erase_if(last_out_, [&](const auto& e) { return !tunnel_keys.contains(e.first); });
  session_up_.keepOnly(session_keys);
  received_.keepOnly(spoke_keys);
  advertised_.keepOnly(spoke_keys);
  filtered_.keepOnly(spoke_keys);
  export_limit_.keepOnly(export_keys);
  exports_.keepOnly(export_keys);
  export_wasted_.keepOnly(export_keys);
  export_summarized_.keepOnly(export_keys);
}

}  // namespace transit::hub
