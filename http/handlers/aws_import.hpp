// AWS import: a vpc spoke from the document AWS returns for its VPN connection
// (CustomerGatewayConfiguration, peers/aws/aws_import.hpp), created or updated.
//
// Called by Api on HTTP threads; writes await the registry's writer thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "http/handlers/context.hpp"

namespace transit::http::handlers {

// POST /v1/spokes/import/aws: a vpc spoke from the document (body, application/xml) and
// ?name=&cidr=...&segment=&preferred_hub=.
boost::asio::awaitable<Response> importAwsSpoke(const Request& request, const PathParams& params,
                                                HandlerContext& context);
// PUT /v1/spokes/{name}/import/aws: the vpc spoke updated from a new document of its VPN
// connection (optional ?cidr=...&segment=&preferred_hub= replace the spoke's; If-Match as PUT).
boost::asio::awaitable<Response> reimportAwsSpoke(const Request& request, const PathParams& params,
                                                  HandlerContext& context);

}  // namespace transit::http::handlers
