// LogLimiter: keeps a log line that outside events can trigger (a refused request, a failed
// accept) from flooding the journal: at most `burst` lines per interval, and the next line that
// gets through says how many were held back.
//
// Thread-safe (one mutex; the callers are on error paths). Time is passed in, so tests drive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace transit::routing {

class LogLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  LogLimiter(unsigned burst, std::chrono::steady_clock::duration interval)
      : burst_(burst), interval_(interval) {}

  // Whether to log the event happening at `now`: empty when the interval's lines are spent (the
  // event is counted), else how many were held back since the last line that got through.
  std::optional<std::uint64_t> admit(TimePoint now) {
    std::lock_guard lock(mutex_);
    if (!started_ || now - window_start_ >= interval_) {
      started_ = true;
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= burst_) {
      ++suppressed_;
      return std::nullopt;
    }
    ++used_;
    const std::uint64_t held_back = suppressed_;
    suppressed_ = 0;
    return held_back;
  }

 private:
  const unsigned burst_;
  const std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  bool started_ = false;
  TimePoint window_start_{};
  unsigned used_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace transit::routing
