// The allocator that hands out free tunnel inside /30s (the rules:
// routing/base/inside_network.hpp).
//
// Owns: the set of /30s in use on this hub. Called only from the hub's writer strand (the one
// place that changes desired state), so it has no locking of its own.
//
// An AWS VPN tunnel's inside network is a /30 inside 169.254.0.0/16, outside AWS's reserved
// list. The allocator hands out the lowest free /30 at or after a moving cursor: freed networks
// are reused only after the cursor wraps, so a /30 that a just-deleted spoke's peer may still
// hold is not handed to a new spoke at once.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>

#include "routing/base/inside_network.hpp"
#include "routing/base/prefix.hpp"

namespace transit::routing {

class InsideAllocator {
 public:
  // Marks a /30 as used. Returns false if it already was.
  bool reserve(const Ipv4Prefix& network);
  // Marks a /30 as free again; freeing a free network is harmless.
  void release(const Ipv4Prefix& network);
  bool isUsed(const Ipv4Prefix& network) const;
  std::size_t usedCount() const { return used_.size(); }

  // Picks and reserves a free, non-reserved /30 of the pool; nullopt when the pool is full.
  // `also_taken` are networks the caller is about to use but has not reserved yet.
  std::optional<Ipv4Prefix> allocate(std::span<const Ipv4Prefix> also_taken = {});

  // Where the next allocate() starts looking (the /30 containing `position`, wrapping inside the
  // pool). A hub of the pair that lost an allocation race to the other hub moves it to a random
  // place, so the two stop picking the same /30; the cursor is kept across reloads.
  void seek(Ipv4Address position);
  Ipv4Address cursor() const { return Ipv4Address(cursor_); }

 private:
  std::set<std::uint32_t> used_;  // network addresses of the /30s in use
  std::uint32_t cursor_ = kInsidePool.network().value();
};

}  // namespace transit::routing
