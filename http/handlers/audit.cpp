#include "http/handlers/audit.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <utility>

#include "http/codec/responses.hpp"
#include "http/request/query.hpp"
#include "hub/store/audit.hpp"

namespace transit::http::handlers {
namespace json = boost::json;

Response listAudit(const Request& request, const PathParams& /*params*/, HandlerContext& context) {
  auto filter = request::parseAuditFilter(request.target);
  if (!filter) {
    return std::move(filter.error());
  }
  const hub::AuditQuery query{filter->limit, filter->cursor, filter->spoke};
  auto page = context.registry.readAudit(query);
  if (!page) {
    switch (page.error().code) {
      case hub::StoreErrorCode::kNotFound:  // a cursor the store cannot place
        return invalidField("cursor", "is not a cursor of this audit trail: " + filter->cursor);
      case hub::StoreErrorCode::kUnavailable:
      case hub::StoreErrorCode::kConflict: {
        Response r = errorResponse(503, "unavailable",
                                   "the audit trail cannot be read now: " + page.error().message);
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      case hub::StoreErrorCode::kCorrupt:
        break;
    }
    spdlog::error("GET /v1/audit: {}", page.error().message);
    return errorResponse(500, "internal",
                         "the audit trail holds a record the hub cannot read (see its log)");
  }
  json::array records;
  records.reserve(page->records.size());
  for (const auto& record : page->records) records.push_back(hub::auditRecordJson(record));
  const hub::AuditRetention& retention = context.registry.auditRetention();
  return jsonResponse(
      200,
      json::object{
          {"records", std::move(records)},
          {"next", page->next.empty() ? json::value(nullptr) : json::value(page->next)},
          {"retention",
           json::object{
               {"days", std::chrono::duration_cast<std::chrono::days>(retention.max_age).count()},
               {"max_records", retention.max_records}}}});
}

}  // namespace transit::http::handlers
