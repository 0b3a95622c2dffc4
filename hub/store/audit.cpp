#include "hub/store/audit.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <set>
#include <utility>

#include "peers/model/spoke_json.hpp"

namespace transit::hub {
namespace json = boost::json;
namespace {

// The spoke's API form without what the hub keeps for itself (generation, timestamps) and what
// follows from other fields (each tunnel's addresses inside its /30, whether a PSK is set).
json::object comparable(const peers::Spoke& spoke) {
  json::object o = peers::encodeSpokeForApi(spoke);
  for (const std::string_view key : {"generation", "created_at", "updated_at"}) o.erase(key);
  if (auto* tunnels = o.if_contains("tunnels"); tunnels != nullptr && tunnels->is_array()) {
    for (auto& tunnel : tunnels->get_array()) {
      if (!tunnel.is_object()) continue;
      for (const std::string_view key : {"hub_inside_ip", "peer_inside_ip", "psk_set"}) {
        tunnel.get_object().erase(key);
      }
    }
  }
  return o;
}

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

// Objects are compared key by key and arrays element by element; a value only one side has
// is recorded whole.
void walk(const std::string& path, const json::value* before, const json::value* after,
          std::vector<AuditChange>& out) {
  if (before != nullptr && after != nullptr) {
    if (*before == *after) return;
    if (before->is_object() && after->is_object()) {
      std::set<std::string_view> keys;
      for (const auto& entry : before->get_object()) keys.insert(entry.key());
      for (const auto& entry : after->get_object()) keys.insert(entry.key());
      for (const std::string_view key : keys) {
        walk(join(path, key), before->get_object().if_contains(key),
             after->get_object().if_contains(key), out);
      }
      return;
    }
    if (before->is_array() && after->is_array()) {
      const auto& a = before->get_array();
      const auto& b = after->get_array();
      for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        walk(fmt::format("{}[{}]", path, i), i < a.size() ? &a[i] : nullptr,
             i < b.size() ? &b[i] : nullptr, out);
      }
      return;
    }
  }
  if (before == nullptr && after == nullptr) return;
  AuditChange change;
  change.field = path;
  if (before != nullptr) change.before = *before;
  if (after != nullptr) change.after = *after;
  out.push_back(std::move(change));
}

// Whether every number in `v` is finite. Boost.JSON reads 1e999 as infinity but writes it as
// `Infinity`, which is not JSON: a record holding one would make GET /v1/audit answer non-JSON.
bool allFinite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      return std::ranges::all_of(v.get_array(), allFinite);
    case json::kind::object:
      return std::ranges::all_of(v.get_object(),
                                 [](const auto& entry) { return allFinite(entry.value()); });
    default:
      return true;
  }
}

template <typename T>
std::expected<T, std::string> field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::unexpected(fmt::format("missing {}", key));
  auto value = json::try_value_to<T>(*v);
  if (!value) return std::unexpected(fmt::format("{}: {}", key, value.error().message()));
  return *value;
}

}  // namespace

std::vector<AuditChange> diffSpokes(const peers::Spoke* before, const peers::Spoke* after) {
  const json::value a = before != nullptr ? json::value(comparable(*before)) : json::object{};
  const json::value b = after != nullptr ? json::value(comparable(*after)) : json::object{};
  std::vector<AuditChange> out;
  walk("", &a, &b, out);
  if (before != nullptr && after != nullptr) {
    // A tunnel at the same place whose PSK changed: said, never shown.
    const std::size_t both = std::min(before->tunnels.size(), after->tunnels.size());
    for (std::size_t i = 0; i < both; ++i) {
      if (before->tunnels[i].psk != after->tunnels[i].psk) {
        out.push_back(AuditChange{fmt::format("tunnels[{}].psk", i), {}, {}, true});
      }
    }
  }
  return out;
}

std::string formatAuditTime(std::chrono::sys_time<std::chrono::milliseconds> at) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(at);
  const auto millis = (at - seconds).count();
  return fmt::format("{:%FT%T}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(seconds)),
                     millis);
}

bool isAuditToken(std::string_view text) {
  return !text.empty() && text.size() <= 128 && std::ranges::all_of(text, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

namespace {

json::array changesJson(const std::vector<AuditChange>& changes) {
  json::array out;
  out.reserve(changes.size());
  for (const auto& change : changes) {
    json::object c{{"field", change.field}};
    if (change.secret) {
      c["secret"] = true;
    } else {
      c["before"] = change.before.value_or(nullptr);
      c["after"] = change.after.value_or(nullptr);
      // null is a value a field may hold; absence is said apart from it.
      if (!change.before) c["added"] = true;
      if (!change.after) c["removed"] = true;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::string encodeAuditRecord(const AuditRecord& record) {
  const json::object o{{"at", record.at.time_since_epoch().count()},
                       {"hub", record.hub},
                       {"actor", record.actor},
                       {"request_id", record.request_id},
                       {"action", record.action},
                       {"spoke", record.spoke},
                       {"generation", record.generation},
                       {"changes", changesJson(record.changes)}};
  return json::serialize(o);
}

std::expected<AuditRecord, std::string> decodeAuditRecord(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec) return std::unexpected(fmt::format("not JSON: {}", ec.message()));
  if (!v.is_object()) return std::unexpected("not an object");
  const auto& o = v.get_object();
  AuditRecord record;
  auto at = field<std::int64_t>(o, "at");
  if (!at) return std::unexpected(at.error());
  record.at = std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(*at));
  for (auto [key, target] :
       {std::pair{"hub", &record.hub}, std::pair{"actor", &record.actor},
        std::pair{"request_id", &record.request_id}, std::pair{"action", &record.action},
        std::pair{"spoke", &record.spoke}}) {
    auto value = field<std::string>(o, key);
    if (!value) return std::unexpected(value.error());
    *target = std::move(*value);
  }
  auto generation = field<std::uint64_t>(o, "generation");
  if (!generation) return std::unexpected(generation.error());
  record.generation = *generation;
  const auto* changes = o.if_contains("changes");
  if (changes == nullptr || !changes->is_array()) {
    return std::unexpected("changes: not an array");
  }
  for (const auto& item : changes->get_array()) {
    if (!item.is_object()) return std::unexpected("changes: an item is not an object");
    if (!allFinite(item)) return std::unexpected("changes: a value is not a finite number");
    const auto& c = item.get_object();
    AuditChange change;
    auto name = field<std::string>(c, "field");
    if (!name) return std::unexpected(fmt::format("changes: {}", name.error()));
    change.field = std::move(*name);
    const auto* secret = c.if_contains("secret");
    change.secret = secret != nullptr && secret->is_bool() && secret->get_bool();
    if (!change.secret) {
      const auto* added = c.if_contains("added");
      const auto* removed = c.if_contains("removed");
      if (added == nullptr || !added->is_bool() || !added->get_bool()) {
        const auto* before = c.if_contains("before");
        if (before == nullptr) return std::unexpected("changes: missing before");
        change.before = *before;
      }
      if (removed == nullptr || !removed->is_bool() || !removed->get_bool()) {
        const auto* after = c.if_contains("after");
        if (after == nullptr) return std::unexpected("changes: missing after");
        change.after = *after;
      }
    }
    record.changes.push_back(std::move(change));
  }
  return record;
}

json::object auditRecordJson(const AuditRecord& record) {
  json::object o{{"id", record.id},
                 {"at", formatAuditTime(record.at)},
                 {"hub", record.hub},
                 {"actor", record.actor},
                 {"request_id", record.request_id.empty() ? json::value(nullptr)
                                                          : json::value(record.request_id)},
                 {"action", record.action},
                 {"spoke", record.spoke},
                 {"generation", record.generation},
                 {"revision", record.revision},
                 {"changes", changesJson(record.changes)}};
  return o;
}

}  // namespace transit::hub
