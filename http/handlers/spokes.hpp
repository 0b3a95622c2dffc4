// Spokes: the spoke resource (GET/POST /v1/spokes, GET/PUT/DELETE /v1/spokes/{name}), and the
// create/replace steps the AWS import handlers share.
//
// Called by Api on HTTP threads; writes await the registry's writer thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "http/handlers/context.hpp"
#include "peers/model/spoke.hpp"

namespace transit::http::handlers {

Response listSpokes(const Request& request, const PathParams& params, HandlerContext& context);
Response getSpoke(const Request& request, const PathParams& params, HandlerContext& context);
boost::asio::awaitable<Response> createSpoke(const Request& request, const PathParams& params,
                                             HandlerContext& context);
boost::asio::awaitable<Response> replaceSpoke(const Request& request, const PathParams& params,
                                              HandlerContext& context);
boost::asio::awaitable<Response> deleteSpoke(const Request& request, const PathParams& params,
                                             HandlerContext& context);

// 201 with the new spoke and its Location, or the refusal (draft, registry).
boost::asio::awaitable<Response> createFromDraft(std::expected<peers::SpokeDraft, Response> draft,
                                                 hub::ChangeOrigin origin, HandlerContext& context);
// 200 with the replaced spoke, or the refusal (draft, If-Match, registry).
boost::asio::awaitable<Response> replaceFromDraft(std::string_view name,
                                                  std::optional<std::uint64_t> if_match,
                                                  std::expected<peers::SpokeDraft, Response> draft,
                                                  hub::ChangeOrigin origin,
                                                  HandlerContext& context);

}  // namespace transit::http::handlers
