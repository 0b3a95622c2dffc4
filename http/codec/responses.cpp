#include "http/codec/responses.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>

#include "peers/model/spoke_json.hpp"

namespace transit::http {
namespace json = boost::json;

Response jsonResponse(unsigned status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = json::serialize(body);
  r.body.push_back('\n');
  return r;
}

std::string etag(std::uint64_t generation) { return "\"" + std::to_string(generation) + "\""; }

namespace {

std::string sinceText(const hub::StoreView& view) {
  return view.since ? peers::formatTimestamp(
                          std::chrono::time_point_cast<std::chrono::seconds>(*view.since))
                    : std::string("-");
}

}  // namespace

std::string staleHeaderValue(const hub::StoreView& view) {
  return fmt::format("store unavailable since {}; revision {}", sinceText(view), view.revision);
}

json::object storeJson(const hub::StoreView& view, std::string_view location) {
  json::object store{
      {"location", location},
      {"state", view.current ? "current" : "stale"},
      {"loaded", view.loaded},
      {"revision", view.revision},
  };
  store["since"] = view.current ? json::value(nullptr) : json::value(sinceText(view));
  store["reason"] = view.current ? json::value(nullptr) : json::value(view.reason);
  return store;
}

Response notLoadedResponse(const hub::StoreView& view, std::string_view location) {
  Response r = errorResponse(
      503, "unavailable",
      fmt::format("the hub has not read its store yet: {} is unavailable since {} ({})", location,
                  sinceText(view), view.reason));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response errorResponse(unsigned status, std::string_view code, std::string_view message,
                       std::string_view field) {
  json::object e{{"code", code}, {"message", message}};
  if (!field.empty()) {
    e["field"] = field;
  }
  return jsonResponse(status, json::object{{"error", std::move(e)}});
}

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

}  // namespace transit::http
