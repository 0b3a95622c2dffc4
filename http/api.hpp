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
#include "http/handlers/context.hpp"
#include "http/message.hpp"

namespace transit::http {

enum class Access {
  kOperational,  // /healthz, /readyz, /metrics: no token on listeners the config opens
  kRead,         // any valid token
  kAdmin,        // an admin token
};

// One route: adding a route is adding a row to the table in api.cpp (and to openapi.yaml).
struct Route {
  boost::beast::http::verb method;
  // "/v1/spokes/{name}" or a prefix "/ui/*" (http/request/route_match.hpp); also the metrics
  // label.
  std::string_view pattern;
  Handler handler;
  Access access;
};

// Every route the server answers (the OpenAPI test checks each one is documented).
std::span<const Route> routeTable();

class Api {
 public:
  // Latency is measured on context.clock.
  Api(HandlerContext context, TokenAuth auth, ApiMetrics& metrics);

  // `operational_open`: this listener serves the operational routes without a token.
  boost::asio::awaitable<Response> handle(Request request, bool operational_open);

 private:
  boost::asio::awaitable<Response> dispatch(const Request& request, bool operational_open,
                                            std::string_view& route_label);

  HandlerContext context_;
  TokenAuth auth_;
  ApiMetrics& metrics_;
};

}  // namespace transit::http
