#include "http/request/route_match.hpp"

#include <boost/url/pct_string_view.hpp>

#include "http/codec/responses.hpp"

namespace transit::http::request {

std::optional<PathCaptures> matchPath(std::string_view pattern, std::string_view path) {
  PathCaptures captures;
  for (;;) {
    const auto special = pattern.find_first_of("{*");
    if (special == std::string_view::npos) {
      if (pattern != path) return std::nullopt;
      return captures;
    }
    if (!path.starts_with(pattern.substr(0, special))) {
      return std::nullopt;
    }
    path.remove_prefix(special);
    pattern.remove_prefix(special);
    if (pattern.front() == '*') {
      if (pattern.size() != 1) return std::nullopt;  // "*" only ends a pattern
      captures.emplace_back("*", path);
      return captures;
    }
    const auto close = pattern.find('}');
    if (close == std::string_view::npos) return std::nullopt;
    const auto name = pattern.substr(1, close - 1);
    pattern.remove_prefix(close + 1);
    const auto value = path.substr(0, path.find('/'));
    if (value.empty()) {
      return std::nullopt;
    }
    captures.emplace_back(name, value);
    path.remove_prefix(value.size());
  }
}

std::expected<PathParams, Response> decodeParams(const PathCaptures& captures) {
  PathParams params;
  for (const auto& [name, value] : captures) {
    auto encoded = boost::urls::make_pct_string_view(value);
    if (!encoded) {
      return std::unexpected(
          errorResponse(400, "bad_request", "the path has an invalid percent-encoding"));
    }
    params.add(std::string(name), encoded->decode());
  }
  return params;
}

}  // namespace transit::http::request
