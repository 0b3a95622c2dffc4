// Tests for routing/policy/inside_allocator.hpp: AWS's reserved inside networks and the allocator
// that hands out free /30s of 169.254.0.0/16 from a moving cursor.
#include "routing/policy/inside_allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>
#include <vector>

namespace transit::routing {

// Readable failure messages for prefixes (found by argument-dependent lookup).
void PrintTo(const Ipv4Prefix& prefix, std::ostream* os) { *os << prefix.toString(); }

namespace {

// 169.254.0.0/16 holds 16384 /30s; AWS reserves seven of them.
constexpr std::size_t kSlots = 16384;
constexpr std::size_t kReservedCount = 7;
constexpr std::size_t kFreeSlots = kSlots - kReservedCount;

Ipv4Prefix pfx(std::string_view text) {
  auto parsed = Ipv4Prefix::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Ipv4Prefix());
}

// Allocates until the pool is full; returns what was handed out, in order.
std::vector<Ipv4Prefix> drain(InsideAllocator& allocator) {
  std::vector<Ipv4Prefix> out;
  while (auto next = allocator.allocate()) {
    out.push_back(*next);
    if (out.size() > kSlots) {
      ADD_FAILURE() << "allocator handed out more /30s than the pool holds";
      break;
    }
  }
  return out;
}

TEST(AwsReservedInside, RecognisesAllSevenReservedNetworks) {
  const std::string_view reserved[] = {
      "169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30",     "169.254.3.0/30",
      "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30",
  };
  for (const auto text : reserved) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(isAwsReservedInside(pfx(text)));
  }
  EXPECT_EQ(std::size(kAwsReservedInside), kReservedCount);
}

TEST(AwsReservedInside, NeighboursOfReservedNetworksAreUsable) {
  const std::string_view usable[] = {
      "169.254.0.4/30",     "169.254.0.252/30", "169.254.1.4/30",     "169.254.5.4/30",
      "169.254.6.0/30",     "169.254.10.0/30",  "169.254.169.248/30", "169.254.170.0/30",
      "169.254.255.252/30", "169.254.20.0/30",
  };
  for (const auto text : usable) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(isAwsReservedInside(pfx(text)));
  }
}

TEST(InsideAllocator, FirstAllocationSkipsTheReservedFirstNetwork) {
  InsideAllocator allocator;
  auto first = allocator.allocate();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, pfx("169.254.0.4/30"));
  EXPECT_TRUE(allocator.isUsed(*first));
  EXPECT_EQ(allocator.usedCount(), 1U);
}

TEST(InsideAllocator, HandsOutLowestFreeNetworksInOrder) {
  InsideAllocator allocator;
  EXPECT_EQ(allocator.allocate(), pfx("169.254.0.4/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.0.8/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.0.12/30"));
}

TEST(InsideAllocator, ExhaustsAfterExactlyTheFreeSlotsAndStaysExhausted) {
  InsideAllocator allocator;
  const auto handed = drain(allocator);
  EXPECT_EQ(handed.size(), kFreeSlots);
  EXPECT_EQ(allocator.usedCount(), kFreeSlots);
  EXPECT_FALSE(allocator.allocate().has_value());
  EXPECT_FALSE(allocator.allocate().has_value());
  EXPECT_EQ(allocator.usedCount(), kFreeSlots);
}

TEST(InsideAllocator, EveryAllocationIsADistinctUsableSlash30InsideTheLinkLocalPool) {
  InsideAllocator allocator;
  const auto handed = drain(allocator);
  std::set<Ipv4Prefix> seen;
  for (const auto& p : handed) {
    SCOPED_TRACE(p.toString());
    EXPECT_EQ(p.length(), 30);
    EXPECT_TRUE(pfx("169.254.0.0/16").contains(p));
    EXPECT_FALSE(isAwsReservedInside(p));
    EXPECT_TRUE(allocator.isUsed(p));
    EXPECT_TRUE(seen.insert(p).second) << "handed out twice";
  }
  for (const auto& reserved : kAwsReservedInside) {
    EXPECT_FALSE(seen.contains(reserved)) << reserved.toString();
    EXPECT_FALSE(allocator.isUsed(reserved)) << reserved.toString();
  }
}

TEST(InsideAllocator, NeverHandsOutANetworkReservedByTheCaller) {
  InsideAllocator allocator;
  const std::vector<Ipv4Prefix> taken = {pfx("169.254.0.4/30"), pfx("169.254.0.12/30"),
                                         pfx("169.254.20.0/30"), pfx("169.254.255.252/30")};
  for (const auto& p : taken) {
    EXPECT_TRUE(allocator.reserve(p));
  }
  const auto handed = drain(allocator);
  EXPECT_EQ(handed.size(), kFreeSlots - taken.size());
  for (const auto& p : handed) {
    for (const auto& t : taken) {
      EXPECT_NE(p, t);
    }
  }
  EXPECT_EQ(handed.front(), pfx("169.254.0.8/30"));
}

TEST(InsideAllocator, ReserveReportsWhetherTheNetworkWasAlreadyUsed) {
  InsideAllocator allocator;
  EXPECT_FALSE(allocator.isUsed(pfx("169.254.20.0/30")));
  EXPECT_TRUE(allocator.reserve(pfx("169.254.20.0/30")));
  EXPECT_TRUE(allocator.isUsed(pfx("169.254.20.0/30")));
  EXPECT_FALSE(allocator.reserve(pfx("169.254.20.0/30")));
  EXPECT_EQ(allocator.usedCount(), 1U);
}

TEST(InsideAllocator, ReleaseFreesAndIsHarmlessTwice) {
  InsideAllocator allocator;
  const auto p = allocator.allocate();
  ASSERT_TRUE(p.has_value());
  allocator.release(*p);
  EXPECT_FALSE(allocator.isUsed(*p));
  EXPECT_EQ(allocator.usedCount(), 0U);
  allocator.release(*p);
  allocator.release(pfx("169.254.99.0/30"));
  EXPECT_EQ(allocator.usedCount(), 0U);
}

TEST(InsideAllocator, FreedNetworkIsNotReusedBeforeTheCursorWraps) {
  InsideAllocator allocator;
  const auto a = allocator.allocate();
  const auto b = allocator.allocate();
  const auto c = allocator.allocate();
  ASSERT_TRUE(a && b && c);
  allocator.release(*b);
  allocator.release(*a);
  const auto d = allocator.allocate();
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(*d, *a);
  EXPECT_NE(*d, *b);
  EXPECT_EQ(*d, pfx("169.254.0.16/30"));
}

TEST(InsideAllocator, FreedNetworksAreReusedAfterTheCursorWraps) {
  InsideAllocator allocator;
  const auto handed = drain(allocator);
  ASSERT_EQ(handed.size(), kFreeSlots);
  // Free one low and one high network; the next allocations wrap around to them, lowest first.
  allocator.release(pfx("169.254.200.0/30"));
  allocator.release(pfx("169.254.7.4/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.7.4/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.200.0/30"));
  EXPECT_FALSE(allocator.allocate().has_value());
}

TEST(InsideAllocator, CursorWrapsFromTheTopOfThePool) {
  InsideAllocator allocator;
  // Use everything below the last /30, so the next allocation is the last one of the pool.
  for (std::uint32_t value = pfx("169.254.0.0/16").network().value();
       value < pfx("169.254.255.252/30").network().value(); value += 4) {
    const auto p = Ipv4Prefix::containing(Ipv4Address(value), 30);
    if (!isAwsReservedInside(p)) {
      allocator.reserve(p);
    }
  }
  EXPECT_EQ(allocator.allocate(), pfx("169.254.255.252/30"));
  allocator.release(pfx("169.254.9.8/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.9.8/30"));
  EXPECT_FALSE(allocator.allocate().has_value());
}

TEST(InsideAllocator, ReleaseAfterExhaustionMakesExactlyThatNetworkAvailable) {
  InsideAllocator allocator;
  ASSERT_EQ(drain(allocator).size(), kFreeSlots);
  allocator.release(pfx("169.254.42.8/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.42.8/30"));
  EXPECT_FALSE(allocator.allocate().has_value());
}

TEST(InsideAllocator, AlsoTakenNetworksAreSkippedButNotMarkedUsed) {
  InsideAllocator allocator;
  const std::vector<Ipv4Prefix> pending = {pfx("169.254.0.4/30"), pfx("169.254.0.8/30")};
  const auto p = allocator.allocate(pending);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, pfx("169.254.0.12/30"));
  EXPECT_FALSE(allocator.isUsed(pending[0]));
  EXPECT_FALSE(allocator.isUsed(pending[1]));
  EXPECT_EQ(allocator.usedCount(), 1U);
}

TEST(InsideAllocator, AlsoTakenCanMakeTheLastFreeNetworkUnavailable) {
  InsideAllocator allocator;
  ASSERT_EQ(drain(allocator).size(), kFreeSlots);
  allocator.release(pfx("169.254.42.8/30"));
  const std::vector<Ipv4Prefix> pending = {pfx("169.254.42.8/30")};
  EXPECT_FALSE(allocator.allocate(pending).has_value());
  EXPECT_EQ(allocator.allocate(), pfx("169.254.42.8/30"));
}

TEST(InsideAllocator, TunnelWithoutInsideCidrAvoidsItsSiblingsRequestedNetwork) {
  // A request names 169.254.0.4/30 for tunnels[0] and leaves tunnels[1] to the allocator; the
  // named network is not reserved yet, so it is passed as also_taken.
  InsideAllocator allocator;
  allocator.reserve(pfx("169.254.0.8/30"));
  const std::vector<Ipv4Prefix> pending = {pfx("169.254.0.4/30")};
  const auto b = allocator.allocate(pending);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, pfx("169.254.0.12/30"));
}

TEST(InsideAllocator, SeekMovesWhereTheNextSearchStartsAndWraps) {
  InsideAllocator allocator;
  allocator.seek(*Ipv4Address::parse("169.254.77.9"));  // inside 169.254.77.8/30
  EXPECT_EQ(allocator.cursor(), *Ipv4Address::parse("169.254.77.8"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.77.8/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.77.12/30"));
  // The pool's last /30, then the search wraps to the first free one.
  allocator.seek(*Ipv4Address::parse("169.254.255.252"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.255.252/30"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.0.4/30"));
  // A position outside the pool starts at the pool's beginning.
  allocator.seek(*Ipv4Address::parse("10.0.0.1"));
  EXPECT_EQ(allocator.cursor(), *Ipv4Address::parse("169.254.0.0"));
  EXPECT_EQ(allocator.allocate(), pfx("169.254.0.8/30"));
}

}  // namespace
}  // namespace transit::routing
