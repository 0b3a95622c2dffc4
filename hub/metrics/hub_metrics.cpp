#include "hub/metrics/hub_metrics.hpp"

#include <string>

namespace transit::hub {
namespace {

prometheus::Family<prometheus::Gauge>& spokesFamily(prometheus::Registry& registry) {
  return prometheus::BuildGauge()
      .Name("transit_hub_spokes")
      .Help("Spokes in the hub's desired state, by kind")
      .Register(registry);
}

prometheus::Family<prometheus::Counter>& writesFamily(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("transit_hub_store_writes_total")
      .Help("Writes to the hub's store, by result")
      .Register(registry);
}

}  // namespace

HubMetrics::HubMetrics(prometheus::Registry& registry, std::string_view version)
    : spokes_vpc_(spokesFamily(registry).Add({{"kind", "vpc"}})),
      spokes_site_(spokesFamily(registry).Add({{"kind", "site"}})),
      writes_ok_(writesFamily(registry).Add({{"result", "ok"}})),
      writes_error_(writesFamily(registry).Add({{"result", "error"}})) {
  prometheus::BuildGauge()
      .Name("transit_hub_build_info")
      .Help("Build of the running transit-hubd; the value is always 1")
      .Register(registry)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

void HubMetrics::setSpokes(std::size_t vpc, std::size_t site) {
  spokes_vpc_.Set(static_cast<double>(vpc));
  spokes_site_.Set(static_cast<double>(site));
}

void HubMetrics::storeWrite(bool ok) { (ok ? writes_ok_ : writes_error_).Increment(); }

}  // namespace transit::hub
