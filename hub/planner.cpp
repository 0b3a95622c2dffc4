#include "hub/planner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "routing/inside_allocator.hpp"

namespace transit::hub {

std::string tunnelName(const PlanOptions& options, std::string_view spoke, int index) {
  return fmt::format("{}{}-{}", options.tunnel_prefix, spoke, index);
}

std::string sessionName(const PlanOptions& options, std::string_view spoke, int index) {
  std::string name = fmt::format("{}{}_{}", options.session_prefix, spoke, index);
  std::ranges::replace(name, '-', '_');
  return name;
}

Plan plan(const DesiredState& desired, const PlanOptions& options) {
  Plan out;
  out.routing.local_as = options.local_as;
  out.routing.router_id = options.router_id;
  for (const auto& [name, spoke] : desired.spokes) {
    for (std::size_t i = 0; i < spoke->tunnels.size(); ++i) {
      const auto& tunnel = spoke->tunnels[i];
      const int index = static_cast<int>(i) + 1;
      peers::TunnelSpec spec;
      spec.name = tunnelName(options, name, index);
      spec.spoke = name;
      spec.index = index;
      spec.local_address = options.local_address;
      spec.local_id = options.public_address;
      spec.remote_address = tunnel.outside_ip;
      spec.inside_cidr = tunnel.inside_cidr;
      spec.hub_inside = peers::hubInsideAddress(spoke->kind, tunnel.inside_cidr);
      spec.psk = tunnel.psk;
      // AWS waits for its customer gateway (startup action "add"), so the hub initiates to VGWs;
      // to sites it initiates too, so a tunnel comes up whichever side starts first.
      spec.initiate = true;
      if (options.links == peers::TunnelLinks::kXfrm) {
        spec.interface_id =
            ((tunnel.inside_cidr.network().value() - routing::kInsidePool.network().value()) >> 2) +
            1;
      }
      out.tunnels.push_back(std::move(spec));

      if (spoke->routing == peers::RoutingMode::kBgp && spoke->asn) {
        routing::BgpSessionSpec session;
        session.name = sessionName(options, name, index);
        session.spoke = name;
        session.index = index;
        session.local_address = peers::hubInsideAddress(spoke->kind, tunnel.inside_cidr);
        session.neighbor_address = peers::peerInsideAddress(spoke->kind, tunnel.inside_cidr);
        session.neighbor_as = *spoke->asn;
        session.accepted = spoke->cidrs;
        session.import_limit = options.import_limit;
        out.routing.sessions.push_back(std::move(session));
      }
    }
  }
  std::ranges::sort(out.tunnels, {}, &peers::TunnelSpec::name);
  std::ranges::sort(out.routing.sessions, {}, &routing::BgpSessionSpec::name);
  return out;
}

}  // namespace transit::hub
