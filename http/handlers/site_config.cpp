#include "http/handlers/site_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <utility>
#include <vector>

#include "http/codec/responses.hpp"
#include "http/handlers/common.hpp"
#include "http/request/query.hpp"
#include "peers/export/site_config.hpp"

namespace transit::http::handlers {
namespace json = boost::json;

Response getSpokeConfig(const Request& request, const PathParams& params, HandlerContext& context) {
  const auto format = request::parseConfigFormat(request.target);
  if (!format) {
    return format.error();
  }
  const auto found = findSpoke(params.get("name"), context);
  if (!found) {
    return found.error();
  }
  const auto& spoke = **found;
  if (spoke.kind != peers::SpokeKind::kSite) {
    return errorResponse(409, "conflict",
                         fmt::format("{} is a vpc: its other end is an AWS VGW, configured by "
                                     "AWS (import its document with POST /v1/spokes/import/aws)",
                                     spoke.name));
  }
  // Every hub the site has tunnels on, in name order: both hubs of a pair export the same
  // configuration.
  std::vector<peers::SiteConfigHub> known{
      {context.hub.name, context.hub.public_ip, context.hub.asn}};
  if (context.hub.peer) {
    known.push_back({context.hub.peer->name, context.hub.peer->public_ip, context.hub.asn});
  }
  std::vector<peers::SiteConfigHub> hubs;
  for (std::size_t i = 0; i < spoke.tunnels.size(); ++i) {
    const auto& name = spoke.tunnels[i].hub;
    const auto hub = std::ranges::find(known, name, &peers::SiteConfigHub::name);
    if (hub == known.end()) {
      return errorResponse(409, "conflict",
                           fmt::format("tunnels[{}] is on hub {}, which is not a hub of this pair "
                                       "(pair.peer in the configuration); correct the spoke's "
                                       "tunnels",
                                       i, name));
    }
    if (std::ranges::find(hubs, name, &peers::SiteConfigHub::name) == hubs.end()) {
      hubs.push_back(*hub);
    }
  }
  std::ranges::sort(hubs, {}, &peers::SiteConfigHub::name);
  const auto config = peers::renderSiteConfig(spoke, hubs, *format);
  Response r;
  r.headers.emplace_back("Cache-Control", "no-store");  // it carries PSKs
  if (*format == peers::SiteConfigFormat::kAwsXml && config.files.size() == 1) {
    r.status = 200;
    r.content_type = "application/xml";
    r.body = config.files.front().content;
    return r;
  }
  json::array files;
  for (const auto& file : config.files) {
    files.push_back(json::object{{"path", file.path},
                                 {"description", file.description},
                                 {"secret", file.secret},
                                 {"content", file.content}});
  }
  r = jsonResponse(200, json::object{{"spoke", spoke.name},
                                     {"format", peers::toString(*format)},
                                     {"files", std::move(files)}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace transit::http::handlers
