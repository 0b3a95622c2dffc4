// Parser for BIRD 2.0.12's `show route [filtered] all ...` reply (IPv4 routes).
//
// Owns: nothing; a pure function over a framed BirdReply, called by BirdDriver::observe() on the
// reconciler's thread and by tests with recorded replies (tests/data/bird/routes-*.txt).
//
// Reply shape (recorded from a real BIRD 2.0.12; codes per daemon-protocols.md §1.2):
//   1007-Table master4:
//    10.1.0.0/16          unicast [th_vpc_a_1 2026-11-26 09:30:05] * (100) [AS64512i]
//    \tvia 169.254.30.2 on thp-h1 [weight 1]        (one line per next hop; ECMP: several)
//   1008-\tType: BGP univ
//   1012-\tBGP.origin: IGP
//    \tBGP.as_path: 64700 {65101 65102}             (empty for iBGP; {..} is an AS set)
//    \tBGP.med: 50
//    \tBGP.large_community: (65000, 1, 1) (65000, 2, 3)   (the hub's segment and spoke tags)
//   1007-                     unreachable [th_summaries ...] (50)   (same prefix: leading blanks)
// Route and next-hop lines carry 1007, "Type:" 1008, attributes 1012. The parser classifies lines
// by their text, not by these codes, so an attribute line under another code is still read.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <vector>

#include "routing/bird/bird_reply.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::routing {

struct BirdRoutes {
  std::vector<ObservedRoute> routes;  // in BIRD's order
  // Route entries that could not be parsed (not IPv4, a malformed route line, next hop, AS path,
  // MED or large community), plus stray lines outside any route and intermediate error lines
  // ("8000-<line overflow>"). Such entries are left out of `routes`.
  std::size_t skipped = 0;
};

// Parses every route of the reply. `filtered`: the reply answers `show route filtered ...`; each
// route is marked filtered and never primary (BIRD prints `*` on the first route of a prefix in
// that view, but a filtered route is never selected). Fails only when BIRD's final code is an
// error (>= 8000: a syntax error, "8004 Stopped due to reconfiguration", ...); never throws.
std::expected<BirdRoutes, std::string> parseShowRouteAll(const BirdReply& reply, bool filtered);

}  // namespace transit::routing
