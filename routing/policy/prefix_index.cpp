#include "routing/policy/prefix_index.hpp"

namespace transit::routing {

std::optional<PrefixIndex::Entry> PrefixIndex::findOverlap(const Ipv4Prefix& prefix) const {
  const std::uint32_t start = prefix.network().value();
  const std::uint32_t last = prefix.last().value();
  // The first stored range that ends at or after `start` is the only candidate: stored ranges
  // are disjoint, so ranges are ordered by their ends as well as by their starts.
  auto it = by_start_.upper_bound(start);
  if (it != by_start_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.last >= start) {
      return Entry{prev->second.prefix, prev->second.owner};
    }
  }
  if (it != by_start_.end() && it->first <= last) {
    return Entry{it->second.prefix, it->second.owner};
  }
  return std::nullopt;
}

bool PrefixIndex::insert(const Ipv4Prefix& prefix, std::string owner) {
  if (findOverlap(prefix)) {
    return false;
  }
  by_start_.emplace(prefix.network().value(),
                    Value{prefix.last().value(), prefix, std::move(owner)});
  return true;
}

void PrefixIndex::erase(const Ipv4Prefix& prefix) {
  auto it = by_start_.find(prefix.network().value());
  if (it != by_start_.end() && it->second.prefix == prefix) {
    by_start_.erase(it);
  }
}

}  // namespace transit::routing
