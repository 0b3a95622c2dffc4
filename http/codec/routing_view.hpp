// Routing view: routes, prefix lists and export plans in the API's JSON form (GET /v1/routes,
// /v1/spokes/{name}/exports, /v1/spokes/{name}/static-routes).
//
// Pure functions; any HTTP thread.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <vector>

#include "http/codec/status_view.hpp"
#include "hub/core/conflicts.hpp"
#include "hub/core/planner.hpp"
#include "peers/model/spoke.hpp"
#include "routing/base/prefix.hpp"
#include "routing/policy/routing_driver.hpp"
#include "routing/policy/summarize.hpp"

namespace transit::http {

boost::json::array prefixList(const std::vector<Ipv4Prefix>& prefixes);
boost::json::array summaryEntries(const std::vector<routing::SummaryEntry>& entries);

// What an operator should know about a spoke's export plan, in words.
boost::json::array exportWarnings(const hub::ExportPlan& plan, bool bgp);

// A spoke's export plan from the last pass, or a pending one (nothing planned yet) with the
// spoke's limit.
struct ExportView {
  hub::ExportPlan plan;
  bool pending = false;
};
ExportView exportView(const peers::Spoke& spoke, const StatusView& view);

// A route as GET /v1/routes lists it, attributed to its spoke and tunnel by `owners`.
boost::json::object routeJson(const routing::ObservedRoute& route,
                              const std::optional<hub::RouteOwner>& owner);

}  // namespace transit::http
