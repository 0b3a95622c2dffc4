// Registry: the hub's desired state (its spokes) and the only path that changes it.
//
// Owns: the working copy of every spoke, the indexes that keep spokes from clashing (declared
// CIDRs, tunnel outside addresses per hub, inside /30s, route tags) and the store's write path.
// It allocates inside /30s and PSKs for every tunnel of a spoke, whichever hub of the pair the
// tunnel belongs to: the pair shares one registry, so the /30s of all four are unique.
//
// Threads: one writer thread runs every command (create, replace, remove, and named updates) in
// arrival order; it validates, checks conflicts against all other spokes, allocates inside /30s
// and route tags, generates PSKs, writes the store (durable before it answers) and then publishes a
// new immutable DesiredState. Any thread may call snapshot() and read what it returns; HTTP
// handlers never wait on anything but their own command.
//
// Read-modify-write is a named update (FBOSS SwSwitch::updateState): update("aws-reimport",
// spoke, if_match, fn) runs fn on the writer thread against the spoke as it is then, after every
// command queued before it, and the draft fn returns goes the replace path (validation, inside
// /30s, store write, publish). Callers never merge into a snapshot and write it back: a write
// that lands between their read and their write would be lost.
//
// Group commit: commands that arrive while the writer is busy form a batch. Each is staged on the
// working state in order (so later ones see earlier ones), the batch is written in one store
// transaction with one sync, and a write the store refuses is undone (in reverse order) and
// answered with the store's error. Then one publish, then every answer.
//
// Another writer (the pair's other hub, sharing the store): a write the store refuses although
// the hub's checks passed (kConflict: an inside /30, outside address, route tag or name the
// other hub took; a generation it moved; kNotFound: a spoke it removed) lost a race. The
// registry reloads its working state from the store and stages the command again, up to
// kMaxAttempts times, so the user sees the answer the fresh state gives (a fresh allocation, or
// a 409/412/404 naming what is really there), never a 409 for a race the hub could retry. It
// also follows the store's watch (Store::watch): a change another writer made reloads the
// working state on the writer thread, before the next commands, and publishes it, so the other
// hub's writes reach this hub's API, reconciler and daemons.
//
// Audit: every write carries its AuditRecord (hub/store/audit.hpp) into the same store
// transaction: who asked (the command's ChangeOrigin), the request id, the fields that changed
// (never a PSK), the time on the registry's clock. Each written change also gets one journal
// line ("audit: ..."). readAudit() reads the trail back from the store.
//
// Publishes: snapshot() for readers, subscribe() for any number of subscribers told of each new
// DesiredState on the writer thread (the reconciler; the dashboard and the pair's watch next),
// transit_hub_spokes and transit_hub_store_writes_total
// through a RegistryRecorder (hub/metrics/hub_metrics.hpp), and the store's health for /readyz.
//
// Store outages: the registry knows whether its view of the store is current (storeView()). It
// turns stale when a write fails kUnavailable, when a reload fails, or when the store's watch is
// cut; a stale registry keeps every spoke it has (a failed reload never publishes anything, so
// the reconciler keeps every tunnel and route as it is), answers every command 503 without
// writing while the store cannot be read, and tries to catch up (reload from the store) every
// catch_up_interval and on every notice from the watch. The first successful reload (with the
// watch following again) makes it current and publishes what the other writer changed
// meanwhile. A registry whose first load found the store unavailable starts unloaded: it
// publishes an empty state marked not loaded, which the daemon must not reconcile, and loads as
// soon as the store answers.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "hub/core/clock.hpp"
#include "hub/core/publisher.hpp"
#include "hub/store/store.hpp"
#include "peers/model/spoke.hpp"
#include "peers/model/spoke_validation.hpp"
#include "routing/policy/inside_allocator.hpp"
#include "routing/policy/prefix_index.hpp"

namespace transit::hub {

// What the registry reports for metrics (hub/metrics/hub_metrics.hpp implements it); called on
// the writer thread. Keeps hub/core free of any metrics library.
class RegistryRecorder {
 public:
  virtual ~RegistryRecorder() = default;
  virtual void setSpokes(std::size_t vpc, std::size_t site) = 0;  // after each publish
  virtual void storeWrite(bool ok) = 0;                           // after each store write
  // After each change of the view of the store and at each catch-up attempt while stale: whether
  // it is current, the last store revision seen, and the seconds since it became stale (0 when
  // current).
  virtual void storeView(bool current, std::uint64_t revision, double stale_seconds) = 0;
};

// How current the registry's view of the store is (Registry::storeView()).
struct StoreView {
  bool current = true;  // false: stale, the store may hold changes the hub has not seen
  // false: the store has never been read (the hub started during an outage); the published
  // state is empty because nothing is known, and nothing may be reconciled from it.
  bool loaded = true;
  // When the view became stale (wall time); unset while current.
  std::optional<std::chrono::system_clock::time_point> since;
  std::uint64_t revision = 0;  // the last store revision the registry saw
  std::string reason;          // why it is stale: the store's error (never a secret); "" if current
};

enum class ErrorCode {
  kInvalid,             // a field breaks a rule; the same request will never succeed
  kNotFound,            // no spoke of that name
  kConflict,            // clashes with another spoke, or the name exists already
  kPreconditionFailed,  // the caller's expected generation is not the current one
  kUnavailable,         // the store could not write; nothing changed, retry later
};

struct HubError {
  ErrorCode code;
  std::string message;  // for people; never contains a PSK
  std::string field;    // the request field at fault, when one is
};

// One published version of the desired state. Immutable once published.
struct DesiredState {
  using SpokeMap = std::map<std::string, std::shared_ptr<const peers::Spoke>, std::less<>>;
  std::uint64_t revision = 0;  // the store's revision this state was read from or written at
  // false: the store has never been read (StoreView::loaded); the empty state stands for "not
  // known", so nothing may be reconciled from it.
  bool loaded = true;
  SpokeMap spokes;
  std::size_t vpc_spokes = 0;
  std::size_t site_spokes = 0;

  std::size_t count(peers::SpokeKind kind) const {
    return kind == peers::SpokeKind::kVpc ? vpc_spokes : site_spokes;
  }
};

class Registry {
 public:
  using SpokePtr = std::shared_ptr<const peers::Spoke>;
  // Create and replace answer with the spoke as stored; remove with the spoke that was removed.
  using Result = std::expected<SpokePtr, HubError>;
  using PskSource = std::function<std::string()>;

  struct Options {
    peers::ValidationContext validation;
    PskSource psk_source = peers::generatePsk;
    // While stale, how often the writer tries to catch up with the store (a reload).
    std::chrono::milliseconds catch_up_interval{1000};
    // Inside /30s the hub uses itself (the HA pair's link): never allocated to a tunnel, and a
    // client's inside_cidr that overlaps one is refused (422).
    std::vector<Ipv4Prefix> reserved_inside;
  };

  // Loads every spoke from the store and starts the writer thread. Fails if the store holds
  // records it cannot decode (kCorrupt) or spokes that clash with each other. A store that is
  // unavailable (kUnavailable) is not a failure: the registry starts unloaded and stale
  // (StoreView) and loads once the store answers.
  static std::expected<std::unique_ptr<Registry>, HubError> create(Store& store, const Clock& clock,
                                                                   RegistryRecorder* metrics,
                                                                   Options options);
  // Runs every command already queued, then stops the writer thread.
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  std::shared_ptr<const DesiredState> snapshot() const;

  struct StoreHealth {
    bool ok = true;
    std::string problem;  // why not: the store's own check, or the last write's failure
  };
  // The store's check() and the outcome of the last write; any thread.
  StoreHealth storeHealth() const;
  std::string storeDescription() const { return store_.describe(); }
  // Whether the registry's view of the store is current, since when it is not, and why; any
  // thread.
  StoreView storeView() const;
  // Commands waiting for the writer thread (diagnostics and tests).
  std::size_t queuedCommands() const;

  // Subscribers to published desired state: `callback` runs on the writer thread after every
  // later publish, with the new state (Publisher's rules, hub/core/publisher.hpp: it must not
  // block nor subscribe from inside). Any number; any thread may subscribe, and dropping the
  // Subscription unsubscribes (waiting for a running callback of it to return).
  using Subscription = Publisher<DesiredState>::Subscription;
  using PublishCallback = Publisher<DesiredState>::Callback;
  [[nodiscard]] Subscription subscribe(PublishCallback callback);

  // A named update's function: the draft that replaces `current` (the spoke as stored, on the
  // writer thread), or the error to answer with (nothing changes). It runs on the writer thread:
  // it must not block, and must not call the registry. It runs once, or again (against the
  // spoke as it then is) each time another writer changed the spoke first.
  using UpdateFn =
      std::move_only_function<std::expected<peers::SpokeDraft, HubError>(const peers::Spoke&)>;

  // Asynchronous commands, completed on the token's associated executor with void(Result).
  // `origin` says who asked, under which request: it goes into the change's audit record.
  template <typename Token>
  auto asyncCreate(peers::SpokeDraft draft, ChangeOrigin origin, Token&& token) {
    return initiate(CreateCommand{std::move(draft), std::move(origin)}, std::forward<Token>(token));
  }
  template <typename Token>
  auto asyncReplace(std::string name, peers::SpokeDraft draft,
                    std::optional<std::uint64_t> if_match, ChangeOrigin origin, Token&& token) {
    return initiate(ReplaceCommand{std::move(name), std::move(draft), if_match, std::move(origin)},
                    std::forward<Token>(token));
  }
  // A named read-modify-write of spoke `spoke`: if it exists and is at `if_match` (when given;
  // the same kNotFound / kPreconditionFailed as replace), `fn` gets it as it is after every
  // command queued earlier, and its draft replaces it exactly as asyncReplace would. `name`
  // labels the update in the log ("aws-reimport").
  template <typename Token>
  auto asyncUpdate(std::string name, std::string spoke, std::optional<std::uint64_t> if_match,
                   UpdateFn fn, ChangeOrigin origin, Token&& token) {
    return initiate(UpdateCommand{std::move(name), std::move(spoke), if_match, std::move(fn),
                                  std::move(origin)},
                    std::forward<Token>(token));
  }
  template <typename Token>
  auto asyncRemove(std::string name, std::optional<std::uint64_t> if_match, ChangeOrigin origin,
                   Token&& token) {
    return initiate(RemoveCommand{std::move(name), if_match, std::move(origin)},
                    std::forward<Token>(token));
  }

  // The same commands, waiting for the answer (tests and tools; never on an HTTP thread).
  Result create(peers::SpokeDraft draft, ChangeOrigin origin = {});
  Result replace(std::string name, peers::SpokeDraft draft, std::optional<std::uint64_t> if_match,
                 ChangeOrigin origin = {});
  Result remove(std::string name, std::optional<std::uint64_t> if_match, ChangeOrigin origin = {});
  Result update(std::string name, std::string spoke, std::optional<std::uint64_t> if_match,
                UpdateFn fn, ChangeOrigin origin = {});

  // The audit trail (Store::readAudit): every change this registry or the pair's other hub
  // wrote, newest first. Any thread; it waits for the store (never the writer's queue).
  std::expected<AuditPage, StoreError> readAudit(const AuditQuery& query) const {
    return store_.readAudit(query);
  }
  const AuditRetention& auditRetention() const { return store_.auditRetention(); }

 private:
  struct CreateCommand {
    peers::SpokeDraft draft;
    ChangeOrigin origin;
  };
  struct ReplaceCommand {
    std::string name;
    peers::SpokeDraft draft;
    std::optional<std::uint64_t> if_match;
    ChangeOrigin origin;
  };
  struct RemoveCommand {
    std::string name;
    std::optional<std::uint64_t> if_match;
    ChangeOrigin origin;
  };
  struct UpdateCommand {
    std::string name;  // the update's label, for the log
    std::string spoke;
    std::optional<std::uint64_t> if_match;
    UpdateFn fn;
    ChangeOrigin origin;
  };
  using Command = std::variant<CreateCommand, ReplaceCommand, RemoveCommand, UpdateCommand>;
  using Completion = std::move_only_function<void(Result)>;
  struct Pending {
    Command command;
    Completion completion;
  };

  Registry(Store& store, const Clock& clock, RegistryRecorder* metrics, Options options);

  template <typename Token>
  auto initiate(Command command, Token&& token) {
    return boost::asio::async_initiate<Token, void(Result)>(
        [this](auto handler, Command cmd) {
          auto executor = boost::asio::get_associated_executor(handler);
          submit(std::move(cmd), [handler = std::move(handler), executor](Result result) mutable {
            boost::asio::post(executor,
                              [handler = std::move(handler), result = std::move(result)]() mutable {
                                std::move(handler)(std::move(result));
                              });
          });
        },
        token, std::move(command));
  }

  void submit(Command command, Completion completion);
  Result runAndWait(Command command);
  void writerLoop();

  // A command applied to the working state but not yet written: the write to make, and what to
  // restore if the store refuses it.
  struct Staged {
    Result result;                     // the answer, if the store accepts the write (or no write)
    std::optional<StoreWrite> write;   // absent for refusals and for replaces that change nothing
    SpokePtr before;                   // the spoke before the command (null for a create)
    SpokePtr after;                    // the spoke after it (null for a remove)
    std::optional<AuditRecord> audit;  // the write's audit record (auditOf)
  };
  // The audit record of a staged write: who asked (`origin`), what changed, when.
  AuditRecord auditOf(const ChangeOrigin& origin, const Staged& staged) const;

  // A command that loses a race with another writer this many times in a row is answered 409.
  static constexpr int kMaxAttempts = 8;

  // Writer-thread only.
  void runBatch(std::deque<Pending>& batch);
  // Stages batch[todo...] in order on the working state, writes them in one store call, undoes
  // what the store refused, sets results[i], and returns the commands that lost a race (the
  // store said kConflict or kNotFound after the hub's own checks passed). `changed` is set when
  // a write succeeded.
  std::vector<std::size_t> stageAndWrite(std::deque<Pending>& batch,
                                         const std::vector<std::size_t>& todo,
                                         std::vector<Result>& results, bool& changed);
  // Replaces the working state with `contents` (start-up, and refresh()); an error when two
  // stored spokes clash.
  std::optional<HubError> adopt(StoreContents contents);
  // Reloads the working state from the store; on failure (the store cannot be read or holds
  // clashing spokes) the state is unchanged and the view turns stale with the reason.
  bool refresh();
  // The store says it changed up to `revision` (kUnknownRevision: it may have missed changes):
  // reload and publish unless this registry has seen that revision (its own writes).
  void followStore(std::uint64_t revision);
  // Reload and publish (unless the published state already has everything seen); current
  // again when that worked and the watch follows. A cut watch makes a current view stale first,
  // before the reload: a store that cannot be reached can take seconds to fail it. While
  // stale and `ask_first`, the store's check() comes first, and a store that says it is down
  // is not reloaded (a reload that cannot work would hold the writer, and every command queued
  // behind it, for the store's timeouts).
  bool catchUp(bool ask_first);
  // The view of the store turns stale (or stays so, with a new reason) / current.
  void markStale(std::string reason);
  void markCurrent();
  void reportView();
  // The answer to every command while the store cannot be read: 503, nothing written.
  HubError staleRefusal() const;
  Staged stage(const CreateCommand& command);
  Staged stage(const ReplaceCommand& command);
  Staged stage(const RemoveCommand& command);
  Staged stage(UpdateCommand& command);
  // The replace path, shared by replace and named updates: `draft` replaces `current`.
  Staged stageReplace(const SpokePtr& current, peers::SpokeDraft draft);
  void undo(const Staged& staged);
  // The spoke of that name, if it exists and is at `if_match` (when given).
  std::expected<SpokePtr, HubError> existing(const std::string& name,
                                             std::optional<std::uint64_t> if_match) const;
  std::optional<HubError> findConflict(const peers::SpokeRequest& request) const;
  std::expected<peers::Spoke, HubError> complete(const peers::SpokeRequest& request,
                                                 const peers::Spoke* previous);
  // Spokes loaded without a route tag (records older than route tags) get one, lowest free in
  // name order, written back at their generation; a write the store refuses is logged and the
  // tag is written with the spoke's next change. Before the writer thread starts.
  void allocateMissingRouteTags();
  // The lowest route tag no spoke holds (spread after a lost race, see tag_spread_).
  std::uint32_t freeRouteTag();
  bool index(const peers::Spoke& spoke);
  void unindex(const peers::Spoke& spoke);
  std::string insideOwner(const Ipv4Prefix& cidr) const;
  HubError storeFailed(const StoreError& error);
  void storeSucceeded(std::uint64_t revision);
  void publish();

  Store& store_;
  const Clock& clock_;
  RegistryRecorder* metrics_;
  Options options_;

  // Writer-thread state.
  DesiredState::SpokeMap spokes_;
  std::uint64_t revision_ = 0;
  // Every change up to this revision is in the working state: set by a (re)load, advanced by
  // an own write only when it directly follows (a gap means another writer wrote in between, so
  // the watch's notice of it reloads). Revisions the watch reports up to here reload nothing.
  std::uint64_t seen_revision_ = 0;
  // seen_revision_ when the working state was last published: the published state has every
  // change up to here. An own write that did not directly follow publishes a state without
  // the other writer's change in between; the reload that brings that change must publish
  // although the revision is the same.
  std::uint64_t published_seen_ = 0;
  routing::PrefixIndex cidrs_;       // every spoke's declared CIDRs
  routing::InsideAllocator inside_;  // every tunnel's inside /30
  // (hub, tunnel outside address) -> spoke: an address is unique per hub (a site with one
  // public address connects to both hubs of the pair from it).
  std::map<std::pair<std::string, std::uint32_t>, std::string, std::less<>> outside_;
  std::map<std::uint32_t, std::string> tags_;  // route tag -> spoke
  // Set while a batch retries after a lost race: freeRouteTag() picks at random among this many
  // lowest free tags instead of the lowest (0: the lowest).
  std::uint32_t tag_spread_ = 0;
  std::minstd_rand random_{std::random_device{}()};

  // Shared with readers.
  Publisher<DesiredState> published_;  // snapshot() and the subscribers
  mutable std::mutex health_mutex_;
  StoreHealth store_health_;
  StoreView view_;  // guarded by health_mutex_; changed on the writer thread

  // The writer's queue.
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  // The highest revision the store's watch reported and the writer has not followed yet (0:
  // none; kUnknownRevision: a gap, reload whatever the revision).
  static constexpr std::uint64_t kUnknownRevision = ~std::uint64_t{0};
  std::uint64_t store_changed_ = 0;
  std::thread writer_;
  std::unique_ptr<StoreWatch> watch_;  // null when the store has no other writer
};

}  // namespace transit::hub
