// Renders BIRD 2.0.12 configuration text from typed values.
//
// Owns: nothing; pure functions called by BirdDriver (reconciler's thread), by the lab and by
// the image build (renderMainConfig). The hub owns exactly one include file (renderInclude); the
// main bird.conf includes it and holds everything global (router id, device, kernel with ECMP).
//
// Policy per session (issue 3):
//  - import: only IPv4 prefixes inside the session's `accepted` CIDRs (any length up to /32);
//    everything else is rejected. `import limit N action restart`.
//  - export: every BGP route learned by one of the hub's protocols (name prefix) except those
//    learned from the receiving spoke itself (any of its tunnels; matched by protocol name), with
//    the receiver's ASN deleted from the AS path so two spokes with the same ASN (AWS VGWs use
//    64512) accept each other's routes. BGP prepends the hub's ASN itself.
#pragma once

#include <chrono>
#include <expected>
#include <string>

#include "routing/driver_error.hpp"
#include "routing/prefix.hpp"
#include "routing/routing_driver.hpp"

namespace transit::routing {

struct BirdOptions {
  std::string socket_path = "/run/bird/bird.ctl";
  std::string include_path = "/etc/bird/transit-hub.conf";  // the one file the hub owns
  std::string main_config_path = "/etc/bird/bird.conf";     // BIRD's -c file
  std::string protocol_prefix = "th_";
  std::chrono::seconds configure_timeout{30};   // BIRD undoes an unconfirmed configure after it
  std::chrono::milliseconds command_timeout{10000};
  // Only for renderMainConfig:
  Ipv4Address router_id;
  std::string log_file;  // empty: syslog
};

// The include file for `spec`. kInvalid when a name is not [a-z0-9_]+, does not start with
// the protocol prefix, or a value is out of range for the renderer (ASN 0, no accepted CIDR).
std::expected<std::string, DriverError> renderInclude(const RoutingSpec& spec,
                                                      const BirdOptions& options);

// The main bird.conf: router id, timeformat, device, kernel export with ECMP, the include.
std::string renderMainConfig(const BirdOptions& options);

// True when `name` is a non-empty string of [a-z0-9_].
bool isBirdName(std::string_view name);

}  // namespace transit::routing
