// Api: the REST API's front door. Authenticates, routes by the route table, checks roles, calls
// the handler and records metrics. Every response of the hub, errors included, comes from here.
//
// Owns: the route table (static), the token checker. Called by the server's sessions on any HTTP
// thread; handlers share nothing mutable, so Api needs no locks of its own.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/api_metrics.hpp"
#include "http/auth.hpp"
#include "http/handlers/context.hpp"
#include "http/message.hpp"
#include "http/request/route_match.hpp"
#include "routing/base/log_limiter.hpp"

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

  // One request in two steps, as the server reads it: begin() with the request's header (no
  // body yet) decides what the header alone decides (the target's syntax, the token, the route,
  // the role); complete() answers, with the body when begin() admitted the request. So an
  // anonymous or forbidden caller is refused before the hub reads, let alone buffers, a body.
  class Exchange {
   public:
    // The refusal begin() decided (401, 403, 404, 405, 400), if any: the body need not be read.
    bool refused() const { return refusal_.has_value(); }

   private:
    friend class Api;
    std::chrono::steady_clock::time_point start_;
    std::string_view route_label_ = "unmatched";
    const Route* route_ = nullptr;
    const hub::ApiToken* token_ = nullptr;
    std::string request_id_;  // answered as X-Request-Id; in the audit record and the log
    request::PathParams params_;
    std::optional<Response> refusal_;
  };
  // `head`: the request without its body. `operational_open`: this listener serves the
  // operational routes without a token.
  Exchange begin(const Request& head, bool operational_open) const;
  // The response to `request` (the full request when admitted; the head is enough when refused).
  // Records the request's metrics and debug log line.
  boost::asio::awaitable<Response> complete(Exchange exchange, Request request);
  // Both steps at once (handler and API tests).
  boost::asio::awaitable<Response> handle(Request request, bool operational_open);

  // A request the server refused before the API could see it (unreadable header, oversized
  // body, too many connections): counted and logged like every other answer.
  void refusedUnread(std::string_view method, unsigned status, std::string_view reason,
                     std::string_view peer);

  ApiMetrics& metrics() { return metrics_; }

 private:
  Response finish(const Exchange& exchange, const Request& request, Response response);

  HandlerContext context_;
  TokenAuth auth_;
  ApiMetrics& metrics_;
  routing::LogLimiter unread_log_{10, std::chrono::seconds(10)};
};

}  // namespace transit::http
