// In-memory TunnelDriver and RoutingDriver: a "daemon" that runs exactly what it was given, with
// failure injection, outside drift and restarts.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "peers/model/tunnel_driver.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::fakes {

class FakeTunnelDriver final : public peers::TunnelDriver {
 public:
  std::expected<void, DriverError> apply(const peers::TunnelSpec& spec) override {
    ++apply_calls;
    if (fail_next_applies > 0) {
      --fail_next_applies;
      return std::unexpected(apply_error);
    }
    loaded[spec.name] = spec;
    return {};
  }
  std::expected<void, DriverError> remove(std::string_view name) override {
    ++remove_calls;
    if (fail_next_removes > 0) {
      --fail_next_removes;
      return std::unexpected(DriverError{DriverError::Kind::kTransient, "pluto: delete failed"});
    }
    loaded.erase(std::string(name));
    return {};
  }
  std::expected<peers::TunnelObservation, DriverError> observe() override {
    if (down) return std::unexpected(DriverError{DriverError::Kind::kNeedsDependency, *down});
    peers::TunnelObservation out{instance, {}};
    for (const auto& [name, spec] : loaded) {
      peers::ObservedTunnel t;
      t.name = name;
      t.loaded = true;
      t.ike_up = true;
      t.state = "STATE_V2_ESTABLISHED_IKE_SA";
      t.in_bytes = bytes;
      t.out_bytes = bytes;
      if (const auto extra = duplicates.find(name); extra != duplicates.end()) {
        t.duplicate_ike_sas = extra->second;
      }
      out.tunnels.push_back(t);
    }
    return out;
  }

  std::expected<void, DriverError> deleteIkeSa(std::string_view name,
                                               std::uint64_t serial) override {
    deleted_ike_sas.emplace_back(std::string(name), serial);
    if (fail_deletes) return std::unexpected(apply_error);
    if (auto extra = duplicates.find(std::string(name)); extra != duplicates.end()) {
      std::erase(extra->second, serial);
    }
    return {};
  }

  void restart() {  // the daemon lost everything and has a new identity
    loaded.clear();
    duplicates.clear();
    instance = "pluto-" + std::to_string(++restarts);
  }

  std::map<std::string, peers::TunnelSpec> loaded;
  // Extra established IKE SAs observe() reports per connection (both ends initiated at once).
  std::map<std::string, std::vector<std::uint64_t>> duplicates;
  std::vector<std::pair<std::string, std::uint64_t>> deleted_ike_sas;
  bool fail_deletes = false;
  std::string instance = "pluto-0";
  int restarts = 0;
  int apply_calls = 0;
  int remove_calls = 0;
  int fail_next_applies = 0;
  int fail_next_removes = 0;  // remove() fails this many times (the connection stays loaded)
  DriverError apply_error{DriverError::Kind::kInvalid, "pluto refused the connection"};
  std::optional<std::string> down;  // observe() fails with this while set
  std::uint64_t bytes = 0;
};

class FakeRoutingDriver final : public routing::RoutingDriver {
 public:
  std::expected<void, DriverError> apply(const routing::RoutingSpec& spec) override {
    ++apply_calls;
    if (fail_next_applies > 0) {
      --fail_next_applies;
      return std::unexpected(DriverError{DriverError::Kind::kInvalid, "8002 parse error"});
    }
    running = spec;
    return {};
  }
  std::expected<routing::RoutingObservation, DriverError> observe() override {
    if (down) return std::unexpected(DriverError{DriverError::Kind::kNeedsDependency, *down});
    routing::RoutingObservation out{instance, {}, routes, std::nullopt};
    if (running) {
      for (auto& route : out.routes) stampSpokeTag(route);
      for (const auto& session : running->sessions) {
        routing::ObservedSession s;
        s.name = session.name;
        s.protocol_state = "up";
        s.bgp_state = "Established";
        s.established = true;
        s.routes_imported = imported;
        s.routes_exported = 7;
        out.sessions.push_back(s);
      }
    }
    return out;
  }
  void restart() {
    running.reset();
    instance = "bird-" + std::to_string(++restarts);
  }

  std::optional<routing::RoutingSpec> running;
  std::string instance = "bird-0";
  int restarts = 0;
  int apply_calls = 0;
  int fail_next_applies = 0;
  std::uint32_t imported = 1;
  std::optional<std::string> down;
  // Reported by observe(). A route of one of the running configuration's protocols carries its
  // spoke's route tag, as BIRD's import filter stamps it, unless it came with one of the hub's
  // spoke tags already (a route from the other hub); other routes are reported as they are.
  std::vector<routing::ObservedRoute> routes;

 private:
  void stampSpokeTag(routing::ObservedRoute& route) const {
    const auto as = running->local_as;
    for (const auto& c : route.large_communities) {
      if (c.global == as && c.data1 == routing::kSpokeTagKind) return;
    }
    std::uint32_t tag = 0;
    for (const auto& session : running->sessions) {
      if (session.name == route.protocol) tag = session.spoke_tag;
    }
    for (const auto& spoke : running->statics) {
      if (spoke.name == route.protocol) tag = spoke.spoke_tag;
    }
    if (tag != 0) route.large_communities.push_back({as, routing::kSpokeTagKind, tag});
  }
};

static_assert(std::is_base_of_v<peers::TunnelDriver, FakeTunnelDriver>);
static_assert(std::is_base_of_v<routing::RoutingDriver, FakeRoutingDriver>);

}  // namespace transit::fakes
