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

std::uint32_t effectiveExportLimit(const Spoke& spoke) {
  if (spoke.export_limit) return *spoke.export_limit;
  return spoke.routing == RoutingMode::kStatic ? kDefaultExportLimitStatic : kDefaultExportLimitBgp;
}

std::uint32_t effectiveImportLimit(const Spoke& spoke) {
  return spoke.import_limit.value_or(kDefaultImportLimit);
}

}  // namespace transit::peers
