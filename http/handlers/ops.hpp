// Ops: the hub itself (GET /v1/hub), the API document (GET /v1/openapi.yaml) and the operational
// routes (/healthz, /readyz, /metrics).
//
// Called by Api on HTTP threads.
#pragma once

#include <string_view>

#include "http/handlers/context.hpp"

namespace transit::http {

// The OpenAPI document (http/openapi.yaml, compiled in: openapi_document.cpp.in).
std::string_view openApiDocument();

namespace handlers {

Response getHub(const Request& request, const PathParams& params, HandlerContext& context);
Response openApi(const Request& request, const PathParams& params, HandlerContext& context);
Response healthz(const Request& request, const PathParams& params, HandlerContext& context);
Response readyz(const Request& request, const PathParams& params, HandlerContext& context);
Response metrics(const Request& request, const PathParams& params, HandlerContext& context);

}  // namespace handlers
}  // namespace transit::http
