#include "http/handlers/common.hpp"

#include <string>
#include <utility>

#include "http/codec/responses.hpp"
#include "http/codec/spoke_view.hpp"
#include "http/codec/status_view.hpp"

namespace transit::http {

hub::ChangeOrigin originOf(const Request& request, std::string action) {
  return hub::ChangeOrigin{request.actor, request.request_id, std::move(action)};
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
