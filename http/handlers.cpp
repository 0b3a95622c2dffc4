#include "http/handlers.hpp"

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cassert>
#include <charconv>
#include <chrono>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "hub/core/conflicts.hpp"
#include "peers/aws/aws_import.hpp"
#include "peers/aws/aws_vpn_xml.hpp"
#include "peers/export/site_config.hpp"
#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"

namespace transit::http {
namespace json = boost::json;
namespace asio = boost::asio;
namespace {

constexpr std::string_view kJson = "application/json";

Response jsonResponse(unsigned status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = json::serialize(body);
  r.body.push_back('\n');
  return r;
}

std::string etag(std::uint64_t generation) { return "\"" + std::to_string(generation) + "\""; }

// One request's view of the reconciler's last published status, indexed by spoke and tunnel
// index. Without a reconciler (handlers wired without one) there is no view at all.
class StatusView {
 public:
  // Empty when no reconciler is wired.
  static std::optional<StatusView> of(const HandlerContext& context) {
    if (!context.reconcile_status) {
      return std::nullopt;
    }
    // A wired status needs the clock for retry times; missing it is a wiring bug in main.cpp.
    assert(context.clock != nullptr);
    std::optional<std::chrono::steady_clock::time_point> now;
    if (context.clock != nullptr) now = context.clock->monotonicNow();
    return StatusView(context.reconcile_status(), now);
  }

  const hub::ReconcileStatus& status() const { return *status_; }

  // The spoke's tunnel / session of that index, from the index the pass published.
  const hub::TunnelStatus* tunnel(std::string_view spoke, int index) const {
    const std::string* name = indexed(spoke, index, &hub::SpokeIndex::tunnels);
    if (name == nullptr) return nullptr;
    const auto it = status_->tunnels.find(*name);
    return it == status_->tunnels.end() ? nullptr : &it->second;
  }
  const hub::SessionStatus* session(std::string_view spoke, int index) const {
    const std::string* name = indexed(spoke, index, &hub::SpokeIndex::sessions);
    if (name == nullptr) return nullptr;
    const auto it = status_->sessions.find(*name);
    return it == status_->sessions.end() ? nullptr : &it->second;
  }

  // Whole seconds until an object in error is tried again (rounded up, never negative); null
  // unless an error is waiting for its retry.
  json::value nextRetryIn(const hub::ObjectStatus& object) const {
    if (object.state != hub::ObjectState::kError || !object.next_retry || !now_) {
      return nullptr;
    }
    const auto left = std::chrono::ceil<std::chrono::seconds>(*object.next_retry - *now_);
    return std::max<std::int64_t>(0, left.count());
  }

 private:
  StatusView(std::shared_ptr<const hub::ReconcileStatus> status,
             std::optional<std::chrono::steady_clock::time_point> now)
      : status_(status ? std::move(status) : std::make_shared<const hub::ReconcileStatus>()),
        now_(now) {}

  const std::string* indexed(std::string_view spoke, int index,
                             std::map<int, std::string> hub::SpokeIndex::*objects) const {
    const auto found = status_->spokes.find(spoke);
    if (found == status_->spokes.end()) return nullptr;
    const auto& names = found->second.*objects;
    const auto it = names.find(index);
    return it == names.end() ? nullptr : &it->second;
  }

  std::shared_ptr<const hub::ReconcileStatus> status_;  // nullptr (no pass yet) reads as empty
  std::optional<std::chrono::steady_clock::time_point> now_;
};

bool runsBgp(const peers::Spoke& spoke) {
  return spoke.routing == peers::RoutingMode::kBgp && spoke.asn.has_value();
}

// A tunnel's BGP session; a session the status lacks yet reads as down with no routes.
json::object bgpJson(const hub::SessionStatus* session) {
  static const hub::SessionStatus kNotPlanned{};
  const auto& s = session != nullptr ? *session : kNotPlanned;
  return json::object{
      {"state", s.observed.bgp_state},
      {"established", s.observed.established},
      {"routes_received", s.observed.routes_imported},
      {"routes_filtered", s.observed.routes_filtered},
      {"routes_advertised", s.observed.routes_exported},
      {"last_error", s.observed.last_error.empty() ? s.object.last_error : s.observed.last_error},
  };
}

// Adds a tunnel's status fields to `out` (which already holds its identity). A tunnel the status
// lacks (not planned yet) reads as pending with nothing observed.
void addTunnelStatus(json::object& out, const hub::TunnelStatus* tunnel, json::value bgp,
                     const StatusView& view) {
  static const hub::TunnelStatus kNotPlanned{};
  const auto& t = tunnel != nullptr ? *tunnel : kNotPlanned;
  out["state"] = hub::toString(t.object.state);
  out["ike_up"] = t.observed.ike_up;
  out["ipsec_up"] = t.observed.ipsec_up;
  out["in_bytes"] = t.observed.in_bytes;
  out["out_bytes"] = t.observed.out_bytes;
  out["daemon_state"] = t.observed.state;
  out["last_error"] = t.object.last_error;
  out["attempts"] = t.object.attempts;
  out["next_retry_in_seconds"] = view.nextRetryIn(t.object);
  out["bgp"] = std::move(bgp);
}

// The "status" of a spoke in the API form.
json::object spokeStatusJson(const peers::Spoke& spoke, const std::optional<StatusView>& view) {
  if (!view) {
    return json::object{{"state", "dry-run"}};
  }
  const bool bgp = runsBgp(spoke);
  bool error = false;
  bool pending = false;
  auto consider = [&](const hub::ObjectStatus* object) {
    if (object == nullptr || object->state == hub::ObjectState::kPending) {
      pending = true;  // missing from the status: not planned yet
    } else if (object->state == hub::ObjectState::kError) {
      error = true;
    }
  };
  json::array tunnels;
  for (std::size_t i = 0; i < spoke.tunnels.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const auto* tunnel = view->tunnel(spoke.name, index);
    const auto* session = bgp ? view->session(spoke.name, index) : nullptr;
    consider(tunnel != nullptr ? &tunnel->object : nullptr);
    if (bgp) consider(session != nullptr ? &session->object : nullptr);
    json::object item{{"index", index}};
    item["name"] = tunnel != nullptr ? json::value(tunnel->name) : json::value(nullptr);
    addTunnelStatus(item, tunnel, bgp ? json::value(bgpJson(session)) : json::value(nullptr),
                    *view);
    tunnels.push_back(std::move(item));
  }
  // What the spoke is sent; null until a pass has planned it.
  json::value exports = nullptr;
  if (const auto it = view->status().exports.find(spoke.name); it != view->status().exports.end()) {
    exports = json::object{{"limit", it->second.limit},
                           {"summarized", it->second.summarized},
                           {"sent", it->second.prefixes.size()}};
  }
  return json::object{
      {"state", error ? "error" : (pending ? "pending" : "applied")},
      {"tunnels", std::move(tunnels)},
      {"exports", std::move(exports)},
  };
}

json::object spokeJson(const peers::Spoke& spoke, const std::optional<StatusView>& view) {
  json::object out = peers::encodeSpokeForApi(spoke);
  out["status"] = spokeStatusJson(spoke, view);
  return out;
}

Response spokeResponse(unsigned status, const peers::Spoke& spoke, const HandlerContext& context) {
  Response r = jsonResponse(status, spokeJson(spoke, StatusView::of(context)));
  r.headers.emplace_back("ETag", etag(spoke.generation));
  return r;
}

json::object daemonJson(const hub::DaemonStatus& daemon) {
  return json::object{{"up", daemon.up}, {"error", daemon.error}};
}

// 422 for a field that breaks a rule. Validation says what is wrong ("must be a /30"); the
// message names the field as well.
Response invalidField(const std::string& field, const std::string& message) {
  return errorResponse(422, "invalid_field", field.empty() ? message : field + " " + message,
                       field);
}

Response hubErrorResponse(const hub::HubError& e) {
  switch (e.code) {
    case hub::ErrorCode::kInvalid:
      return invalidField(e.field, e.message);
    case hub::ErrorCode::kNotFound:
      return errorResponse(404, "not_found", e.message, e.field);
    case hub::ErrorCode::kConflict:
      return errorResponse(409, "conflict", e.message, e.field);
    case hub::ErrorCode::kPreconditionFailed:
      return errorResponse(412, "precondition_failed", e.message, e.field);
    case hub::ErrorCode::kUnavailable:
      break;
  }
  Response r = errorResponse(503, "unavailable", e.message, e.field);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// The routing view needs the reconciler's status; without one (handlers wired without a
// reconciler) there is nothing to show yet.
Response routingUnavailable() {
  return errorResponse(503, "unavailable",
                       "the routing view is not available yet: no reconciler reports to this API");
}

Response noSuchSpoke(std::string_view name) {
  return errorResponse(404, "not_found", "no spoke named " + std::string(name));
}

// The spoke named `name` in the current snapshot, or the 404 that says there is none. The
// pointer shares ownership of the spoke, so it stays valid after the snapshot is released.
std::expected<hub::Registry::SpokePtr, Response> findSpoke(std::string_view name,
                                                           const HandlerContext& context) {
  const auto state = context.registry.snapshot();
  const auto it = state->spokes.find(name);
  if (it == state->spokes.end()) {
    return std::unexpected(noSuchSpoke(name));
  }
  return it->second;
}

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

std::string plural(std::uint64_t count, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
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

// A spoke's export plan from the last pass, or a pending one (nothing planned yet) with the
// spoke's limit.
struct ExportView {
  hub::ExportPlan plan;
  bool pending = false;
};

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

// ?spoke=NAME and ?filtered=true|false of GET /v1/routes.
struct RouteFilter {
  std::optional<std::string> spoke;
  std::optional<bool> filtered;
};

std::expected<RouteFilter, Response> parseRouteFilter(const Request& request) {
  RouteFilter filter;
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) {
    return std::unexpected(
        errorResponse(400, "bad_request", "the request target is not a valid path"));
  }
  for (const auto& param : url->params()) {
    const std::string key = param.key;
    if (key != "spoke" && key != "filtered") {
      return std::unexpected(
          invalidField(key, "is not a parameter of this path; use spoke or filtered"));
    }
    if ((key == "spoke" && filter.spoke) || (key == "filtered" && filter.filtered)) {
      return std::unexpected(invalidField(key, "may be given only once"));
    }
    if (key == "spoke") {
      if (auto problem = peers::checkName(param.value)) {
        return std::unexpected(invalidField(key, "is not a spoke name: " + *problem));
      }
      filter.spoke = param.value;
    } else if (param.value == "true" || param.value == "false") {
      filter.filtered = param.value == "true";
    } else {
      return std::unexpected(invalidField(key, "must be true or false"));
    }
  }
  return filter;
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

// The request body as a spoke draft, or the response that refuses it.
std::expected<peers::SpokeDraft, Response> decodeDraft(const Request& request) {
  std::string_view type = request.content_type;
  if (auto semicolon = type.find(';'); semicolon != std::string_view::npos) {
    type = type.substr(0, semicolon);
  }
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type != kJson) {
    return std::unexpected(
        errorResponse(415, "unsupported_media_type", "Content-Type must be application/json"));
  }
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec) {
    return std::unexpected(
        errorResponse(400, "malformed_json", "the body is not valid JSON: " + ec.message()));
  }
  auto draft = peers::decodeSpokeDraft(body);
  if (!draft) {
    return std::unexpected(invalidField(draft.error().field, draft.error().message));
  }
  return std::move(*draft);
}

// The media type of a Content-Type value, without parameters.
std::string_view mediaType(std::string_view type) {
  if (auto semicolon = type.find(';'); semicolon != std::string_view::npos) {
    type = type.substr(0, semicolon);
  }
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

// ?name=&cidr=...&segment=&preferred_hub= of POST /v1/spokes/import/aws; without name (it is
// the path's) for PUT /v1/spokes/{name}/import/aws.
std::expected<peers::AwsImportRequest, Response> parseImportQuery(const Request& request,
                                                                  bool name_in_path) {
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) {
    return std::unexpected(
        errorResponse(400, "bad_request", "the request target is not a valid path"));
  }
  peers::AwsImportRequest out;
  bool named = false;
  for (const auto& param : url->params()) {
    const std::string key = param.key;
    if (key == "cidr") {
      out.cidrs.push_back(param.value);
      continue;
    }
    std::optional<std::string>* target = nullptr;
    if (key == "segment") {
      target = &out.segment;
    } else if (key == "preferred_hub") {
      target = &out.preferred_hub;
    } else if (key != "name" || name_in_path) {
      return std::unexpected(invalidField(
          key, name_in_path
                   ? "is not a parameter of this path; use cidr, segment or preferred_hub (the "
                     "spoke's name is in the path)"
                   : "is not a parameter of this path; use name, cidr, segment or preferred_hub"));
    }
    if ((key == "name" && named) || (target != nullptr && target->has_value())) {
      return std::unexpected(invalidField(key, "may be given only once"));
    }
    if (key == "name") {
      out.name = param.value;
      named = true;
    } else {
      *target = param.value;
    }
  }
  return out;
}

// An AWS document with the request's parameters, checked and parsed: what the import handlers
// share.
struct AwsDocument {
  peers::AwsImportRequest query;
  peers::AwsVpnConnection vpn;
  peers::AwsImportHub hub;
};

// The document of an import request and its query, or the response that refuses the request.
std::expected<AwsDocument, Response> decodeAwsDocument(const Request& request, const HubInfo& hub,
                                                       bool name_in_path) {
  const auto type = mediaType(request.content_type);
  if (type != "application/xml" && type != "text/xml") {
    return std::unexpected(errorResponse(
        415, "unsupported_media_type",
        "Content-Type must be application/xml: the document AWS returns for the VPN connection "
        "(CustomerGatewayConfiguration)"));
  }
  auto query = parseImportQuery(request, name_in_path);
  if (!query) {
    return std::unexpected(query.error());
  }
  if (request.body.size() > peers::kMaxAwsXmlBytes) {
    return std::unexpected(
        errorResponse(413, "payload_too_large",
                      fmt::format("the document is over {} KiB; AWS's are a few KiB",
                                  peers::kMaxAwsXmlBytes / 1024)));
  }
  auto vpn = peers::parseAwsVpnConnection(request.body);
  if (!vpn) {
    if (vpn.error().where.empty()) {
      return std::unexpected(errorResponse(400, "malformed_xml", vpn.error().message));
    }
    return std::unexpected(invalidField("xml:" + vpn.error().where, vpn.error().message));
  }
  const auto public_ip = Ipv4Address::parse(hub.public_ip);
  if (!public_ip) {
    return std::unexpected(
        errorResponse(500, "internal", "the hub's public address is not an IPv4 address"));
  }
  return AwsDocument{std::move(*query), std::move(*vpn), {*public_ip, hub.asn}};
}

// The spoke draft of POST /v1/spokes/import/aws, or the response that refuses the request.
// (Kept out of the coroutines: GCC 12 misreports -Wmismatched-new-delete on large frames.)
std::expected<peers::SpokeDraft, Response> decodeAwsImport(const Request& request,
                                                           const HubInfo& hub) {
  auto document = decodeAwsDocument(request, hub, false);
  if (!document) {
    return std::unexpected(document.error());
  }
  auto draft = peers::spokeFromAwsVpn(document->vpn, document->query, document->hub);
  if (!draft) {
    return std::unexpected(invalidField(draft.error().field, draft.error().message));
  }
  return std::move(*draft);
}

// PUT /v1/spokes/{name}/import/aws's merge: the draft that brings the vpc spoke `current` up to
// date with `document`, or why not. Pure; the registry runs it on its writer thread against the
// spoke as it is then (Registry::asyncUpdate), so a write that lands in between is kept.
std::expected<peers::SpokeDraft, hub::HubError> mergeAwsDocument(const AwsDocument& document,
                                                                 const peers::Spoke& current) {
  if (current.kind != peers::SpokeKind::kVpc) {
    return std::unexpected(hub::HubError{
        hub::ErrorCode::kConflict,
        fmt::format("{0} is a site: AWS has no document for it; change it with PUT "
                    "/v1/spokes/{0}",
                    current.name),
        ""});
  }
  auto draft = peers::spokeUpdateFromAwsVpn(document.vpn, current, document.query, document.hub);
  if (!draft) {
    return std::unexpected(
        hub::HubError{hub::ErrorCode::kInvalid, draft.error().message, draft.error().field});
  }
  return std::move(*draft);
}

// The update of PUT /v1/spokes/{name}/import/aws: merges the new document of the spoke's VPN
// connection into the spoke, or the response that refuses the request. The document is parsed
// and checked here, up front (against the current snapshot, so a bad document, a site or a
// missing spoke is refused before anything is queued); the merge that is written is made again
// by the registry on the spoke as it is when the update runs, never on this snapshot.
std::expected<hub::Registry::UpdateFn, Response> decodeAwsReimport(const Request& request,
                                                                   std::string_view name,
                                                                   const HandlerContext& context) {
  auto document = decodeAwsDocument(request, context.hub, true);
  if (!document) {
    return std::unexpected(document.error());
  }
  const auto found = findSpoke(name, context);
  if (!found) {
    return std::unexpected(found.error());
  }
  if (auto checked = mergeAwsDocument(*document, **found); !checked) {
    return std::unexpected(hubErrorResponse(checked.error()));
  }
  return [document = std::move(*document)](const peers::Spoke& current) {
    return mergeAwsDocument(document, current);
  };
}

// If-Match: absent or "*" -> no condition; "3", W/"3" or 3 -> generation 3.
std::expected<std::optional<std::uint64_t>, Response> parseIfMatch(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value == "*") {
    return std::nullopt;
  }
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  std::uint64_t generation = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), generation);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return std::unexpected(errorResponse(
        412, "precondition_failed", "If-Match must be an ETag this API returned, such as \"3\""));
  }
  return generation;
}

}  // namespace

Response errorResponse(unsigned status, std::string_view code, std::string_view message,
                       std::string_view field) {
  json::object e{{"code", code}, {"message", message}};
  if (!field.empty()) {
    e["field"] = field;
  }
  return jsonResponse(status, json::object{{"error", std::move(e)}});
}

namespace handlers {

Response listSpokes(const Request& /*request*/, HandlerContext& context) {
  const auto state = context.registry.snapshot();
  const auto view = StatusView::of(context);
  json::array spokes;
  spokes.reserve(state->spokes.size());
  for (const auto& [name, spoke] : state->spokes) {
    spokes.push_back(spokeJson(*spoke, view));
  }
  return jsonResponse(200, json::object{{"spokes", std::move(spokes)}});
}

Response getSpoke(std::string_view name, HandlerContext& context) {
  const auto found = findSpoke(name, context);
  if (!found) {
    return found.error();
  }
  return spokeResponse(200, **found, context);
}

// 201 with the new spoke and its Location, or the registry's refusal.
asio::awaitable<Response> createFromDraft(std::expected<peers::SpokeDraft, Response> draft,
                                          HandlerContext& context) {
  if (!draft) {
    co_return draft.error();
  }
  auto result = co_await context.registry.asyncCreate(std::move(*draft), asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  Response r = spokeResponse(201, **result, context);
  r.headers.emplace_back("Location", "/v1/spokes/" + (*result)->name);
  co_return r;
}

// 200 with the replaced spoke, or the refusal (draft, If-Match, registry).
asio::awaitable<Response> replaceFromDraft(std::string_view name,
                                           std::optional<std::uint64_t> if_match,
                                           std::expected<peers::SpokeDraft, Response> draft,
                                           HandlerContext& context) {
  if (!draft) {
    co_return draft.error();
  }
  auto result = co_await context.registry.asyncReplace(std::string(name), std::move(*draft),
                                                       if_match, asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  co_return spokeResponse(200, **result, context);
}

asio::awaitable<Response> createSpoke(const Request& request, HandlerContext& context) {
  co_return co_await createFromDraft(decodeDraft(request), context);
}

asio::awaitable<Response> importAwsSpoke(const Request& request, HandlerContext& context) {
  co_return co_await createFromDraft(decodeAwsImport(request, context.hub), context);
}

asio::awaitable<Response> replaceSpoke(const Request& request, std::string_view name,
                                       HandlerContext& context) {
  auto if_match = parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  co_return co_await replaceFromDraft(name, *if_match, decodeDraft(request), context);
}

asio::awaitable<Response> reimportAwsSpoke(const Request& request, std::string_view name,
                                           HandlerContext& context) {
  auto if_match = parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  auto update = decodeAwsReimport(request, name, context);
  if (!update) {
    co_return update.error();
  }
  auto result = co_await context.registry.asyncUpdate(
      "aws-reimport", std::string(name), *if_match, std::move(*update), asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  co_return spokeResponse(200, **result, context);
}

asio::awaitable<Response> deleteSpoke(const Request& request, std::string_view name,
                                      HandlerContext& context) {
  auto if_match = parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  auto result =
      co_await context.registry.asyncRemove(std::string(name), *if_match, asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  Response r;
  r.status = 204;
  r.content_type.clear();
  co_return r;
}

Response listTunnels(HandlerContext& context) {
  const auto view = StatusView::of(context);
  if (!view) {
    return jsonResponse(200, json::object{{"tunnels", json::array{}}, {"mode", "dry-run"}});
  }
  const auto state = context.registry.snapshot();
  const auto& status = view->status();
  json::array tunnels;
  tunnels.reserve(status.tunnels.size());
  for (const auto& [name, tunnel] : status.tunnels) {  // a map: sorted by name
    const auto* session = view->session(tunnel.spoke, tunnel.index);
    const auto spoke = state->spokes.find(tunnel.spoke);
    const bool bgp =
        session != nullptr || (spoke != state->spokes.end() && runsBgp(*spoke->second));
    json::object item{{"spoke", tunnel.spoke}, {"index", tunnel.index}, {"name", tunnel.name}};
    addTunnelStatus(item, &tunnel, bgp ? json::value(bgpJson(session)) : json::value(nullptr),
                    *view);
    tunnels.push_back(std::move(item));
  }
  return jsonResponse(200, json::object{
                               {"tunnels", std::move(tunnels)},
                               {"pluto", daemonJson(status.pluto)},
                               {"bird", daemonJson(status.bird)},
                               {"initial_sync_done", status.initial_sync_done},
                           });
}

Response listRoutes(const Request& request, HandlerContext& context) {
  auto filter = parseRouteFilter(request);
  if (!filter) {
    return filter.error();
  }
  const auto state = context.registry.snapshot();
  if (filter->spoke && !state->spokes.contains(*filter->spoke)) {
    return noSuchSpoke(*filter->spoke);
  }
  const auto view = StatusView::of(context);
  if (!view) {
    return jsonResponse(200, json::object{{"routes", json::array{}}});
  }
  // The owners the pass published (route_owners[i] is routes[i]'s).
  const auto& status = view->status();
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
  json::array list;
  list.reserve(routes.size());
  for (const auto i : routes) list.push_back(routeJson(status.routes[i], ownerOf(i)));
  return jsonResponse(200, json::object{{"routes", std::move(list)}});
}

Response getSpokeExports(std::string_view name, HandlerContext& context) {
  const auto found = findSpoke(name, context);
  if (!found) {
    return found.error();
  }
  const auto view = StatusView::of(context);
  if (!view) {
    return routingUnavailable();
  }
  const auto& spoke = **found;
  const auto exports = exportView(spoke, *view);
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

Response getSpokeConfig(const Request& request, std::string_view name, HandlerContext& context) {
  std::optional<std::string> format_text;
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) {
    return errorResponse(400, "bad_request", "the request target is not a valid path");
  }
  for (const auto& param : url->params()) {
    if (param.key != "format") {
      return invalidField(std::string(param.key), "is not a parameter of this path; use format");
    }
    if (format_text) {
      return invalidField("format", "may be given only once");
    }
    format_text = param.value;
  }
  const auto format = format_text ? peers::parseSiteConfigFormat(*format_text) : std::nullopt;
  if (!format) {
    return invalidField("format", "must be strongswan, libreswan or aws-xml");
  }
  const auto found = findSpoke(name, context);
  if (!found) {
    return found.error();
  }
  const auto& spoke = **found;
  if (spoke.kind != peers::SpokeKind::kSite) {
    return errorResponse(409, "conflict",
                         fmt::format("{} is a vpc: its other end is an AWS VGW, configured by "
                                     "AWS (import its document with POST /v1/spokes/import/aws)",
                                     spoke.name));
  }
  const auto public_ip = Ipv4Address::parse(context.hub.public_ip);
  if (!public_ip) {
    return errorResponse(500, "internal", "the hub's public address is not an IPv4 address");
  }
  const auto config = peers::renderSiteConfig(
      spoke, peers::SiteConfigHub{context.hub.name, *public_ip, context.hub.asn}, *format);
  Response r;
  r.headers.emplace_back("Cache-Control", "no-store");  // it carries PSKs
  if (*format == peers::SiteConfigFormat::kAwsXml && config.files.size() == 1) {
    r.status = 200;
    r.content_type = "application/xml";
    r.body = config.files.front().content;
    return r;
  }
  json::array files;
  for (const auto& file : config.files) {
    files.push_back(json::object{{"path", file.path},
                                 {"description", file.description},
                                 {"secret", file.secret},
                                 {"content", file.content}});
  }
  r = jsonResponse(200, json::object{{"spoke", spoke.name},
                                     {"format", peers::toString(*format)},
                                     {"files", std::move(files)}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response getSpokeStaticRoutes(std::string_view name, HandlerContext& context) {
  const auto found = findSpoke(name, context);
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
  const auto view = StatusView::of(context);
  if (!view) {
    return routingUnavailable();
  }
  const auto exports = exportView(spoke, *view);
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

Response listConflicts(HandlerContext& context) {
  const auto view = StatusView::of(context);
  if (!view) {
    return jsonResponse(200, json::object{{"conflicts", json::array{}}});
  }
  // The conflicts the pass published: the same that transit_hub_route_conflicts counts.
  json::array list;
  for (const auto& conflict : view->status().conflicts) {
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
  return jsonResponse(200, json::object{{"conflicts", std::move(list)}});
}

Response getHub(HandlerContext& context) {
  const auto state = context.registry.snapshot();
  const auto checks = context.health.evaluate();
  const auto& hub = context.hub;
  return jsonResponse(200,
                      json::object{
                          {"name", hub.name},
                          {"asn", hub.asn},
                          {"public_ip", hub.public_ip},
                          {"local_ip", hub.local_ip},
                          {"version", hub.version},
                          {"drivers_mode", hub.drivers_mode},
                          {"store", context.registry.storeDescription()},
                          {"revision", state->revision},
                          {"spokes", json::object{{"vpc", state->count(peers::SpokeKind::kVpc)},
                                                  {"site", state->count(peers::SpokeKind::kSite)}}},
                          {"ready", hub::Health::ready(checks)},
                      });
}

Response openApi() {
  Response r;
  r.content_type = "application/yaml";
  r.body = std::string(openApiDocument());
  return r;
}

Response healthz() { return jsonResponse(200, json::object{{"status", "ok"}}); }

Response readyz(HandlerContext& context) {
  const auto checks = context.health.evaluate();
  json::array list;
  for (const auto& check : checks) {
    list.push_back(json::object{
        {"name", check.name}, {"ok", check.status.ok}, {"reason", check.status.reason}});
  }
  const bool ready = hub::Health::ready(checks);
  return jsonResponse(ready ? 200 : 503,
                      json::object{{"ready", ready}, {"checks", std::move(list)}});
}

Response metrics(HandlerContext& context) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, context.metrics.Collect());
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out).str();
  return r;
}

}  // namespace handlers
}  // namespace transit::http
