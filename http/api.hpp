// Api: the REST API's front door. Authenticates, routes by the route table, checks roles, calls
// the handler and records metrics. Every response of the hub, errors included, comes from here.
//
// Owns: the route table (static), the token checker. Called by the server's sessions on any HTTP
// thread; handlers share nothing mutable, so Api needs no locks of its own.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <span>
#include <string_view>

#include "http/api_metrics.hpp"
#include "http/auth.hpp"
#include "http/handlers.hpp"
#include "http/message.hpp"
#include "hub/core/clock.hpp"

namespace transit::http {

enum class RouteId {
  kListSpokes,
  kCreateSpoke,
  kImportAwsSpoke,
  kReimportAwsSpoke,
  kGetSpokeConfig,
  kGetSpoke,
  kReplaceSpoke,
  kDeleteSpoke,
  kListTunnels,
  kListRoutes,
  kGetSpokeExports,
  kGetSpokeStaticRoutes,
  kListConflicts,
  kGetHub,
  kOpenApi,
  kHealthz,
  kReadyz,
  kMetrics,
};

enum class Access {
  kOperational,  // /healthz, /readyz, /metrics: no token on listeners the config opens
  kRead,         // any valid token
  kAdmin,        // an admin token
};

struct RouteSpec {
  boost::beast::http::verb method;
  std::string_view pattern;  // "/v1/spokes/{name}"; also the metrics label
  RouteId id;
  Access access;
};

// Every route the server answers (the OpenAPI test checks each one is documented).
std::span<const RouteSpec> routeTable();

class Api {
 public:
  Api(HandlerContext context, TokenAuth auth, ApiMetrics& metrics, const hub::Clock& clock);

  // `operational_open`: this listener serves the operational routes without a token.
  boost::asio::awaitable<Response> handle(Request request, bool operational_open);

 private:
  boost::asio::awaitable<Response> dispatch(const Request& request, bool operational_open,
                                            std::string_view& route_label);

  HandlerContext context_;
  TokenAuth auth_;
  ApiMetrics& metrics_;
  const hub::Clock& clock_;
};

}  // namespace transit::http
