#include "hub/core/reconciler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "routing/policy/forwarding_filter.hpp"

namespace transit::hub {

std::string_view toString(ObjectState state) {
  switch (state) {
    case ObjectState::kPending:
      return "pending";
    case ObjectState::kApplied:
      return "applied";
    case ObjectState::kError:
      return "error";
  }
  return "pending";
}

Reconciler::Reconciler(Registry& registry, peers::TunnelDriver& tunnels,
                       routing::RoutingDriver& routing, const Clock& clock,
                       PassRecorder* metrics, Options options)
    : registry_(registry),
      tunnels_(tunnels),
      routing_(routing),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      status_(std::make_shared<const ReconcileStatus>()) {}

Reconciler::~Reconciler() { stop(); }

std::shared_ptr<const ReconcileStatus> Reconciler::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void Reconciler::failed(ObjectStatus& object, std::string error,
                        std::chrono::steady_clock::time_point now) {
  object.state = ObjectState::kError;
  object.last_error = std::move(error);
  ++object.attempts;
  // Exponential backoff from backoff_initial, capped at backoff_max.
  auto delay = options_.backoff_initial;
  for (std::uint32_t i = 1; i < object.attempts && delay < options_.backoff_max; ++i) {
    delay *= 2;
  }
  object.next_retry = now + std::min(delay, options_.backoff_max);
}

bool Reconciler::due(const ObjectStatus& object, std::chrono::steady_clock::time_point now) const {
  return !object.next_retry || *object.next_retry <= now;
}

std::chrono::steady_clock::time_point Reconciler::runOnce() {
  const auto now = clock_.monotonicNow();
  const auto desired = registry_.snapshot();
  Plan wanted = plan(*desired, options_.plan);

  auto next = std::make_shared<ReconcileStatus>();
  next->revision = desired->revision;
  reconcileTunnels(wanted, *next, now);
  reconcileRouting(*desired, wanted, *next, now);
  reconcileForwarding(*desired, *next, now);

  const bool all_applied =
      next->pluto.up && next->bird.up &&
      std::ranges::all_of(next->tunnels,
                          [](const auto& t) { return t.second.object.state == ObjectState::kApplied; }) &&
      std::ranges::all_of(next->sessions, [](const auto& s) {
        return s.second.object.state == ObjectState::kApplied;
      }) &&
      (forwarding_ == nullptr || next->forwarding.state == ObjectState::kApplied);
  // Every object has been tried once both daemons answer; a spoke that keeps failing shows in
  // its own status and must not keep the whole hub out of service.
  if (next->pluto.up && next->bird.up && !initial_sync_done_) {
    initial_sync_done_ = true;
    spdlog::info("initial sync done: {} tunnel(s), {} BGP session(s)", next->tunnels.size(),
                 next->sessions.size());
  }
  next->initial_sync_done = initial_sync_done_;

  auto due_at = now + options_.observe_interval;
  auto earliest = [&](const ObjectStatus& object) {
    if (object.next_retry) due_at = std::min(due_at, *object.next_retry);
  };
  for (const auto& [name, tunnel] : next->tunnels) earliest(tunnel.object);
  earliest(routing_object_);
  earliest(forwarding_object_);

  if (metrics_ != nullptr) {
    const std::chrono::duration<double> took = clock_.monotonicNow() - now;
    metrics_->record(*next, all_applied, took.count(), *desired, options_.plan);
  }
  {
    std::lock_guard lock(status_mutex_);
    status_ = std::move(next);
  }
  return due_at;
}

void Reconciler::reconcileTunnels(const Plan& wanted, ReconcileStatus& next,
                                  std::chrono::steady_clock::time_point now) {
  auto observed = tunnels_.observe();
  if (!observed) {
    next.pluto = DaemonStatus{false, observed.error().message, pluto_instance_};
    for (const auto& spec : wanted.tunnels) {
      ObjectStatus object = tunnel_objects_[spec.name];
      object.state = ObjectState::kPending;
      object.last_error = "pluto is not reachable: " + observed.error().message;
      next.tunnels.emplace(spec.name, TunnelStatus{spec.name, spec.spoke, spec.index, object, {}});
    }
    return;
  }
  next.pluto = DaemonStatus{true, "", observed->daemon_instance};
  if (observed->daemon_instance != pluto_instance_) {
    if (!pluto_instance_.empty()) {
      spdlog::warn("pluto restarted ({} -> {}): applying every tunnel again", pluto_instance_,
                   observed->daemon_instance);
    }
    pluto_instance_ = observed->daemon_instance;
    applied_tunnels_.clear();
    for (auto& [name, object] : tunnel_objects_) object.next_retry.reset();
  }

  std::map<std::string, peers::ObservedTunnel> seen;
  for (auto& tunnel : observed->tunnels) seen.emplace(tunnel.name, std::move(tunnel));
  std::map<std::string, const peers::TunnelSpec*> planned;
  for (const auto& spec : wanted.tunnels) planned.emplace(spec.name, &spec);

  // Owned connections the plan no longer has: loaded ones, and ones applied earlier.
  std::vector<std::string> strays;
  for (const auto& [name, tunnel] : seen) {
    if (!planned.contains(name)) strays.push_back(name);
  }
  for (const auto& [name, spec] : applied_tunnels_) {
    if (!planned.contains(name) && !seen.contains(name)) strays.push_back(name);
  }
  for (const auto& name : strays) {
    if (auto removed = tunnels_.remove(name); !removed) {
      spdlog::warn("could not remove tunnel {}: {}", name, removed.error().message);
      continue;  // still a stray on the next pass
    }
    spdlog::info("removed tunnel {}", name);
    applied_tunnels_.erase(name);
    tunnel_objects_.erase(name);
  }

  for (const auto& spec : wanted.tunnels) {
    ObjectStatus& object = tunnel_objects_[spec.name];
    const auto found = seen.find(spec.name);
    const bool loaded = found != seen.end() && found->second.loaded;
    const auto applied = applied_tunnels_.find(spec.name);
    const bool in_sync = loaded && applied != applied_tunnels_.end() && applied->second == spec;
    const auto attempted = attempted_tunnels_.find(spec.name);
    const bool changed_since_failure =
        attempted != attempted_tunnels_.end() && !(attempted->second == spec);
    if (in_sync) {
      object = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
    } else if (due(object, now) || changed_since_failure) {
      if (auto result = tunnels_.apply(spec); result) {
        applied_tunnels_.insert_or_assign(spec.name, spec);
        attempted_tunnels_.erase(spec.name);
        object = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
      } else {
        applied_tunnels_.erase(spec.name);
        attempted_tunnels_.insert_or_assign(spec.name, spec);
        spdlog::warn("tunnel {}: {}", spec.name, result.error().message);
        failed(object, result.error().message, now);
      }
    }
    TunnelStatus status{spec.name, spec.spoke, spec.index, object,
                        found != seen.end() ? found->second : peers::ObservedTunnel{}};
    // Both ends initiated at once: each IKE SA has its own Child SAs and would be rekeyed for
    // ever. pluto keeps both, so the hub deletes all but the newest (the peer deletes its copy).
    for (const auto serial : status.observed.duplicate_ike_sas) {
      if (auto deleted = tunnels_.deleteIkeSa(spec.name, serial); deleted) {
        spdlog::info("tunnel {}: deleted IKE SA #{}, a duplicate (both ends initiated at once)",
                     spec.name, serial);
        ++status.duplicate_ike_sas_deleted;
      } else {
        spdlog::warn("tunnel {}: could not delete duplicate IKE SA #{}: {}", spec.name, serial,
                     deleted.error().message);
      }
    }
    next.tunnels.emplace(spec.name, std::move(status));
  }
  std::erase_if(tunnel_objects_, [&](const auto& entry) { return !planned.contains(entry.first); });
  std::erase_if(attempted_tunnels_, [&](const auto& entry) { return !planned.contains(entry.first); });
}

void Reconciler::reconcileRouting(const DesiredState& desired, Plan& wanted,
                                  ReconcileStatus& next,
                                  std::chrono::steady_clock::time_point now) {
  auto observed = routing_.observe();
  {
    RoutePlanInputs inputs;
    // Routes that could not be read this time are the ones seen last, not none: planning from
    // none would drop every summary and send spokes more than their export limit.
    if (observed && !observed->routes_error) last_routes_ = observed->routes;
    inputs.routes = last_routes_;
    for (const auto& [name, tunnel] : next.tunnels) {
      if (tunnel.observed.ipsec_up) inputs.usable_tunnels.insert(name);
    }
    planRouting(desired, options_.plan, inputs, wanted);
    next.exports = wanted.exports;
    next.routes = last_routes_;
  }
  auto sessionStatuses = [&](const ObjectStatus& object,
                             const std::map<std::string, routing::ObservedSession>& seen) {
    for (const auto& session : wanted.routing.sessions) {
      auto found = seen.find(session.name);
      next.sessions.emplace(session.name,
                            SessionStatus{session.name, session.spoke, session.index, object,
                                          found != seen.end() ? found->second
                                                              : routing::ObservedSession{}});
    }
  };
  if (!observed) {
    next.bird = DaemonStatus{false, observed.error().message, bird_instance_};
    ObjectStatus object = routing_object_;
    object.state = ObjectState::kPending;
    object.last_error = "BIRD is not reachable: " + observed.error().message;
    sessionStatuses(object, {});
    return;
  }
  next.bird = DaemonStatus{true, "", observed->daemon_instance};
  if (observed->daemon_instance != bird_instance_) {
    if (!bird_instance_.empty()) {
      spdlog::warn("BIRD restarted ({} -> {}): applying the routing configuration again",
                   bird_instance_, observed->daemon_instance);
    }
    bird_instance_ = observed->daemon_instance;
    applied_routing_.reset();
    routing_object_.next_retry.reset();
  }
  std::map<std::string, routing::ObservedSession> seen;
  for (auto& session : observed->sessions) seen.emplace(session.name, std::move(session));

  const bool all_present = std::ranges::all_of(
      wanted.routing.sessions, [&](const auto& s) { return seen.contains(s.name); });
  const bool in_sync = applied_routing_ && *applied_routing_ == wanted.routing && all_present;
  const bool changed_since_failure = attempted_routing_ && !(*attempted_routing_ == wanted.routing);
  if (in_sync) {
    routing_object_ = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
  } else if (due(routing_object_, now) || changed_since_failure) {
    if (auto result = routing_.apply(wanted.routing); result) {
      applied_routing_ = wanted.routing;
      attempted_routing_.reset();
      routing_object_ = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
    } else {
      applied_routing_.reset();
      attempted_routing_ = wanted.routing;
      spdlog::warn("BIRD configuration: {}", result.error().message);
      failed(routing_object_, result.error().message, now);
    }
  }
  sessionStatuses(routing_object_, seen);
}

void Reconciler::reconcileForwarding(const DesiredState& desired, ReconcileStatus& next,
                                     std::chrono::steady_clock::time_point now) {
  if (forwarding_ == nullptr) return;
  const routing::ForwardingPolicy policy =
      planForwarding(desired, options_.plan, plan(desired, options_.plan).tunnels);
  // Looked at only while something is isolated: a hub with one segment runs no command here.
  if (!policy.isolated.empty()) {
    if (auto seen = forwarding_->observe(); seen) {
      next.segment_dropped_packets = *seen;
    } else {
      spdlog::warn("segment filter: {}", seen.error().message);
    }
  }
  if (due(forwarding_object_, now) || forwarding_object_.state != ObjectState::kError) {
    if (auto result = forwarding_->apply(policy); result) {
      forwarding_object_ = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
    } else {
      spdlog::warn("segment filter: {}", result.error().message);
      failed(forwarding_object_, result.error().message, now);
    }
  }
  next.forwarding = forwarding_object_;
}

void Reconciler::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    auto due_at = runOnce();
    for (;;) {
      std::unique_lock lock(wake_mutex_);
      // The one place that waits on real time: a thin timer over the clock's deadline.
      wake_cv_.wait_for(lock, due_at - clock_.monotonicNow(),
                        [this] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
      lock.unlock();
      due_at = runOnce();
    }
  });
}

void Reconciler::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Reconciler::wake() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

}  // namespace transit::hub
