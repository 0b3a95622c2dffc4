// ReconcilerMetrics: what the daemons really run, as Prometheus metrics.
//
// Owns: metric handles in the injected registry and the label sets it created; series of spokes
// and tunnels that are gone are removed, so dashboards never show stale tunnels. Written by the
// reconciler's thread after each pass, from the status the pass publishes and nothing else.
//   transit_hub_tunnel_ike_up{spoke,tunnel}            1 when the IKE SA is established
//   transit_hub_tunnel_ipsec_up{spoke,tunnel}          1 when a Child SA is installed (AWS's
//   TunnelState) transit_hub_tunnel_in_bytes_total{spoke,tunnel}    bytes decrypted (AWS's
//   TunnelDataIn) transit_hub_tunnel_out_bytes_total{spoke,tunnel}   bytes encrypted
//   (TunnelDataOut) transit_hub_bgp_session_up{spoke,tunnel}           1 when the session is
//   Established transit_hub_bgp_routes_received{spoke}             routes accepted from the spoke
//   (largest
//                                                      count over its sessions: both carry the
//                                                      same)
//   transit_hub_bgp_routes_advertised{spoke}           routes sent to the spoke (likewise)
//   transit_hub_bgp_routes_filtered{spoke}             routes from the spoke its import filter
//                                                      refused (BIRD's count per session; the
//                                                      largest over its sessions, likewise)
//   transit_hub_bgp_export_limit{spoke}                at most this many prefixes go to the spoke
//   transit_hub_bgp_exports{spoke}                     prefixes the plan sends the spoke
//   transit_hub_bgp_export_wasted_addresses{spoke}     addresses its summaries cover that no
//                                                      spoke routes
//   transit_hub_bgp_export_summarized{spoke}           1 when summaries are sent instead of routes
//   transit_hub_tunnel_duplicate_ike_sas_deleted_total{spoke,tunnel}
//                                                      IKE SAs deleted as duplicates of the
//                                                      tunnel's newest (both ends initiated)
//   transit_hub_route_conflicts                        refused routes inside another spoke's
//                                                      declared CIDRs: the conflicts the pass
//                                                      published (as GET /v1/conflicts shows)
//   transit_hub_bird_route_query_failures_total        BIRD observations whose routes could not
//                                                      be read (planned from the last ones seen)
//   transit_hub_segment_dropped_packets_total          packets dropped in forwarding between
//                                                      segments that may not reach each other
//   transit_hub_reconcile_total{result}                passes, result ok|error
//   transit_hub_reconcile_duration_seconds             histogram of pass durations
//   transit_hub_reconcile_phase_seconds{phase}         histogram of each pass's phases:
//                                                      observe_pluto, observe_bird, plan, apply,
//                                                      index
//   transit_hub_daemon_up{daemon}                      1 when pluto / bird answer
//   transit_hub_pair_link_up                           1 when the link to the other hub of the
//                                                      pair exists as configured and is up
//                                                      (only on a hub with a pair)
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "hub/core/reconciler.hpp"

namespace transit::hub {

class ReconcilerMetrics final : public PassRecorder {
 public:
  explicit ReconcilerMetrics(prometheus::Registry& registry);

  // After each pass, with the status it publishes.
  void record(const ReconcileStatus& status, bool ok, double seconds) override;

 private:
  using Key = std::pair<std::string, std::string>;  // spoke, tunnel index ("" for per-spoke)

  template <typename Metric>
  struct Series {
    prometheus::Family<Metric>* family = nullptr;
    std::map<Key, Metric*> metrics;
    Metric& at(const Key& key);
    void keepOnly(const std::set<Key>& live);
  };

  Series<prometheus::Gauge> ike_up_, ipsec_up_, session_up_, received_, advertised_, filtered_;
  Series<prometheus::Gauge> export_limit_, exports_, export_wasted_, export_summarized_;
  Series<prometheus::Counter> in_bytes_, out_bytes_, duplicate_ike_sas_;
  std::map<Key, std::uint64_t> last_in_, last_out_;  // last observed counters, for deltas
  prometheus::Counter& passes_ok_;
  prometheus::Counter& passes_error_;
  prometheus::Histogram& duration_;
  prometheus::Family<prometheus::Histogram>& phase_family_;
  prometheus::Histogram& observe_pluto_;
  prometheus::Histogram& observe_bird_;
  prometheus::Histogram& plan_;
  prometheus::Histogram& apply_;
  prometheus::Histogram& index_;
  prometheus::Gauge& pluto_up_;
  prometheus::Gauge& bird_up_;
  prometheus::Family<prometheus::Gauge>& pair_link_family_;
  prometheus::Gauge* pair_link_up_ = nullptr;  // added with the first pass that has a pair
  prometheus::Gauge& conflicts_;
  prometheus::Counter& segment_dropped_;
  std::uint64_t last_segment_dropped_ = 0;  // the filter's counters restart when it is reloaded
  prometheus::Counter& route_query_failures_;
  std::uint64_t last_route_query_failures_ = 0;
};

}  // namespace transit::hub
