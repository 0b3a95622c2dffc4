#include "http/request/if_match.hpp"

#include <charconv>

#include "http/codec/responses.hpp"

namespace transit::http::request {

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

}  // namespace transit::http::request
