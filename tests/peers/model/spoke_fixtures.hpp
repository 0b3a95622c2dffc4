// Spokes as the hub stores them, for the tests of the API form and of the stored record.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "peers/model/spoke.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

namespace transit::peers::testing {

using routing::test::addr;
using routing::test::pfx;

inline constexpr std::string_view kPskA = "Hub.Secret_Alpha1";
inline constexpr std::string_view kPskB = "Hub.Secret_Bravo2";

using routing::test::addr;
using routing::test::pfx;

inline std::chrono::sys_seconds at(int year, int month, int day, int hour, int minute, int second) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / month / day} + hours{hour} + minutes{minute} +
         seconds{second};
}

// A vpc spoke with every field set, as the hub would store it.
inline Spoke fullVpcSpoke() {
  Spoke s;
  s.name = "prod-a";
  s.kind = SpokeKind::kVpc;
  s.cidrs = {pfx("10.1.0.0/16"), pfx("172.16.0.0/12"), pfx("192.168.7.0/24")};
  s.routing = RoutingMode::kBgp;
  s.asn = 4294967294U;
  s.preferred_hub = "hub-b";
  s.segment = "prod";
  s.export_limit = 80;
  s.import_limit = 400;
  s.tunnels = {Tunnel{addr("198.51.100.10"), pfx("169.254.20.0/30"), std::string(kPskA), "hub-a"},
               Tunnel{addr("198.51.100.11"), pfx("169.254.20.4/30"), std::string(kPskB), "hub-a"}};
  s.generation = 42;
  s.route_tag = 7;
  s.created_at = at(2026, 11, 26, 6, 30, 0);
  s.updated_at = at(2026, 11, 27, 23, 59, 59);
  return s;
}

// A static site spoke with the optional fields absent and one tunnel.
inline Spoke staticSiteSpoke() {
  Spoke s;
  s.name = "branch-1";
  s.kind = SpokeKind::kSite;
  s.cidrs = {pfx("10.50.0.0/16")};
  s.routing = RoutingMode::kStatic;
  s.tunnels = {Tunnel{addr("192.0.2.44"), pfx("169.254.200.8/30"), std::string(kPskA), "hub-a"}};
  s.generation = 1;
  s.route_tag = 3;
  s.created_at = at(2026, 1, 2, 3, 4, 5);
  s.updated_at = s.created_at;
  return s;
}

}  // namespace transit::peers::testing
