#include "http/handlers/routing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "http/codec/responses.hpp"
#include "http/codec/routing_view.hpp"
#include "http/codec/spoke_view.hpp"
#include "http/codec/status_view.hpp"
#include "http/handlers/common.hpp"
#include "http/request/query.hpp"
#include "hub/core/conflicts.hpp"

namespace transit::http::handlers {
namespace json = boost::json;

Response listRoutes(const Request& request, const PathParams& /*params*/, HandlerContext& context) {
  auto filter = request::parseRouteFilter(request.target);
  if (!filter) {
    return filter.error();
  }
  const auto state = context.registry.snapshot();
  if (filter->spoke && !state->spokes.contains(*filter->spoke)) {
    return noSuchSpoke(*filter->spoke);
  }
  const auto view = StatusView::of(context);
  // The owners the pass published (route_owners[i] is routes[i]'s).
  const auto& status = view.status();
  const auto ownerOf = [&](std::size_t i) -> std::optional<hub::RouteOwner> {
    return i < status.route_owners.size() ? status.route_owners[i] : std::nullopt;
  };
  std::vector<std::size_t> routes;
  for (std::size_t i = 0; i < status.routes.size(); ++i) {
    const auto& route = status.routes[i];
    if (filter->filtered && route.filtered != *filter->filtered) continue;
    if (filter->spoke) {
      const auto owner = ownerOf(i);
      if (!owner || owner->spoke != *filter->spoke) continue;
    }
    routes.push_back(i);
  }
  std::ranges::stable_sort(routes, [&](std::size_t a, std::size_t b) {
    return std::tie(status.routes[a].prefix, status.routes[a].protocol) <
           std::tie(status.routes[b].prefix, status.routes[b].protocol);
  });
  std::vector<std::string> keys;  // (prefix, protocol): the sort above; only for a page
  if (paged(filter->page)) {
    keys.reserve(routes.size());
    for (const auto i : routes) {
      keys.push_back(prefixKey(status.routes[i].prefix) + "," + status.routes[i].protocol);
    }
  }
  const PageBounds page =
      paged(filter->page) ? pageOf(keys, filter->page) : PageBounds{0, routes.size(), nullptr};
  json::array list;
  list.reserve(page.end - page.begin);
  for (std::size_t k = page.begin; k < page.end; ++k) {
    list.push_back(routeJson(status.routes[routes[k]], ownerOf(routes[k])));
  }
  return jsonResponse(200, json::object{{"routes", std::move(list)}, {"next", page.next}});
}

Response getSpokeExports(const Request& /*request*/, const PathParams& params,
                         HandlerContext& context) {
  const auto found = findSpoke(params.get("name"), context);
  if (!found) {
    return found.error();
  }
  const auto view = StatusView::of(context);
  const auto& spoke = **found;
  const auto exports = exportView(spoke, view);
  const auto& plan = exports.plan;
  return jsonResponse(200, json::object{
                               {"spoke", spoke.name},
                               {"pending", exports.pending},
                               {"limit", plan.limit},
                               {"must_reach", plan.must_reach},
                               {"summarized", plan.summarized},
                               {"within_limit", plan.within_limit},
                               {"wasted_addresses", plan.wasted_addresses},
                               {"prefixes", summaryEntries(plan.prefixes)},
                               {"warnings", exportWarnings(plan, runsBgp(spoke))},
                           });
}

Response getSpokeStaticRoutes(const Request& /*request*/, const PathParams& params,
                              HandlerContext& context) {
  const auto found = findSpoke(params.get("name"), context);
  if (!found) {
    return found.error();
  }
  const auto& spoke = **found;
  if (spoke.routing != peers::RoutingMode::kStatic) {
    return errorResponse(409, "conflict",
                         fmt::format("{0} uses BGP: its routes are exchanged over BGP; what it is "
                                     "sent is at /v1/spokes/{0}/exports",
                                     spoke.name));
  }
  const auto exports = exportView(spoke, StatusView::of(context));
  const auto& plan = exports.plan;
  return jsonResponse(200, json::object{
                               {"spoke", spoke.name},
                               {"pending", exports.pending},
                               {"limit", plan.limit},
                               {"routes", summaryEntries(plan.prefixes)},
                               {"summarized", plan.summarized},
                               {"warnings", exportWarnings(plan, false)},
                           });
}

Response listConflicts(const Request& request, const PathParams& /*params*/,
                       HandlerContext& context) {
  auto query = request::parsePageQuery(request.target);
  if (!query) {
    return std::move(query.error());
  }
  // The conflicts the pass published: the same that transit_hub_route_conflicts counts, in the
  // documented order (prefix, announcing spoke, overlapped spoke and CIDR), which the keys make.
  const auto view = StatusView::of(context);
  const auto& conflicts = view.status().conflicts;
  std::vector<std::pair<std::string, std::size_t>> keyed;
  keyed.reserve(conflicts.size());
  for (std::size_t i = 0; i < conflicts.size(); ++i) {
    const auto& c = conflicts[i];
    keyed.emplace_back(fmt::format("{},{},{},{}", prefixKey(c.prefix), c.announced_by,
                                   c.overlaps_spoke, prefixKey(c.overlaps_cidr)),
                       i);
  }
  std::ranges::stable_sort(keyed, {}, &std::pair<std::string, std::size_t>::first);
  std::vector<std::string> keys;
  keys.reserve(keyed.size());
  for (const auto& [key, i] : keyed) keys.push_back(key);
  const PageBounds page = pageOf(keys, *query);
  json::array list;
  for (std::size_t k = page.begin; k < page.end; ++k) {
    const auto& conflict = conflicts[keyed[k].second];
    json::array tunnels;
    for (const int tunnel : conflict.tunnels) tunnels.emplace_back(tunnel);
    list.push_back(json::object{
        {"prefix", conflict.prefix.toString()},
        {"announced_by",
         json::object{{"spoke", conflict.announced_by}, {"tunnels", std::move(tunnels)}}},
        {"overlaps", json::object{{"spoke", conflict.overlaps_spoke},
                                  {"cidr", conflict.overlaps_cidr.toString()}}},
        {"resolution", conflict.resolution},
    });
  }
  return jsonResponse(200, json::object{{"conflicts", std::move(list)}, {"next", page.next}});
}

}  // namespace transit::http::handlers
