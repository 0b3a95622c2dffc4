// The audit trail: one record per change of a spoke (create, replace, delete, import,
// re-import), written by the Store in the same transaction as the change it tells of, so a
// change and its record are durable together or not at all.
//
// Owns: nothing; value types and pure functions, any thread. The Registry builds a record for
// every write it makes (who asked, under which request, what changed); stores keep them, newest
// first, bounded by AuditRetention; GET /v1/audit pages through them.
//
// A record never holds a PSK: the diff is taken over the spoke's API form, which has none, and
// a tunnel whose PSK changed is listed as changed ("secret": true) with no value before or after.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/spoke.hpp"

namespace transit::hub {

// Who asked for a change, and under which request: carried from the API to the record.
struct ChangeOrigin {
  std::string actor;       // the API token's name; empty: the hub itself (shown as "hub")
  std::string request_id;  // the request's X-Request-Id; empty when there was no request
  // "import" or "reimport" for the AWS importer's writes; empty: the write's own kind
  // ("create", "replace", "delete").
  std::string action;
};

// One field that changed, by its path in the spoke's API form ("cidrs[1]",
// "tunnels[0].inside_cidr"). A create lists every field (nothing before), a delete every field
// (nothing after).
struct AuditChange {
  std::string field;
  std::optional<boost::json::value> before;  // unset: the field was absent
  std::optional<boost::json::value> after;
  bool secret = false;  // a PSK changed: neither value is recorded

  bool operator==(const AuditChange&) const = default;
};

struct AuditRecord {
  // Set by the store when read: the record's place in the trail (GET /v1/audit's cursor, opaque
  // to clients) and the store revision the change was written at.
  std::string id;
  std::uint64_t revision = 0;

  std::chrono::sys_time<std::chrono::milliseconds> at{};
  std::string hub;         // the hub that took the request
  std::string actor;       // ChangeOrigin::actor ("hub" when empty)
  std::string request_id;  // may be empty
  std::string action;      // "create", "replace", "delete", "import", "reimport"
  std::string spoke;
  std::uint64_t generation = 0;  // the spoke's generation after the change (delete: the last)
  std::vector<AuditChange> changes;

  bool operator==(const AuditRecord&) const = default;
};

// How much of the trail a store keeps: records older than max_age (measured back from the
// newest record written) and the oldest beyond max_records are removed as new ones are written.
struct AuditRetention {
  std::chrono::hours max_age{24 * 365};
  std::size_t max_records = 100000;
};

struct AuditQuery {
  std::size_t limit = 100;
  std::string
      before;  // a record's id: only records older than it (the next page); "" from the newest
  std::string spoke;  // only this spoke's records; "" for every spoke
};

struct AuditPage {
  std::vector<AuditRecord> records;  // newest first
  std::string next;                  // the cursor of the next (older) page; "" at the end
};

// The fields that differ between `before` and `after` (either null: the spoke is created or
// deleted), without the hub's bookkeeping (generation, timestamps) or values computed from
// other fields. Never a PSK.
std::vector<AuditChange> diffSpokes(const peers::Spoke* before, const peers::Spoke* after);

// The record as a store keeps it (JSON; id and revision are the store's, not in it).
std::string encodeAuditRecord(const AuditRecord& record);
std::expected<AuditRecord, std::string> decodeAuditRecord(std::string_view text);

// The record in the API's form (GET /v1/audit).
boost::json::object auditRecordJson(const AuditRecord& record);

// "2026-12-08T01:02:03.456Z"
std::string formatAuditTime(std::chrono::sys_time<std::chrono::milliseconds> at);

// A request id as the API takes it from a client: 1 to 128 characters of [A-Za-z0-9._:-].
bool isAuditToken(std::string_view text);

}  // namespace transit::hub
