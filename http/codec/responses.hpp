// Responses: the JSON bodies and error shapes every handler and the front door answer with.
//
// Owns nothing; pure functions, any thread. Called by the handlers, the request parsers (their
// refusals), Api (401/404/405) and the server (413/431/400 before a request reaches Api).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "hub/core/registry.hpp"

namespace transit::http {

// A JSON body with its status; the body ends with a newline.
Response jsonResponse(unsigned status, const boost::json::value& body);

// {"error": {"code", "message", "field"?}}
Response errorResponse(unsigned status, std::string_view code, std::string_view message,
                       std::string_view field = {});

// 422 for a field that breaks a rule. Validation says what is wrong ("must be a /30"); the
// message names the field as well.
Response invalidField(const std::string& field, const std::string& message);

// The registry's refusal as its HTTP status (422, 404, 409, 412, or 503 with Retry-After).
Response hubErrorResponse(const hub::HubError& e);

// The ETag of a spoke generation: "3" (quoted).
std::string etag(std::uint64_t generation);

// While the hub's view of its store is stale (hub::StoreView), every /v1 GET answer carries
//   Transit-Hub-Stale: store unavailable since 2026-11-26T06:30:00Z; revision 42
// (when it became stale, in UTC, and the store revision the answer reflects).
inline constexpr std::string_view kStaleHeader = "Transit-Hub-Stale";
std::string staleHeaderValue(const hub::StoreView& view);

// /v1/hub's "store": {"location", "state": "current"|"stale", "loaded", "since", "revision",
// "reason"}; `location` is the store's description ("etcd:http://10.0.1.5:2379/transit-hub/").
boost::json::object storeJson(const hub::StoreView& view, std::string_view location);

// 503 for a /v1 read while the store has never been read (the hub started during an outage).
Response notLoadedResponse(const hub::StoreView& view, std::string_view location);

}  // namespace transit::http
