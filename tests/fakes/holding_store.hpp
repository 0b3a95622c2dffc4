// HoldingStore: a hub::Store that passes every call to another store, except that a write can be
// held: after hold(), the next apply() waits (on the registry's writer thread) until release().
// Tests use it to act while a write is in flight, e.g. stop the HTTP server under a POST.
//
// Any thread: a mutex and a condition variable guard the gate; the inner store is called outside
// the lock (it has its own).
#pragma once

#include <condition_variable>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "hub/store/store.hpp"

namespace transit::fakes {

class HoldingStore final : public hub::Store {
 public:
  explicit HoldingStore(hub::Store& inner) : inner_(inner) {}

  // The next apply() waits until release() before it writes.
  void hold() {
    std::lock_guard lock(mutex_);
    holding_ = true;
  }

  // Blocks until an apply() is waiting at the gate.
  void waitUntilHeld() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return waiting_; });
  }

  // Lets the held write (and every later one) through.
  void release() {
    std::lock_guard lock(mutex_);
    holding_ = false;
    changed_.notify_all();
  }

  std::expected<hub::StoreContents, hub::StoreError> load() override { return inner_.load(); }

  std::vector<hub::StoreWriteResult> apply(std::span<const hub::StoreWrite> writes) override {
    {
      std::unique_lock lock(mutex_);
      if (holding_) {
        waiting_ = true;
        changed_.notify_all();
        changed_.wait(lock, [this] { return !holding_; });
        waiting_ = false;
      }
    }
    return inner_.apply(writes);
  }

  std::string describe() const override { return inner_.describe(); }
  std::expected<void, hub::StoreError> check() const override { return inner_.check(); }

 private:
  hub::Store& inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool holding_ = false;
  bool waiting_ = false;
};

}  // namespace transit::fakes
