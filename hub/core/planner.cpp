#include "hub/core/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "routing/policy/inside_allocator.hpp"

namespace transit::hub {

std::string tunnelName(const PlanOptions& options, std::string_view spoke, int index) {
  return fmt::format("{}{}-{}", options.tunnel_prefix, spoke, index);
}

std::string sessionName(const PlanOptions& options, std::string_view spoke, int index) {
  std::string name = fmt::format("{}{}_{}", options.session_prefix, spoke, index);
  std::ranges::replace(name, '-', '_');
  return name;
}

std::string staticName(const PlanOptions& options, std::string_view spoke) {
  std::string name = fmt::format("{}{}_static", options.session_prefix, spoke);
  std::ranges::replace(name, '-', '_');
  return name;
}

bool segmentsReach(const PlanOptions& options, std::string_view a, std::string_view b) {
  if (a == b) return true;
  auto lists = [&](std::string_view from, std::string_view to) {
    const auto it = options.segments.find(std::string(from));
    return it != options.segments.end() && std::ranges::find(it->second, to) != it->second.end();
  };
  return lists(a, b) || lists(b, a);
}

std::vector<peers::TunnelSpec> planTunnels(const DesiredState& desired,
                                           const PlanOptions& options) {
  std::vector<peers::TunnelSpec> out;
  for (const auto& [name, spoke] : desired.spokes) {
    // Only this hub's tunnels: the pair's other hub terminates its own.
    for (const auto& own : peers::tunnelsOf(*spoke, options.hub_name)) {
      const auto& tunnel = *own.tunnel;
      const int index = own.index;
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
      spec.options = spoke->tunnel_options;
      spec.aws_side = spoke->kind == peers::SpokeKind::kSite;
      // A VGW may wait (startup action "add"; AWS also idles out a silent tunnel), so the hub
      // always initiates to VGWs; to a site it initiates unless the site's options say the AWS
      // side (the hub) waits.
      spec.initiate = !spec.aws_side ||
                      peers::startupAction(spec.options, true) == peers::StartupAction::kStart;
      if (options.links == peers::TunnelLinks::kXfrm) {
        spec.interface_id =
            ((tunnel.inside_cidr.network().value() - kInsidePool.network().value()) >> 2) + 1;
      }
      out.push_back(std::move(spec));
    }
  }
  std::ranges::sort(out, {}, &peers::TunnelSpec::name);
  return out;
}

std::optional<RouteOwner> RouteOwners::of(const routing::ObservedRoute& route) const {
  for (const auto& community : route.large_communities) {
    if (community.global != local_as || community.data1 != routing::kSpokeTagKind) continue;
    const auto spoke = spoke_tags.find(community.data2);
    if (spoke == spoke_tags.end()) return std::nullopt;  // a tag no spoke holds (yet, or still)
    RouteOwner owner{spoke->second, std::nullopt};
    // Learned over this hub's own session with that spoke: the tunnel it came through.
    if (const auto session = protocols.find(route.protocol);
        session != protocols.end() && session->second.spoke == owner.spoke) {
      owner.tunnel = session->second.tunnel;
    }
    return owner;
  }
  return std::nullopt;
}

RouteOwners routeOwners(const DesiredState& desired, const PlanOptions& options,
                        const routing::RoutingSpec* running) {
  RouteOwners owners;
  owners.local_as = options.local_as;
  for (const auto& [name, spoke] : desired.spokes) {
    if (spoke->route_tag != 0) owners.spoke_tags.emplace(spoke->route_tag, name);
    if (spoke->routing == peers::RoutingMode::kStatic) {
      if (!peers::tunnelsOf(*spoke, options.hub_name).empty()) {
        owners.protocols.emplace(staticName(options, name), RouteOwner{name, std::nullopt});
      }
      continue;
    }
    for (const auto& own : peers::tunnelsOf(*spoke, options.hub_name)) {
      owners.protocols.emplace(sessionName(options, name, own.index), RouteOwner{name, own.index});
    }
  }
  // What the daemon runs stamps the tags: its table wins over the desired state's while a
  // change is on its way (a removed spoke's tag, taken by a new spoke before the daemon has the
  // new configuration, still names the removed spoke, whose routes these are).
  if (running != nullptr) {
    for (auto& [tag, spoke] : routing::spokeTagIds(*running)) {
      owners.spoke_tags.insert_or_assign(tag, std::move(spoke));
    }
  }
  return owners;
}

std::optional<routing::PairLinkSpec> planPairLink(const PlanOptions& options) {
  if (!options.pair) return std::nullopt;
  const auto& pair = *options.pair;
  routing::PairLinkSpec link;
  link.vni = pair.vni;
  link.port = pair.port;
  link.local = options.local_address;
  link.remote = pair.peer_local_ip;
  link.underlay_device = pair.underlay_device;
  link.inside = pair.inside;
  link.address = pair.inside.host(options.hub_name < pair.peer_name ? 1 : 2);
  link.mtu = pair.mtu;
  return link;
}

namespace {

routing::PeerHubSpec peerHub(const DesiredState& desired, const PlanOptions& options) {
  const auto& pair = *options.pair;
  const bool first = options.hub_name < pair.peer_name;
  routing::PeerHubSpec peer;
  peer.name = options.session_prefix + "pair";
  peer.hub = pair.peer_name;
  peer.interface = std::string(routing::kPairLinkDevice);
  peer.local_address = pair.inside.host(first ? 1 : 2);
  peer.neighbor_address = pair.inside.host(first ? 2 : 1);
  peer.bfd_interval_ms = pair.bfd_interval_ms;
  peer.bfd_multiplier = pair.bfd_multiplier;
  for (const auto& [name, spoke] : desired.spokes) {
    if (spoke->route_tag != 0)
      peer.spokes.emplace(spoke->route_tag, routing::PeerHubSpec::Spoke{name, spoke->segment});
  }
  return peer;
}

}  // namespace

Plan plan(const DesiredState& desired, const PlanOptions& options, const RoutePlanInputs& inputs) {
  Plan out;
  out.pair_link = planPairLink(options);
  out.tunnels = planTunnels(desired, options);
  RoutingPlan routing = planRouting(desired, options, inputs);
  out.routing = std::move(routing.spec);
  out.exports = std::move(routing.exports);
  out.owners = std::move(routing.owners);
  out.forwarding = planForwarding(desired, options, out.tunnels);
  return out;
}

namespace {

// The export plan of one receiving spoke, given the prefixes it must reach and must not cover.
ExportPlan exportPlan(const peers::Spoke& receiver, std::vector<Ipv4Prefix> must_reach,
                      const std::vector<Ipv4Prefix>& forbidden) {
  ExportPlan out;
  out.spoke = receiver.name;
  out.limit = peers::effectiveExportLimit(receiver);
  std::ranges::sort(must_reach);
  must_reach.erase(std::unique(must_reach.begin(), must_reach.end()), must_reach.end());
  out.must_reach = must_reach.size();
  if (must_reach.size() <= out.limit) {
    for (const auto& prefix : must_reach) out.prefixes.push_back({prefix, {prefix}});
    return out;
  }
  auto summary = routing::summarize(must_reach, forbidden, out.limit);
  out.summarized = true;
  out.within_limit = summary.within_limit;
  out.wasted_addresses = summary.wasted_addresses;
  out.prefixes = std::move(summary.prefixes);
  return out;
}

}  // namespace

RoutingPlan planRouting(const DesiredState& desired, const PlanOptions& options,
                        const RoutePlanInputs& inputs) {
  RoutingPlan out;
  out.owners = routeOwners(desired, options, inputs.running);
  out.spec.local_as = options.local_as;
  out.spec.router_id = options.router_id;

  // The prefixes each spoke brings: accepted BGP routes as BIRD reports them (attributed by
  // out.owners), a static spoke's CIDRs as declared.
  std::map<std::string, std::vector<Ipv4Prefix>> brings;
  for (const auto& route : inputs.routes) {
    if (route.filtered) continue;
    const auto owner = out.owners.of(route);
    if (!owner) continue;
    const auto spoke = desired.spokes.find(owner->spoke);
    // A static spoke's routes are its declared CIDRs (below), whatever its protocol holds.
    if (spoke == desired.spokes.end() || spoke->second->routing != peers::RoutingMode::kBgp) {
      continue;
    }
    brings[owner->spoke].push_back(route.prefix);
  }
  for (const auto& [name, spoke] : desired.spokes) {
    if (spoke->routing == peers::RoutingMode::kStatic) {
      auto& list = brings[name];
      list.insert(list.end(), spoke->cidrs.begin(), spoke->cidrs.end());
    }
  }

  std::set<Ipv4Prefix> summaries;
  for (const auto& [name, receiver] : desired.spokes) {
    std::vector<Ipv4Prefix> must_reach;
    std::vector<Ipv4Prefix> forbidden = receiver->cidrs;
    // Summaries are installed as unreachable routes here: they must never swallow the hub's own
    // addresses (nor, with routing.reserved, its VPC's CIDRs, e.g. the path to the other hub).
    forbidden.insert(forbidden.end(), options.reserved.begin(), options.reserved.end());
    forbidden.push_back(Ipv4Prefix::containing(options.local_address, 32));
    forbidden.push_back(Ipv4Prefix::containing(options.public_address, 32));
    std::set<std::string> export_segments;
    for (const auto& [other_name, other] : desired.spokes) {
      const bool reach = segmentsReach(options, receiver->segment, other->segment);
      if (reach) export_segments.insert(other->segment);
      if (other_name == name) continue;
      if (reach) {
        const auto found = brings.find(other_name);
        if (found != brings.end()) {
          must_reach.insert(must_reach.end(), found->second.begin(), found->second.end());
        }
      } else {
        // A summary must not lead this spoke's traffic to a spoke it may not reach.
        forbidden.insert(forbidden.end(), other->cidrs.begin(), other->cidrs.end());
      }
    }
    export_segments.insert(receiver->segment);
    ExportPlan exports = exportPlan(*receiver, std::move(must_reach), forbidden);

    const bool not_preferred =
        receiver->preferred_hub && *receiver->preferred_hub != options.hub_name;
    // Sessions and static next hops over this hub's own tunnels only. A spoke with none here
    // gets no protocol here (its routes reach this hub from the other hub), but it is sent and
    // brings routes all the same (the exports above).
    const auto own_tunnels = peers::tunnelsOf(*receiver, options.hub_name);
    for (const auto& own : own_tunnels) {
      const auto& tunnel = *own.tunnel;
      const int index = own.index;
      if (receiver->routing != peers::RoutingMode::kBgp || !receiver->asn) continue;
      routing::BgpSessionSpec session;
      session.name = sessionName(options, name, index);
      session.spoke = name;
      session.spoke_tag = receiver->route_tag;
      session.index = index;
      session.local_address = peers::hubInsideAddress(receiver->kind, tunnel.inside_cidr);
      session.neighbor_address = peers::peerInsideAddress(receiver->kind, tunnel.inside_cidr);
      session.neighbor_as = *receiver->asn;
      session.accepted = receiver->cidrs;
      session.import_limit = peers::effectiveImportLimit(*receiver);
      session.hold_time = receiver->bgp_hold_time_seconds.value_or(peers::kDefaultHoldTime);
      session.bfd = receiver->bfd;
      session.keepalive = std::max<std::uint32_t>(1, session.hold_time / 3);
      session.segment = receiver->segment;
      session.export_segments.assign(export_segments.begin(), export_segments.end());
      session.export_limit = exports.limit;
      if (exports.summarized) {
        std::vector<Ipv4Prefix> only;
        for (const auto& entry : exports.prefixes) {
          only.push_back(entry.prefix);
          summaries.insert(entry.prefix);
        }
        session.export_only = std::move(only);
      }
      if (not_preferred) {
        session.prepend = options.not_preferred_prepend;
        session.med = options.not_preferred_med;
      }
      out.spec.sessions.push_back(std::move(session));
    }
    if (receiver->routing == peers::RoutingMode::kStatic && !own_tunnels.empty()) {
      routing::StaticSpokeSpec route;
      route.name = staticName(options, name);
      route.spoke = name;
      route.spoke_tag = receiver->route_tag;
      route.segment = receiver->segment;
      route.cidrs = receiver->cidrs;
      for (const auto& own : own_tunnels) {
        const auto& tunnel = *own.tunnel;
        // On EC2 a tunnel carries traffic only with its Child SA installed: a route over a dead
        // tunnel would drop half the flows. Links that exist on their own (the lab) always do.
        const bool usable = options.links == peers::TunnelLinks::kExternal ||
                            inputs.usable_tunnels.contains(tunnelName(options, name, own.index));
        if (usable) {
          route.next_hops.push_back(peers::peerInsideAddress(receiver->kind, tunnel.inside_cidr));
        }
      }
      out.spec.statics.push_back(std::move(route));
    }
    out.exports.emplace(name, std::move(exports));
  }
  out.spec.summaries.assign(summaries.begin(), summaries.end());
  if (options.pair) out.spec.peer_hub = peerHub(desired, options);
  std::ranges::sort(out.spec.sessions, {}, &routing::BgpSessionSpec::name);
  std::ranges::sort(out.spec.statics, {}, &routing::StaticSpokeSpec::name);
  return out;
}

routing::ForwardingPolicy planForwarding(const DesiredState& desired, const PlanOptions& options,
                                         std::span<const peers::TunnelSpec> tunnels) {
  std::map<std::string, std::vector<Ipv4Prefix>> cidrs;
  for (const auto& [name, spoke] : desired.spokes) {
    if (!spoke->cidrs.empty()) {
      auto& list = cidrs[spoke->segment];
      list.insert(list.end(), spoke->cidrs.begin(), spoke->cidrs.end());
    }
  }
  routing::ForwardingPolicy policy;
  for (auto a = cidrs.begin(); a != cidrs.end(); ++a) {
    for (auto b = std::next(a); b != cidrs.end(); ++b) {
      if (segmentsReach(options, a->first, b->first)) {
        continue;
      }
      policy.isolated.emplace(a->first, b->first);
      policy.isolated.emplace(b->first, a->first);
    }
  }
  for (const auto& [from, to] : policy.isolated) {
    if (policy.segment_cidrs.contains(from)) {
      continue;
    }
    auto list = cidrs.at(from);
    std::ranges::sort(list);
    list.erase(std::unique(list.begin(), list.end()), list.end());
    policy.segment_cidrs.emplace(from, std::move(list));
  }
  if (options.links == peers::TunnelLinks::kXfrm) {
    for (const auto& tunnel : tunnels) {
      if (tunnel.interface_id == 0) continue;  // not an XFRM link (XfrmLinks refuses id 0)
      auto& clamp = policy.mss_clamp;
      clamp.links.insert(peers::xfrmDeviceName(tunnel.interface_id));
      clamp.mss = clamp.mss == 0 ? tunnel.tcp_mss : std::min(clamp.mss, tunnel.tcp_mss);
    }
  }
  return policy;
}

}  // namespace transit::hub
