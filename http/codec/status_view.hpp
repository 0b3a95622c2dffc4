// StatusView: one request's view of the reconciler's last published ReconcileStatus, indexed by
// spoke and tunnel index, with the time "now" for retry countdowns.
//
// Built per request by handlers on an HTTP thread (StatusView::of); holds a shared pointer to the
// published status, so it stays valid while the reconciler publishes the next.
#pragma once

#include <algorithm>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "http/handlers/context.hpp"
#include "hub/core/reconciler.hpp"

namespace transit::http {

// One request's view of the reconciler's last published status, indexed by spoke and tunnel
// index.
class StatusView {
 public:
  static StatusView of(const HandlerContext& context) {
    return StatusView(context.reconcile_status(), context.clock.monotonicNow());
  }

  const hub::ReconcileStatus& status() const { return *status_; }

  const hub::TunnelStatus* tunnel(std::string_view spoke, int index) const {
    auto it = tunnels_.find({spoke, index});
    return it == tunnels_.end() ? nullptr : it->second;
  }
  const hub::SessionStatus* session(std::string_view spoke, int index) const {
    auto it = sessions_.find({spoke, index});
    return it == sessions_.end() ? nullptr : it->second;
  }

  // Whole seconds until an object in error is tried again (rounded up, never negative); null
  // unless an error is waiting for its retry.
  boost::json::value nextRetryIn(const hub::ObjectStatus& object) const {
    if (object.state != hub::ObjectState::kError || !object.next_retry || !now_) {
      return nullptr;
    }
    const auto left = std::chrono::ceil<std::chrono::seconds>(*object.next_retry - *now_);
    return std::max<std::int64_t>(0, left.count());
  }

 private:
  using Key = std::pair<std::string_view, int>;

  StatusView(std::shared_ptr<const hub::ReconcileStatus> status,
             std::optional<std::chrono::steady_clock::time_point> now)
      : status_(status ? std::move(status) : std::make_shared<const hub::ReconcileStatus>()),
        now_(now) {
    for (const auto& [name, tunnel] : status_->tunnels) {
      tunnels_.emplace(Key{tunnel.spoke, tunnel.index}, &tunnel);
    }
    for (const auto& [name, session] : status_->sessions) {
      sessions_.emplace(Key{session.spoke, session.index}, &session);
    }
  }

  std::shared_ptr<const hub::ReconcileStatus> status_;  // nullptr (no pass yet) reads as empty
  std::optional<std::chrono::steady_clock::time_point> now_;
  std::map<Key, const hub::TunnelStatus*> tunnels_;
  std::map<Key, const hub::SessionStatus*> sessions_;
};

}  // namespace transit::http
