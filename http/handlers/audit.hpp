// Audit: the trail of changes to the spokes (GET /v1/audit), newest first, a page at a time.
//
// Called by Api on HTTP threads; reads the store (Registry::readAudit), never the writer's queue.
#pragma once

#include "http/handlers/context.hpp"

namespace transit::http::handlers {

// ?limit=&cursor=&spoke=: {"records": [...], "next": cursor or null, "retention": {...}}.
Response listAudit(const Request& request, const PathParams& params, HandlerContext& context);

}  // namespace transit::http::handlers
