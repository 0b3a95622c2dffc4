// Clock: the hub's only source of time, injected so tests can set it by hand.
//
// Hub logic never reads std::chrono clocks directly. hub/daemon/main.cpp builds a SystemClock;
// tests use tests/fakes/manual_clock.hpp.
#pragma once

#include <chrono>

namespace transit::hub {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;           // wall time, for records
  virtual std::chrono::steady_clock::time_point monotonicNow() const = 0;  // for durations, retries
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point monotonicNow() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace transit::hub
