// Tests for routing/policy/summarize.hpp: covering a spoke's exports with at most `limit` prefixes
// that avoid its own CIDRs, with the least extra address space. Hand cases at the edges, then the
// optimal summariser (and the greedy baseline) against a brute-force search on 2,000 small random
// cases and against each other on 200 larger ones (fixed seeds, so every run checks the same
// cases and a failure names its case).
#include "routing/policy/summarize.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/routing/base/prefix_helpers.hpp"

namespace transit::routing {

// Readable failure messages for prefixes (found by argument-dependent lookup).
void PrintTo(const Ipv4Prefix& prefix, std::ostream* os) { *os << prefix.toString(); }

namespace {

using test::pfx;

std::vector<Ipv4Prefix> pfxs(std::initializer_list<std::string_view> texts) {
  std::vector<Ipv4Prefix> out;
  for (auto text : texts) {
    out.push_back(pfx(text));
  }
  return out;
}

std::vector<Ipv4Prefix> prefixesOf(const Summary& summary) {
  std::vector<Ipv4Prefix> out;
  for (const auto& entry : summary.prefixes) {
    out.push_back(entry.prefix);
  }
  return out;
}

std::string describe(const std::vector<Ipv4Prefix>& prefixes) {
  std::string out = "[";
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (i > 0) {
      out += ' ';
    }
    out += prefixes[i].toString();
  }
  out += ']';
  return out;
}

// ---- hand cases ---------------------------------------------------------------------------------

TEST(Summarize, UnderTheLimitReturnsThePrefixesUnchanged) {
  const auto p = pfxs({"10.9.0.0/16", "10.1.0.0/24", "10.1.1.0/24", "192.168.4.0/22"});
  const Summary summary = summarize(p, {}, 4);
  // Sorted, and adjacent prefixes are not joined when the limit does not require it.
  EXPECT_EQ(prefixesOf(summary),
            pfxs({"10.1.0.0/24", "10.1.1.0/24", "10.9.0.0/16", "192.168.4.0/22"}));
  EXPECT_EQ(summary.wasted_addresses, 0U);
  EXPECT_TRUE(summary.within_limit);
  for (const auto& entry : summary.prefixes) {
    EXPECT_EQ(entry.covers, std::vector<Ipv4Prefix>{entry.prefix});
  }
}

TEST(Summarize, NoPrefixesGiveAnEmptySummary) {
  const Summary summary = summarize({}, pfxs({"10.0.0.0/8"}), 100);
  EXPECT_TRUE(summary.prefixes.empty());
  EXPECT_EQ(summary.wasted_addresses, 0U);
  EXPECT_TRUE(summary.within_limit);
}

TEST(Summarize, TwoAdjacent24sBecomeOne23WithoutWaste) {
  const auto p = pfxs({"10.0.1.0/24", "10.0.0.0/24"});
  const Summary summary = summarize(p, {}, 1);
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/23"}));
  EXPECT_EQ(summary.wasted_addresses, 0U);
  EXPECT_TRUE(summary.within_limit);
}

TEST(Summarize, TakesTheCheapestMergeWhenNothingIsForbidden) {
  const auto p = pfxs({"10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"});
  const Summary summary = summarize(p, {}, 3);
  // 10.0.4.0/22 adds only 10.0.7.0/24; joining 10.0.0.0/24 and 10.0.2.0/24 would add two /24s.
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/22"}));
  EXPECT_EQ(summary.wasted_addresses, 256U);
}

TEST(Summarize, MergingSkipsAForbiddenHole) {
  const auto p = pfxs({"10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"});
  const auto f = pfxs({"10.0.7.0/24"});  // the receiving spoke's own CIDR
  const Summary summary = summarize(p, f, 3);
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/22", "10.0.4.0/23", "10.0.6.0/24"}));
  EXPECT_EQ(summary.wasted_addresses, 512U);
  EXPECT_TRUE(summary.within_limit);
}

TEST(Summarize, NestedAndDuplicatePrefixesAreNormalised) {
  const auto p = pfxs({"10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16", "10.0.0.0/16", "10.0.0.0/17"});
  const Summary two = summarize(p, {}, 2);
  EXPECT_EQ(prefixesOf(two), pfxs({"10.0.0.0/16", "10.1.0.0/16"}));
  EXPECT_EQ(two.wasted_addresses, 0U);

  const Summary one = summarize(p, {}, 1);
  ASSERT_EQ(prefixesOf(one), pfxs({"10.0.0.0/15"}));
  EXPECT_EQ(one.wasted_addresses, 0U);
  EXPECT_EQ(one.prefixes[0].covers, pfxs({"10.0.0.0/16", "10.1.0.0/16"}));
}

TEST(Summarize, CoversListsTheInputPrefixesOfEachSummary) {
  const auto p = pfxs(
      {"10.0.3.0/24", "10.0.0.0/24", "10.0.1.0/24", "10.8.0.0/24", "10.8.1.0/25", "10.0.0.128/25"});
  const Summary summary = summarize(p, {}, 2);
  ASSERT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/22", "10.8.0.0/23"}));
  EXPECT_EQ(summary.prefixes[0].covers, pfxs({"10.0.0.0/24", "10.0.1.0/24", "10.0.3.0/24"}));
  EXPECT_EQ(summary.prefixes[1].covers, pfxs({"10.8.0.0/24", "10.8.1.0/25"}));
  EXPECT_EQ(summary.wasted_addresses, 256U + 128U);
}

TEST(Summarize, WhenForbiddenPrefixesForceSplitsReturnsTheFewestPrefixes) {
  const auto p = pfxs({"10.0.0.0/24", "10.0.2.0/24", "10.0.3.0/25", "10.0.8.0/24"});
  const auto f = pfxs({"10.0.1.0/24"});
  const Summary summary = summarize(p, f, 1);
  // 10.0.0.0/22 and everything above it contains 10.0.1.0/24: three prefixes is the least.
  EXPECT_FALSE(summary.within_limit);
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/24", "10.0.2.0/23", "10.0.8.0/24"}));
  EXPECT_EQ(summary.wasted_addresses, 128U);
}

TEST(Summarize, ALimitOfZeroIsNeverMet) {
  const Summary summary = summarize(pfxs({"10.0.0.0/24", "10.0.1.0/24"}), {}, 0);
  EXPECT_FALSE(summary.within_limit);
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/23"}));
}

TEST(Summarize, TwoHalvesOfTheAddressSpaceBecomeSlashZero) {
  const Summary summary = summarize(pfxs({"128.0.0.0/1", "0.0.0.0/1"}), {}, 1);
  EXPECT_EQ(prefixesOf(summary), pfxs({"0.0.0.0/0"}));
  EXPECT_EQ(summary.wasted_addresses, 0U);
}

TEST(Summarize, WasteOfSlashZeroIsCountedIn64Bits) {
  const Summary summary = summarize(pfxs({"0.0.0.0/32", "255.255.255.255/32"}), {}, 1);
  EXPECT_EQ(prefixesOf(summary), pfxs({"0.0.0.0/0"}));
  EXPECT_EQ(summary.wasted_addresses, (std::uint64_t{1} << 32) - 2);
}

TEST(Summarize, NeverSummarisesToSlashZeroWhenAnythingIsForbidden) {
  const auto p = pfxs({"0.0.0.0/32", "255.255.255.255/32"});
  const Summary summary = summarize(p, pfxs({"10.0.0.0/8"}), 1);
  EXPECT_FALSE(summary.within_limit);
  EXPECT_EQ(prefixesOf(summary), p);
}

TEST(Summarize, APrefixThatOverlapsForbiddenIsSentAsIsButNeverWidened) {
  const auto p = pfxs({"0.0.0.0/0"});
  EXPECT_EQ(prefixesOf(summarize(p, pfxs({"10.0.0.0/8"}), 1)), p);

  const auto q = pfxs({"10.0.0.0/16", "10.1.0.0/16"});
  const Summary summary = summarize(q, pfxs({"10.0.5.0/24"}), 1);
  EXPECT_FALSE(summary.within_limit);
  EXPECT_EQ(prefixesOf(summary), q);
}

TEST(Summarize, Adjacent32sBecomeA31) {
  const Summary summary = summarize(pfxs({"10.0.0.7/32", "10.0.0.6/32"}), {}, 1);
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.6/31"}));
  EXPECT_EQ(summary.wasted_addresses, 0U);
}

// 100 /24s with a gap after each; the 101st fills one gap.
std::vector<Ipv4Prefix> spaced24s(int count) {
  std::vector<Ipv4Prefix> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(kPrefix(10, static_cast<std::uint8_t>(i / 64),
                          static_cast<std::uint8_t>(4 * (i % 64)), 0, 24));
  }
  return out;
}

TEST(Summarize, ExactlyHundredPrefixesPassUnchanged) {
  const auto p = spaced24s(100);
  const Summary summary = summarize(p, {}, 100);
  EXPECT_EQ(prefixesOf(summary), p);
  EXPECT_TRUE(summary.within_limit);
  EXPECT_EQ(summary.wasted_addresses, 0U);
}

TEST(Summarize, HundredAndOnePrefixesTakeTheOneFreeMerge) {
  auto p = spaced24s(100);
  p.push_back(pfx("10.1.33.0/24"));  // next to 10.1.32.0/24
  const Summary summary = summarize(p, {}, 100);
  ASSERT_EQ(summary.prefixes.size(), 100U);
  EXPECT_TRUE(summary.within_limit);
  EXPECT_EQ(summary.wasted_addresses, 0U);
  const auto out = prefixesOf(summary);
  EXPECT_NE(std::find(out.begin(), out.end(), pfx("10.1.32.0/23")), out.end());
}

TEST(Summarize, TheInputOrderDoesNotMatter) {
  auto p = spaced24s(100);
  for (int i = 0; i < 30; ++i) {
    p.push_back(kPrefix(10, 2, static_cast<std::uint8_t>(8 * i), 0, 26));
  }
  const Summary sorted = summarize(p, pfxs({"10.0.2.0/24"}), 20);
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(p.begin(), p.end(), rng);
    p.push_back(p[round]);  // and a duplicate
    const Summary shuffled = summarize(p, pfxs({"10.0.2.0/24"}), 20);
    EXPECT_EQ(prefixesOf(shuffled), prefixesOf(sorted));
    EXPECT_EQ(shuffled.wasted_addresses, sorted.wasted_addresses);
  }
}

TEST(SummarizeGreedy, UnderTheLimitReturnsThePrefixesUnchanged) {
  const auto p = pfxs({"10.0.1.0/24", "10.0.0.0/24"});
  EXPECT_EQ(prefixesOf(summarizeGreedy(p, {}, 2)), pfxs({"10.0.0.0/24", "10.0.1.0/24"}));
}

TEST(SummarizeGreedy, MergesTheCheapestAdjacentPairFirst) {
  const auto p = pfxs({"10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"});
  const Summary summary = summarizeGreedy(p, pfxs({"10.0.7.0/24"}), 3);
  EXPECT_EQ(prefixesOf(summary), pfxs({"10.0.0.0/22", "10.0.4.0/23", "10.0.6.0/24"}));
  EXPECT_EQ(summary.wasted_addresses, 512U);
  EXPECT_TRUE(summary.within_limit);
}

TEST(SummarizeGreedy, CanWasteMoreThanTheOptimum) {
  // Removing three summaries: greedy takes the three cheapest single merges (the /26s, 44
  // addresses each), where one merge at 10.0.0.0/24 removes three for 128.
  const auto p =
      pfxs({"10.0.0.0/27", "10.0.0.96/27", "10.0.0.128/27", "10.0.0.224/27", "10.1.0.0/28",
            "10.1.0.60/30", "10.2.0.0/28", "10.2.0.60/30", "10.3.0.0/28", "10.3.0.60/30"});
  const Summary greedy = summarizeGreedy(p, {}, 7);
  EXPECT_EQ(prefixesOf(greedy),
            pfxs({"10.0.0.0/27", "10.0.0.96/27", "10.0.0.128/27", "10.0.0.224/27", "10.1.0.0/26",
                  "10.2.0.0/26", "10.3.0.0/26"}));
  EXPECT_EQ(greedy.wasted_addresses, 3U * 44U);

  const Summary optimal = summarize(p, {}, 7);
  EXPECT_EQ(prefixesOf(optimal), pfxs({"10.0.0.0/24", "10.1.0.0/28", "10.1.0.60/30", "10.2.0.0/28",
                                       "10.2.0.60/30", "10.3.0.0/28", "10.3.0.60/30"}));
  EXPECT_EQ(optimal.wasted_addresses, 128U);
}

// ---- against brute force -----------------------------------------------------------------------

// One random case inside a /22 or /24 "universe": 1-10 possibly nested or duplicated P prefixes,
// 0-3 F prefixes disjoint from P, a limit of 1-5 (and at most the number of P prefixes).
struct Case {
  Ipv4Prefix universe;
  std::vector<Ipv4Prefix> p;
  std::vector<Ipv4Prefix> f;
  std::size_t limit = 1;

  std::string toString() const {
    return "P=" + describe(p) + " F=" + describe(f) + " limit=" + std::to_string(limit);
  }
};

Case randomCase(std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
  };
  Case c;
  const int universe_length = seed % 2 == 0 ? 22 : 24;
  // Mostly inside 10.0.0.0/8, sometimes at either end of the address space.
  const std::uint32_t base = seed % 7 == 0   ? 0
                             : seed % 7 == 1 ? 0xFFFFFFFFU
                                             : 0x0A000000U | uniform(0, 0xFFFFFF);
  c.universe = Ipv4Prefix::containing(Ipv4Address(base), universe_length);
  // Lengths from just below the universe to /32: short ones sometimes contain others.
  auto randomPrefix = [&](int min_length) {
    const auto length = static_cast<int>(uniform(static_cast<std::uint32_t>(min_length), 32));
    const auto offset = uniform(0, static_cast<std::uint32_t>(c.universe.size() - 1));
    return Ipv4Prefix::containing(c.universe.host(offset), length);
  };
  const auto p_count = uniform(1, 10);
  for (std::uint32_t i = 0; i < p_count; ++i) {
    c.p.push_back(randomPrefix(universe_length + 1));
    if (i > 0 && uniform(0, 9) == 0) {
      c.p.push_back(c.p[uniform(0, i - 1)]);  // a duplicate now and then
    }
  }
  const auto f_count = uniform(0, 3);
  for (std::uint32_t i = 0, tries = 0; i < f_count && tries < 50; ++tries) {
    const auto f = randomPrefix(universe_length + 2);
    if (std::none_of(c.p.begin(), c.p.end(), [&](const Ipv4Prefix& q) { return q.overlaps(f); })) {
      c.f.push_back(f);
      ++i;
    }
  }
  c.limit = uniform(1, std::min(5U, p_count));  // rarely above |P|: those cases are easy
  return c;
}

// Addresses of the universe as bits (a /22 has 1,024).
using Bits = std::bitset<1024>;

Bits bitsOf(const Ipv4Prefix& universe, const Ipv4Prefix& prefix) {
  Bits bits;
  if (prefix.contains(universe)) {
    for (std::uint64_t i = 0; i < universe.size(); ++i) {
      bits.set(i);
    }
  } else if (universe.contains(prefix)) {
    const std::uint64_t first = prefix.network().value() - universe.network().value();
    for (std::uint64_t i = 0; i < prefix.size(); ++i) {
      bits.set(first + i);
    }
  }
  return bits;
}

// |union| of prefixes, each pair nested or disjoint: the sizes of those inside no other one.
std::uint64_t unionSize(const std::vector<Ipv4Prefix>& prefixes) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    bool inside_another = false;
    for (std::size_t j = 0; j < prefixes.size(); ++j) {
      if (j != i && prefixes[j].contains(prefixes[i]) && (prefixes[j] != prefixes[i] || j < i)) {
        inside_another = true;
      }
    }
    if (!inside_another) {
      total += prefixes[i].size();
    }
  }
  return total;
}

struct BruteForce {
  std::optional<std::uint64_t> best_waste;  // least waste with at most `limit` prefixes
  std::size_t fewest = 0;                   // fewest prefixes in any cover
  std::uint64_t waste_at_fewest = 0;        // least waste among covers with `fewest` prefixes
};

// Every set of candidates (supernets of P prefixes that overlap no F prefix, and the P prefixes
// themselves) that covers P. A candidate is dropped when a smaller candidate covers the same P
// addresses: swapping them keeps the cover and cannot add waste.
BruteForce bruteForce(const Case& c) {
  Bits p_bits;
  for (const auto& q : c.p) {
    p_bits |= bitsOf(c.universe, q);
  }
  std::map<std::string, Ipv4Prefix> by_coverage;  // P addresses covered -> smallest candidate
  for (const auto& q : c.p) {
    for (int length = 0; length <= q.length(); ++length) {
      const auto candidate = Ipv4Prefix::containing(q.network(), length);
      const bool forbidden = std::any_of(
          c.f.begin(), c.f.end(), [&](const Ipv4Prefix& f) { return f.overlaps(candidate); });
      if (forbidden && candidate != q) {
        continue;
      }
      const std::string key = (bitsOf(c.universe, candidate) & p_bits).to_string();
      auto [it, added] = by_coverage.emplace(key, candidate);
      if (!added && candidate.length() > it->second.length()) {
        it->second = candidate;
      }
    }
  }
  std::vector<Ipv4Prefix> candidates;
  std::vector<Bits> coverage;
  for (const auto& [key, candidate] : by_coverage) {
    candidates.push_back(candidate);
    coverage.push_back(bitsOf(c.universe, candidate) & p_bits);
  }

  const std::uint64_t p_size = unionSize(c.p);
  BruteForce result;
  std::vector<Ipv4Prefix> chosen;
  std::optional<std::uint64_t> best_of_size;
  // All subsets of exactly `size` candidates, starting at index `from`.
  auto search = [&](auto& self, std::size_t from, std::size_t size, const Bits& covered) -> void {
    if (chosen.size() == size) {
      if (covered == p_bits) {
        const std::uint64_t waste = unionSize(chosen) - p_size;
        if (!best_of_size || waste < *best_of_size) {
          best_of_size = waste;
        }
      }
      return;
    }
    for (std::size_t i = from; i < candidates.size(); ++i) {
      chosen.push_back(candidates[i]);
      self(self, i + 1, size, covered | coverage[i]);
      chosen.pop_back();
    }
  };
  for (std::size_t size = 1; size <= candidates.size(); ++size) {
    best_of_size.reset();
    search(search, 0, size, Bits());
    if (best_of_size && result.fewest == 0) {
      result.fewest = size;
      result.waste_at_fewest = *best_of_size;
    }
    if (best_of_size && size <= c.limit &&
        (!result.best_waste || *best_of_size < *result.best_waste)) {
      result.best_waste = best_of_size;
    }
    if (size >= c.limit && result.fewest != 0) {
      break;
    }
  }
  return result;
}

// What must hold for any result, optimal or not: sorted disjoint prefixes that cover P, avoid F,
// list the right covers, and report their waste.
void expectValidCover(const Case& c, const Summary& summary) {
  Bits p_bits;
  for (const auto& q : c.p) {
    p_bits |= bitsOf(c.universe, q);
  }
  Bits covered;
  std::vector<Ipv4Prefix> all_covers;
  const auto out = prefixesOf(summary);
  for (std::size_t i = 0; i < out.size(); ++i) {
    covered |= bitsOf(c.universe, out[i]);
    if (i > 0) {
      EXPECT_LT(out[i - 1].last(), out[i].network()) << "not sorted and disjoint";
    }
    for (const auto& f : c.f) {
      EXPECT_FALSE(out[i].overlaps(f)) << out[i].toString() << " overlaps " << f.toString();
    }
    for (const auto& q : summary.prefixes[i].covers) {
      EXPECT_TRUE(out[i].contains(q));
      all_covers.push_back(q);
    }
  }
  EXPECT_EQ(covered & p_bits, p_bits) << "does not cover P";
  // The covers, together, are normalised P: sorted, and each P prefix in exactly one outermost.
  std::vector<Ipv4Prefix> normalised;
  for (const auto& q : c.p) {
    const bool inner = std::any_of(c.p.begin(), c.p.end(),
                                   [&](const Ipv4Prefix& o) { return o != q && o.contains(q); });
    if (!inner && std::find(normalised.begin(), normalised.end(), q) == normalised.end()) {
      normalised.push_back(q);
    }
  }
  std::sort(normalised.begin(), normalised.end());
  EXPECT_EQ(all_covers, normalised);
  EXPECT_EQ(summary.wasted_addresses, unionSize(out) - unionSize(c.p));
}

TEST(SummarizeProperty, MatchesBruteForceOnSmallRandomCases) {
  int feasible = 0;
  int infeasible = 0;
  int summarised = 0;
  int greedy_worse = 0;
  for (std::uint32_t seed = 1; seed <= 2000; ++seed) {
    const Case c = randomCase(seed);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + c.toString());
    const BruteForce expected = bruteForce(c);
    const Summary optimal = summarize(c.p, c.f, c.limit);
    const Summary greedy = summarizeGreedy(c.p, c.f, c.limit);
    expectValidCover(c, optimal);
    expectValidCover(c, greedy);
    std::size_t normalised = 0;
    for (const auto& entry : optimal.prefixes) {
      normalised += entry.covers.size();
    }
    summarised += normalised > c.limit ? 1 : 0;
    if (expected.best_waste) {
      ++feasible;
      EXPECT_TRUE(optimal.within_limit);
      EXPECT_LE(optimal.prefixes.size(), c.limit);
      EXPECT_EQ(optimal.wasted_addresses, *expected.best_waste);
      EXPECT_TRUE(greedy.within_limit);
      EXPECT_LE(greedy.prefixes.size(), c.limit);
      EXPECT_GE(greedy.wasted_addresses, *expected.best_waste);
      greedy_worse += greedy.wasted_addresses > *expected.best_waste ? 1 : 0;
    } else {
      ++infeasible;
      EXPECT_FALSE(optimal.within_limit);
      EXPECT_EQ(optimal.prefixes.size(), expected.fewest);
      EXPECT_EQ(optimal.wasted_addresses, expected.waste_at_fewest);
      EXPECT_FALSE(greedy.within_limit);
    }
    if (testing::Test::HasFailure()) {
      break;  // one case's messages are enough
    }
  }
  // The generator must exercise both outcomes, and cases that need summarising at all.
  EXPECT_GT(feasible, 1000);
  EXPECT_GT(infeasible, 100);
  EXPECT_GT(summarised, 800);
  std::cout << "cases: " << feasible << " feasible, " << infeasible << " infeasible, " << summarised
            << " over the limit before summarising; greedy wasted more than the "
            << "optimum in " << greedy_worse << "\n";
}

// Addresses in the union of any prefixes.
std::uint64_t addressesOf(std::vector<Ipv4Prefix> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  std::uint64_t total = 0;
  std::uint64_t counted_to = 0;  // one past the last address counted
  for (const auto& prefix : prefixes) {
    const std::uint64_t end = std::uint64_t{prefix.last().value()} + 1;
    if (end > counted_to) {
      total += end - std::max<std::uint64_t>(prefix.network().value(), counted_to);
      counted_to = end;
    }
  }
  return total;
}

// A valid cover of a larger case, checked without address bitsets: sorted and disjoint, every P
// prefix inside one summary, no summary overlapping F, the waste as reported.
void expectValidLargeCover(const std::vector<Ipv4Prefix>& p, const std::vector<Ipv4Prefix>& f,
                           const Summary& summary) {
  const auto out = prefixesOf(summary);
  for (std::size_t i = 1; i < out.size(); ++i) {
    EXPECT_LT(out[i - 1].last(), out[i].network()) << "not sorted and disjoint";
  }
  for (const auto& q : p) {
    auto it = std::upper_bound(out.begin(), out.end(), q);
    const bool inside =
        (it != out.end() && it->contains(q)) || (it != out.begin() && std::prev(it)->contains(q));
    EXPECT_TRUE(inside) << q.toString() << " is not covered";
  }
  for (const auto& prefix : out) {
    for (const auto& forbidden : f) {
      EXPECT_FALSE(prefix.overlaps(forbidden)) << prefix.toString();
    }
  }
  EXPECT_EQ(summary.wasted_addresses, addressesOf(out) - addressesOf(p));
}

TEST(SummarizeProperty, NeverWastesMoreThanGreedyOnLargerCases) {
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    auto uniform = [&](std::uint32_t lo, std::uint32_t hi) {
      return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    const Ipv4Prefix universe = pfx("172.16.0.0/16");
    auto randomPrefix = [&](std::uint32_t min_length, std::uint32_t max_length) {
      return Ipv4Prefix::containing(universe.host(uniform(0, 0xFFFF)),
                                    static_cast<int>(uniform(min_length, max_length)));
    };
    std::vector<Ipv4Prefix> p;
    const auto count = uniform(20, 400);
    for (std::uint32_t i = 0; i < count; ++i) {
      p.push_back(randomPrefix(19, 30));
    }
    std::vector<Ipv4Prefix> f;
    for (std::uint32_t tries = 0, wanted = uniform(0, 5); tries < 50 && f.size() < wanted;
         ++tries) {
      const auto candidate = randomPrefix(20, 28);
      if (std::none_of(p.begin(), p.end(),
                       [&](const Ipv4Prefix& q) { return q.overlaps(candidate); })) {
        f.push_back(candidate);
      }
    }
    const std::size_t limit = uniform(1, 100);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": P=" + describe(p) + " F=" + describe(f) +
                 " limit=" + std::to_string(limit));
    const Summary optimal = summarize(p, f, limit);
    const Summary greedy = summarizeGreedy(p, f, limit);
    expectValidLargeCover(p, f, optimal);
    expectValidLargeCover(p, f, greedy);
    ASSERT_EQ(optimal.within_limit, greedy.within_limit);
    if (optimal.within_limit) {
      EXPECT_LE(optimal.prefixes.size(), limit);
      EXPECT_LE(greedy.prefixes.size(), limit);
      EXPECT_LE(optimal.wasted_addresses, greedy.wasted_addresses);
    } else {
      EXPECT_LE(optimal.prefixes.size(), greedy.prefixes.size());
    }
  }
}

}  // namespace
}  // namespace transit::routing
