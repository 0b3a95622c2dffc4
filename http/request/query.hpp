// Queries: the parameters of the request targets that take any, parsed and checked. A refusal is
// the response to send (400 for a target that is not a path, 422 naming the parameter).
//
// Pure, any thread. Called by the routing, AWS import and site config handlers; public for tests
// and fuzzers.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "peers/aws/aws_import.hpp"
#include "peers/export/site_config.hpp"

namespace transit::http::request {

// ?limit=N&cursor=C of every list endpoint: at most `limit` items (1-1000), those after the
// item `cursor` names (the "next" of the previous page). No limit: the whole list.
struct PageQuery {
  std::optional<std::size_t> limit;
  std::string cursor;
};
inline constexpr std::size_t kMaxPage = 1000;
// ?limit=&cursor= and nothing else (GET /v1/spokes, /v1/tunnels, /v1/conflicts).
std::expected<PageQuery, Response> parsePageQuery(std::string_view target);

// ?spoke=NAME and ?filtered=true|false of GET /v1/routes, and its page.
struct RouteFilter {
  std::optional<std::string> spoke;
  std::optional<bool> filtered;
  PageQuery page;
};
std::expected<RouteFilter, Response> parseRouteFilter(std::string_view target);

// ?name=&cidr=...&segment=&preferred_hub= of POST /v1/spokes/import/aws; without name (it is
// the path's) for PUT /v1/spokes/{name}/import/aws (`name_in_path`).
std::expected<peers::AwsImportRequest, Response> parseImportQuery(std::string_view target,
                                                                  bool name_in_path);

// ?limit=N&cursor=ID&spoke=NAME of GET /v1/audit: limit 1..1000 (default 100); cursor the
// "next" of the previous page.
struct AuditFilter {
  std::size_t limit = 100;
  std::string cursor;
  std::string spoke;
};
std::expected<AuditFilter, Response> parseAuditFilter(std::string_view target);

// ?format=strongswan|libreswan|aws-xml of GET /v1/spokes/{name}/config (required, once).
std::expected<peers::SiteConfigFormat, Response> parseConfigFormat(std::string_view target);

}  // namespace transit::http::request
