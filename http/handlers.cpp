#include "http/handlers.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cassert>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "peers/spoke_json.hpp"

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

  const hub::TunnelStatus* tunnel(std::string_view spoke, int index) const {
    auto it = tunnels_.find({spoke, index});
    return it == tunnels_.end() ? nullptr : it->second;
  }
  const hub::SessionStatus* session(std::string_view spoke, int index) const {
    auto it = sessions_.find({spoke, index});
    return it == sessions_.end() ? nullptr : it->second;
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
  using Key = std::pair<std::string_view, int>;

  StatusView(std::shared_ptr<const hub::ReconcileStatus> status,
             std::optional<std::chrono::steady_clock::time_point> now)
      : status_(status ? std::move(status) : std::make_shared<const hub::ReconcileStatus>()),
        now_(now) {
    for (const auto& [name, tunnel] : status_->tunnels) {
      tunnels_.emplace(Key{tunnel.spoke, tunnel.index}, &tunnel);
    }
    for (const auto& [name, session] : status_->sessions) {
      sessions_.emplace(Key{session.spoke, session.index}, &session);
    }
  }

  std::shared_ptr<const hub::ReconcileStatus> status_;  // nullptr (no pass yet) reads as empty
  std::optional<std::chrono::steady_clock::time_point> now_;
  std::map<Key, const hub::TunnelStatus*> tunnels_;
  std::map<Key, const hub::SessionStatus*> sessions_;
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
  return json::object{
      {"state", error ? "error" : (pending ? "pending" : "applied")},
      {"tunnels", std::move(tunnels)},
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
  const auto state = context.registry.snapshot();
  auto it = state->spokes.find(name);
  if (it == state->spokes.end()) {
    return errorResponse(404, "not_found", "no spoke named " + std::string(name));
  }
  return spokeResponse(200, *it->second, context);
}

asio::awaitable<Response> createSpoke(const Request& request, HandlerContext& context) {
  auto draft = decodeDraft(request);
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

asio::awaitable<Response> replaceSpoke(const Request& request, std::string_view name,
                                       HandlerContext& context) {
  auto if_match = parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  auto draft = decodeDraft(request);
  if (!draft) {
    co_return draft.error();
  }
  auto result = co_await context.registry.asyncReplace(std::string(name), std::move(*draft),
                                                       *if_match, asio::use_awaitable);
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
