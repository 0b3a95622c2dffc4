// RoutingDriver: makes the BGP daemon's sessions and policy match a RoutingSpec.
//
// The hub owns one include file of the daemon's configuration and nothing else; protocols
// defined elsewhere are left alone. apply() replaces the whole file safely (write atomically,
// check, configure with a timeout, verify, confirm or undo). Called only from the reconciler's
// thread; calls block for a bounded time.
//
// Implementations: BirdDriver (routing/bird_driver.hpp); tests/fakes has an in-memory one.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "routing/driver_error.hpp"
#include "routing/prefix.hpp"

namespace transit::routing {

// One BGP session over one tunnel's inside /30.
struct BgpSessionSpec {
  std::string name;                 // protocol name: hub prefix + spoke + "_" + index (a-z0-9_)
  std::string spoke;                // routes learned here belong to this spoke
  int index = 1;                    // tunnel 1 or 2
  Ipv4Address local_address;        // the hub's inside address
  Ipv4Address neighbor_address;     // the spoke's inside address
  std::uint32_t neighbor_as = 0;
  std::vector<Ipv4Prefix> accepted;  // import only prefixes inside these (the spoke's CIDRs)
  std::uint32_t import_limit = 100;  // more accepted routes than this stops the session
  std::uint32_t hold_time = 30;      // AWS: 30 s hold, 10 s keepalive
  std::uint32_t keepalive = 10;

  bool operator==(const BgpSessionSpec&) const = default;
};

struct RoutingSpec {
  std::uint32_t local_as = 0;
  Ipv4Address router_id;
  std::vector<BgpSessionSpec> sessions;  // sorted by name

  bool operator==(const RoutingSpec&) const = default;
};

struct ObservedSession {
  std::string name;
  std::string protocol_state;   // BIRD's protocol state: up, start, down, ...
  std::string bgp_state;        // Established, Active, Connect, Idle, ...
  bool established = false;
  std::string last_error;       // e.g. "Route limit exceeded"
  std::uint32_t routes_imported = 0;
  std::uint32_t routes_filtered = 0;
  std::uint32_t routes_exported = 0;
};

struct RoutingObservation {
  std::string daemon_instance;  // changes when the daemon restarts (its start time)
  std::vector<ObservedSession> sessions;  // only the hub's protocols
};

class RoutingDriver {
 public:
  virtual ~RoutingDriver() = default;
  virtual std::expected<void, DriverError> apply(const RoutingSpec& spec) = 0;
  virtual std::expected<RoutingObservation, DriverError> observe() = 0;
};

}  // namespace transit::routing
