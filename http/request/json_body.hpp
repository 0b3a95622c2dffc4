// A request's JSON body, parsed strictly: valid UTF-8 (Boost.JSON's default), at most 32 levels
// deep, and no object with the same key twice. JSON leaves duplicates to the reader and most
// take the last one: a reviewer reading the first would approve another request than the one
// applied, so the API refuses them.
//
// Pure, any thread. Called by the handlers that take a JSON body; public for tests and fuzzers.
#pragma once

#include <boost/json/value.hpp>
#include <expected>
#include <string_view>

#include "http/message.hpp"

namespace transit::http::request {

// The parsed body, or the 400 (`malformed_json`) that says what is wrong with it.
std::expected<boost::json::value, Response> parseJsonBody(std::string_view body);

}  // namespace transit::http::request
