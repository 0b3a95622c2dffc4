// Routing: the routing view, read from the reconciler's last published status against the
// registry's snapshot. BIRD's routes of the hub's protocols (GET /v1/routes, filters ?spoke= and
// ?filtered=), what a spoke is sent (GET /v1/spokes/{name}/exports), the routes to enter on the
// AWS side of a static spoke (GET /v1/spokes/{name}/static-routes), and the routes the import
// filters refused because another spoke owns the space (GET /v1/conflicts).
//
// Called by Api on HTTP threads.
#pragma once

#include "http/handlers/context.hpp"

namespace transit::http::handlers {

Response listRoutes(const Request& request, const PathParams& params, HandlerContext& context);
Response getSpokeExports(const Request& request, const PathParams& params, HandlerContext& context);
Response getSpokeStaticRoutes(const Request& request, const PathParams& params,
                              HandlerContext& context);
Response listConflicts(const Request& request, const PathParams& params, HandlerContext& context);

}  // namespace transit::http::handlers
