// The API's request-field parsers alone (faster than through the whole API, so they get more of
// the fuzzer's time): If-Match, every route's path pattern with its percent-decoding, and the
// query strings of the routes that take one.
#include "http/api.hpp"
#include "http/request/if_match.hpp"
#include "http/request/query.hpp"
#include "http/request/route_match.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace request = transit::http::request;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = transit::fuzz::text(data, size);
  if (auto tag = request::parseIfMatch(text); !tag) {
    FUZZ_CHECK(tag.error().status == 400 || tag.error().status == 412);
  }
  const auto path = text.substr(0, text.find('?'));
  for (const auto& route : transit::http::routeTable()) {
    if (auto captures = request::matchPath(route.pattern, path)) {
      for (const auto& [name, value] : *captures) {
        FUZZ_CHECK(name == "*" || value.find('/') == std::string_view::npos);
      }
      if (auto params = request::decodeParams(*captures); !params) {
        FUZZ_CHECK(params.error().status == 400);
      }
    }
  }
  (void)request::parseRouteFilter(text);
  (void)request::parseImportQuery(text, false);
  (void)request::parseImportQuery(text, true);
  (void)request::parseConfigFormat(text);
  return 0;
}
