#include "peers/model/spoke.hpp"

namespace transit::peers {

std::string_view toString(SpokeKind kind) {
  switch (kind) {
    case SpokeKind::kVpc:
      return "vpc";
    case SpokeKind::kSite:
      return "site";
  }
  return "vpc";
}

std::string_view toString(RoutingMode mode) {
  switch (mode) {
    case RoutingMode::kBgp:
      return "bgp";
    case RoutingMode::kStatic:
      return "static";
  }
  return "bgp";
}

std::optional<SpokeKind> parseSpokeKind(std::string_view text) {
  if (text == "vpc") return SpokeKind::kVpc;
  if (text == "site") return SpokeKind::kSite;
  return std::nullopt;
}

std::optional<RoutingMode> parseRoutingMode(std::string_view text) {
  if (text == "bgp") return RoutingMode::kBgp;
  if (text == "static") return RoutingMode::kStatic;
  return std::nullopt;
}

Ipv4Address hubInsideAddress(SpokeKind kind, const Ipv4Prefix& inside) {
  return inside.host(kind == SpokeKind::kVpc ? 2 : 1);
}

Ipv4Address peerInsideAddress(SpokeKind kind, const Ipv4Prefix& inside) {
  return inside.host(kind == SpokeKind::kVpc ? 1 : 2);
}

std::vector<HubTunnel> tunnelsOf(const Spoke& spoke, std::string_view hub) {
  std::vector<HubTunnel> out;
  for (std::size_t i = 0; i < spoke.tunnels.size(); ++i) {
    if (spoke.tunnels[i].hub != hub) continue;
    out.push_back(HubTunnel{static_cast<int>(out.size()) + 1, i, &spoke.tunnels[i]});
  }
  return out;
}

int indexOnHub(const Spoke& spoke, std::size_t position) {
  int index = 0;
  for (std::size_t i = 0; i <= position && i < spoke.tunnels.size(); ++i) {
    if (spoke.tunnels[i].hub == spoke.tunnels[position].hub) ++index;
  }
  return index;
}

std::uint32_t effectiveExportLimit(const Spoke& spoke) {
  if (spoke.export_limit) return *spoke.export_limit;
  return spoke.routing == RoutingMode::kStatic ? kDefaultExportLimitStatic : kDefaultExportLimitBgp;
}

std::uint32_t effectiveImportLimit(const Spoke& spoke) {
  return spoke.import_limit.value_or(kDefaultImportLimit);
}

}  // namespace transit::peers
