// Tests for routing/base/prefix.hpp: strict IPv4 address and prefix parsing (one spelling per
// value), formatting, and the prefix arithmetic (contains, overlaps, last, size, host) at its
// edges.
#include "routing/base/prefix.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace transit::routing {
namespace {

using routing::test::addr;
using routing::test::pfx;

// ---- Ipv4Address::parse -------------------------------------------------------------------

TEST(Ipv4AddressParse, AcceptsDottedQuadsAndComputesTheValue) {
  struct Case {
    std::string_view text;
    std::uint32_t value;
  };
  const Case cases[] = {
      {"0.0.0.0", 0x00000000U},         {"255.255.255.255", 0xFFFFFFFFU}, {"10.0.0.1", 0x0A000001U},
      {"192.168.100.200", 0xC0A864C8U}, {"169.254.169.252", 0xA9FEA9FCU}, {"1.2.3.4", 0x01020304U},
      {"100.10.0.9", 0x640A0009U},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto parsed = Ipv4Address::parse(c.text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(parsed->value(), c.value);
  }
}

TEST(Ipv4AddressParse, RejectsEverythingButTheCanonicalSpelling) {
  const std::string_view cases[] = {
      "",                  // empty
      "1",                 // missing parts
      "1.2",               //
      "1.2.3",             //
      "1.2.3.4.5",         // extra part
      "1.2.3.4.",          // trailing dot
      ".1.2.3",            // leading dot
      "1..2.3",            // empty part
      "...",               //
      "01.2.3.4",          // leading zeros
      "1.2.3.00",          //
      "1.02.3.4",          //
      "00.0.0.0",          //
      "256.0.0.0",         // part above 255
      "1.2.3.256",         //
      "1.2.999.4",         //
      "4294967296.0.0.0",  // overflows 32 bits
      "99999999999999999999.1.1.1",
      " 1.2.3.4",  // spaces
      "1.2.3.4 ",  //
      "1.2 .3.4",  //
      "1. 2.3.4",  //
      "+1.2.3.4",  // signs
      "-1.2.3.4",  //
      "1.2.3.-4",  //
      "1.2.+3.4",  //
      "a.b.c.d",   // not numbers
      "0x1.2.3.4",
      "1.2.3.4a",
      "1.2.3.4/32",  // a prefix is not an address
      "1,2,3,4",
      "1.2.3.4\n",
  };
  for (const auto text : cases) {
    SCOPED_TRACE(std::string("\"") + std::string(text) + "\"");
    auto parsed = Ipv4Address::parse(text);
    EXPECT_FALSE(parsed.has_value()) << "parsed as " << parsed->toString();
    if (!parsed) {
      EXPECT_FALSE(parsed.error().empty());
    }
  }
}

TEST(Ipv4AddressParse, RejectsEmbeddedNul) {
  const std::string text("1.2.3.4\0", 8);
  EXPECT_FALSE(Ipv4Address::parse(text).has_value());
}

TEST(Ipv4Address, ToStringRoundTripsThroughParse) {
  const std::string_view cases[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1", "172.16.254.3",
                                    "8.8.4.4"};
  for (const auto text : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(addr(text).toString(), text);
  }
  EXPECT_EQ(Ipv4Address(0xC0000201U).toString(), "192.0.2.1");
}

TEST(Ipv4Address, OrdersByNumericValue) {
  EXPECT_LT(addr("9.255.255.255"), addr("10.0.0.0"));
  EXPECT_LT(addr("10.0.0.2"), addr("10.0.0.10"));
  EXPECT_EQ(addr("10.0.0.1"), Ipv4Address(0x0A000001U));
}

// ---- Ipv4Prefix::parse --------------------------------------------------------------------

TEST(Ipv4PrefixParse, AcceptsCanonicalPrefixes) {
  struct Case {
    std::string_view text;
    std::uint32_t network;
    int length;
  };
  const Case cases[] = {
      {"0.0.0.0/0", 0x00000000U, 0},        {"128.0.0.0/1", 0x80000000U, 1},
      {"10.0.0.0/8", 0x0A000000U, 8},       {"10.1.0.0/16", 0x0A010000U, 16},
      {"169.254.20.0/30", 0xA9FE1400U, 30}, {"10.0.0.2/31", 0x0A000002U, 31},
      {"1.2.3.4/32", 0x01020304U, 32},      {"255.255.255.255/32", 0xFFFFFFFFU, 32},
      {"0.0.0.0/32", 0x00000000U, 32},      {"192.168.0.0/23", 0xC0A80000U, 23},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto parsed = Ipv4Prefix::parse(c.text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(parsed->network().value(), c.network);
    EXPECT_EQ(parsed->length(), c.length);
    EXPECT_EQ(parsed->toString(), c.text);
  }
}

TEST(Ipv4PrefixParse, RejectsMalformedText) {
  const std::string_view cases[] = {
      "",                     // empty
      "10.0.0.0",             // no length
      "10.0.0.0/",            // empty length
      "/8",                   // no address
      "10.0.0/8",             // missing address part
      "10.0.0.0.0/8",         // extra address part
      "010.0.0.0/8",          // leading zero in the address
      "10.0.0.0/08",          // leading zero in the length
      "10.0.0.0/00",          //
      "10.0.0.0/33",          // too long
      "10.0.0.0/100",         //
      "10.0.0.0/4294967304",  // overflows
      "10.0.0.0/-1",          // signs
      "10.0.0.0/+8",          //
      "10.0.0.0/ 8",          // spaces
      "10.0.0.0/8 ",          //
      " 10.0.0.0/8",          //
      "10.0.0.0 /8",          //
      "10.0.0.0/8/8",         // extra parts
      "10.0.0.0//8",          //
      "10.0.0.0/x",           // not a number
      "10.0.0.0/8.0",         //
      "256.0.0.0/8",          // bad address
      "10.0.0.0\\8",          // wrong separator
  };
  for (const auto text : cases) {
    SCOPED_TRACE(std::string("\"") + std::string(text) + "\"");
    auto parsed = Ipv4Prefix::parse(text);
    EXPECT_FALSE(parsed.has_value()) << "parsed as " << parsed->toString();
    if (!parsed) {
      EXPECT_FALSE(parsed.error().empty());
    }
  }
}

TEST(Ipv4PrefixParse, RejectsHostBitsAndNamesTheCanonicalPrefix) {
  struct Case {
    std::string_view text;
    std::string_view canonical;
  };
  const Case cases[] = {
      {"10.1.2.3/16", "10.1.0.0/16"},
      {"10.1.2.0/16", "10.1.0.0/16"},
      {"1.2.3.4/0", "0.0.0.0/0"},
      {"169.254.20.1/30", "169.254.20.0/30"},
      {"169.254.20.3/30", "169.254.20.0/30"},
      {"10.0.0.1/31", "10.0.0.0/31"},
      {"255.255.255.255/1", "128.0.0.0/1"},
      {"192.168.1.0/23", "192.168.0.0/23"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto parsed = Ipv4Prefix::parse(c.text);
    ASSERT_FALSE(parsed.has_value()) << "parsed as " << parsed->toString();
    EXPECT_NE(parsed.error().find(c.canonical), std::string::npos) << parsed.error();
  }
}

// ---- arithmetic --------------------------------------------------------------------------

TEST(Ipv4Prefix, SlashZeroCoversTheWholeAddressSpace) {
  const auto all = pfx("0.0.0.0/0");
  EXPECT_EQ(all.mask(), 0U);
  EXPECT_EQ(all.size(), std::uint64_t{1} << 32);
  EXPECT_EQ(all.last(), addr("255.255.255.255"));
  EXPECT_EQ(all.host(0), addr("0.0.0.0"));
  EXPECT_EQ(all.host(0xFFFFFFFFU), addr("255.255.255.255"));
  EXPECT_TRUE(all.contains(addr("0.0.0.0")));
  EXPECT_TRUE(all.contains(addr("255.255.255.255")));
  EXPECT_TRUE(all.contains(addr("10.20.30.40")));
  EXPECT_TRUE(all.contains(pfx("10.0.0.0/8")));
  EXPECT_TRUE(all.contains(pfx("255.255.255.255/32")));
  EXPECT_TRUE(all.contains(all));
  EXPECT_TRUE(all.overlaps(pfx("1.2.3.4/32")));
  EXPECT_TRUE(pfx("1.2.3.4/32").overlaps(all));
  EXPECT_FALSE(pfx("10.0.0.0/8").contains(all));
}

TEST(Ipv4Prefix, SlashThirtyTwoIsASingleAddress) {
  const auto one = pfx("10.0.0.7/32");
  EXPECT_EQ(one.mask(), 0xFFFFFFFFU);
  EXPECT_EQ(one.size(), 1U);
  EXPECT_EQ(one.last(), addr("10.0.0.7"));
  EXPECT_EQ(one.host(0), addr("10.0.0.7"));
  EXPECT_TRUE(one.contains(addr("10.0.0.7")));
  EXPECT_FALSE(one.contains(addr("10.0.0.6")));
  EXPECT_FALSE(one.contains(addr("10.0.0.8")));
  EXPECT_TRUE(one.contains(one));
  EXPECT_FALSE(one.overlaps(pfx("10.0.0.6/32")));
  EXPECT_FALSE(one.contains(pfx("10.0.0.6/31")));
  EXPECT_TRUE(pfx("10.0.0.6/31").contains(one));
}

TEST(Ipv4Prefix, TopOfTheAddressSpaceDoesNotWrap) {
  const auto top = pfx("255.255.255.255/32");
  EXPECT_EQ(top.last(), addr("255.255.255.255"));
  EXPECT_EQ(top.size(), 1U);
  const auto high = pfx("240.0.0.0/4");
  EXPECT_EQ(high.last(), addr("255.255.255.255"));
  EXPECT_TRUE(high.contains(top));
  EXPECT_FALSE(high.contains(addr("239.255.255.255")));
  EXPECT_FALSE(high.overlaps(pfx("0.0.0.0/1")));
}

TEST(Ipv4Prefix, LastSizeAndHostOfOrdinaryPrefixes) {
  const auto inside = pfx("169.254.20.0/30");
  EXPECT_EQ(inside.size(), 4U);
  EXPECT_EQ(inside.last(), addr("169.254.20.3"));
  EXPECT_EQ(inside.host(1), addr("169.254.20.1"));
  EXPECT_EQ(inside.host(2), addr("169.254.20.2"));
  EXPECT_EQ(inside.mask(), 0xFFFFFFFCU);

  const auto net = pfx("10.0.0.0/8");
  EXPECT_EQ(net.size(), 16777216U);
  EXPECT_EQ(net.last(), addr("10.255.255.255"));
  EXPECT_EQ(net.host(net.size() - 1), net.last());
  EXPECT_EQ(net.mask(), 0xFF000000U);

  EXPECT_EQ(pfx("10.0.0.2/31").last(), addr("10.0.0.3"));
  EXPECT_EQ(pfx("10.0.0.2/31").size(), 2U);
  EXPECT_EQ(pfx("128.0.0.0/1").last(), addr("255.255.255.255"));
}

TEST(Ipv4Prefix, ContainsAddressAtTheBoundaries) {
  const auto net = pfx("10.0.0.0/8");
  EXPECT_TRUE(net.contains(addr("10.0.0.0")));
  EXPECT_TRUE(net.contains(addr("10.255.255.255")));
  EXPECT_FALSE(net.contains(addr("9.255.255.255")));
  EXPECT_FALSE(net.contains(addr("11.0.0.0")));
}

TEST(Ipv4Prefix, ContainsPrefixOnlyWhenNestedInside) {
  const auto net = pfx("10.0.0.0/8");
  EXPECT_TRUE(net.contains(pfx("10.1.0.0/16")));
  EXPECT_TRUE(net.contains(pfx("10.255.255.255/32")));
  EXPECT_TRUE(net.contains(net));
  EXPECT_FALSE(pfx("10.1.0.0/16").contains(net));
  EXPECT_FALSE(net.contains(pfx("8.0.0.0/6")));  // covers 10/8 and more
  EXPECT_FALSE(net.contains(pfx("11.0.0.0/8")));
}

TEST(Ipv4Prefix, OverlapsIsSymmetricAndExcludesAdjacentPrefixes) {
  struct Case {
    std::string_view a;
    std::string_view b;
    bool overlap;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.1.0.0/16", true},
      {"10.0.0.0/8", "10.0.0.0/8", true},
      {"10.0.0.0/9", "10.128.0.0/9", false},
      {"10.0.0.0/8", "11.0.0.0/8", false},
      {"10.0.0.0/8", "9.255.255.255/32", false},
      {"0.0.0.0/0", "255.255.255.255/32", true},
      {"169.254.0.0/16", "169.254.169.252/30", true},
      {"169.254.20.0/30", "169.254.20.4/30", false},
      {"192.168.0.0/23", "192.168.1.0/24", true},
      {"192.168.0.0/24", "192.168.1.0/24", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " vs " + std::string(c.b));
    EXPECT_EQ(pfx(c.a).overlaps(pfx(c.b)), c.overlap);
    EXPECT_EQ(pfx(c.b).overlaps(pfx(c.a)), c.overlap);
  }
}

TEST(Ipv4Prefix, ContainingClearsHostBits) {
  const auto p = Ipv4Prefix::containing(addr("10.1.2.3"), 16);
  EXPECT_EQ(p, pfx("10.1.0.0/16"));
  EXPECT_EQ(Ipv4Prefix::containing(addr("10.1.2.3"), 32), pfx("10.1.2.3/32"));
  EXPECT_EQ(Ipv4Prefix::containing(addr("10.1.2.3"), 0), pfx("0.0.0.0/0"));
  EXPECT_EQ(Ipv4Prefix::containing(addr("169.254.20.3"), 30), pfx("169.254.20.0/30"));
}

TEST(Ipv4Prefix, KPrefixBuildsTheSameValueAsParsing) {
  static_assert(kPrefix(169, 254, 0, 0, 16).length() == 16);
  EXPECT_EQ(kPrefix(169, 254, 0, 0, 16), pfx("169.254.0.0/16"));
  EXPECT_EQ(kPrefix(169, 254, 169, 252, 30), pfx("169.254.169.252/30"));
  EXPECT_EQ(kPrefix(0, 0, 0, 0, 0), pfx("0.0.0.0/0"));
  EXPECT_EQ(kPrefix(255, 255, 255, 255, 32), pfx("255.255.255.255/32"));
}

TEST(Ipv4Prefix, EqualityDistinguishesLength) {
  EXPECT_NE(pfx("10.0.0.0/8"), pfx("10.0.0.0/16"));
  EXPECT_EQ(pfx("10.0.0.0/8"), pfx("10.0.0.0/8"));
}

TEST(Ipv4Prefix, MaskForEveryLength) {
  EXPECT_EQ(Ipv4Prefix::maskFor(0), 0U);
  EXPECT_EQ(Ipv4Prefix::maskFor(1), 0x80000000U);
  EXPECT_EQ(Ipv4Prefix::maskFor(8), 0xFF000000U);
  EXPECT_EQ(Ipv4Prefix::maskFor(24), 0xFFFFFF00U);
  EXPECT_EQ(Ipv4Prefix::maskFor(31), 0xFFFFFFFEU);
  EXPECT_EQ(Ipv4Prefix::maskFor(32), 0xFFFFFFFFU);
}

TEST(Ipv4Prefix, EveryLengthRoundTripsThroughText) {
  for (int length = 0; length <= 32; ++length) {
    const auto p = Ipv4Prefix::containing(addr("203.0.113.77"), length);
    SCOPED_TRACE(p.toString());
    auto again = Ipv4Prefix::parse(p.toString());
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(*again, p);
    EXPECT_EQ(p.size(), std::uint64_t{1} << (32 - length));
    EXPECT_EQ(std::uint64_t{p.last().value()} - p.network().value() + 1, p.size());
  }
}

}  // namespace
}  // namespace transit::routing
