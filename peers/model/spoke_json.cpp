#include "peers/model/spoke_json.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/json.hpp>
#include <limits>
#include <string_view>

#include "peers/model/spoke_validation.hpp"
#include "peers/model/tunnel_options_json.hpp"

namespace transit::peers {
namespace json = boost::json;
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;

FieldError typeError(const std::string& field, std::string_view expected) {
  return FieldError{field, fmt::format("must be {}", expected)};
}

std::expected<std::string, FieldError> asString(const json::value& v, const std::string& field) {
  if (!v.is_string()) {
    return std::unexpected(typeError(field, "a string"));
  }
  return std::string(v.get_string());
}

std::expected<std::int64_t, FieldError> asInteger(const json::value& v, const std::string& field) {
  if (v.is_int64()) {
    return v.get_int64();
  }
  if (v.is_uint64() &&
      v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    // 64512.0 is a number a client may send; 64512.5 is not an ASN.
    const double d = v.get_double();
    if (d >= 0 && d <= 4294967295.0 && d == static_cast<double>(static_cast<std::int64_t>(d))) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::unexpected(typeError(field, "an integer"));
}

// Fields the hub computes and GET returns; a client may send them back and they are ignored.
bool isComputedSpokeField(std::string_view key) {
  return key == "generation" || key == "route_tag" || key == "created_at" || key == "updated_at" ||
         key == "status";
}
bool isComputedTunnelField(std::string_view key) {
  return key == "psk_set" || key == "hub_inside_ip" || key == "peer_inside_ip";
}

std::expected<TunnelDraft, FieldError> decodeTunnel(const json::value& v, const std::string& path) {
  if (!v.is_object()) {
    return std::unexpected(typeError(path, "an object"));
  }
  TunnelDraft out;
  for (const auto& [key, value] : v.get_object()) {
    const std::string field = fmt::format("{}.{}", path, std::string_view(key));
    std::optional<std::string>* target = nullptr;
    if (key == "hub") {
      target = &out.hub;
    } else if (key == "outside_ip") {
      target = &out.outside_ip;
    } else if (key == "inside_cidr") {
      target = &out.inside_cidr;
    } else if (key == "psk") {
      target = &out.psk;
    } else if (isComputedTunnelField(key)) {
      continue;
    } else {
      return std::unexpected(FieldError{field, "is not a known field"});
    }
    if (value.is_null()) {
      continue;  // explicit null means "not given": the hub allocates or generates it
    }
    auto text = asString(value, field);
    if (!text) {
      return std::unexpected(text.error());
    }
    *target = std::move(*text);
  }
  return out;
}

json::object encodeCommon(const Spoke& spoke) {
  json::object o;
  o["name"] = spoke.name;
  o["kind"] = toString(spoke.kind);
  json::array cidrs;
  for (const auto& cidr : spoke.cidrs) {
    cidrs.emplace_back(cidr.toString());
  }
  o["cidrs"] = std::move(cidrs);
  o["routing"] = toString(spoke.routing);
  if (spoke.asn) {
    o["asn"] = *spoke.asn;
  } else {
    o["asn"] = nullptr;
  }
  if (spoke.preferred_hub) {
    o["preferred_hub"] = *spoke.preferred_hub;
  } else {
    o["preferred_hub"] = nullptr;
  }
  o["segment"] = spoke.segment;
  if (spoke.export_limit) {
    o["export_limit"] = *spoke.export_limit;
  } else {
    o["export_limit"] = nullptr;
  }
  if (spoke.import_limit) {
    o["import_limit"] = *spoke.import_limit;
  } else {
    o["import_limit"] = nullptr;
  }
  if (spoke.bgp_hold_time_seconds) {
    o["bgp_hold_time_seconds"] = *spoke.bgp_hold_time_seconds;
  } else {
    o["bgp_hold_time_seconds"] = nullptr;
  }
  o["bfd"] = spoke.bfd;
  o["tunnel_options"] = encodeTunnelOptions(spoke.tunnel_options, spoke.kind == SpokeKind::kSite);
  return o;
}

}  // namespace

std::string formatTimestamp(std::chrono::sys_seconds time) {
  // fmt 9 formats a system_clock time point in local time; take the UTC calendar explicitly.
  return fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

std::expected<SpokeDraft, FieldError> decodeSpokeDraft(const json::value& v) {
  if (!v.is_object()) {
    return std::unexpected(FieldError{"", "the body must be a JSON object"});
  }
  SpokeDraft out;
  for (const auto& [key_view, value] : v.get_object()) {
    const std::string key(key_view);
    if (isComputedSpokeField(key)) {
      continue;
    }
    if (key == "name" || key == "kind" || key == "routing" || key == "segment" ||
        key == "preferred_hub") {
      if (value.is_null() && (key == "preferred_hub" || key == "segment" || key == "routing")) {
        continue;  // optional fields: null is "not given"
      }
      auto text = asString(value, key);
      if (!text) {
        return std::unexpected(text.error());
      }
      if (key == "name") out.name = std::move(*text);
      if (key == "kind") out.kind = std::move(*text);
      if (key == "routing") out.routing = std::move(*text);
      if (key == "segment") out.segment = std::move(*text);
      if (key == "preferred_hub") out.preferred_hub = std::move(*text);
    } else if (key == "asn" || key == "export_limit" || key == "import_limit" ||
               key == "bgp_hold_time_seconds") {
      if (value.is_null()) {
        continue;
      }
      auto number = asInteger(value, key);
      if (!number) {
        return std::unexpected(number.error());
      }
      if (key == "asn") out.asn = *number;
      if (key == "export_limit") out.export_limit = *number;
      if (key == "import_limit") out.import_limit = *number;
      if (key == "bgp_hold_time_seconds") out.bgp_hold_time_seconds = *number;
    } else if (key == "bfd") {
      if (value.is_null()) continue;
      if (!value.is_bool()) return std::unexpected(typeError(key, "a boolean"));
      out.bfd = value.get_bool();
    } else if (key == "tunnel_options") {
      auto options = decodeTunnelOptions(value, key);
      if (!options) {
        return std::unexpected(options.error());
      }
      out.tunnel_options = std::move(*options);
    } else if (key == "cidrs") {
      if (!value.is_array()) {
        return std::unexpected(typeError(key, "an array of strings"));
      }
      std::vector<std::string> cidrs;
      const auto& array = value.get_array();
      for (std::size_t i = 0; i < array.size(); ++i) {
        auto text = asString(array[i], fmt::format("cidrs[{}]", i));
        if (!text) {
          return std::unexpected(text.error());
        }
        cidrs.push_back(std::move(*text));
      }
      out.cidrs = std::move(cidrs);
    } else if (key == "tunnels") {
      if (!value.is_array()) {
        return std::unexpected(typeError(key, "an array of objects"));
      }
      std::vector<TunnelDraft> tunnels;
      const auto& array = value.get_array();
      if (array.size() > kMaxTunnels) {
        return std::unexpected(FieldError{"tunnels", std::string(kTooManyTunnels)});
      }
      for (std::size_t i = 0; i < array.size(); ++i) {
        auto tunnel = decodeTunnel(array[i], fmt::format("tunnels[{}]", i));
        if (!tunnel) {
          return std::unexpected(tunnel.error());
        }
        tunnels.push_back(std::move(*tunnel));
      }
      out.tunnels = std::move(tunnels);
    } else {
      return std::unexpected(FieldError{key, "is not a known field"});
    }
  }
  return out;
}

json::object encodeSpokeForApi(const Spoke& spoke) {
  json::object o = encodeCommon(spoke);
  json::array tunnels;
  for (const auto& t : spoke.tunnels) {
    json::object jt;
    jt["hub"] = t.hub;
    jt["outside_ip"] = t.outside_ip.toString();
    jt["inside_cidr"] = t.inside_cidr.toString();
    jt["hub_inside_ip"] = hubInsideAddress(spoke.kind, t.inside_cidr).toString();
    jt["peer_inside_ip"] = peerInsideAddress(spoke.kind, t.inside_cidr).toString();
    jt["psk_set"] = !t.psk.empty();
    tunnels.push_back(std::move(jt));
  }
  o["tunnels"] = std::move(tunnels);
  o["generation"] = spoke.generation;
  o["route_tag"] = spoke.route_tag;
  o["created_at"] = formatTimestamp(spoke.created_at);
  o["updated_at"] = formatTimestamp(spoke.updated_at);
  return o;
}

}  // namespace transit::peers
