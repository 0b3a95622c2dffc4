// Media type: the type of a Content-Type value, without its parameters.
//
// Pure, any thread. Called by the handlers that read a body; public for tests and fuzzers.
#pragma once

#include <string_view>

namespace transit::http::request {

// "application/json; charset=utf-8" -> "application/json" (trailing spaces dropped).
std::string_view mediaType(std::string_view content_type);

}  // namespace transit::http::request
