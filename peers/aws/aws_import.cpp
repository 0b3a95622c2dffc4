#include "peers/aws/aws_import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace transit::peers {
namespace {

FieldError xmlError(std::size_t document_index, std::string_view path, std::string message) {
  return FieldError{fmt::format("xml:ipsec_tunnel[{}]/{}", document_index, path),
                    std::move(message)};
}

}  // namespace

std::expected<SpokeDraft, FieldError> spokeFromAwsVpn(const AwsVpnConnection& vpn,
                                                      const AwsImportRequest& request,
                                                      const AwsImportHub& hub) {
  if (request.name.empty()) {
    return std::unexpected(FieldError{"name", "is required: the spoke's name"});
  }
  if (request.cidrs.empty()) {
    return std::unexpected(
        FieldError{"cidr", "give at least one: the VPC's CIDRs (cidr=10.1.0.0/16&cidr=...)"});
  }
  if (vpn.tunnels.empty()) {
    return std::unexpected(FieldError{"xml:ipsec_tunnel", "the document has no tunnel"});
  }

  // Tunnels with their place in the document (for messages), ordered by the VGW's outside
  // address: the document's order means nothing.
  std::vector<std::pair<std::size_t, const AwsTunnel*>> tunnels;
  for (std::size_t i = 0; i < vpn.tunnels.size(); ++i) tunnels.emplace_back(i + 1, &vpn.tunnels[i]);
  std::ranges::sort(tunnels, {}, [](const auto& entry) {
    return entry.second->vpn_gateway.outside_address.value();
  });

  SpokeDraft draft;
  draft.name = request.name;
  draft.kind = "vpc";
  draft.cidrs = request.cidrs;
  draft.segment = request.segment;
  draft.preferred_hub = request.preferred_hub;
  draft.routing = vpn.bgp ? "bgp" : "static";

  std::optional<std::uint32_t> vgw_asn;
  std::optional<std::uint32_t> hold_time;
  std::uint32_t dpd_timeout = 0;
  std::vector<TunnelDraft> tunnel_drafts;
  // The customer gateway says whose tunnels these are: one VPN connection, one hub.
  std::optional<std::pair<std::size_t, const std::string*>> document_hub;  // (tunnel, hub)
  for (const auto& [at, tunnel] : tunnels) {
    const auto& cgw = tunnel->customer_gateway;
    const auto& vgw = tunnel->vpn_gateway;
    const std::string* owner = nullptr;
    if (cgw.outside_address == hub.public_ip) {
      owner = &hub.name;
    } else if (hub.peer && cgw.outside_address == hub.peer->public_ip) {
      owner = &hub.peer->name;
    }
    if (owner == nullptr) {
      const std::string known =
          hub.peer ? fmt::format(
                         "this hub's public address is {} ({}) and the other hub's {} "
                         "({})",
                         hub.public_ip.toString(), hub.name, hub.peer->public_ip.toString(),
                         hub.peer->name)
                   : fmt::format("this hub's public address is {}", hub.public_ip.toString());
      return std::unexpected(xmlError(
          at, "customer_gateway/tunnel_outside_address/ip_address",
          fmt::format("is {}, but {}: the VPN connection was made for another customer gateway",
                      cgw.outside_address.toString(), known)));
    }
    if (document_hub && *document_hub->second != *owner) {
      return std::unexpected(xmlError(
          at, "customer_gateway/tunnel_outside_address/ip_address",
          fmt::format("is {}'s address, but ipsec_tunnel[{}] is {}'s: one VPN connection has one "
                      "customer gateway",
                      *owner, document_hub->first, *document_hub->second)));
    }
    document_hub = std::pair(at, owner);
    if (vpn.bgp) {
      if (cgw.asn != hub.asn) {
        return std::unexpected(xmlError(
            at, "customer_gateway/bgp/asn",
            fmt::format("is {}, but this hub's ASN is {}: recreate the customer gateway with "
                        "the hub's ASN",
                        cgw.asn ? std::to_string(*cgw.asn) : "missing", hub.asn)));
      }
      if (!vgw.asn) {
        return std::unexpected(xmlError(at, "vpn_gateway/bgp/asn", "is missing"));
      }
      if (vgw_asn && *vgw_asn != *vgw.asn) {
        return std::unexpected(
            xmlError(at, "vpn_gateway/bgp/asn",
                     fmt::format("is {}, but the other tunnel says {}: one gateway has one ASN",
                                 *vgw.asn, *vgw_asn)));
      }
      vgw_asn = vgw.asn;
      if (vgw.hold_time) {
        if (hold_time && *hold_time != *vgw.hold_time) {
          return std::unexpected(xmlError(
              at, "vpn_gateway/bgp/hold_time",
              fmt::format("is {}, but the other tunnel says {}", *vgw.hold_time, *hold_time)));
        }
        hold_time = vgw.hold_time;
      }
    }
    if (tunnel->dpd_interval && tunnel->dpd_retries) {
      // Whichever tunnel says more: the spoke has one set of tunnel options.
      dpd_timeout =
          std::max<std::uint32_t>(dpd_timeout, *tunnel->dpd_interval * *tunnel->dpd_retries);
    }
    TunnelDraft t;
    t.hub = *owner;
    t.outside_ip = vgw.outside_address.toString();
    if (tunnel->inside_cidr) t.inside_cidr = tunnel->inside_cidr->toString();
    t.psk = tunnel->psk;
    tunnel_drafts.push_back(std::move(t));
  }
  if (vgw_asn) draft.asn = *vgw_asn;
  if (hold_time) draft.bgp_hold_time_seconds = *hold_time;
  if (dpd_timeout > 0) {
    TunnelOptions options;
    // AWS's DPD timeout is at least 30 s; the document's interval x retries is 10 x 3.
    options.dpd_timeout_seconds = std::clamp<std::uint32_t>(dpd_timeout, 30, 3600);
    draft.tunnel_options = options;
  }
  draft.tunnels = std::move(tunnel_drafts);
  return draft;
}

std::expected<SpokeDraft, FieldError> spokeUpdateFromAwsVpn(const AwsVpnConnection& vpn,
                                                            const Spoke& existing,
                                                            const AwsImportRequest& request,
                                                            const AwsImportHub& hub) {
  AwsImportRequest merged;
  merged.name = existing.name;
  merged.cidrs = request.cidrs;
  if (merged.cidrs.empty()) {
    for (const auto& cidr : existing.cidrs) merged.cidrs.push_back(cidr.toString());
  }
  merged.segment = request.segment ? request.segment : existing.segment;
  merged.preferred_hub = request.preferred_hub ? request.preferred_hub : existing.preferred_hub;
  auto draft = spokeFromAwsVpn(vpn, merged, hub);
  if (!draft) {
    return draft;
  }
  // The document's hub gets its tunnels; the other hub's stay exactly as they are.
  const std::string document_hub = *draft->tunnels->front().hub;
  std::vector<TunnelDraft> tunnels;
  std::optional<std::string> kept_hub;
  for (const auto& t : existing.tunnels) {
    if (t.hub == document_hub) continue;
    kept_hub = t.hub;
    tunnels.push_back(TunnelDraft{t.outside_ip.toString(), t.inside_cidr.toString(), t.psk, t.hub});
  }
  if (kept_hub) {
    // Both hubs' connections belong to one gateway: they route alike.
    const std::string routing(toString(existing.routing));
    if (*draft->routing != routing) {
      return std::unexpected(FieldError{
          "xml:vpn_connection",
          fmt::format("routes {}, but the spoke's tunnels on {} route {}: both VPN connections of "
                      "a spoke route alike",
                      *draft->routing, *kept_hub, routing)});
    }
    if (draft->asn && existing.asn && *draft->asn != static_cast<std::int64_t>(*existing.asn)) {
      return std::unexpected(FieldError{
          "xml:ipsec_tunnel[1]/vpn_gateway/bgp/asn",
          fmt::format("is {}, but the spoke's tunnels on {} have ASN {}: one gateway has one ASN",
                      *draft->asn, *kept_hub, *existing.asn)});
    }
  }
  for (auto& t : *draft->tunnels) tunnels.push_back(std::move(t));
  // In hub order, each hub's in the order they came: the same spoke whichever came first.
  std::ranges::stable_sort(tunnels, {}, [](const TunnelDraft& t) { return *t.hub; });
  draft->tunnels = std::move(tunnels);
  draft->export_limit = existing.export_limit;
  draft->import_limit = existing.import_limit;
  if (!draft->bgp_hold_time_seconds && draft->routing == "bgp") {
    draft->bgp_hold_time_seconds = existing.bgp_hold_time_seconds;
  }
  TunnelOptions options = existing.tunnel_options;
  if (draft->tunnel_options) {
    options.dpd_timeout_seconds = draft->tunnel_options->dpd_timeout_seconds;
  }
  draft->tunnel_options = options;
  return draft;
}

}  // namespace transit::peers
