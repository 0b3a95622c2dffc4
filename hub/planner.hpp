// Planner: what the daemons should run, computed from the desired state. Pure; any thread.
//
// Every spoke tunnel becomes one TunnelSpec (a libreswan connection) and, for BGP spokes, one
// BgpSessionSpec over the tunnel's inside /30. Names are derived so that they are stable across
// restarts of transit-hubd and never collide:
//   connection  <tunnel_prefix><spoke>-<index>     "th-prod-a-1"   (spoke names use a-z 0-9 -)
//   protocol    <session_prefix><spoke>_<index>    "th_prod_a_1"   ('-' becomes '_'; spoke names
//                                                                   have no '_', so no clashes)
//   XFRM if_id  the /30's position in 169.254.0.0/16 plus 1 (inside /30s are unique on a hub)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/registry.hpp"
#include "peers/tunnel_driver.hpp"
#include "routing/routing_driver.hpp"

namespace transit::hub {

struct PlanOptions {
  std::string tunnel_prefix = "th-";
  std::string session_prefix = "th_";
  routing::Ipv4Address local_address;   // the hub's own address (left)
  routing::Ipv4Address public_address;  // the address spokes see (leftid)
  std::uint32_t local_as = 0;
  routing::Ipv4Address router_id;
  peers::TunnelLinks links = peers::TunnelLinks::kXfrm;
  std::uint32_t import_limit = 100;  // AWS's VGW limit, applied to what the hub accepts too
};

struct Plan {
  std::vector<peers::TunnelSpec> tunnels;  // sorted by name
  routing::RoutingSpec routing;            // sessions sorted by name
};

Plan plan(const DesiredState& desired, const PlanOptions& options);

std::string tunnelName(const PlanOptions& options, std::string_view spoke, int index);
std::string sessionName(const PlanOptions& options, std::string_view spoke, int index);

}  // namespace transit::hub
