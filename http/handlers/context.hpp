// HandlerContext: what every handler reads, and the one signature every route's handler has.
// Reads come from the registry's immutable snapshot; writes are commands to the Registry,
// awaited without blocking the HTTP thread. No handler touches a socket or a daemon: what the
// daemons run comes from the reconciler's last published ReconcileStatus, and so does the
// routing view (routes, exports, conflicts), read against the registry's snapshot.
//
// Built once by the daemon (hub/daemon/main.cpp) or a test, before the Api; shared read-only by
// handlers on every HTTP thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/message.hpp"
#include "http/request/route_match.hpp"
#include "hub/core/clock.hpp"
#include "hub/core/health.hpp"
#include "hub/core/reconciler.hpp"
#include "hub/core/registry.hpp"
#include "routing/base/prefix.hpp"

namespace prometheus {
class Registry;
}

namespace transit::http {

using request::PathParams;

// The hub's identity as /v1/hub shows it (and the AWS import and site configs use).
struct HubInfo {
  std::string name;
  std::uint32_t asn = 0;
  Ipv4Address public_ip;
  Ipv4Address local_ip;
  std::string version;
  std::string drivers_mode;
  // The pair's other hub (pair.peer); unset for a single hub. AWS documents made for its
  // customer gateway import as its tunnels, and a site's configuration connects to it too.
  struct Peer {
    std::string name;
    Ipv4Address public_ip;
  };
  std::optional<Peer> peer{};
};

struct HandlerContext {
  hub::Registry& registry;
  const hub::Health& health;
  prometheus::Registry& metrics;
  // For "next_retry_in_seconds".
  const hub::Clock& clock;
  HubInfo hub;
  // The reconciler's last published status (required: the daemon always runs a reconciler, over
  // dry-run drivers in dry-run). It returns nullptr before the first pass, which reads as
  // "everything pending".
  std::function<std::shared_ptr<const hub::ReconcileStatus>()> reconcile_status;
};

// Every route's handler: the request, its path parameters (decoded), the context.
using Handler = boost::asio::awaitable<Response> (*)(const Request&, const PathParams&,
                                                     HandlerContext&);
// A handler that answers without waiting (most reads).
using SyncHandler = Response (*)(const Request&, const PathParams&, HandlerContext&);

}  // namespace transit::http
