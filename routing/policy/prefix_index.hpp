// PrefixIndex: a set of pairwise disjoint prefixes, each with an owner, that answers "which
// stored prefix overlaps this one?" in O(log n).
//
// Owns: its entries. Not thread-safe; the hub's writer strand keeps one for the spokes' declared
// CIDRs, which must never overlap between spokes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "routing/base/prefix.hpp"

namespace transit::routing {

class PrefixIndex {
 public:
  struct Entry {
    Ipv4Prefix prefix;
    std::string owner;
  };

  // The stored prefix that overlaps `prefix`, if any.
  std::optional<Entry> findOverlap(const Ipv4Prefix& prefix) const;
  // Inserts a prefix that overlaps nothing stored; returns false (and changes nothing) if it does.
  bool insert(const Ipv4Prefix& prefix, std::string owner);
  void erase(const Ipv4Prefix& prefix);
  std::size_t size() const { return by_start_.size(); }

 private:
  struct Value {
    std::uint32_t last;
    Ipv4Prefix prefix;
    std::string owner;
  };
  std::map<std::uint32_t, Value> by_start_;  // disjoint, so ordered by start and by end alike
};

}  // namespace transit::routing
