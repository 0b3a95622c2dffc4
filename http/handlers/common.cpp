#include "http/handlers/common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include <string>
#include <utility>

#include "http/codec/responses.hpp"
#include "http/codec/spoke_view.hpp"
#include "http/codec/status_view.hpp"

namespace transit::http {

hub::ChangeOrigin originOf(const Request& request, std::string action) {
  return hub::ChangeOrigin{request.actor, request.request_id, std::move(action)};
}

PageBounds pageOf(const std::vector<std::string>& keys, const request::PageQuery& page) {
  PageBounds out;
  if (!page.cursor.empty()) {
    out.begin = static_cast<std::size_t>(
        std::ranges::upper_bound(keys, page.cursor, std::less<>{}) - keys.begin());
  }
  out.end = keys.size();
  if (page.limit && keys.size() - out.begin > *page.limit) {
    out.end = out.begin + *page.limit;
    while (out.end < keys.size() && keys[out.end] == keys[out.end - 1]) ++out.end;
    if (out.end < keys.size()) out.next = boost::json::value(keys[out.end - 1]);
  }
  return out;
}

std::string prefixKey(const Ipv4Prefix& prefix) {
  return fmt::format("{:08x}{:02x}", prefix.network().value(), prefix.length());
}

Response noSuchSpoke(std::string_view name) {
  return errorResponse(404, "not_found", "no spoke named " + std::string(name));
}

// The spoke named `name` in the current snapshot, or the 404 that says there is none. The
// pointer shares ownership of the spoke, so it stays valid after the snapshot is released.
std::expected<hub::Registry::SpokePtr, Response> findSpoke(std::string_view name,
                                                           const HandlerContext& context) {
  const auto state = context.registry.snapshot();
  const auto it = state->spokes.find(name);
  if (it == state->spokes.end()) {
    return std::unexpected(noSuchSpoke(name));
  }
  return it->second;
}

Response spokeResponse(unsigned status, const peers::Spoke& spoke, const HandlerContext& context) {
  Response r = jsonResponse(status, spokeJson(spoke, StatusView::of(context)));
  r.headers.emplace_back("ETag", etag(spoke.generation));
  return r;
}

}  // namespace transit::http
