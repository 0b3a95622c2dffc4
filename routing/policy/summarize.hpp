// Summarising the prefixes the hub exports to one spoke under a cap on how many it may send.
//
// Owns: nothing; pure functions over values. Called from any thread (no shared state).
//
// An AWS VGW tears its BGP session down when it receives more than 100 prefixes, so the hub
// sends each spoke at most `limit` prefixes. Given the set P a spoke must reach (`must_reach`)
// and the spoke's own CIDRs F (`forbidden`), `summarize` returns a set S of at most `limit`
// prefixes that covers every address of P, overlaps no address of F, and adds the least address
// space: waste(S) = |union(S)| - |union(P)|, counted in addresses (64-bit; a /0 is 2^32).
//
// Normalisation: only the union of P matters, so P is sorted, duplicates are dropped and a
// prefix inside another P prefix is dropped ("normalised P"). Adjacent P prefixes are NOT joined
// by normalisation: that is a summary, and it is made only when the limit requires it. When
// normalised P has at most `limit` prefixes the result is exactly normalised P, with waste 0.
//
// Conflicts between P and F are the caller's to resolve. A P prefix that itself overlaps F is
// still sent, but only as exactly that prefix: no summary ever contains it in a larger prefix.
//
// When no cover with at most `limit` prefixes exists (F can force splits), the result is the
// cover with the fewest prefixes (the largest prefixes that do not overlap F), with
// within_limit = false; the caller decides what to do (refuse, alert, send it anyway).
//
// `summarize` is optimal: a dynamic programme over the path-compressed binary trie of normalised
// P (n prefixes), O(n log n + n * limit) time and at most O(n * limit) memory; about 20 ms for
// 100,000 prefixes to 100 on one core (tests/bench/summarize). Ties between equally wasteful covers
// go to the one with fewer prefixes, then, at each branching of the trie, to the split that gives
// the lower-address half the smaller share of the limit. The result does not depend on the order of
// the input. `summarizeGreedy` is the simple baseline it is benchmarked against; the hub does not
// use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "routing/base/prefix.hpp"

namespace transit::routing {

struct SummaryEntry {
  Ipv4Prefix prefix;
  std::vector<Ipv4Prefix> covers;  // the normalised P prefixes inside `prefix`, sorted
};

struct Summary {
  std::vector<SummaryEntry> prefixes;  // sorted by address, pairwise disjoint
  std::uint64_t wasted_addresses = 0;  // |union(prefixes)| - |union(must_reach)|
  bool within_limit = true;            // prefixes.size() <= limit
};

// The least wasteful cover of `must_reach` with at most `limit` prefixes that overlap nothing in
// `forbidden` (see above). The inputs may be unsorted and contain duplicates or nested prefixes.
Summary summarize(std::span<const Ipv4Prefix> must_reach, std::span<const Ipv4Prefix> forbidden,
                  std::size_t limit);

// Baseline for the benchmark, not used by the hub: starting from normalised P, repeatedly merges
// the two address-adjacent summaries whose smallest common supernet adds the least waste (and
// does not overlap `forbidden`) until at most `limit` remain. A supernet replaces every summary
// inside it. Ties go to the lower address. Never less wasteful than `summarize`.
Summary summarizeGreedy(std::span<const Ipv4Prefix> must_reach,
                        std::span<const Ipv4Prefix> forbidden, std::size_t limit);

}  // namespace transit::routing
