// Publisher<T>: the latest published value of T and any number of subscribers told of each new
// one.
//
// Owns: the latest value (an immutable shared_ptr<const T>), how many values were published, and
// the subscribers' callbacks. The Registry publishes its DesiredState through one; the reconciler
// subscribes (hub/daemon/main.cpp), and the dashboard and the HA pair's store watch are the next
// subscribers.
//
// Threads: publish() is called by one thread at a time (the owner's writer thread). latest(),
// subscribe() and dropping a Subscription are safe from any thread. Callbacks run on the
// publishing thread, one after the other in subscription order, after the new value is visible
// through latest(); they must not block, and must not subscribe or unsubscribe from inside a
// callback (the callback list is locked while they run). Once a Subscription is dropped its
// callback is not running and never runs again, so what the callback captures may be destroyed
// right after. A Subscription may outlive its Publisher (it then does nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace transit::hub {

template <typename T>
class Publisher {
  struct State;  // defined below; declared first so Subscription can name it (clang needs it)

 public:
  // Told of each published value, with its sequence number (1 for the first publish).
  using Callback = std::function<void(const std::shared_ptr<const T>& value, std::uint64_t seq)>;

  // A subscriber's handle: dropping it (destruction, reset(), move-assignment) unsubscribes.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept
        : state_(std::move(other.state_)), id_(std::exchange(other.id_, 0)) {}
    Subscription& operator=(Subscription&& other) noexcept {
      if (this != &other) {
        reset();
        state_ = std::move(other.state_);
        id_ = std::exchange(other.id_, 0);
      }
      return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }

    // Unsubscribes now; waits for a callback of this subscription that is running to return.
    void reset() {
      if (auto state = state_.lock()) {
        std::lock_guard lock(state->subscribers_mutex);
        state->subscribers.erase(id_);
      }
      state_.reset();
      id_ = 0;
    }
    bool active() const { return id_ != 0 && !state_.expired(); }

   private:
    friend class Publisher;
    Subscription(std::weak_ptr<typename Publisher::State> state, std::uint64_t id)
        : state_(std::move(state)), id_(id) {}

    std::weak_ptr<typename Publisher::State> state_;
    std::uint64_t id_ = 0;
  };

  Publisher() = default;
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // The last published value (nullptr before the first publish) and its sequence number.
  std::shared_ptr<const T> latest() const {
    std::lock_guard lock(state_->value_mutex);
    return state_->value;
  }
  std::uint64_t sequence() const {
    std::lock_guard lock(state_->value_mutex);
    return state_->sequence;
  }

  // `callback` is called after every later publish (not for the values published before).
  [[nodiscard]] Subscription subscribe(Callback callback) {
    std::lock_guard lock(state_->subscribers_mutex);
    const std::uint64_t id = ++state_->next_id;
    state_->subscribers.emplace(id, std::move(callback));
    return Subscription(state_, id);
  }

  // Makes `value` the latest, then calls every subscriber with it.
  void publish(std::shared_ptr<const T> value) {
    std::uint64_t seq = 0;
    {
      std::lock_guard lock(state_->value_mutex);
      state_->value = value;
      seq = ++state_->sequence;
    }
    std::lock_guard lock(state_->subscribers_mutex);
    for (const auto& [id, callback] : state_->subscribers) {
      callback(value, seq);
    }
  }

  std::size_t subscribers() const {
    std::lock_guard lock(state_->subscribers_mutex);
    return state_->subscribers.size();
  }

 private:
  struct State {
    mutable std::mutex value_mutex;
    std::shared_ptr<const T> value;
    std::uint64_t sequence = 0;
    mutable std::mutex subscribers_mutex;
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, Callback> subscribers;  // by id: subscription order
  };

  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace transit::hub
