#include "http/api.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>
#include <random>
#include <string>

#include "http/codec/responses.hpp"
#include "http/handlers/audit.hpp"
#include "http/handlers/aws_import.hpp"
#include "http/handlers/ops.hpp"
#include "http/handlers/routing.hpp"
#include "http/handlers/site_config.hpp"
#include "http/handlers/spokes.hpp"
#include "http/handlers/status.hpp"
#include "http/request/route_match.hpp"

namespace transit::http {
namespace asio = boost::asio;
using boost::beast::http::verb;

namespace {

// A handler that answers at once, in the one signature of the table.
template <SyncHandler kHandler>
asio::awaitable<Response> now(const Request& request, const PathParams& params,
                              HandlerContext& context) {
  co_return kHandler(request, params, context);
}

constexpr Route kRoutes[] = {
    {verb::get, "/v1/spokes", now<handlers::listSpokes>, Access::kRead},
    {verb::post, "/v1/spokes", handlers::createSpoke, Access::kAdmin},
    {verb::post, "/v1/spokes/import/aws", handlers::importAwsSpoke, Access::kAdmin},
    {verb::get, "/v1/spokes/{name}", now<handlers::getSpoke>, Access::kRead},
    {verb::put, "/v1/spokes/{name}", handlers::replaceSpoke, Access::kAdmin},
    {verb::delete_, "/v1/spokes/{name}", handlers::deleteSpoke, Access::kAdmin},
    {verb::get, "/v1/spokes/{name}/exports", now<handlers::getSpokeExports>, Access::kRead},
    {verb::get, "/v1/spokes/{name}/static-routes", now<handlers::getSpokeStaticRoutes>,
     Access::kRead},
    {verb::get, "/v1/spokes/{name}/config", now<handlers::getSpokeConfig>, Access::kAdmin},
    {verb::put, "/v1/spokes/{name}/import/aws", handlers::reimportAwsSpoke, Access::kAdmin},
    {verb::get, "/v1/tunnels", now<handlers::listTunnels>, Access::kRead},
    {verb::get, "/v1/routes", now<handlers::listRoutes>, Access::kRead},
    {verb::get, "/v1/conflicts", now<handlers::listConflicts>, Access::kRead},
    {verb::get, "/v1/audit", now<handlers::listAudit>, Access::kRead},
    {verb::get, "/v1/hub", now<handlers::getHub>, Access::kRead},
    {verb::get, "/v1/openapi.yaml", now<handlers::openApi>, Access::kRead},
    {verb::get, "/healthz", now<handlers::healthz>, Access::kOperational},
    {verb::get, "/readyz", now<handlers::readyz>, Access::kOperational},
    {verb::get, "/metrics", now<handlers::metrics>, Access::kOperational},
};

bool isRead(verb method) { return method == verb::get || method == verb::head; }

// A request id for a request that brought none (or none of the accepted form): 128 random bits.
std::string newRequestId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

Response unauthorized() {
  Response r = errorResponse(401, "unauthorized", "a valid bearer token is required");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

std::span<const Route> routeTable() { return kRoutes; }

Api::Api(HandlerContext context, TokenAuth auth, ApiMetrics& metrics)
    : context_(std::move(context)), auth_(std::move(auth)), metrics_(metrics) {}

asio::awaitable<Response> Api::handle(Request request, bool operational_open) {
  Exchange exchange = begin(request, operational_open);
  co_return co_await complete(std::move(exchange), std::move(request));
}

Api::Exchange Api::begin(const Request& head, bool operational_open) const {
  Exchange exchange;
  exchange.start_ = context_.clock.monotonicNow();
  // The client's own id when it sent one we can log and store as it is; ours otherwise.
  exchange.request_id_ = hub::isAuditToken(head.request_id) ? head.request_id : newRequestId();
  auto refuse = [&exchange](Response response) {
    exchange.refusal_ = std::move(response);
    return std::move(exchange);
  };
  auto url = boost::urls::parse_origin_form(head.target);
  if (!url) {
    return refuse(errorResponse(400, "bad_request", "the request target is not a valid path"));
  }
  // Matching is on the encoded path (see route_match.hpp).
  const std::string_view path = url->encoded_path();

  const auto selection = request::selectRoute(kRoutes, head.method, path);
  const Route* route = selection.index ? &kRoutes[*selection.index] : nullptr;

  // Authentication comes before routing on /v1, so an anonymous caller learns nothing about
  // which paths exist.
  const bool is_v1 = path == "/v1" || path.starts_with("/v1/");
  const bool operational = route != nullptr && route->access == Access::kOperational;
  if (is_v1 || (operational && !operational_open)) {
    exchange.token_ = auth_.authenticate(head.authorization);
    if (exchange.token_ == nullptr) {
      if (route != nullptr) exchange.route_label_ = route->pattern;
      return refuse(unauthorized());
    }
  }
  if (!selection.path_known) {
    return refuse(errorResponse(404, "not_found", "no such API path"));
  }
  if (route == nullptr) {
    const std::string& allow = selection.allow;
    Response r =
        errorResponse(405, "method_not_allowed", "method not allowed here; allowed: " + allow);
    r.headers.emplace_back("Allow", allow);
    return refuse(std::move(r));
  }
  exchange.route_label_ = route->pattern;
  exchange.route_ = route;
  auto params = request::decodeParams(selection.captures);
  if (!params) {
    return refuse(std::move(params.error()));
  }
  exchange.params_ = std::move(*params);
  if (route->access == Access::kAdmin && exchange.token_->role != hub::Role::kAdmin) {
    return refuse(
        errorResponse(403, "forbidden",
                      "token '" + exchange.token_->name + "' has the read role; this needs admin"));
  }
  return exchange;
}

asio::awaitable<Response> Api::complete(Exchange exchange, Request request) {
  if (exchange.refusal_) {
    Response refusal = std::move(*exchange.refusal_);
    co_return finish(exchange, request, std::move(refusal));
  }
  const Route& route = *exchange.route_;
  request.request_id = exchange.request_id_;
  request.actor = exchange.token_ != nullptr ? exchange.token_->name : std::string();
  // Started during a store outage and not loaded yet: the empty state means "not known", so the
  // reads that would show it answer 503 (/v1/hub says why; writes get the registry's 503).
  if (isRead(request.method) && route.pattern != "/v1/hub" && route.pattern != "/v1/openapi.yaml" &&
      route.pattern.starts_with("/v1/")) {
    if (const auto view = context_.registry.storeView(); !view.loaded) {
      co_return finish(exchange, request,
                       notLoadedResponse(view, context_.registry.storeDescription()));
    }
  }
  Response response = co_await route.handler(request, exchange.params_, context_);
  co_return finish(exchange, request, std::move(response));
}

Response Api::finish(const Exchange& exchange, const Request& request, Response response) {
  const std::chrono::duration<double> elapsed = context_.clock.monotonicNow() - exchange.start_;
  const auto method = boost::beast::http::to_string(request.method);
  const std::string_view route_label = exchange.route_label_;
  metrics_.observe(route_label, method, response.status, elapsed.count());
  response.headers.emplace_back("X-Request-Id", exchange.request_id_);
  if (route_label.starts_with("/v1/")) {
    // Every /v1 answer is no-store; once (a handler may have said so already).
    const bool said = std::ranges::any_of(response.headers, [](const auto& header) {
      return boost::beast::iequals(header.first, "Cache-Control");
    });
    if (!said) response.headers.emplace_back("Cache-Control", "no-store");
    // A read answered from a state the store may have moved past says so (not to a caller
    // that did not authenticate: it learns nothing of the hub).
    if (isRead(request.method) && response.status != 401) {
      if (const auto view = context_.registry.storeView(); !view.current) {
        response.headers.emplace_back(std::string(kStaleHeader), staleHeaderValue(view));
      }
    }
  }
  spdlog::debug("{} {} -> {} ({:.3f} ms, request {})", method, route_label, response.status,
                elapsed.count() * 1e3, exchange.request_id_);
  return response;
}

void Api::refusedUnread(std::string_view method, unsigned status, std::string_view reason,
                        std::string_view peer) {
  metrics_.count("unread", method, status);
  if (const auto held_back = unread_log_.admit(context_.clock.monotonicNow())) {
    spdlog::info("refused a request from {} before reading it: {} ({}){}", peer, status, reason,
                 *held_back > 0 ? fmt::format("; {} more refusals not logged", *held_back) : "");
  }
}

}  // namespace transit::http
