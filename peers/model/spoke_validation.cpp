#include "peers/model/spoke_validation.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <stdexcept>

#include "routing/base/inside_network.hpp"

namespace transit::peers {
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;
using transit::kPrefix;

constexpr std::size_t kMaxNameLength = 32;

// Address space no spoke endpoint or declared network may use.
constexpr Ipv4Prefix kSpecialRanges[] = {
    kPrefix(0, 0, 0, 0, 8),       // "this network"
    kPrefix(127, 0, 0, 0, 8),     // loopback
    kPrefix(169, 254, 0, 0, 16),  // link-local (tunnel inside links live here)
    kPrefix(224, 0, 0, 0, 4),     // multicast
    kPrefix(240, 0, 0, 0, 4),     // reserved, and the limited broadcast address
};

// Amazon-side ASNs of VGWs created before 2018-06-30 (they cannot be changed).
constexpr std::uint32_t kLegacyVgwAsns[] = {7224, 9059, 10124, 17493};
constexpr std::int64_t kAsTrans = 23456;

std::optional<std::string> specialRangeOf(const Ipv4Prefix& prefix) {
  for (const auto& special : kSpecialRanges) {
    if (special.overlaps(prefix)) {
      return fmt::format("overlaps special-purpose range {}", special.toString());
    }
  }
  return std::nullopt;
}

FieldError fieldError(std::string field, std::string message) {
  return FieldError{std::move(field), std::move(message)};
}

std::expected<TunnelRequest, FieldError> validateTunnel(const TunnelDraft& draft,
                                                        const std::string& path,
                                                        const ValidationContext& context) {
  TunnelRequest out;
  if (draft.hub) {
    if (auto problem = checkName(*draft.hub)) {
      return std::unexpected(fieldError(path + ".hub", *problem));
    }
    const bool known =
        *draft.hub == context.hub_name || (context.peer_hub && *draft.hub == *context.peer_hub);
    if (!context.any_hub && !known) {
      const std::string hubs =
          context.peer_hub ? fmt::format("this pair: {}, {}", context.hub_name, *context.peer_hub)
                           : fmt::format("this hub: {}", context.hub_name);
      return std::unexpected(
          fieldError(path + ".hub", fmt::format("unknown hub '{}' ({})", *draft.hub, hubs)));
    }
    out.hub = *draft.hub;
  } else if (!context.hub_name.empty()) {
    out.hub = context.hub_name;
  } else {
    return std::unexpected(fieldError(path + ".hub", "is required"));
  }
  if (!draft.outside_ip) {
    return std::unexpected(fieldError(path + ".outside_ip", "is required"));
  }
  auto outside = Ipv4Address::parse(*draft.outside_ip);
  if (!outside) {
    return std::unexpected(fieldError(path + ".outside_ip", outside.error()));
  }
  if (auto problem = checkEndpointAddress(*outside)) {
    return std::unexpected(fieldError(path + ".outside_ip", *problem));
  }
  if (std::ranges::find(context.hub_addresses, *outside) != context.hub_addresses.end()) {
    return std::unexpected(fieldError(path + ".outside_ip", "is one of the hubs' own addresses"));
  }
  out.outside_ip = *outside;

  if (draft.inside_cidr) {
    auto inside = Ipv4Prefix::parse(*draft.inside_cidr);
    if (!inside) {
      return std::unexpected(fieldError(path + ".inside_cidr", inside.error()));
    }
    if (auto problem = checkInsideCidr(*inside)) {
      return std::unexpected(fieldError(path + ".inside_cidr", *problem));
    }
    out.inside_cidr = *inside;
  }
  if (draft.psk) {
    if (auto problem = checkPsk(*draft.psk)) {
      return std::unexpected(fieldError(path + ".psk", *problem));
    }
    out.psk = *draft.psk;
  }
  return out;
}

}  // namespace

std::optional<std::string> checkName(std::string_view name) {
  if (name.empty()) {
    return "must not be empty";
  }
  if (name.size() > kMaxNameLength) {
    return fmt::format("must be at most {} characters", kMaxNameLength);
  }
  if (name.front() < 'a' || name.front() > 'z') {
    return "must start with a lowercase letter";
  }
  const bool allowed = std::ranges::all_of(
      name, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
  if (!allowed) {
    return "may contain only lowercase letters, digits and '-'";
  }
  if (name.back() == '-' || name.find("--") != std::string_view::npos) {
    return "must not end with '-' or contain \"--\"";
  }
  return std::nullopt;
}

std::optional<std::string> checkPsk(std::string_view psk) {
  if (psk.size() < 8 || psk.size() > 64) {
    return "must be 8 to 64 characters long";
  }
  const bool allowed = std::ranges::all_of(psk, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_';
  });
  if (!allowed) {
    return "may contain only letters, digits, '.' and '_'";
  }
  if (psk.front() == '0') {
    return "must not start with '0'";
  }
  return std::nullopt;
}

std::optional<std::string> checkInsideCidr(const Ipv4Prefix& cidr) {
  if (cidr.length() != kInsideLength) {
    return "must be a /30";
  }
  if (!kInsidePool.contains(cidr)) {
    return "must be inside 169.254.0.0/16";
  }
  if (isAwsReservedInside(cidr)) {
    return fmt::format("{} is reserved by AWS", cidr.toString());
  }
  return std::nullopt;
}

std::optional<std::string> checkSpokeAsn(SpokeKind kind, std::int64_t asn) {
  if (kind == SpokeKind::kVpc) {
    const bool private16 = asn >= 64512 && asn <= 65534;
    const bool private32 = asn >= 4200000000LL && asn <= 4294967294LL;
    const bool legacy = std::ranges::find(kLegacyVgwAsns, asn) != std::end(kLegacyVgwAsns);
    if (!private16 && !private32 && !legacy) {
      return "a VGW's ASN must be 64512-65534, 4200000000-4294967294 or a legacy AWS default "
             "(7224, 9059, 10124, 17493)";
    }
    return std::nullopt;
  }
  if (asn < 1 || asn > 2147483647LL) {
    return "must be 1-2147483647";
  }
  if (asn == kAsTrans || asn == 65535) {
    return "is a reserved ASN";
  }
  return std::nullopt;
}

std::optional<std::string> checkHubAsn(std::int64_t asn) {
  // The hub is the customer gateway of its vpc spokes, so AWS's customer-gateway rule applies.
  return checkSpokeAsn(SpokeKind::kSite, asn);
}

std::optional<std::string> checkEndpointAddress(Ipv4Address address) {
  return specialRangeOf(Ipv4Prefix::containing(address, 32));
}

std::optional<std::string> checkSpokeCidr(const Ipv4Prefix& cidr) {
  if (cidr.length() < 8) {
    return "is too broad (shortest allowed prefix is /8)";
  }
  return specialRangeOf(cidr);
}

namespace {

// `bfd`: only on BGP sessions with sites; AWS's VGWs do not speak BFD.
std::expected<void, FieldError> validateBfd(const SpokeDraft& draft, Spoke& spoke) {
  if (!draft.bfd || !*draft.bfd) return {};
  if (spoke.routing != RoutingMode::kBgp) {
    return std::unexpected(fieldError("bfd", "applies only to routing: bgp"));
  }
  if (spoke.kind != SpokeKind::kSite) {
    return std::unexpected(fieldError(
        "bfd", "applies only to kind: site (AWS virtual private gateways do not speak BFD)"));
  }
  spoke.bfd = true;
  return {};
}

}  // namespace

std::expected<SpokeRequest, FieldError> validateSpoke(const SpokeDraft& draft,
                                                      const ValidationContext& context) {
  SpokeRequest out;
  Spoke& spoke = out.spoke;

  if (!draft.name) {
    return std::unexpected(fieldError("name", "is required"));
  }
  if (auto problem = checkName(*draft.name)) {
    return std::unexpected(fieldError("name", *problem));
  }
  spoke.name = *draft.name;

  if (!draft.kind) {
    return std::unexpected(fieldError("kind", "is required (vpc or site)"));
  }
  auto kind = parseSpokeKind(*draft.kind);
  if (!kind) {
    return std::unexpected(fieldError("kind", "must be vpc or site"));
  }
  spoke.kind = *kind;

  if (!draft.cidrs || draft.cidrs->empty()) {
    return std::unexpected(fieldError("cidrs", "must list at least one CIDR"));
  }
  if (draft.cidrs->size() > kMaxCidrs) {
    return std::unexpected(fieldError("cidrs", fmt::format("must list at most {}", kMaxCidrs)));
  }
  for (std::size_t i = 0; i < draft.cidrs->size(); ++i) {
    const auto path = fmt::format("cidrs[{}]", i);
    auto cidr = Ipv4Prefix::parse((*draft.cidrs)[i]);
    if (!cidr) {
      return std::unexpected(fieldError(path, cidr.error()));
    }
    if (auto problem = checkSpokeCidr(*cidr)) {
      return std::unexpected(fieldError(path, *problem));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (spoke.cidrs[j].overlaps(*cidr)) {
        return std::unexpected(fieldError(path, fmt::format("overlaps cidrs[{}]", j)));
      }
    }
    spoke.cidrs.push_back(*cidr);
  }

  auto routing_mode = parseRoutingMode(draft.routing.value_or("bgp"));
  if (!routing_mode) {
    return std::unexpected(fieldError("routing", "must be bgp or static"));
  }
  spoke.routing = *routing_mode;

  if (spoke.routing == RoutingMode::kBgp) {
    if (!draft.asn) {
      return std::unexpected(fieldError("asn", "is required for routing: bgp"));
    }
    if (auto problem = checkSpokeAsn(spoke.kind, *draft.asn)) {
      return std::unexpected(fieldError("asn", *problem));
    }
    if (*draft.asn == static_cast<std::int64_t>(context.hub_asn)) {
      return std::unexpected(fieldError("asn", "must differ from the hub's ASN"));
    }
    spoke.asn = static_cast<std::uint32_t>(*draft.asn);
  } else if (draft.asn) {
    return std::unexpected(fieldError("asn", "applies only to routing: bgp"));
  }

  if (draft.preferred_hub) {
    if (auto problem = checkName(*draft.preferred_hub)) {
      return std::unexpected(fieldError("preferred_hub", *problem));
    }
    spoke.preferred_hub = *draft.preferred_hub;
  }
  spoke.segment = draft.segment.value_or(std::string(kDefaultSegment));
  if (auto problem = checkName(spoke.segment)) {
    return std::unexpected(fieldError("segment", *problem));
  }
  if (draft.export_limit) {
    if (*draft.export_limit < 1 || *draft.export_limit > kMaxExportLimit) {
      return std::unexpected(fieldError(
          "export_limit", fmt::format("must be between 1 and {} prefixes", kMaxExportLimit)));
    }
    spoke.export_limit = static_cast<std::uint32_t>(*draft.export_limit);
  }
  if (draft.import_limit) {
    if (spoke.routing != RoutingMode::kBgp) {
      return std::unexpected(fieldError("import_limit", "applies only to routing: bgp"));
    }
    if (*draft.import_limit < 1 || *draft.import_limit > kMaxImportLimit) {
      return std::unexpected(fieldError(
          "import_limit", fmt::format("must be between 1 and {} routes", kMaxImportLimit)));
    }
    spoke.import_limit = static_cast<std::uint32_t>(*draft.import_limit);
  }
  if (draft.bgp_hold_time_seconds) {
    if (spoke.routing != RoutingMode::kBgp) {
      return std::unexpected(fieldError("bgp_hold_time_seconds", "applies only to routing: bgp"));
    }
    if (*draft.bgp_hold_time_seconds < 3 || *draft.bgp_hold_time_seconds > 65535) {
      return std::unexpected(
          fieldError("bgp_hold_time_seconds", "must be between 3 and 65535 seconds"));
    }
    // The default, said or not, is one value.
    if (*draft.bgp_hold_time_seconds != kDefaultHoldTime) {
      spoke.bgp_hold_time_seconds = static_cast<std::uint32_t>(*draft.bgp_hold_time_seconds);
    }
  }
  if (auto bfd = validateBfd(draft, spoke); !bfd) return std::unexpected(bfd.error());
  // Validated when decoded (peers/model/tunnel_options_json.hpp).
  spoke.tunnel_options = draft.tunnel_options.value_or(TunnelOptions{});
  // The default, said or not, is one value (a spoke PUT back as read stays equal).
  const bool site = spoke.kind == SpokeKind::kSite;
  if (spoke.tunnel_options.startup_action == defaultStartupAction(site)) {
    spoke.tunnel_options.startup_action.reset();
  }
  if (spoke.tunnel_options.dpd_timeout_action == defaultDpdAction(site)) {
    spoke.tunnel_options.dpd_timeout_action.reset();
  }

  if (!draft.tunnels || draft.tunnels->empty()) {
    return std::unexpected(fieldError("tunnels", "must list at least one tunnel"));
  }
  if (draft.tunnels->size() > kMaxTunnels) {
    return std::unexpected(fieldError("tunnels", std::string(kTooManyTunnels)));
  }
  for (std::size_t i = 0; i < draft.tunnels->size(); ++i) {
    const auto path = fmt::format("tunnels[{}]", i);
    auto tunnel = validateTunnel((*draft.tunnels)[i], path, context);
    if (!tunnel) {
      return std::unexpected(tunnel.error());
    }
    const auto same_hub = std::ranges::count(out.tunnels, tunnel->hub, &TunnelRequest::hub);
    if (static_cast<std::size_t>(same_hub) >= kMaxTunnelsPerHub) {
      return std::unexpected(
          fieldError(path, fmt::format("{} holds {} tunnels already (at most {} per hub)",
                                       tunnel->hub, same_hub, kMaxTunnelsPerHub)));
    }
    for (std::size_t j = 0; j < i; ++j) {
      const auto& other = out.tunnels[j];
      if (other.hub == tunnel->hub && other.outside_ip == tunnel->outside_ip) {
        return std::unexpected(
            fieldError(path + ".outside_ip", fmt::format("duplicates tunnels[{}]", j)));
      }
      if (other.inside_cidr && tunnel->inside_cidr && *other.inside_cidr == *tunnel->inside_cidr) {
        return std::unexpected(
            fieldError(path + ".inside_cidr", fmt::format("duplicates tunnels[{}]", j)));
      }
    }
    out.tunnels.push_back(std::move(*tunnel));
  }
  return out;
}

std::string generatePsk() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr std::size_t kLength = 32;
  // Rejection sampling keeps every character uniform: 248 = 4 * 62 is the largest multiple of
  // the alphabet's size that fits in a byte.
  constexpr unsigned kLimit = 248;
  std::string psk;
  std::array<unsigned char, 64> buffer{};
  while (psk.size() < kLength) {
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
      throw std::runtime_error("the system's random number generator failed");
    }
    for (unsigned char byte : buffer) {
      if (byte >= kLimit || psk.size() == kLength) {
        continue;
      }
      const char c = kAlphabet[byte % kAlphabet.size()];
      if (psk.empty() && c == '0') {
        continue;
      }
      psk.push_back(c);
    }
  }
  return psk;
}

}  // namespace transit::peers
