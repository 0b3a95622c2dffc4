// Test helpers: IPv4 values from text, failing the test (not crashing) on a typo.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "routing/base/prefix.hpp"

namespace transit::routing::test {

inline Ipv4Address addr(std::string_view text) {
  auto parsed = Ipv4Address::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Ipv4Address());
}

inline Ipv4Prefix pfx(std::string_view text) {
  auto parsed = Ipv4Prefix::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Ipv4Prefix());
}

}  // namespace transit::routing::test
