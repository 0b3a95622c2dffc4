// ManualClock: a hub::Clock that moves only when a test says so.
#pragma once

#include <chrono>
#include <mutex>
#include <type_traits>

#include "hub/core/clock.hpp"

namespace transit::fakes {

class ManualClock final : public hub::Clock {
 public:
  // 2026-11-26T06:30:00Z, so timestamps in tests are readable.
  static constexpr std::chrono::seconds kStart{1795674600};

  std::chrono::system_clock::time_point now() const override {
    std::lock_guard lock(mutex_);
    return std::chrono::system_clock::time_point(kStart) + offset_;
  }
  std::chrono::steady_clock::time_point monotonicNow() const override {
    std::lock_guard lock(mutex_);
    return std::chrono::steady_clock::time_point(kStart) + offset_;
  }
  void advance(std::chrono::nanoseconds by) {
    std::lock_guard lock(mutex_);
    offset_ += by;
  }

 private:
  mutable std::mutex mutex_;
  std::chrono::nanoseconds offset_{0};
};

static_assert(std::is_base_of_v<hub::Clock, ManualClock>);

}  // namespace transit::fakes
