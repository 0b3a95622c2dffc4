// Reconciler: makes pluto and BIRD run what the desired state says, and reports what they run.
//
// Owns: per-object status (pending / applied / error, last error, attempts, next retry) and the
// last spec it applied to each object. One pass (runOnce) plans from the registry's snapshot,
// observes both daemons, applies what differs, removes owned strays, and publishes an immutable
// ReconcileStatus. Passes run on the reconciler's own thread (start()): after every change of
// the desired state, when a retry is due, and periodically to observe. Tests call runOnce()
// directly with a manual clock.
//
// Restarts: a change of a daemon's instance (pid and start time) means it lost what the hub had
// loaded, so everything is applied again (full re-sync). A restart of transit-hubd itself starts
// with no memory; applying a spec the daemon already runs is a no-op in the drivers, so working
// tunnels are adopted, not torn down.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "hub/core/clock.hpp"
#include "hub/core/planner.hpp"
#include "hub/core/registry.hpp"
#include "peers/model/tunnel_driver.hpp"
#include "routing/policy/forwarding_filter.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::hub {


enum class ObjectState {
  kPending,  // not applied yet, or its daemon is not reachable
  kApplied,  // the daemon was given exactly what the hub wants
  kError,    // the last attempt failed; it is tried again at next_retry
};
std::string_view toString(ObjectState state);

struct ObjectStatus {
  ObjectState state = ObjectState::kPending;
  std::string last_error;
  std::uint32_t attempts = 0;  // failed attempts in a row
  std::optional<std::chrono::steady_clock::time_point> next_retry;
};

struct TunnelStatus {
  std::string name;
  std::string spoke;
  int index = 1;
  ObjectStatus object;
  peers::ObservedTunnel observed;  // what pluto reports (all false when it reports nothing)
  std::uint32_t duplicate_ike_sas_deleted = 0;  // this pass, of observed.duplicate_ike_sas
};

struct SessionStatus {
  std::string name;
  std::string spoke;
  int index = 1;
  ObjectStatus object;
  routing::ObservedSession observed;
};

struct DaemonStatus {
  bool up = false;
  std::string error;     // why not, when !up
  std::string instance;  // the daemon's identity as last observed
};

// One published result of a pass. Immutable once published.
struct ReconcileStatus {
  std::uint64_t revision = 0;   // the desired-state revision this pass planned from
  bool initial_sync_done = false;  // a pass has run with both daemons up (everything tried)
  DaemonStatus pluto;
  DaemonStatus bird;
  std::map<std::string, TunnelStatus> tunnels;    // by connection name
  std::map<std::string, SessionStatus> sessions;  // by protocol name
  // What each spoke is sent (after summarisation), as planned from the routes observed below.
  std::map<std::string, ExportPlan> exports;      // by spoke name
  std::vector<routing::ObservedRoute> routes;     // BIRD's routes of the hub's protocols
  // Segment isolation in the forwarding plane (routing/nft/forwarding_filter.hpp); stays pending when
  // the reconciler runs without a forwarding filter.
  ObjectStatus forwarding;
  // Packets the filter dropped since its table was last loaded; none when there is no table.
  std::optional<std::uint64_t> segment_dropped_packets;
};

// What a pass reports for metrics (hub/metrics/reconciler_metrics.hpp implements it); called on
// the reconciler's thread after each pass. Keeps hub/core free of any metrics library.
class PassRecorder {
 public:
  virtual ~PassRecorder() = default;
  // `desired` and `options` are what the pass planned from.
  virtual void record(const ReconcileStatus& status, bool ok, double seconds,
                      const DesiredState& desired, const PlanOptions& options) = 0;
};

class Reconciler {
 public:
  struct Options {
    PlanOptions plan;
    std::chrono::milliseconds observe_interval{2000};  // how often a quiet hub looks at daemons
    std::chrono::milliseconds backoff_initial{1000};   // first retry after a failure
    std::chrono::milliseconds backoff_max{60000};      // retries never wait longer than this
  };

  Reconciler(Registry& registry, peers::TunnelDriver& tunnels, routing::RoutingDriver& routing,
             const Clock& clock, PassRecorder* metrics, Options options);
  ~Reconciler();  // stops the thread if it runs
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // Segment isolation in forwarding: each pass applies planForwarding's policy through `filter`
  // (not owned; it must outlive the reconciler). Call before start(); without it, isolation is
  // by routing only.
  void setForwardingFilter(routing::ForwardingFilter* filter) { forwarding_ = filter; }

  // One pass; returns when the next one is due.
  std::chrono::steady_clock::time_point runOnce();

  std::shared_ptr<const ReconcileStatus> status() const;

  // The reconciler's own thread: passes when due and whenever wake() is called (the registry
  // calls it after each change of the desired state).
  void start();
  void stop();
  void wake();

 private:
  void reconcileTunnels(const Plan& plan, ReconcileStatus& next, std::chrono::steady_clock::time_point now);
  // Observes BIRD first: the routing plan (summaries, static next hops) depends on what it
  // and pluto report in this pass.
  void reconcileRouting(const DesiredState& desired, Plan& plan, ReconcileStatus& next,
                        std::chrono::steady_clock::time_point now);
  void reconcileForwarding(const DesiredState& desired, ReconcileStatus& next,
                           std::chrono::steady_clock::time_point now);
  void failed(ObjectStatus& object, std::string error, std::chrono::steady_clock::time_point now);
  bool due(const ObjectStatus& object, std::chrono::steady_clock::time_point now) const;

  Registry& registry_;
  peers::TunnelDriver& tunnels_;
  routing::RoutingDriver& routing_;
  const Clock& clock_;
  PassRecorder* metrics_;
  Options options_;
  routing::ForwardingFilter* forwarding_ = nullptr;

  // Reconciler-thread state.
  std::map<std::string, peers::TunnelSpec> applied_tunnels_;  // last spec each conn was given
  std::optional<routing::RoutingSpec> applied_routing_;
  ObjectStatus routing_object_;                              // the include file as a whole
  std::map<std::string, ObjectStatus> tunnel_objects_;
  // The spec of a failed attempt: a changed spec is tried at once, not after the backoff.
  std::map<std::string, peers::TunnelSpec> attempted_tunnels_;
  std::optional<routing::RoutingSpec> attempted_routing_;
  ObjectStatus forwarding_object_;  // the forwarding filter's table as a whole
  std::string pluto_instance_;
  std::string bird_instance_;
  std::vector<routing::ObservedRoute> last_routes_;  // the routes BIRD reported last
  bool initial_sync_done_ = false;

  mutable std::mutex status_mutex_;
  std::shared_ptr<const ReconcileStatus> status_;

  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace transit::hub
