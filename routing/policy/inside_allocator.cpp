#include "routing/policy/inside_allocator.hpp"

#include <algorithm>

namespace transit::routing {

bool InsideAllocator::reserve(const Ipv4Prefix& network) {
  return used_.insert(network.network().value()).second;
}

void InsideAllocator::release(const Ipv4Prefix& network) { used_.erase(network.network().value()); }

bool InsideAllocator::isUsed(const Ipv4Prefix& network) const {
  return used_.contains(network.network().value());
}

std::optional<Ipv4Prefix> InsideAllocator::allocate(std::span<const Ipv4Prefix> also_taken) {
  const std::uint32_t first = kInsidePool.network().value();
  const std::uint64_t slots = kInsidePool.size() / 4;
  std::uint32_t candidate = cursor_;
  for (std::uint64_t tried = 0; tried < slots; ++tried) {
    const auto network = Ipv4Prefix::containing(Ipv4Address(candidate), kInsideLength);
    candidate = kInsidePool.contains(Ipv4Address(candidate + 4)) ? candidate + 4 : first;
    if (used_.contains(network.network().value()) || isAwsReservedInside(network) ||
        std::ranges::find(also_taken, network) != also_taken.end()) {
      continue;
    }
    used_.insert(network.network().value());
    cursor_ = candidate;
    return network;
  }
  return std::nullopt;
}

void InsideAllocator::seek(Ipv4Address position) {
  cursor_ = kInsidePool.contains(position)
                ? Ipv4Prefix::containing(position, kInsideLength).network().value()
                : kInsidePool.network().value();
}

}  // namespace transit::routing
