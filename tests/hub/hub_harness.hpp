// HubHarness: the hub's core (registry, reconciler, metrics) on in-memory parts, for tests.
//
// Owns the store (any Store; fakes::MemoryStore unless a test needs a gated one), a manual
// clock, the fake tunnel and routing drivers, a fake forwarding filter, a Prometheus registry
// with ReconcilerMetrics, the Registry and the Reconciler. Nothing runs on its own: tests call
// reconciler->runOnce() and advance `clock` by hand. Used as a member of a test fixture, in the
// style of Open/R's *Wrapper classes, instead of a fixture copied into each test file.
#pragma once

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hub/core/reconciler.hpp"
#include "hub/core/registry.hpp"
#include "hub/metrics/reconciler_metrics.hpp"
#include "tests/fakes/fake_drivers.hpp"
#include "tests/fakes/fake_forwarding_filter.hpp"
#include "tests/fakes/fake_pair_link.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::testing {

struct HubHarnessOptions {
  std::uint32_t hub_asn = 65000;
  // Segment reachability for the planner (routing.segments).
  std::map<std::string, std::vector<std::string>> segments;
  bool forwarding_filter = false;  // give the reconciler `filter` (segment isolation)
  bool reconciler = true;          // build a reconciler (a registry-only test says false)
  // The HA pair (this hub is "hub-a"): the reconciler gets `pair_link` and plans the link and
  // the iBGP session; the registry keeps the link's /30 from tunnels.
  std::optional<hub::PlanOptions::Pair> pair;
};

// A harness without a reconciler: the registry alone.
inline HubHarnessOptions registryOnly() {
  HubHarnessOptions options;
  options.reconciler = false;
  return options;
}

// A harness whose reconciler has `filter` and plans with these segments.
inline HubHarnessOptions withForwarding(std::map<std::string, std::vector<std::string>> segments) {
  HubHarnessOptions options;
  options.segments = std::move(segments);
  options.forwarding_filter = true;
  return options;
}

template <class StoreType = fakes::MemoryStore>
class HubHarness {
 public:
  explicit HubHarness(HubHarnessOptions options = {}) : options_(std::move(options)) {
    spdlog::set_level(spdlog::level::off);
    hub::Registry::Options registry_options;
    registry_options.validation.hub_asn = options_.hub_asn;
    registry_options.validation.hub_name = "hub-a";
    if (options_.pair) registry_options.reserved_inside = {options_.pair->inside};
    auto created = hub::Registry::create(store, clock, nullptr, std::move(registry_options));
    if (!created) throw std::runtime_error("HubHarness: the registry could not start");
    this->registry = std::move(*created);
    if (options_.reconciler) restartReconciler();
  }

  // The options every reconciler of the harness plans with.
  hub::Reconciler::Options reconcilerOptions() const {
    hub::Reconciler::Options options;
    options.plan.local_address = *Ipv4Address::parse("10.0.0.10");
    options.plan.public_address = *Ipv4Address::parse("203.0.113.10");
    options.plan.local_as = options_.hub_asn;
    options.plan.hub_name = "hub-a";
    options.plan.router_id = options.plan.public_address;
    options.plan.segments = options_.segments;
    if (options_.pair) options.plan.hub_name = "hub-a";
    options.plan.pair = options_.pair;
    return options;
  }

  // A new reconciler with no memory, as after a restart of transit-hubd.
  void restartReconciler() {
    reconciler.reset();
    reconciler = std::make_unique<hub::Reconciler>(
        *registry, tunnels, routing, options_.forwarding_filter ? &filter : nullptr, clock,
        &metrics, reconcilerOptions(), options_.pair ? &pair_link : nullptr);
  }

  // The status of the last pass.
  std::shared_ptr<const hub::ReconcileStatus> status() const { return reconciler->status(); }

  // The Prometheus exposition of every metric, as /metrics serves it.
  std::string scrape() {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, prometheus.Collect());
    return out.str();
  }

  StoreType store;
  fakes::ManualClock clock;
  fakes::FakeTunnelDriver tunnels;
  fakes::FakeRoutingDriver routing;
  fakes::FakeForwardingFilter filter;
  fakes::FakePairLink pair_link;
  prometheus::Registry prometheus;
  hub::ReconcilerMetrics metrics{prometheus};
  std::unique_ptr<hub::Registry> registry;
  std::unique_ptr<hub::Reconciler> reconciler;

 private:
  HubHarnessOptions options_;
};

// A spoke document for Registry::create: `kind` vpc or site, one CIDR, one tunnel per outside
// address; BGP (ASN 64512 for a vpc, 65010 for a site) unless `routing` says static.
inline peers::SpokeDraft spokeDraft(std::string name, std::string kind, std::string cidr,
                                    std::vector<std::string> outsides,
                                    std::optional<std::string> routing = {},
                                    std::optional<std::string> segment = {}) {
  peers::SpokeDraft d;
  d.name = std::move(name);
  d.kind = std::move(kind);
  d.cidrs = std::vector<std::string>{std::move(cidr)};
  d.routing = routing;
  d.segment = std::move(segment);
  if (routing != "static") d.asn = d.kind == "vpc" ? 64512 : 65010;
  std::vector<peers::TunnelDraft> tunnels;
  for (auto& o : outsides) tunnels.push_back(peers::TunnelDraft{o, std::nullopt, std::nullopt});
  d.tunnels = std::move(tunnels);
  return d;
}

}  // namespace transit::testing
