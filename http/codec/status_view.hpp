// StatusView: one request's view of the reconciler's last published ReconcileStatus, indexed by
// spoke and tunnel index (the tunnel's index among this hub's tunnels of the spoke), with the
// time "now" for retry countdowns and this hub's name.
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
#include <string>
#include <string_view>
#include <utility>

#include "http/handlers/context.hpp"
#include "hub/core/reconciler.hpp"

namespace transit::http {

// One request's view of the reconciler's last published status; spokes' tunnels and sessions
// are found through the per-spoke index the pass published (no re-indexing per request).
class StatusView {
 public:
  static StatusView of(const HandlerContext& context) {
    return StatusView(context.reconcile_status(), context.clock.monotonicNow(), context.hub.name);
  }

  const hub::ReconcileStatus& status() const { return *status_; }
  // This hub's name: the status covers only the tunnels that name it.
  const std::string& hubName() const { return hub_name_; }

  // The spoke's tunnel / session of that index, from the index the pass published.
  const hub::TunnelStatus* tunnel(std::string_view spoke, int index) const {
    const std::string* name = indexed(spoke, index, &hub::SpokeIndex::tunnels);
    if (name == nullptr) return nullptr;
    const auto it = status_->tunnels.find(*name);
    return it == status_->tunnels.end() ? nullptr : &it->second;
  }
  const hub::SessionStatus* session(std::string_view spoke, int index) const {
    const std::string* name = indexed(spoke, index, &hub::SpokeIndex::sessions);
    if (name == nullptr) return nullptr;
    const auto it = status_->sessions.find(*name);
    return it == status_->sessions.end() ? nullptr : &it->second;
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
  StatusView(std::shared_ptr<const hub::ReconcileStatus> status,
             std::optional<std::chrono::steady_clock::time_point> now, std::string hub_name)
      : status_(status ? std::move(status) : std::make_shared<const hub::ReconcileStatus>()),
        now_(now),
        hub_name_(std::move(hub_name)) {}

  const std::string* indexed(std::string_view spoke, int index,
                             std::map<int, std::string> hub::SpokeIndex::*objects) const {
    const auto found = status_->spokes.find(spoke);
    if (found == status_->spokes.end()) return nullptr;
    const auto& names = found->second.*objects;
    const auto it = names.find(index);
    return it == names.end() ? nullptr : &it->second;
  }

  std::shared_ptr<const hub::ReconcileStatus> status_;  // nullptr (no pass yet) reads as empty
  std::optional<std::chrono::steady_clock::time_point> now_;
  std::string hub_name_;
};

}  // namespace transit::http
