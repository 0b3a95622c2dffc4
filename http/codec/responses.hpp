// Responses: the JSON bodies and error shapes every handler and the front door answer with.
//
// Owns nothing; pure functions, any thread. Called by the handlers, the request parsers (their
// refusals), Api (401/404/405) and the server (413/431/400 before a request reaches Api).
#pragma once

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

}  // namespace transit::http
