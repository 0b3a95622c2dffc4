// Route matching: which route of a table answers a method and a path, with the path's captured
// parameters. A pattern is literal text with "{x}" for one non-empty segment (captured as "x")
// and, only at its end, "*" for the rest of the path, '/' included and possibly empty (captured
// as "*": "/ui/*" serves "/ui/" and "/ui/js/app.js", not "/ui").
//
// Pure, any thread. Called by Api on every request; public for tests and fuzzers. Matching is on
// the encoded path: no name the API accepts needs percent-encoding, and a decoded "/" must never
// split a segment; decodeParams() decodes what was captured.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace transit::http::request {

// Name -> still percent-encoded value, in the pattern's order.
using PathCaptures = std::vector<std::pair<std::string_view, std::string_view>>;

// The captures when `path` matches `pattern`, or nothing.
std::optional<PathCaptures> matchPath(std::string_view pattern, std::string_view path);

// A route's path parameters, percent-decoded, as handlers see them.
class PathParams {
 public:
  PathParams() = default;
  void add(std::string name, std::string value) {
    params_.emplace_back(std::move(name), std::move(value));
  }
  // The parameter `name` ("name" for "{name}", "*" for the rest); empty when absent.
  std::string_view get(std::string_view name) const {
    for (const auto& [n, v] : params_) {
      if (n == name) return v;
    }
    return {};
  }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// The captures decoded, or the 400 for an invalid percent-encoding.
std::expected<PathParams, Response> decodeParams(const PathCaptures& captures);

// What a table says about a request: the route that answers it (the first whose method and path
// match; HEAD matches GET routes), or whether the path is known at all (404 when not; 405 with
// `allow` when it is).
struct RouteSelection {
  std::optional<std::size_t> index;  // into the table
  PathCaptures captures;             // of that route
  bool path_known = false;           // some route matches the path
  std::string allow;                 // when path_known without index: "GET, PUT" in table order
};

// Whether a route of `route_method` answers `method`: HEAD is answered by every GET route (the
// same status and headers, no body; RFC 9110 9.3.2).
constexpr bool answers(boost::beast::http::verb route_method, boost::beast::http::verb method) {
  using boost::beast::http::verb;
  return route_method == method || (method == verb::head && route_method == verb::get);
}

// `routes`: any range of elements with `method` (verb) and `pattern` (string_view).
template <typename Routes>
RouteSelection selectRoute(const Routes& routes, boost::beast::http::verb method,
                           std::string_view path) {
  RouteSelection out;
  std::size_t i = 0;
  for (const auto& route : routes) {
    if (auto captures = matchPath(route.pattern, path)) {
      out.path_known = true;
      if (answers(route.method, method)) {
        out.index = i;
        out.captures = std::move(*captures);
        return out;
      }
    }
    ++i;
  }
  if (out.path_known) {
    for (const auto& route : routes) {
      if (matchPath(route.pattern, path)) {
        if (!out.allow.empty()) out.allow += ", ";
        out.allow += std::string(boost::beast::http::to_string(route.method));
        if (route.method == boost::beast::http::verb::get) out.allow += ", HEAD";
      }
    }
  }
  return out;
}

}  // namespace transit::http::request
