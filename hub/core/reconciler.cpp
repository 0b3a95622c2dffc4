#include "hub/core/reconciler.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>

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

void indexStatus(ReconcileStatus& status, const DesiredState& desired, RouteOwners owners) {
  status.route_owners.clear();
  status.route_owners.reserve(status.routes.size());
  for (const auto& route : status.routes) status.route_owners.push_back(owners.of(route));
  status.conflicts = findConflicts(desired, owners, status.routes);
  status.owners = std::move(owners);
  status.spokes.clear();
  for (const auto& [name, tunnel] : status.tunnels) {
    status.spokes[tunnel.spoke].tunnels.emplace(tunnel.index, name);
  }
  for (const auto& [name, session] : status.sessions) {
    status.spokes[session.spoke].sessions.emplace(session.index, name);
  }
}

Reconciler::Reconciler(Registry& registry, peers::TunnelDriver& tunnels,
                       routing::RoutingDriver& routing, routing::ForwardingFilter* forwarding,
                       const Clock& clock, PassRecorder* metrics, Options options,
                       routing::PairLinkDriver* pair_link)
    : registry_(registry),
      tunnels_(tunnels),
      routing_(routing),
      forwarding_(forwarding),
      pair_link_(pair_link),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      status_(std::make_shared<const ReconcileStatus>()) {}

Reconciler::~Reconciler() { stop(); }

std::shared_ptr<const ReconcileStatus> Reconciler::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void Reconciler::failed(ObjectStatus& object, std::string error, TimePoint now) {
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

bool Reconciler::due(const ObjectStatus& object, TimePoint now) const {
  return !object.next_retry || *object.next_retry <= now;
}

template <class Spec, class Apply>
void Reconciler::reconcileObject(Tracked<Spec>& tracked, const Spec& wanted, bool in_sync,
                                 Apply apply, std::string_view what, TimePoint now) {
  if (in_sync && tracked.applied && *tracked.applied == wanted) {
    tracked.status = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
    return;
  }
  const bool changed_since_failure = tracked.attempted && !(*tracked.attempted == wanted);
  if (!due(tracked.status, now) && !changed_since_failure) return;
  if (std::expected<void, DriverError> result = apply(wanted); result) {
    tracked.applied = wanted;
    tracked.attempted.reset();
    tracked.status = ObjectStatus{ObjectState::kApplied, "", 0, std::nullopt};
  } else {
    tracked.applied.reset();
    tracked.attempted = wanted;
    spdlog::warn("{}: {}", what, result.error().message);
    failed(tracked.status, result.error().message, now);
  }
}

std::chrono::steady_clock::time_point Reconciler::runOnce() {
  const auto now = clock_.monotonicNow();
  const auto desired = registry_.snapshot();

  // Both daemons first: the routing plan (summaries, static next hops) depends on what they
  // report in this pass.
  using Seconds = std::chrono::duration<double>;
  auto pluto_seen = tunnels_.observe();
  const auto pluto_observed = clock_.monotonicNow();
  auto bird_seen = routing_.observe();
  const auto bird_observed = clock_.monotonicNow();
  Observations seen{std::move(pluto_seen), std::move(bird_seen)};
  RoutePlanInputs inputs;
  if (seen.pluto) {
    for (const auto& tunnel : seen.pluto->tunnels) {
      if (tunnel.ipsec_up) inputs.usable_tunnels.insert(tunnel.name);
    }
  }
  // Routes that could not be read this time are the ones seen last, not none: planning from
  // none would drop every summary and send spokes more than their export limit.
  if (seen.bird) {
    if (seen.bird->routes_error) {
      ++route_query_failures_;
    } else {
      last_routes_ = seen.bird->routes;
    }
  }
  inputs.routes = last_routes_;
  // A restarted BIRD runs nothing the hub gave it: its routes carry no tag of ours.
  const bool bird_restarted = seen.bird && seen.bird->daemon_instance != bird_instance_;
  if (!bird_restarted && routing_object_.applied) inputs.running = &*routing_object_.applied;
  const Plan wanted = plan(*desired, options_.plan, inputs);
  const auto planned = clock_.monotonicNow();

  auto next = std::make_shared<ReconcileStatus>();
  next->revision = desired->revision;
  next->exports = wanted.exports;
  next->routes = last_routes_;
  next->bird_route_query_failures = route_query_failures_;
  reconcileTunnels(wanted, seen, *next, now);
  // The link before BIRD: the iBGP session runs over it.
  reconcilePairLink(wanted, *next, now);
  reconcileRouting(wanted, seen, *next, now);
  reconcileForwarding(wanted, *next, now);
  const auto applied = clock_.monotonicNow();
  indexStatus(*next, *desired, wanted.owners);
  next->timings = PassTimings{
      Seconds(pluto_observed - now).count(), Seconds(bird_observed - pluto_observed).count(),
      Seconds(planned - bird_observed).count(), Seconds(applied - planned).count(),
      Seconds(clock_.monotonicNow() - applied).count()};

  const bool all_applied =
      next->pluto.up && next->bird.up &&
      std::ranges::all_of(
          next->tunnels,
          [](const auto& t) { return t.second.object.state == ObjectState::kApplied; }) &&
      std::ranges::all_of(
          next->sessions,
          [](const auto& s) { return s.second.object.state == ObjectState::kApplied; }) &&
      (forwarding_ == nullptr || next->forwarding.state == ObjectState::kApplied) &&
      (!next->pair || next->pair->link.state == ObjectState::kApplied);
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
  for (const auto& [name, removal] : removals_) earliest(removal);
  earliest(routing_object_.status);
  earliest(forwarding_object_.status);
  earliest(pair_link_object_.status);

  if (metrics_ != nullptr) {
    const std::chrono::duration<double> took = clock_.monotonicNow() - now;
    metrics_->record(*next, all_applied, took.count());
  }
  {
    std::lock_guard lock(status_mutex_);
    status_ = std::move(next);
  }
  return due_at;
}

void Reconciler::reconcileTunnels(const Plan& wanted, Observations& observations,
                                  ReconcileStatus& next, TimePoint now) {
  auto& observed = observations.pluto;
  if (!observed) {
    next.pluto = DaemonStatus{false, observed.error().message, pluto_instance_};
    for (const auto& spec : wanted.tunnels) {
      ObjectStatus object = tunnel_objects_[spec.name].status;
      object.state = ObjectState::kPending;
      object.last_error = "pluto is not reachable: " + observed.error().message;
      next.tunnels.emplace(spec.name, TunnelStatus{spec.name, spec.spoke, spec.index, object, {}});
    }
    next.removals = removals_;
    return;
  }
  next.pluto = DaemonStatus{true, "", observed->daemon_instance};
  if (observed->daemon_instance != pluto_instance_) {
    if (!pluto_instance_.empty()) {
      spdlog::warn("pluto restarted ({} -> {}): applying every tunnel again", pluto_instance_,
                   observed->daemon_instance);
    }
    pluto_instance_ = observed->daemon_instance;
    for (auto& [name, tracked] : tunnel_objects_) {
      tracked.applied.reset();
      tracked.status.next_retry.reset();
    }
  }

  std::map<std::string, peers::ObservedTunnel> seen;
  for (auto& tunnel : observed->tunnels) seen.emplace(tunnel.name, std::move(tunnel));
  removeStrays(wanted, seen, next, now);

  for (const auto& spec : wanted.tunnels) {
    Tracked<peers::TunnelSpec>& tracked = tunnel_objects_[spec.name];
    const auto found = seen.find(spec.name);
    const bool loaded = found != seen.end() && found->second.loaded;
    reconcileObject(
        tracked, spec, loaded, [&](const peers::TunnelSpec& s) { return tunnels_.apply(s); },
        fmt::format("tunnel {}", spec.name), now);
    TunnelStatus status{spec.name, spec.spoke, spec.index, tracked.status,
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
}

void Reconciler::removeStrays(const Plan& wanted,
                              const std::map<std::string, peers::ObservedTunnel>& seen,
                              ReconcileStatus& next, TimePoint now) {
  std::set<std::string> planned;
  for (const auto& spec : wanted.tunnels) planned.insert(spec.name);
  // Owned connections the plan no longer has: loaded ones, ones applied earlier, and ones whose
  // removal failed.
  std::set<std::string> strays;
  for (const auto& [name, tunnel] : seen) {
    if (!planned.contains(name)) strays.insert(name);
  }
  for (const auto& [name, tracked] : tunnel_objects_) {
    if (!planned.contains(name) && tracked.applied) strays.insert(name);
  }
  for (const auto& [name, removal] : removals_) {
    if (!planned.contains(name)) strays.insert(name);
  }
  std::erase_if(removals_, [&](const auto& entry) { return !strays.contains(entry.first); });
  std::erase_if(tunnel_objects_, [&](const auto& entry) {
    return !planned.contains(entry.first) && !strays.contains(entry.first);
  });
  for (const auto& name : strays) {
    const auto failure = removals_.find(name);
    if (failure != removals_.end() && !due(failure->second, now)) continue;
    if (auto removed = tunnels_.remove(name); !removed) {
      spdlog::warn("could not remove tunnel {}: {}", name, removed.error().message);
      failed(removals_[name], "could not remove: " + removed.error().message, now);
      continue;  // still a stray; tried again when due
    }
    spdlog::info("removed tunnel {}", name);
    removals_.erase(name);
    tunnel_objects_.erase(name);
  }
  next.removals = removals_;
}

void Reconciler::reconcileRouting(const Plan& wanted, Observations& observations,
                                  ReconcileStatus& next, TimePoint now) {
  auto& observed = observations.bird;
  auto sessionStatuses = [&](const ObjectStatus& object,
                             const std::map<std::string, routing::ObservedSession>& seen) {
    for (const auto& session : wanted.routing.sessions) {
      auto found = seen.find(session.name);
      next.sessions.emplace(
          session.name,
          SessionStatus{session.name, session.spoke, session.index, object,
                        found != seen.end() ? found->second : routing::ObservedSession{}});
    }
  };
  if (!observed) {
    // Not an error of the configuration: it waits for BIRD, without a failed attempt.
    next.bird = DaemonStatus{false, observed.error().message, bird_instance_};
    ObjectStatus object = routing_object_.status;
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
    routing_object_.applied.reset();
    routing_object_.status.next_retry.reset();
  }
  std::map<std::string, routing::ObservedSession> seen;
  for (auto& session : observed->sessions) seen.emplace(session.name, std::move(session));
  if (next.pair) {
    if (const auto found = seen.find(next.pair->session_name); found != seen.end()) {
      next.pair->session = found->second;
    }
  }

  const bool all_present = std::ranges::all_of(
      wanted.routing.sessions, [&](const auto& s) { return seen.contains(s.name); });
  reconcileObject(
      routing_object_, wanted.routing, all_present,
      [&](const routing::RoutingSpec& spec) { return routing_.apply(spec); }, "BIRD configuration",
      now);
  sessionStatuses(routing_object_.status, seen);
}

void Reconciler::reconcileForwarding(const Plan& wanted, ReconcileStatus& next, TimePoint now) {
  if (forwarding_ == nullptr) return;
  const routing::ForwardingPolicy& policy = wanted.forwarding;
  // Looked at only while something is isolated: a hub with one segment runs no command here.
  bool table_present = true;
  if (!policy.isolated.empty()) {
    if (auto seen = forwarding_->observe(); seen) {
      next.segment_dropped_packets = *seen;
      // Removed behind the hub's back (nft flush ruleset): loaded again below.
      table_present = seen->has_value();
    } else {
      spdlog::warn("segment filter: {}", seen.error().message);
    }
  }
  reconcileObject(
      forwarding_object_, policy, table_present,
      [&](const routing::ForwardingPolicy& p) { return forwarding_->apply(p); }, "segment filter",
      now);
  next.forwarding = forwarding_object_.status;
}

void Reconciler::reconcilePairLink(const Plan& wanted, ReconcileStatus& next, TimePoint now) {
  if (pair_link_ == nullptr) return;
  if (!wanted.pair_link) {
    // The pair left the configuration (or never was in it): a link left from before goes.
    if (pair_link_removed_) return;
    const std::string device(routing::kPairLinkDevice);
    if (auto removed = pair_link_->remove(device); removed) {
      pair_link_removed_ = true;
      pair_link_object_ = {};
    } else {
      spdlog::warn("pair link: could not remove {}: {}", device, removed.error().message);
    }
    return;
  }
  const routing::PairLinkSpec& spec = *wanted.pair_link;
  PairStatus status;
  status.peer = options_.plan.pair ? options_.plan.pair->peer_name : "";
  status.device = spec.device;
  status.session_name = wanted.routing.peer_hub ? wanted.routing.peer_hub->name : "";
  auto seen = pair_link_->observe(spec);
  if (!seen) {
    spdlog::warn("pair link: cannot look at {}: {}", spec.device, seen.error().message);
    status.observe_error = seen.error().message;
  } else if (seen->exists && !seen->matches) {
    spdlog::info("pair link: {} differs ({}); making it again", spec.device, seen->differs);
  }
  const bool in_sync = seen && seen->matches;
  const bool had_applied = pair_link_object_.applied.has_value();
  reconcileObject(
      pair_link_object_, spec, in_sync,
      [&](const routing::PairLinkSpec& s) { return pair_link_->apply(s); }, "pair link", now);
  pair_link_removed_ = false;
  // What the kernel shows now: after an apply, look again (a few read commands).
  if (pair_link_object_.status.state == ObjectState::kApplied && (!in_sync || !had_applied)) {
    seen = pair_link_->observe(spec);
  }
  if (seen) status.observed = *seen;
  status.link = pair_link_object_.status;
  next.pair = std::move(status);
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
