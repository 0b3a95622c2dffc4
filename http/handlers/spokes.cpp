#include "http/handlers/spokes.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cstddef>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "http/codec/responses.hpp"
#include "http/codec/spoke_view.hpp"
#include "http/codec/status_view.hpp"
#include "http/handlers/common.hpp"
#include "http/request/if_match.hpp"
#include "http/request/json_body.hpp"
#include "http/request/media_type.hpp"
#include "http/request/query.hpp"
#include "peers/model/spoke_json.hpp"

namespace transit::http::handlers {
namespace json = boost::json;
namespace asio = boost::asio;
namespace {

// The request body as a spoke draft, or the response that refuses it.
std::expected<peers::SpokeDraft, Response> decodeDraft(const Request& request) {
  if (request::mediaType(request.content_type) != "application/json") {
    return std::unexpected(
        errorResponse(415, "unsupported_media_type", "Content-Type must be application/json"));
  }
  auto body = request::parseJsonBody(request.body);
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  auto draft = peers::decodeSpokeDraft(*body);
  if (!draft) {
    return std::unexpected(invalidField(draft.error().field, draft.error().message));
  }
  return std::move(*draft);
}

}  // namespace

Response listSpokes(const Request& request, const PathParams& /*params*/, HandlerContext& context) {
  auto query = request::parsePageQuery(request.target);
  if (!query) {
    return std::move(query.error());
  }
  const auto state = context.registry.snapshot();
  const auto view = StatusView::of(context);
  std::vector<std::string> keys;  // by name: the map's order; built only for a page
  if (paged(*query)) {
    keys.reserve(state->spokes.size());
    for (const auto& [name, spoke] : state->spokes) keys.push_back(name);
  }
  const PageBounds page =
      paged(*query) ? pageOf(keys, *query) : PageBounds{0, state->spokes.size(), nullptr};
  json::array spokes;
  spokes.reserve(page.end - page.begin);
  auto it = std::next(state->spokes.begin(), static_cast<std::ptrdiff_t>(page.begin));
  for (std::size_t i = page.begin; i < page.end; ++i, ++it) {
    spokes.push_back(spokeJson(*it->second, view));
  }
  return jsonResponse(200, json::object{{"spokes", std::move(spokes)}, {"next", page.next}});
}

Response getSpoke(const Request& /*request*/, const PathParams& params, HandlerContext& context) {
  const auto found = findSpoke(params.get("name"), context);
  if (!found) {
    return found.error();
  }
  return spokeResponse(200, **found, context);
}

asio::awaitable<Response> createFromDraft(std::expected<peers::SpokeDraft, Response> draft,
                                          hub::ChangeOrigin origin, HandlerContext& context) {
  if (!draft) {
    co_return draft.error();
  }
  auto result = co_await context.registry.asyncCreate(std::move(*draft), std::move(origin),
                                                      asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  Response r = spokeResponse(201, **result, context);
  r.headers.emplace_back("Location", "/v1/spokes/" + (*result)->name);
  co_return r;
}

asio::awaitable<Response> replaceFromDraft(std::string_view name,
                                           std::optional<std::uint64_t> if_match,
                                           std::expected<peers::SpokeDraft, Response> draft,
                                           hub::ChangeOrigin origin, HandlerContext& context) {
  if (!draft) {
    co_return draft.error();
  }
  auto result = co_await context.registry.asyncReplace(
      std::string(name), std::move(*draft), if_match, std::move(origin), asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  co_return spokeResponse(200, **result, context);
}

asio::awaitable<Response> createSpoke(const Request& request, const PathParams& /*params*/,
                                      HandlerContext& context) {
  co_return co_await createFromDraft(decodeDraft(request), originOf(request), context);
}

asio::awaitable<Response> replaceSpoke(const Request& request, const PathParams& params,
                                       HandlerContext& context) {
  auto if_match = request::parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  co_return co_await replaceFromDraft(params.get("name"), *if_match, decodeDraft(request),
                                      originOf(request), context);
}

asio::awaitable<Response> deleteSpoke(const Request& request, const PathParams& params,
                                      HandlerContext& context) {
  auto if_match = request::parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  auto result = co_await context.registry.asyncRemove(std::string(params.get("name")), *if_match,
                                                      originOf(request), asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  Response r;
  r.status = 204;
  r.content_type.clear();
  co_return r;
}

}  // namespace transit::http::handlers
