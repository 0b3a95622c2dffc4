// Tunnel inside networks: AWS's rules for them. A tunnel's inside network is a /30 inside
// 169.254.0.0/16, outside AWS's reserved list. Part of the floor because both sides need the
// rule: peers/ validates spokes and AWS documents against it, routing/ allocates by it.
//
// Owns: nothing; constants and a pure function. Any thread.
#pragma once

#include <algorithm>

#include "routing/base/prefix.hpp"

namespace transit {

inline constexpr Ipv4Prefix kInsidePool = kPrefix(169, 254, 0, 0, 16);
inline constexpr int kInsideLength = 30;

// Networks AWS refuses as tunnel inside CIDRs.
inline constexpr Ipv4Prefix kAwsReservedInside[] = {
    kPrefix(169, 254, 0, 0, 30),     kPrefix(169, 254, 1, 0, 30), kPrefix(169, 254, 2, 0, 30),
    kPrefix(169, 254, 3, 0, 30),     kPrefix(169, 254, 4, 0, 30), kPrefix(169, 254, 5, 0, 30),
    kPrefix(169, 254, 169, 252, 30),
};

// True when `prefix` overlaps a network AWS refuses as a tunnel inside CIDR.
inline bool isAwsReservedInside(const Ipv4Prefix& prefix) {
  return std::ranges::any_of(kAwsReservedInside,
                             [&](const Ipv4Prefix& r) { return r.overlaps(prefix); });
}

}  // namespace transit
