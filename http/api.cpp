#include "http/api.hpp"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <string>

#include "http/codec/responses.hpp"
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
    {verb::get, "/v1/hub", now<handlers::getHub>, Access::kRead},
    {verb::get, "/v1/openapi.yaml", now<handlers::openApi>, Access::kRead},
    {verb::get, "/healthz", now<handlers::healthz>, Access::kOperational},
    {verb::get, "/readyz", now<handlers::readyz>, Access::kOperational},
    {verb::get, "/metrics", now<handlers::metrics>, Access::kOperational},
};

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
  const auto start = context_.clock.monotonicNow();
  std::string_view route_label = "unmatched";
  Response response = co_await dispatch(request, operational_open, route_label);
  const std::chrono::duration<double> elapsed = context_.clock.monotonicNow() - start;
  const auto method = boost::beast::http::to_string(request.method);
  metrics_.observe(route_label, method, response.status, elapsed.count());
  if (route_label.starts_with("/v1/")) {
    response.headers.emplace_back("Cache-Control", "no-store");
    // A read answered from a state the store may have moved past says so (not to a caller
    // that did not authenticate: it learns nothing of the hub).
    if (request.method == verb::get && response.status != 401) {
      if (const auto view = context_.registry.storeView(); !view.current) {
        response.headers.emplace_back(std::string(kStaleHeader), staleHeaderValue(view));
      }
    }
  }
  spdlog::debug("{} {} -> {} ({:.3f} ms)", method, route_label, response.status,
                elapsed.count() * 1e3);
  co_return response;
}

asio::awaitable<Response> Api::dispatch(const Request& request, bool operational_open,
                                        std::string_view& route_label) {
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) {
    co_return errorResponse(400, "bad_request", "the request target is not a valid path");
  }
  // Matching is on the encoded path (see route_match.hpp).
  const std::string_view path = url->encoded_path();

  const auto selection = request::selectRoute(kRoutes, request.method, path);
  const Route* route = selection.index ? &kRoutes[*selection.index] : nullptr;

  // Authentication comes before routing on /v1, so an anonymous caller learns nothing about
  // which paths exist.
  const bool is_v1 = path == "/v1" || path.starts_with("/v1/");
  const bool operational = route != nullptr && route->access == Access::kOperational;
  const hub::ApiToken* token = nullptr;
  if (is_v1 || (operational && !operational_open)) {
    token = auth_.authenticate(request.authorization);
    if (token == nullptr) {
      if (route != nullptr) route_label = route->pattern;
      co_return unauthorized();
    }
  }
  if (!selection.path_known) {
    co_return errorResponse(404, "not_found", "no such API path");
  }
  if (route == nullptr) {
    const std::string& allow = selection.allow;
    Response r =
        errorResponse(405, "method_not_allowed", "method not allowed here; allowed: " + allow);
    r.headers.emplace_back("Allow", allow);
    co_return r;
  }
  route_label = route->pattern;
  auto params = request::decodeParams(selection.captures);
  if (!params) {
    co_return params.error();
  }
  if (route->access == Access::kAdmin && token->role != hub::Role::kAdmin) {
    co_return errorResponse(403, "forbidden",
                            "token '" + token->name + "' has the read role; this needs admin");
  }

  // Started during a store outage and not loaded yet: the empty state means "not known", so the
  // reads that would show it answer 503 (/v1/hub says why; writes get the registry's 503).
  if (request.method == verb::get && route->pattern != "/v1/hub" &&
      route->pattern != "/v1/openapi.yaml" && route->pattern.starts_with("/v1/")) {
    if (const auto view = context_.registry.storeView(); !view.loaded) {
      co_return notLoadedResponse(view, context_.registry.storeDescription());
    }
  }
  co_return co_await route->handler(request, *params, context_);
}

}  // namespace transit::http
