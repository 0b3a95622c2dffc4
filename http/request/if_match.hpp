// If-Match: the condition of a PUT or DELETE on a spoke, parsed from the header's value.
//
// Pure, any thread. Called by the spoke and AWS re-import handlers; public for tests and fuzzers.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "http/message.hpp"

namespace transit::http::request {

// Absent or "*" -> no condition; "3" -> generation 3 (a list may carry it among weak tags,
// which are skipped). RFC 9110's strong comparison: only weak tags -> 412; a tag this API never
// issued ("abc") -> 412; not an entity tag at all (3, "3, W/3) or two different strong tags
// -> 400.
std::expected<std::optional<std::uint64_t>, Response> parseIfMatch(std::string_view value);

}  // namespace transit::http::request
