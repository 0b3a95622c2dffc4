#include "hub/core/conflicts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace transit::hub {
namespace {

// Every spoke's declared CIDRs by prefix, answering "which CIDRs overlap P?" in
// O(32 log n + k): those containing P are among P's 33 supernets (exact look-ups), those inside
// P start within P's addresses (one ordered range).
class DeclaredCidrs {
 public:
  explicit DeclaredCidrs(const DesiredState& desired) {
    for (const auto& [name, spoke] : desired.spokes) {
      for (const auto& cidr : spoke->cidrs) owners_.emplace(cidr, name);
    }
  }

  template <typename Visit>
  void forEachOverlap(const Ipv4Prefix& prefix, Visit visit) const {
    for (int length = 0; length < prefix.length(); ++length) {
      const auto supernet = Ipv4Prefix::containing(prefix.network(), length);
      const auto [first, last] = owners_.equal_range(supernet);
      for (auto it = first; it != last; ++it) visit(it->first, it->second);
    }
    for (auto it = owners_.lower_bound(prefix);
         it != owners_.end() && it->first.network() <= prefix.last(); ++it) {
      visit(it->first, it->second);
    }
  }

 private:
  std::multimap<Ipv4Prefix, std::string> owners_;
};

std::string resolution(const Ipv4Prefix& prefix, const std::string& owner, const Ipv4Prefix& cidr) {
  return fmt::format("refused: {} {}'s declared CIDR {}; {}'s routes are used",
                     cidr.contains(prefix) ? "inside" : "overlaps", owner, cidr.toString(), owner);
}

}  // namespace

std::vector<Conflict> findConflicts(const DesiredState& desired, const RouteOwners& owners,
                                    std::span<const routing::ObservedRoute> routes) {
  std::vector<Conflict> out;
  std::optional<DeclaredCidrs> cidrs;  // built only when some route was refused
  for (const auto& route : routes) {
    if (!route.filtered) continue;
    const auto owner = owners.of(route);
    if (!owner) continue;
    if (!cidrs) cidrs.emplace(desired);
    const RouteOwner& by = *owner;
    auto add = [&](const Ipv4Prefix& cidr, const std::string& spoke) {
      if (spoke == by.spoke) return;  // its own space: not another spoke's
      std::vector<int> tunnels;
      if (by.tunnel) tunnels.push_back(*by.tunnel);
      out.push_back(Conflict{route.prefix, by.spoke, std::move(tunnels), spoke, cidr,
                             resolution(route.prefix, spoke, cidr)});
    };
    cidrs->forEachOverlap(route.prefix, add);
  }
  auto key = [](const Conflict& c) {
    return std::tie(c.prefix, c.announced_by, c.overlaps_spoke, c.overlaps_cidr);
  };
  std::ranges::stable_sort(out,
                           [&](const Conflict& a, const Conflict& b) { return key(a) < key(b); });
  // One conflict per key, with the tunnels of every session that carried the route.
  std::vector<Conflict> merged;
  for (auto& conflict : out) {
    if (!merged.empty() && key(merged.back()) == key(conflict)) {
      auto& tunnels = merged.back().tunnels;
      tunnels.insert(tunnels.end(), conflict.tunnels.begin(), conflict.tunnels.end());
      continue;
    }
    merged.push_back(std::move(conflict));
  }
  for (auto& conflict : merged) {
    std::ranges::sort(conflict.tunnels);
    conflict.tunnels.erase(std::unique(conflict.tunnels.begin(), conflict.tunnels.end()),
                           conflict.tunnels.end());
  }
  return merged;
}

}  // namespace transit::hub
