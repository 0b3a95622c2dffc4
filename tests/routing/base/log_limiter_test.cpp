#include "routing/base/log_limiter.hpp"

#include <gtest/gtest.h>

namespace transit::routing {
namespace {

using namespace std::chrono_literals;

TEST(LogLimiter, LetsABurstThroughPerIntervalAndCountsTheRest) {
  LogLimiter limiter(2, 10s);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_EQ(limiter.admit(t0), 0u);
  EXPECT_EQ(limiter.admit(t0 + 1s), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.admit(t0 + 2s));
  // The next interval: the first line says how many were held back, once.
  EXPECT_EQ(limiter.admit(t0 + 10s), 1000u);
  EXPECT_EQ(limiter.admit(t0 + 11s), 0u);
  EXPECT_FALSE(limiter.admit(t0 + 12s));
}

}  // namespace
}  // namespace transit::routing
