// HubMetrics: the hub's own Prometheus metrics, registered in the injected registry.
//
// Owns: metric handles (the registry owns the metrics). Thread-safe (prometheus-cpp metrics are).
// Written by the Registry's writer thread; read by the /metrics handler through the registry.
//   transit_hub_spokes{kind}                 gauge: spokes in the desired state, by kind
//   transit_hub_store_writes_total{result}   counter: store writes, result ok|error
//   transit_hub_store_up                     gauge: 1 while the hub's view of the store is
//                                            current, 0 while it is stale (store outage)
//   transit_hub_store_revision               gauge: the last store revision the hub saw
//   transit_hub_store_stale_seconds          gauge: seconds since the view became stale, 0 when
//                                            current (updated at each catch-up attempt, ~1 s)
//   transit_hub_build_info{version}          gauge, always 1
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string_view>

#include "hub/core/registry.hpp"

namespace transit::hub {

class HubMetrics final : public RegistryRecorder {
 public:
  HubMetrics(prometheus::Registry& registry, std::string_view version);

  void setSpokes(std::size_t vpc, std::size_t site) override;
  void storeWrite(bool ok) override;
  void storeView(bool current, std::uint64_t revision, double stale_seconds) override;

 private:
  prometheus::Gauge& spokes_vpc_;
  prometheus::Gauge& spokes_site_;
  prometheus::Counter& writes_ok_;
  prometheus::Counter& writes_error_;
  prometheus::Gauge& store_up_;
  prometheus::Gauge& store_revision_;
  prometheus::Gauge& store_stale_seconds_;
};

}  // namespace transit::hub
