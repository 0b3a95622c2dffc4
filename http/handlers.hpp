// Handlers: one function per API route, mapping a Request and the hub's read-only views to a
// Response. Reads come from an immutable snapshot; writes are commands to the Registry, awaited
// without blocking the HTTP thread. No handler touches a socket or a daemon: what the daemons run
// comes from the reconciler's last published ReconcileStatus (absent in dry-run), and so does the
// routing view (routes, exports, conflicts), read against the registry's snapshot.
//
// Called by Api::handle on HTTP threads after authentication and routing.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "hub/core/clock.hpp"
#include "hub/core/health.hpp"
#include "hub/core/reconciler.hpp"
#include "hub/core/registry.hpp"

namespace prometheus {
class Registry;
}

namespace transit::http {

// The hub's identity as /v1/hub shows it.
struct HubInfo {
  std::string name;
  std::uint32_t asn = 0;
  std::string public_ip;
  std::string local_ip;
  std::string version;
  std::string drivers_mode;
};

struct HandlerContext {
  hub::Registry& registry;
  const hub::Health& health;
  prometheus::Registry& metrics;
  HubInfo hub;
  // The reconciler's last published status; empty in dry-run (no reconciler). It may return
  // nullptr before the first pass, which reads as "everything pending".
  std::function<std::shared_ptr<const hub::ReconcileStatus>()> reconcile_status{};
  // For "next_retry_in_seconds"; required whenever reconcile_status is set.
  const hub::Clock* clock = nullptr;
};

// {"error": {"code", "message", "field"?}}
Response errorResponse(unsigned status, std::string_view code, std::string_view message,
                       std::string_view field = {});

namespace handlers {

Response listSpokes(const Request& request, HandlerContext& context);
Response getSpoke(std::string_view name, HandlerContext& context);
boost::asio::awaitable<Response> createSpoke(const Request& request, HandlerContext& context);
// POST /v1/spokes/import/aws: a vpc spoke from AWS's CustomerGatewayConfiguration document
// (body, application/xml) and ?name=&cidr=...&segment=&preferred_hub= (peers/aws/aws_import.hpp).
boost::asio::awaitable<Response> importAwsSpoke(const Request& request, HandlerContext& context);
boost::asio::awaitable<Response> replaceSpoke(const Request& request, std::string_view name,
                                              HandlerContext& context);
// PUT /v1/spokes/{name}/import/aws: the vpc spoke updated from a new document of its VPN
// connection (optional ?cidr=...&segment=&preferred_hub= replace the spoke's; If-Match as PUT),
// merged on the registry's writer thread (the named update "aws-reimport").
boost::asio::awaitable<Response> reimportAwsSpoke(const Request& request, std::string_view name,
                                                  HandlerContext& context);
boost::asio::awaitable<Response> deleteSpoke(const Request& request, std::string_view name,
                                             HandlerContext& context);
Response listTunnels(HandlerContext& context);
// The routing view: BIRD's routes of the hub's protocols (GET /v1/routes, filters ?spoke= and
// ?filtered=), what a spoke is sent (GET /v1/spokes/{name}/exports), the routes to enter on the
// AWS side of a static spoke (GET /v1/spokes/{name}/static-routes), and the routes the import
// filters refused because another spoke owns the space (GET /v1/conflicts).
Response listRoutes(const Request& request, HandlerContext& context);
Response getSpokeExports(std::string_view name, HandlerContext& context);
Response getSpokeStaticRoutes(std::string_view name, HandlerContext& context);
// GET /v1/spokes/{name}/config?format=strongswan|libreswan|aws-xml (admin): a complete
// configuration for a site's device (peers/export/site_config.hpp), PSKs included: the one place the
// API returns them. 409 for a vpc spoke. aws-xml answers application/xml; the others JSON
// {"spoke", "format", "files": [{"path", "description", "secret", "content"}]}.
Response getSpokeConfig(const Request& request, std::string_view name, HandlerContext& context);
Response listConflicts(HandlerContext& context);
Response getHub(HandlerContext& context);
Response openApi();
Response healthz();
Response readyz(HandlerContext& context);
Response metrics(HandlerContext& context);

}  // namespace handlers

// The OpenAPI document (http/openapi.yaml, compiled in).
std::string_view openApiDocument();

}  // namespace transit::http
