// Reconciler: makes pluto and BIRD run what the desired state says, and reports what they run.
//
// Owns: one Tracked<Spec> per object (the spec applied, the spec of a failed attempt, the
// status: pending / applied / error, last error, attempts, next retry). One pass (runOnce)
// observes both daemons, plans once from the registry's snapshot and what they reported, applies
// what differs, removes owned strays, and publishes an immutable ReconcileStatus (with the
// route owners, conflicts and per-spoke index the API and the metrics render). Passes run on
// the reconciler's own thread (start()): after every change of the desired state, when a retry
// is due, and periodically to observe. Tests call runOnce() directly with a manual clock.
//
// Restarts: a change of a daemon's instance (pid and start time) means it lost what the hub had
// loaded, so everything is applied again (full re-sync). A restart of transit-hubd itself starts
// with no memory; applying a spec the daemon already runs is a no-op in the drivers, so working
// tunnels are adopted, not torn down.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "hub/core/clock.hpp"
#include "hub/core/conflicts.hpp"
#include "hub/core/planner.hpp"
#include "hub/core/registry.hpp"
#include "peers/model/tunnel_driver.hpp"
#include "routing/policy/forwarding_filter.hpp"
#include "routing/policy/pair_link.hpp"
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

// The HA pair: the link between the hubs and the iBGP session over it.
struct PairStatus {
  std::string peer;                    // the other hub's name
  std::string device;                  // the link's device
  ObjectStatus link;                   // the link as the hub makes it (applied / error)
  routing::ObservedPairLink observed;  // what the kernel shows (after this pass's apply)
  std::string observe_error;           // when the link could not be looked at
  std::string session_name;            // the iBGP protocol
  routing::ObservedSession session;    // what BIRD reports of it (empty before it runs)
  // The link exists as specified and is up (transit_hub_pair_link_up).
  bool linkUp() const { return observed.matches && observed.up; }
};

// Where a spoke's objects are in a ReconcileStatus, so readers need not re-index every time.
struct SpokeIndex {
  std::map<int, std::string> tunnels;   // tunnel index -> key of ReconcileStatus::tunnels
  std::map<int, std::string> sessions;  // tunnel index -> key of ReconcileStatus::sessions
  bool operator==(const SpokeIndex&) const = default;
};

// One published result of a pass. Immutable once published. The API handlers and the metrics
// render it as it is: they compute no owners, conflicts or indexes of their own, so they agree.
// Where one pass spent its time, in seconds (the reconciler's monotonic clock): observing pluto
// and BIRD, planning, applying what differs (every driver), and indexing the status for readers.
struct PassTimings {
  double observe_pluto = 0;
  double observe_bird = 0;
  double plan = 0;
  double apply = 0;
  double index = 0;
};

struct ReconcileStatus {
  std::uint64_t revision = 0;      // the desired-state revision this pass planned from
  PassTimings timings;             // this pass's
  bool initial_sync_done = false;  // a pass has run with both daemons up (everything tried)
  DaemonStatus pluto;
  DaemonStatus bird;
  std::map<std::string, TunnelStatus> tunnels;    // by connection name
  std::map<std::string, SessionStatus> sessions;  // by protocol name
  // Owned connections the plan no longer has whose removal failed (by connection name); tried
  // again when their next_retry is due.
  std::map<std::string, ObjectStatus> removals;
  // What each spoke is sent (after summarisation), as planned from the routes observed below.
  std::map<std::string, ExportPlan> exports;   // by spoke name
  std::vector<routing::ObservedRoute> routes;  // BIRD's routes of the hub's protocols
  // Filled by indexStatus():
  RouteOwners owners;  // what the pass attributed the routes by (the planner's)
  std::vector<std::optional<RouteOwner>> route_owners;  // [i]: the owner of routes[i], if any
  std::vector<Conflict> conflicts;  // findConflicts over `routes`, against the planned state
  std::map<std::string, SpokeIndex, std::less<>> spokes;  // every spoke with a tunnel or session
  // The pair's link and iBGP session; none on a single hub.
  std::optional<PairStatus> pair;
  // Segment isolation in the forwarding plane (routing/nft/nft_filter.hpp); stays pending when
  // the reconciler runs without a forwarding filter.
  ObjectStatus forwarding;
  // Packets the filter dropped since its table was last loaded; none when there is no table.
  std::optional<std::uint64_t> segment_dropped_packets;
  // Observations since the reconciler started in which BIRD answered but its routes could not
  // be read (the pass then planned from the routes seen before).
  std::uint64_t bird_route_query_failures = 0;
};

// Fills the derived parts of `status` (owners, route_owners, conflicts, spokes) from its routes,
// tunnels and sessions, `desired` (what the pass planned from) and `owners` (the plan's). The
// reconciler calls it once per pass before publishing; tests that build a status by hand too.
void indexStatus(ReconcileStatus& status, const DesiredState& desired, RouteOwners owners);

// What a pass reports for metrics (hub/metrics/reconciler_metrics.hpp implements it); called on
// the reconciler's thread after each pass, with the status about to be published.
// Keeps hub/core free of any metrics library.
class PassRecorder {
 public:
  virtual ~PassRecorder() = default;
  virtual void record(const ReconcileStatus& status, bool ok, double seconds) = 0;
};

// What the reconciler remembers about one object it makes a daemon run (a tunnel, the routing
// configuration, the forwarding table), with one rule for all of them (Reconciler::
// reconcileObject): in sync -> applied; else, when the retry is due or the wanted spec changed
// since the failure -> apply, and record the success or back off exponentially.
template <class Spec>
struct Tracked {
  // The spec the daemon was last given successfully. Set when an apply succeeds. Cleared when an
  // apply fails, when the daemon restarts (it lost what it was given), and when the object leaves
  // the plan (it is dropped with its Tracked).
  std::optional<Spec> applied;
  // The spec of the last failed apply: a different wanted spec is tried at once, not after the
  // backoff. Set when an apply fails; cleared when one succeeds.
  std::optional<Spec> attempted;
  // What the API shows. kApplied when the daemon runs `applied`; kError (last_error, attempts,
  // next_retry) after a failed apply until one succeeds. next_retry is cleared when the daemon
  // restarts, so everything is tried at once.
  ObjectStatus status;
};

class Reconciler {
 public:
  struct Options {
    PlanOptions plan;
    std::chrono::milliseconds observe_interval{2000};  // how often a quiet hub looks at daemons
    std::chrono::milliseconds backoff_initial{1000};   // first retry after a failure
    std::chrono::milliseconds backoff_max{60000};      // retries never wait longer than this
  };

  // `forwarding`: segment isolation in forwarding; each pass makes the filter run
  // planForwarding's policy. nullptr: isolation is by routing only (the status's forwarding
  // stays pending). `pair_link`: makes the link between the hubs of the pair (options.plan.pair)
  // exist, every pass before BIRD (only when it differs), and removes it when the pair leaves
  // the configuration; nullptr: the hub makes no link. Every reference and pointer must outlive
  // the reconciler.
  Reconciler(Registry& registry, peers::TunnelDriver& tunnels, routing::RoutingDriver& routing,
             routing::ForwardingFilter* forwarding, const Clock& clock, PassRecorder* metrics,
             Options options, routing::PairLinkDriver* pair_link = nullptr);
  ~Reconciler();  // stops the thread if it runs
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // One pass; returns when the next one is due.
  std::chrono::steady_clock::time_point runOnce();

  std::shared_ptr<const ReconcileStatus> status() const;

  // The reconciler's own thread: passes when due and whenever wake() is called (the registry
  // calls it after each change of the desired state).
  void start();
  void stop();
  void wake();

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  // What pluto and BIRD reported at the start of the pass.
  struct Observations {
    std::expected<peers::TunnelObservation, DriverError> pluto;
    std::expected<routing::RoutingObservation, DriverError> bird;
  };

  void reconcileTunnels(const Plan& plan, Observations& seen, ReconcileStatus& next, TimePoint now);
  void removeStrays(const Plan& plan, const std::map<std::string, peers::ObservedTunnel>& seen,
                    ReconcileStatus& next, TimePoint now);
  void reconcileRouting(const Plan& plan, Observations& seen, ReconcileStatus& next, TimePoint now);
  void reconcileForwarding(const Plan& plan, ReconcileStatus& next, TimePoint now);
  void reconcilePairLink(const Plan& plan, ReconcileStatus& next, TimePoint now);
  // The one apply rule (see Tracked). `in_sync`: the daemon reports that it runs what it was
  // given (the rule also requires that to be `wanted`).
  template <class Spec, class Apply>
  void reconcileObject(Tracked<Spec>& tracked, const Spec& wanted, bool in_sync, Apply apply,
                       std::string_view what, TimePoint now);
  void failed(ObjectStatus& object, std::string error, TimePoint now);
  bool due(const ObjectStatus& object, TimePoint now) const;

  Registry& registry_;
  peers::TunnelDriver& tunnels_;
  routing::RoutingDriver& routing_;
  routing::ForwardingFilter* forwarding_;
  routing::PairLinkDriver* pair_link_;
  const Clock& clock_;
  PassRecorder* metrics_;
  Options options_;

  // Reconciler-thread state.
  std::map<std::string, Tracked<peers::TunnelSpec>> tunnel_objects_;  // by connection name
  Tracked<routing::RoutingSpec> routing_object_;                      // the include file as a whole
  Tracked<routing::ForwardingPolicy> forwarding_object_;  // the filter's table as a whole
  Tracked<routing::PairLinkSpec> pair_link_object_;       // the link between the hubs
  // Set when the link was removed (or found absent) while the pair is not configured; cleared
  // when a link is applied. A hub without a pair looks for a leftover link once per start.
  bool pair_link_removed_ = false;
  // Owned connections whose removal failed, until one succeeds (status: the failure, backoff).
  std::map<std::string, ObjectStatus> removals_;
  std::string pluto_instance_;
  std::string bird_instance_;
  std::vector<routing::ObservedRoute> last_routes_;  // the routes BIRD reported last
  std::uint64_t route_query_failures_ = 0;
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
