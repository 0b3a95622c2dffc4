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

prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

HubMetrics::HubMetrics(prometheus::Registry& registry, std::string_view version)
    : spokes_vpc_(spokesFamily(registry).Add({{"kind", "vpc"}})),
      spokes_site_(spokesFamily(registry).Add({{"kind", "site"}})),
      writes_ok_(writesFamily(registry).Add({{"result", "ok"}})),
      writes_error_(writesFamily(registry).Add({{"result", "error"}})),
      store_up_(gauge(registry, "transit_hub_store_up",
                      "1 while the hub's view of its store is current, 0 while it is stale (the "
                      "store is unreachable or has no quorum)")),
      store_revision_(
          gauge(registry, "transit_hub_store_revision", "The last store revision the hub saw")),
      store_stale_seconds_(gauge(registry, "transit_hub_store_stale_seconds",
                                 "Seconds since the hub's view of its store became stale; 0 "
                                 "while it is current")) {
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

void HubMetrics::storeView(bool current, std::uint64_t revision, double stale_seconds) {
  store_up_.Set(current ? 1 : 0);
  store_revision_.Set(static_cast<double>(revision));
  store_stale_seconds_.Set(current ? 0 : stale_seconds);
}

}  // namespace transit::hub
