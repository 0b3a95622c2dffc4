#include "http/handlers.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <sstream>

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

Response spokeResponse(unsigned status, const peers::Spoke& spoke) {
  Response r = jsonResponse(status, peers::encodeSpokeForApi(spoke));
  r.headers.emplace_back("ETag", etag(spoke.generation));
  return r;
}

Response hubErrorResponse(const hub::HubError& e) {
  switch (e.code) {
    case hub::ErrorCode::kInvalid:
      // Validation says what is wrong ("must be a /30"); the message names the field as well.
      return errorResponse(422, "invalid_field",
                           e.field.empty() ? e.message : e.field + " " + e.message, e.field);
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
    const auto& e = draft.error();
    return std::unexpected(errorResponse(
        422, "invalid_field", e.field.empty() ? e.message : e.field + " " + e.message, e.field));
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
  json::array spokes;
  spokes.reserve(state->spokes.size());
  for (const auto& [name, spoke] : state->spokes) {
    spokes.push_back(peers::encodeSpokeForApi(*spoke));
  }
  return jsonResponse(200, json::object{{"spokes", std::move(spokes)}});
}

Response getSpoke(std::string_view name, HandlerContext& context) {
  const auto state = context.registry.snapshot();
  auto it = state->spokes.find(name);
  if (it == state->spokes.end()) {
    return errorResponse(404, "not_found", "no spoke named " + std::string(name));
  }
  return spokeResponse(200, *it->second);
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
  Response r = spokeResponse(201, **result);
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
  co_return spokeResponse(200, **result);
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
