#include "http/api.hpp"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <string>

namespace transit::http {
namespace asio = boost::asio;
using boost::beast::http::verb;

namespace {

constexpr RouteSpec kRoutes[] = {
    {verb::get, "/v1/spokes", RouteId::kListSpokes, Access::kRead},
    {verb::post, "/v1/spokes", RouteId::kCreateSpoke, Access::kAdmin},
    {verb::post, "/v1/spokes/import/aws", RouteId::kImportAwsSpoke, Access::kAdmin},
    {verb::get, "/v1/spokes/{name}", RouteId::kGetSpoke, Access::kRead},
    {verb::put, "/v1/spokes/{name}", RouteId::kReplaceSpoke, Access::kAdmin},
    {verb::delete_, "/v1/spokes/{name}", RouteId::kDeleteSpoke, Access::kAdmin},
    {verb::get, "/v1/spokes/{name}/exports", RouteId::kGetSpokeExports, Access::kRead},
    {verb::get, "/v1/spokes/{name}/static-routes", RouteId::kGetSpokeStaticRoutes, Access::kRead},
    {verb::get, "/v1/spokes/{name}/config", RouteId::kGetSpokeConfig, Access::kAdmin},
    {verb::put, "/v1/spokes/{name}/import/aws", RouteId::kReimportAwsSpoke, Access::kAdmin},
    {verb::get, "/v1/tunnels", RouteId::kListTunnels, Access::kRead},
    {verb::get, "/v1/routes", RouteId::kListRoutes, Access::kRead},
    {verb::get, "/v1/conflicts", RouteId::kListConflicts, Access::kRead},
    {verb::get, "/v1/hub", RouteId::kGetHub, Access::kRead},
    {verb::get, "/v1/openapi.yaml", RouteId::kOpenApi, Access::kRead},
    {verb::get, "/healthz", RouteId::kHealthz, Access::kOperational},
    {verb::get, "/readyz", RouteId::kReadyz, Access::kOperational},
    {verb::get, "/metrics", RouteId::kMetrics, Access::kOperational},
};

// Matches a path against a pattern; "{x}" matches one non-empty segment, captured into `param`.
bool matchPattern(std::string_view pattern, std::string_view path, std::string_view& param) {
  while (!pattern.empty() && !path.empty()) {
    const auto brace = pattern.find('{');
    if (brace == std::string_view::npos) {
      return pattern == path;
    }
    if (path.substr(0, brace) != pattern.substr(0, brace)) {
      return false;
    }
    path.remove_prefix(brace);
    pattern.remove_prefix(pattern.find('}') + 1);
    const auto end = path.find('/');
    param = path.substr(0, end);
    if (param.empty()) {
      return false;
    }
    path.remove_prefix(param.size());
  }
  return pattern == path;
}

std::string allowHeader(std::string_view path) {
  std::string allow;
  std::string_view ignored;
  for (const auto& route : kRoutes) {
    if (matchPattern(route.pattern, path, ignored)) {
      if (!allow.empty()) allow += ", ";
      allow += std::string(boost::beast::http::to_string(route.method));
    }
  }
  return allow;
}

Response unauthorized() {
  Response r = errorResponse(401, "unauthorized", "a valid bearer token is required");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

std::span<const RouteSpec> routeTable() { return kRoutes; }

Api::Api(HandlerContext context, TokenAuth auth, ApiMetrics& metrics, const hub::Clock& clock)
    : context_(std::move(context)), auth_(std::move(auth)), metrics_(metrics), clock_(clock) {}

asio::awaitable<Response> Api::handle(Request request, bool operational_open) {
  const auto start = clock_.monotonicNow();
  std::string_view route_label = "unmatched";
  Response response = co_await dispatch(request, operational_open, route_label);
  const std::chrono::duration<double> elapsed = clock_.monotonicNow() - start;
  const auto method = boost::beast::http::to_string(request.method);
  metrics_.observe(route_label, method, response.status, elapsed.count());
  if (route_label.starts_with("/v1/")) {
    response.headers.emplace_back("Cache-Control", "no-store");
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
  // Matching is on the encoded path: no name the API accepts needs percent-encoding, and a
  // decoded "/" must never split a segment.
  const std::string_view path = url->encoded_path();

  const RouteSpec* route = nullptr;
  bool path_known = false;
  std::string_view param;
  for (const auto& candidate : kRoutes) {
    std::string_view captured;
    if (matchPattern(candidate.pattern, path, captured)) {
      path_known = true;
      if (candidate.method == request.method) {
        route = &candidate;
        param = captured;
        break;
      }
    }
  }

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
  if (!path_known) {
    co_return errorResponse(404, "not_found", "no such API path");
  }
  if (route == nullptr) {
    const std::string allow = allowHeader(path);
    Response r =
        errorResponse(405, "method_not_allowed", "method not allowed here; allowed: " + allow);
    r.headers.emplace_back("Allow", allow);
    co_return r;
  }
  route_label = route->pattern;
  std::string name;  // the path parameter, percent-decoded
  if (!param.empty()) {
    auto encoded = boost::urls::make_pct_string_view(param);
    if (!encoded) {
      co_return errorResponse(400, "bad_request", "the path has an invalid percent-encoding");
    }
    name = encoded->decode();
  }
  if (route->access == Access::kAdmin && token->role != hub::Role::kAdmin) {
    co_return errorResponse(403, "forbidden",
                            "token '" + token->name + "' has the read role; this needs admin");
  }

  switch (route->id) {
    case RouteId::kListSpokes:
      co_return handlers::listSpokes(request, context_);
    case RouteId::kCreateSpoke:
      co_return co_await handlers::createSpoke(request, context_);
    case RouteId::kImportAwsSpoke:
      co_return co_await handlers::importAwsSpoke(request, context_);
    case RouteId::kReimportAwsSpoke:
      co_return co_await handlers::reimportAwsSpoke(request, name, context_);
    case RouteId::kGetSpoke:
      co_return handlers::getSpoke(name, context_);
    case RouteId::kReplaceSpoke:
      co_return co_await handlers::replaceSpoke(request, name, context_);
    case RouteId::kDeleteSpoke:
      co_return co_await handlers::deleteSpoke(request, name, context_);
    case RouteId::kListTunnels:
      co_return handlers::listTunnels(context_);
    case RouteId::kListRoutes:
      co_return handlers::listRoutes(request, context_);
    case RouteId::kGetSpokeExports:
      co_return handlers::getSpokeExports(name, context_);
    case RouteId::kGetSpokeConfig:
      co_return handlers::getSpokeConfig(request, name, context_);
    case RouteId::kGetSpokeStaticRoutes:
      co_return handlers::getSpokeStaticRoutes(name, context_);
    case RouteId::kListConflicts:
      co_return handlers::listConflicts(context_);
    case RouteId::kGetHub:
      co_return handlers::getHub(context_);
    case RouteId::kOpenApi:
      co_return handlers::openApi();
    case RouteId::kHealthz:
      co_return handlers::healthz();
    case RouteId::kReadyz:
      co_return handlers::readyz(context_);
    case RouteId::kMetrics:
      co_return handlers::metrics(context_);
  }
  co_return errorResponse(500, "internal", "unrouted request");
}

}  // namespace transit::http
