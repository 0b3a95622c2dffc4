// Test helpers: IPv4 values from text, failing the test (not crashing) on a typo.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>
#include <vector>

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

inline std::vector<Ipv4Prefix> pfxs(std::initializer_list<std::string_view> texts) {
  std::vector<Ipv4Prefix> out;
  for (const auto text : texts) out.push_back(pfx(text));
  return out;
}

}  // namespace transit::routing::test
