#include "http/handlers/aws_import.hpp"

#include <fmt/format.h>

#include <utility>

#include "http/codec/responses.hpp"
#include "http/handlers/common.hpp"
#include "http/handlers/spokes.hpp"
#include "http/request/if_match.hpp"
#include "http/request/media_type.hpp"
#include "http/request/query.hpp"
#include "peers/aws/aws_import.hpp"
#include "peers/aws/aws_vpn_xml.hpp"

namespace transit::http::handlers {
namespace asio = boost::asio;
using request::parseIfMatch;
namespace {

// An AWS document with the request's parameters, checked and parsed: what the import handlers
// share.
struct AwsDocument {
  peers::AwsImportRequest query;
  peers::AwsVpnConnection vpn;
  peers::AwsImportHub hub;
};

// The document of an import request and its query, or the response that refuses the request.
std::expected<AwsDocument, Response> decodeAwsDocument(const Request& request, const HubInfo& hub,
                                                       bool name_in_path) {
  const auto type = request::mediaType(request.content_type);
  if (type != "application/xml" && type != "text/xml") {
    return std::unexpected(errorResponse(
        415, "unsupported_media_type",
        "Content-Type must be application/xml: the document AWS returns for the VPN connection "
        "(CustomerGatewayConfiguration)"));
  }
  auto query = request::parseImportQuery(request.target, name_in_path);
  if (!query) {
    return std::unexpected(query.error());
  }
  if (request.body.size() > peers::kMaxAwsXmlBytes) {
    return std::unexpected(
        errorResponse(413, "payload_too_large",
                      fmt::format("the document is over {} KiB; AWS's are a few KiB",
                                  peers::kMaxAwsXmlBytes / 1024)));
  }
  auto vpn = peers::parseAwsVpnConnection(request.body);
  if (!vpn) {
    if (vpn.error().where.empty()) {
      return std::unexpected(errorResponse(400, "malformed_xml", vpn.error().message));
    }
    return std::unexpected(invalidField("xml:" + vpn.error().where, vpn.error().message));
  }
  return AwsDocument{std::move(*query), std::move(*vpn), {hub.public_ip, hub.asn}};
}

// The spoke draft of POST /v1/spokes/import/aws, or the response that refuses the request.
// (Kept out of the coroutines: GCC 12 misreports -Wmismatched-new-delete on large frames.)
std::expected<peers::SpokeDraft, Response> decodeAwsImport(const Request& request,
                                                           const HubInfo& hub) {
  auto document = decodeAwsDocument(request, hub, false);
  if (!document) {
    return std::unexpected(document.error());
  }
  auto draft = peers::spokeFromAwsVpn(document->vpn, document->query, document->hub);
  if (!draft) {
    return std::unexpected(invalidField(draft.error().field, draft.error().message));
  }
  return std::move(*draft);
}

// The draft of PUT /v1/spokes/{name}/import/aws: the vpc spoke `name` updated from a new
// document of its VPN connection, or the response that refuses the request.
std::expected<peers::SpokeDraft, Response> decodeAwsReimport(const Request& request,
                                                             std::string_view name,
                                                             const HandlerContext& context) {
  auto document = decodeAwsDocument(request, context.hub, true);
  if (!document) {
    return std::unexpected(document.error());
  }
  const auto found = findSpoke(name, context);
  if (!found) {
    return std::unexpected(found.error());
  }
  const auto& spoke = **found;
  if (spoke.kind != peers::SpokeKind::kVpc) {
    return std::unexpected(
        errorResponse(409, "conflict",
                      fmt::format("{0} is a site: AWS has no document for it; change it with PUT "
                                  "/v1/spokes/{0}",
                                  spoke.name)));
  }
  auto draft = peers::spokeUpdateFromAwsVpn(document->vpn, spoke, document->query, document->hub);
  if (!draft) {
    return std::unexpected(invalidField(draft.error().field, draft.error().message));
  }
  return std::move(*draft);
}

asio::awaitable<Response> reimportAwsSpoke(const Request& request, std::string_view name,
                                           HandlerContext& context) {
  auto if_match = parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  co_return co_await replaceFromDraft(name, *if_match, decodeAwsReimport(request, name, context),
                                      context);
}

}  // namespace

asio::awaitable<Response> importAwsSpoke(const Request& request, const PathParams& /*params*/,
                                         HandlerContext& context) {
  co_return co_await createFromDraft(decodeAwsImport(request, context.hub), context);
}

asio::awaitable<Response> reimportAwsSpoke(const Request& request, const PathParams& params,
                                           HandlerContext& context) {
  co_return co_await reimportAwsSpoke(request, params.get("name"), context);
}

}  // namespace transit::http::handlers
