#include "http/codec/routing_view.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace transit::http {
namespace json = boost::json;
namespace {

std::string plural(std::uint64_t count, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

}  // namespace

json::array prefixList(const std::vector<Ipv4Prefix>& prefixes) {
  json::array out;
  out.reserve(prefixes.size());
  for (const auto& prefix : prefixes) out.emplace_back(prefix.toString());
  return out;
}

json::array summaryEntries(const std::vector<routing::SummaryEntry>& entries) {
  json::array out;
  out.reserve(entries.size());
  for (const auto& entry : entries) {
    out.push_back(
        json::object{{"prefix", entry.prefix.toString()}, {"covers", prefixList(entry.covers)}});
  }
  return out;
}

// What an operator should know about a spoke's export plan, in words.
json::array exportWarnings(const hub::ExportPlan& plan, bool bgp) {
  json::array out;
  const auto sent = plan.prefixes.size();
  if (plan.summarized) {
    out.emplace_back(fmt::format(
        "{} summarised into {}{}; {} covered that no spoke routes",
        plural(plan.must_reach, "prefix", "prefixes"), sent,
        plan.within_limit ? fmt::format(" to stay within the export limit of {}", plan.limit)
                          : std::string(),
        plural(plan.wasted_addresses, "address", "addresses")));
  }
  if (!plan.within_limit) {
    out.emplace_back(fmt::format(
        "{} needed, over the export limit of {}: no fewer cover every prefix this spoke must "
        "reach without covering a CIDR it must not reach{}",
        plural(sent, bgp ? "prefix is" : "route is", bgp ? "prefixes are" : "routes are"),
        plan.limit,
        bgp ? fmt::format("; at most {} are sent", plan.limit)
            : std::string("; raise export_limit or enter them all")));
  }
  return out;
}

ExportView exportView(const peers::Spoke& spoke, const StatusView& view) {
  const auto& exports = view.status().exports;
  if (const auto it = exports.find(spoke.name); it != exports.end()) {
    return ExportView{it->second, false};
  }
  hub::ExportPlan plan;
  plan.spoke = spoke.name;
  plan.limit = peers::effectiveExportLimit(spoke);
  return ExportView{std::move(plan), true};
}

json::object routeJson(const routing::ObservedRoute& route,
                       const std::optional<hub::RouteOwner>& owner) {
  json::value spoke = nullptr;
  json::value tunnel = nullptr;
  if (owner) {
    spoke = owner->spoke;
    if (owner->tunnel) tunnel = *owner->tunnel;
  }
  json::array as_path;
  for (const auto as : route.as_path) as_path.emplace_back(as);
  json::array next_hops;
  for (const auto& hop : route.next_hops) next_hops.emplace_back(hop.toString());
  return json::object{
      {"prefix", route.prefix.toString()},
      {"spoke", std::move(spoke)},
      {"tunnel", std::move(tunnel)},
      {"protocol", route.protocol},
      {"as_path", std::move(as_path)},
      {"med", route.med ? json::value(*route.med) : json::value(nullptr)},
      {"next_hops", std::move(next_hops)},
      {"selected", route.primary},
      {"filtered", route.filtered},
  };
}

}  // namespace transit::http
