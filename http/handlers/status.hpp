// Status: what the daemons run, from the reconciler's last published ReconcileStatus
// (GET /v1/tunnels). A spoke's own status is part of the spoke resource (codec/spoke_view).
//
// Called by Api on HTTP threads.
#pragma once

#include "http/handlers/context.hpp"

namespace transit::http::handlers {

Response listTunnels(const Request& request, const PathParams& params, HandlerContext& context);

}  // namespace transit::http::handlers
