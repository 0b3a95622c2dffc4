// Pure parsers for whack's status output (libreswan 4.10), and the observation built from it.
//
// Owns nothing. Called by LibreswanDriver on the reconciler's thread. The input comes from
// outside: unknown or malformed lines are skipped, never trusted and never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/tunnel_driver.hpp"

namespace transit::peers {

// One connection in `whack --status`'s connection list.
struct StatusConnection {
  bool up_policy = false;  // policy has UP: --initiate was done and pluto keeps it alive
};

// `000 "name": ...` lines of `whack --status`, keyed by connection name.
std::map<std::string, StatusConnection> parseStatusConnections(std::string_view text);

// One STATE_V2_ESTABLISHED_IKE_SA line of `--showstates`.
struct EstablishedIkeSa {
  std::uint64_t serial = 0;  // pluto's state number, `#N`
  bool newest = false;       // pluto's `newest` flag: the IKE SA the connection uses
  bool operator==(const EstablishedIkeSa&) const = default;
};

// Per connection: what `--showstates` says.
struct ShowStatesEntry {
  bool ike_established = false;                       // a STATE_V2_ESTABLISHED_IKE_SA line
  bool child_established = false;                     // a STATE_V2_ESTABLISHED_CHILD_SA line
  std::string state;                                  // the most advanced state seen
  int rank = -1;                                      // how advanced `state` is
  std::vector<EstablishedIkeSa> established_ike_sas;  // in the order listed
};
std::map<std::string, ShowStatesEntry> parseShowStates(std::string_view text);

// The established IKE SAs of one connection beyond the one it uses, in ascending serial order:
// left when both ends initiated at once, each with its own Child SAs, and rekeyed separately
// for ever. Kept: the one flagged `newest`, or else the highest serial. Empty with one or none.
std::vector<std::uint64_t> duplicateIkeSas(const ShowStatesEntry& entry);

// Per connection: the sum of its `006` lines in `--trafficstatus`.
struct TrafficEntry {
  std::uint64_t in_bytes = 0;
  std::uint64_t out_bytes = 0;
};
std::map<std::string, TrafficEntry> parseTrafficStatus(std::string_view text);

// Combines the three outputs into the tunnels whose names start with prefix, sorted by name.
std::vector<ObservedTunnel> buildObservedTunnels(std::string_view status,
                                                 std::string_view showstates,
                                                 std::string_view trafficstatus,
                                                 std::string_view prefix);

}  // namespace transit::peers
