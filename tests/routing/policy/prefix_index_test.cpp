// Tests for routing/policy/prefix_index.hpp: a set of disjoint prefixes with owners that finds the
// stored prefix overlapping a query. Checked by hand at the edges and against a brute-force
// scan on many random sets (fixed seed, so every run tests the same sets).
#include "routing/policy/prefix_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace transit::routing {

// Readable failure messages for prefixes (found by argument-dependent lookup).
void PrintTo(const Ipv4Prefix& prefix, std::ostream* os) { *os << prefix.toString(); }

namespace {

Ipv4Prefix pfx(std::string_view text) {
  auto parsed = Ipv4Prefix::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Ipv4Prefix());
}

// Owner of the stored prefix overlapping `text`, or "<none>".
std::string ownerOverlapping(const PrefixIndex& index, std::string_view text) {
  auto found = index.findOverlap(pfx(text));
  return found ? found->owner : std::string("<none>");
}

TEST(PrefixIndex, EmptyIndexOverlapsNothing) {
  PrefixIndex index;
  EXPECT_EQ(index.size(), 0U);
  EXPECT_FALSE(index.findOverlap(pfx("0.0.0.0/0")).has_value());
  EXPECT_FALSE(index.findOverlap(pfx("10.0.0.0/8")).has_value());
}

TEST(PrefixIndex, FindsTheOverlappingPrefixAndItsOwner) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("10.1.0.0/16"), "prod-a"));
  ASSERT_TRUE(index.insert(pfx("10.2.0.0/16"), "prod-b"));

  auto same = index.findOverlap(pfx("10.1.0.0/16"));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->prefix, pfx("10.1.0.0/16"));
  EXPECT_EQ(same->owner, "prod-a");

  auto inner = index.findOverlap(pfx("10.2.3.0/24"));
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(inner->owner, "prod-b");

  auto last_address = index.findOverlap(pfx("10.2.255.255/32"));
  ASSERT_TRUE(last_address.has_value());
  EXPECT_EQ(last_address->owner, "prod-b");
}

TEST(PrefixIndex, ABroaderQueryFindsAStoredPrefixInsideIt) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("10.1.2.0/24"), "inner"));
  auto found = index.findOverlap(pfx("10.0.0.0/8"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->owner, "inner");
  EXPECT_TRUE(index.findOverlap(pfx("0.0.0.0/0")).has_value());
}

TEST(PrefixIndex, AdjacentPrefixesDoNotOverlap) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("10.1.0.0/16"), "a"));
  EXPECT_FALSE(index.findOverlap(pfx("10.0.0.0/16")).has_value());
  EXPECT_FALSE(index.findOverlap(pfx("10.2.0.0/16")).has_value());
  EXPECT_FALSE(index.findOverlap(pfx("10.0.255.255/32")).has_value());
  EXPECT_FALSE(index.findOverlap(pfx("10.2.0.0/32")).has_value());
  EXPECT_TRUE(index.insert(pfx("10.0.0.0/16"), "b"));
  EXPECT_TRUE(index.insert(pfx("10.2.0.0/16"), "c"));
  EXPECT_EQ(index.size(), 3U);
}

TEST(PrefixIndex, InsertRefusesAnOverlapAndChangesNothing) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("10.1.0.0/16"), "first"));
  EXPECT_FALSE(index.insert(pfx("10.1.0.0/16"), "same"));
  EXPECT_FALSE(index.insert(pfx("10.1.128.0/17"), "inner"));
  EXPECT_FALSE(index.insert(pfx("10.0.0.0/8"), "outer"));
  EXPECT_FALSE(index.insert(pfx("10.1.0.0/24"), "same-start"));
  EXPECT_EQ(index.size(), 1U);
  auto found = index.findOverlap(pfx("10.1.0.0/24"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->owner, "first");
  EXPECT_EQ(found->prefix, pfx("10.1.0.0/16"));
}

TEST(PrefixIndex, EdgesOfTheAddressSpace) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("0.0.0.0/32"), "bottom"));
  ASSERT_TRUE(index.insert(pfx("255.255.255.255/32"), "top"));
  EXPECT_EQ(ownerOverlapping(index, "255.255.255.0/24"), "top");
  EXPECT_EQ(ownerOverlapping(index, "0.0.0.0/24"), "bottom");
  EXPECT_FALSE(index.findOverlap(pfx("0.0.0.1/32")).has_value());
  EXPECT_FALSE(index.findOverlap(pfx("255.255.255.254/32")).has_value());
  EXPECT_FALSE(index.insert(pfx("0.0.0.0/0"), "all"));

  PrefixIndex whole;
  ASSERT_TRUE(whole.insert(pfx("0.0.0.0/0"), "all"));
  EXPECT_EQ(ownerOverlapping(whole, "255.255.255.255/32"), "all");
  EXPECT_EQ(ownerOverlapping(whole, "0.0.0.0/32"), "all");
  EXPECT_FALSE(whole.insert(pfx("1.2.3.4/32"), "one"));
}

TEST(PrefixIndex, EraseRemovesOnlyTheExactPrefix) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("10.1.0.0/16"), "a"));
  ASSERT_TRUE(index.insert(pfx("10.2.0.0/16"), "b"));

  index.erase(pfx("10.1.0.0/24"));  // same start, different length: not stored
  EXPECT_EQ(index.size(), 2U);
  EXPECT_TRUE(index.findOverlap(pfx("10.1.0.0/16")).has_value());

  index.erase(pfx("10.1.0.0/16"));
  EXPECT_EQ(index.size(), 1U);
  EXPECT_FALSE(index.findOverlap(pfx("10.1.0.0/16")).has_value());
  EXPECT_TRUE(index.findOverlap(pfx("10.2.0.0/16")).has_value());
}

TEST(PrefixIndex, EraseOfAnAbsentPrefixIsHarmless) {
  PrefixIndex index;
  index.erase(pfx("10.0.0.0/8"));
  ASSERT_TRUE(index.insert(pfx("10.1.0.0/16"), "a"));
  index.erase(pfx("10.0.0.0/8"));
  index.erase(pfx("192.168.0.0/16"));
  EXPECT_EQ(index.size(), 1U);
}

TEST(PrefixIndex, AfterEraseTheSpaceCanBeReused) {
  PrefixIndex index;
  ASSERT_TRUE(index.insert(pfx("10.1.0.0/16"), "old"));
  index.erase(pfx("10.1.0.0/16"));
  EXPECT_TRUE(index.insert(pfx("10.0.0.0/8"), "new"));
  EXPECT_EQ(ownerOverlapping(index, "10.1.2.3/32"), "new");
}

// ---- randomised comparison with a brute-force scan ----------------------------------------

struct Stored {
  Ipv4Prefix prefix;
  std::string owner;
};

std::vector<const Stored*> bruteForceOverlaps(const std::vector<Stored>& stored,
                                              const Ipv4Prefix& query) {
  std::vector<const Stored*> out;
  for (const auto& s : stored) {
    if (s.prefix.overlaps(query)) {
      out.push_back(&s);
    }
  }
  return out;
}

// Random prefixes concentrated in a small region (so that overlaps are frequent), with a few
// broad ones and a few anywhere in the address space.
Ipv4Prefix randomPrefix(std::mt19937& rng) {
  const std::uint32_t kind = rng() % 10;
  std::uint32_t address = 0;
  int length = 0;
  if (kind < 7) {
    address = 0x0A000000U | (rng() & 0x0000FFFFU);  // inside 10.0.0.0/16
    length = 14 + static_cast<int>(rng() % 19);     // 14..32
  } else if (kind < 9) {
    address = static_cast<std::uint32_t>(rng());
    length = 1 + static_cast<int>(rng() % 32);  // 1..32
  } else {
    address = 0x0A000000U | (rng() & 0x00FFFFFFU);
    length = 8 + static_cast<int>(rng() % 25);  // 8..32
  }
  return Ipv4Prefix::containing(Ipv4Address(address), length);
}

void expectSameAnswers(const PrefixIndex& index, const std::vector<Stored>& stored,
                       std::mt19937& rng, int queries) {
  for (int q = 0; q < queries; ++q) {
    const auto query = randomPrefix(rng);
    const auto expected = bruteForceOverlaps(stored, query);
    const auto found = index.findOverlap(query);
    ASSERT_EQ(found.has_value(), !expected.empty())
        << "query " << query.toString() << " brute force found " << expected.size();
    if (found) {
      bool matches_a_stored_entry = false;
      for (const auto* s : expected) {
        if (s->prefix == found->prefix && s->owner == found->owner) {
          matches_a_stored_entry = true;
        }
      }
      EXPECT_TRUE(matches_a_stored_entry)
          << "query " << query.toString() << " returned " << found->prefix.toString();
    }
  }
}

TEST(PrefixIndex, AgreesWithBruteForceOnRandomDisjointSets) {
  std::mt19937 rng(20261126U);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    PrefixIndex index;
    std::vector<Stored> stored;
    const int attempts = 1 + static_cast<int>(rng() % 200);
    for (int i = 0; i < attempts; ++i) {
      const auto candidate = randomPrefix(rng);
      const std::string owner = "spoke-" + std::to_string(i);
      const bool disjoint = bruteForceOverlaps(stored, candidate).empty();
      ASSERT_EQ(index.insert(candidate, owner), disjoint) << candidate.toString();
      if (disjoint) {
        stored.push_back(Stored{candidate, owner});
      }
      ASSERT_EQ(index.size(), stored.size());
    }
    expectSameAnswers(index, stored, rng, 300);
  }
}

TEST(PrefixIndex, AgreesWithBruteForceAfterRandomErases) {
  std::mt19937 rng(7224U);
  for (int round = 0; round < 100; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    PrefixIndex index;
    std::vector<Stored> stored;
    for (int i = 0; i < 150; ++i) {
      const auto candidate = randomPrefix(rng);
      if (bruteForceOverlaps(stored, candidate).empty()) {
        ASSERT_TRUE(index.insert(candidate, "o" + std::to_string(i)));
        stored.push_back(Stored{candidate, "o" + std::to_string(i)});
      }
    }
    // Erase about half, then refill with new random prefixes.
    for (std::size_t i = 0; i < stored.size();) {
      if (rng() % 2 == 0) {
        index.erase(stored[i].prefix);
        stored.erase(stored.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    ASSERT_EQ(index.size(), stored.size());
    expectSameAnswers(index, stored, rng, 200);
    for (int i = 0; i < 100; ++i) {
      const auto candidate = randomPrefix(rng);
      const bool disjoint = bruteForceOverlaps(stored, candidate).empty();
      ASSERT_EQ(index.insert(candidate, "n" + std::to_string(i)), disjoint) << candidate.toString();
      if (disjoint) {
        stored.push_back(Stored{candidate, "n" + std::to_string(i)});
      }
    }
    expectSameAnswers(index, stored, rng, 200);
  }
}

}  // namespace
}  // namespace transit::routing
