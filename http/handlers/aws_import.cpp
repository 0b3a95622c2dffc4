#include "http/handlers/aws_import.hpp"

#include <fmt/format.h>

#include <boost/asio/use_awaitable.hpp>

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
  peers::AwsImportHub hubs{hub.name, hub.public_ip, hub.asn, std::nullopt};
  if (hub.peer) hubs.peer = peers::AwsCustomerGateway{hub.peer->name, hub.peer->public_ip};
  return AwsDocument{std::move(*query), std::move(*vpn), std::move(hubs)};
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

// PUT /v1/spokes/{name}/import/aws's merge: the draft that brings the vpc spoke `current` up to
// date with `document`, or why not. Pure; the registry runs it on its writer thread against the
// spoke as it is then (Registry::asyncUpdate), so a write that lands in between is kept.
std::expected<peers::SpokeDraft, hub::HubError> mergeAwsDocument(const AwsDocument& document,
                                                                 const peers::Spoke& current) {
  if (current.kind != peers::SpokeKind::kVpc) {
    return std::unexpected(
        hub::HubError{hub::ErrorCode::kConflict,
                      fmt::format("{0} is a site: AWS has no document for it; change it with PUT "
                                  "/v1/spokes/{0}",
                                  current.name),
                      ""});
  }
  auto draft = peers::spokeUpdateFromAwsVpn(document.vpn, current, document.query, document.hub);
  if (!draft) {
    return std::unexpected(
        hub::HubError{hub::ErrorCode::kInvalid, draft.error().message, draft.error().field});
  }
  return std::move(*draft);
}

// The update of PUT /v1/spokes/{name}/import/aws: merges the new document of the spoke's VPN
// connection into the spoke, or the response that refuses the request. The document is parsed
// and checked here, up front (against the current snapshot, so a bad document, a site or a
// missing spoke is refused before anything is queued); the merge that is written is made again
// by the registry on the spoke as it is when the update runs, never on this snapshot.
std::expected<hub::Registry::UpdateFn, Response> decodeAwsReimport(const Request& request,
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
  if (auto checked = mergeAwsDocument(*document, **found); !checked) {
    return std::unexpected(hubErrorResponse(checked.error()));
  }
  return [document = std::move(*document)](const peers::Spoke& current) {
    return mergeAwsDocument(document, current);
  };
}

asio::awaitable<Response> reimportAwsSpoke(const Request& request, std::string_view name,
                                           HandlerContext& context) {
  auto if_match = parseIfMatch(request.if_match);
  if (!if_match) {
    co_return if_match.error();
  }
  auto update = decodeAwsReimport(request, name, context);
  if (!update) {
    co_return update.error();
  }
  auto result = co_await context.registry.asyncUpdate(
      "aws-reimport", std::string(name), *if_match, std::move(*update),
      originOf(request, "reimport"), asio::use_awaitable);
  if (!result) {
    co_return hubErrorResponse(result.error());
  }
  co_return spokeResponse(200, **result, context);
}

}  // namespace

asio::awaitable<Response> importAwsSpoke(const Request& request, const PathParams& /*params*/,
                                         HandlerContext& context) {
  co_return co_await createFromDraft(decodeAwsImport(request, context.hub),
                                     originOf(request, "import"), context);
}

asio::awaitable<Response> reimportAwsSpoke(const Request& request, const PathParams& params,
                                           HandlerContext& context) {
  co_return co_await reimportAwsSpoke(request, params.get("name"), context);
}

}  // namespace transit::http::handlers
