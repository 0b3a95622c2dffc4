// Renders BIRD 2.0.12 configuration text from typed values.
//
// Owns: nothing; pure functions called by BirdDriver (reconciler's thread), by the lab and by
// the image build (renderMainConfig). The hub owns exactly one include file (renderInclude); the
// main bird.conf includes it and holds everything global (router id, device, kernel with ECMP).
//
// Policy:
//  - import: only IPv4 prefixes inside the session's `accepted` CIDRs (any length up to /32);
//    refused routes are kept for reporting (`import keep filtered on`). Every route is tagged,
//    before the filter accepts or refuses it, with BGP large communities (AS,1,segment) and
//    (AS,2,spoke route tag) after any (AS,*,*) the spoke sent is stripped, so a refused route
//    names its spoke too. `import limit N action restart`.
//  - export: exactly the session's `export_only` prefixes when set (summaries), else the routes
//    tagged with one of `export_segments`, never the receiver's own spoke's and never the
//    summaries; then the receiver's ASN is deleted from the AS path (VGWs share 64512), the
//    prepends and MED are applied and our tags stripped. `export limit K action block`.
//  - static spokes: one static protocol each, multipath over the usable next hops, same tags.
//  - summaries: one static protocol, unreachable routes, preference 10, tagged (AS,3,0).
//  - the pair (RoutingSpec::peer_hub): iBGP with the other hub over the link between the two,
//    `direct`, `next hop self`, BFD. Import: only routes with a spoke tag the registry holds, not
//    the other hub's summaries; the segment tag is replaced by this file's id for the spoke's
//    segment (one `case` on the spoke tag), local preference 50 so a hub's own session with a
//    spoke always wins over the other hub's copy. Export: only routes this hub learned from its
//    spokes (never summaries, never iBGP-learned ones), tags kept. Spoke sessions export the
//    re-tagged routes by the same segment and own-spoke rules as their own.
//  - BFD (`protocol bfd`): when there is a pair or a session with `bfd`.
// A spoke's id in the tags is its route tag (the registry's, the same on every hub); segment
// ids hold within one rendered file. A comment table at the file's top names them all.
#pragma once

#include <chrono>
#include <expected>
#include <string>

#include "routing/base/driver_error.hpp"
#include "routing/base/prefix.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::routing {

struct BirdOptions {
  std::string socket_path = "/run/bird/bird.ctl";
  std::string include_path = "/etc/bird/transit-hub.conf";  // the one file the hub owns
  std::string main_config_path = "/etc/bird/bird.conf";     // BIRD's -c file
  std::string protocol_prefix = "th_";
  std::chrono::seconds configure_timeout{30};  // BIRD undoes an unconfirmed configure after it
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
