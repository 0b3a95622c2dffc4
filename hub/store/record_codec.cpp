#include "hub/store/record_codec.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <string_view>
#include <utility>

#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"

namespace transit::hub {
namespace json = boost::json;
namespace {

template <typename T>
std::expected<T, std::string> storedField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    return std::unexpected(fmt::format("missing {}", key));
  }
  auto value = json::try_value_to<T>(*v);
  if (!value) {
    return std::unexpected(fmt::format("{}: {}", key, value.error().message()));
  }
  return *value;
}

}  // namespace

json::object encodeSpokeRecord(const peers::Spoke& spoke) {
  // The API form holds every configured field; the record replaces what the API hides or
  // computes: tunnels with their PSKs, timestamps as seconds since the epoch.
  json::object o = peers::encodeSpokeForApi(spoke);
  // Written only when set: a record without BFD stays readable by a hub that predates the field.
  if (!spoke.bfd) o.erase("bfd");
  json::array tunnels;
  for (const auto& t : spoke.tunnels) {
    tunnels.push_back(json::object{{"hub", t.hub},
                                   {"outside_ip", t.outside_ip.toString()},
                                   {"inside_cidr", t.inside_cidr.toString()},
                                   {"psk", t.psk}});
  }
  o["tunnels"] = std::move(tunnels);
  o["created_at"] = spoke.created_at.time_since_epoch().count();
  o["updated_at"] = spoke.updated_at.time_since_epoch().count();
  o["v"] = kRecordVersion;
  return o;
}

std::expected<peers::Spoke, std::string> decodeSpokeRecord(const json::value& v,
                                                           std::string_view local_hub) {
  if (!v.is_object()) {
    return std::unexpected("record is not an object");
  }
  const auto& o = v.get_object();
  std::int64_t record_version = 1;
  if (const auto* version = o.if_contains("v")) {
    const auto number = json::try_value_to<std::int64_t>(*version);
    if (!number || *number < 1) {
      return std::unexpected("v: must be a record version (an integer from 1)");
    }
    if (*number > kRecordVersion) {
      return std::unexpected(fmt::format(
          "v: record version {} is newer than this hub reads (up to {}); upgrade this hub", *number,
          kRecordVersion));
    }
    record_version = *number;
  }
  json::object api_like = o;
  api_like.erase("v");
  api_like.erase("generation");
  api_like.erase("route_tag");
  api_like.erase("created_at");
  api_like.erase("updated_at");
  if (auto* tunnels = api_like.if_contains("tunnels"); tunnels != nullptr && tunnels->is_array()) {
    auto& array = tunnels->get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_object() || array[i].get_object().contains("hub")) continue;
      // Written by a single hub before tunnels named theirs: every tunnel was the loading hub's.
      if (record_version >= 3) return std::unexpected(fmt::format("tunnels[{}].hub: missing", i));
      if (local_hub.empty()) {
        return std::unexpected(
            fmt::format("tunnels[{}].hub: missing, and the store knows no local hub", i));
      }
      array[i].get_object()["hub"] = local_hub;
    }
  }
  auto draft = peers::decodeSpokeDraft(api_like);
  if (!draft) {
    return std::unexpected(fmt::format("{}: {}", draft.error().field, draft.error().message));
  }
  // Any hub name: the pair may have been reconfigured since the record was written.
  peers::ValidationContext context;
  context.any_hub = true;
  auto request = peers::validateSpoke(*draft, context);
  if (!request) {
    return std::unexpected(fmt::format("{}: {}", request.error().field, request.error().message));
  }
  peers::Spoke spoke = std::move(request->spoke);
  for (std::size_t i = 0; i < request->tunnels.size(); ++i) {
    const auto& t = request->tunnels[i];
    if (!t.inside_cidr || !t.psk) {
      return std::unexpected(fmt::format("tunnels[{}]: inside_cidr and psk must be stored", i));
    }
    spoke.tunnels.push_back(peers::Tunnel{t.outside_ip, *t.inside_cidr, *t.psk, t.hub});
  }
  auto generation = storedField<std::uint64_t>(o, "generation");
  auto created = storedField<std::int64_t>(o, "created_at");
  auto updated = storedField<std::int64_t>(o, "updated_at");
  if (!generation || !created || !updated) {
    return std::unexpected(!generation ? generation.error()
                                       : (!created ? created.error() : updated.error()));
  }
  if (record_version >= 2) {
    auto tag = storedField<std::uint32_t>(o, "route_tag");
    if (!tag) return std::unexpected(tag.error());
    spoke.route_tag = *tag;
  }
  spoke.generation = *generation;
  spoke.created_at = std::chrono::sys_seconds(std::chrono::seconds(*created));
  spoke.updated_at = std::chrono::sys_seconds(std::chrono::seconds(*updated));
  return spoke;
}

}  // namespace transit::hub
