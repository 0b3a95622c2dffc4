#include "hub/core/registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <utility>

#include "peers/model/spoke_json.hpp"

namespace transit::hub {
namespace {

using peers::Spoke;
using peers::SpokeRequest;
using transit::Ipv4Prefix;

HubError error(ErrorCode code, std::string field, std::string message) {
  return HubError{code, std::move(message), std::move(field)};
}

// The spoke's content without the hub's bookkeeping, for "did anything change?".
bool sameContent(const Spoke& a, const Spoke& b) {
  Spoke x = a;
  x.generation = b.generation;
  x.created_at = b.created_at;
  x.updated_at = b.updated_at;
  return x == b;
}

}  // namespace

Registry::Registry(Store& store, const Clock& clock, RegistryRecorder* metrics, Options options)
    : store_(store), clock_(clock), metrics_(metrics), options_(std::move(options)) {}

std::expected<std::unique_ptr<Registry>, HubError> Registry::create(Store& store,
                                                                    const Clock& clock,
                                                                    RegistryRecorder* metrics,
                                                                    Options options) {
  auto contents = store.load();
  if (!contents && contents.error().code != StoreErrorCode::kUnavailable) {
    return std::unexpected(error(
        ErrorCode::kUnavailable, "",
        fmt::format("cannot load the store ({}): {}", store.describe(), contents.error().message)));
  }
  std::unique_ptr<Registry> registry(new Registry(store, clock, metrics, std::move(options)));
  if (contents) {
    if (auto refused = registry->adopt(std::move(*contents))) return std::unexpected(*refused);
    registry->allocateMissingRouteTags();
    registry->view_.revision = registry->revision_;
  } else {
    // The store is down (etcd unreachable or without quorum): start with nothing known, and
    // load as soon as it answers. Nothing is reconciled from the unloaded state.
    registry->view_.loaded = false;
    registry->markStale(contents.error().message);
  }
  registry->publish();
  // Another writer's change (the pair's other hub) reaches this registry as a reload on the
  // writer thread; the hub's own writes are known by their revision and reload nothing. Set up
  // before the writer starts, which reads watch_.
  registry->watch_ = store.watch([r = registry.get()](std::uint64_t revision) {
    {
      std::lock_guard lock(r->queue_mutex_);
      r->store_changed_ = revision == 0 ? kUnknownRevision : std::max(r->store_changed_, revision);
    }
    r->queue_cv_.notify_one();
  });
  registry->writer_ = std::thread([r = registry.get()] { r->writerLoop(); });
  return registry;
}

std::optional<HubError> Registry::adopt(StoreContents contents) {
  spokes_.clear();
  cidrs_ = routing::PrefixIndex{};
  const auto cursor = inside_.cursor();  // freed /30s are not handed out again at once
  inside_ = routing::InsideAllocator{};
  inside_.seek(cursor);
  // The pair's link /30 is never handed to a tunnel.
  for (const auto& reserved : options_.reserved_inside) inside_.reserve(reserved);
  outside_.clear();
  tags_.clear();
  revision_ = contents.revision;
  seen_revision_ = contents.revision;
  for (auto& spoke : contents.spokes) {
    for (const auto& tunnel : spoke.tunnels) {
      for (const auto& reserved : options_.reserved_inside) {
        if (reserved.overlaps(tunnel.inside_cidr)) {
          return error(ErrorCode::kInvalid, "",
                       fmt::format("stored spoke {} has a tunnel on {}, which the configuration "
                                   "gives to the link between the hubs (pair.link.inside): choose "
                                   "another /30 for the link",
                                   spoke.name, tunnel.inside_cidr.toString()));
        }
      }
    }
    const bool inside_taken = std::ranges::any_of(
        spoke.tunnels, [&](const peers::Tunnel& t) { return inside_.isUsed(t.inside_cidr); });
    if (inside_taken || !index(spoke)) {
      return error(ErrorCode::kInvalid, "",
                   fmt::format("stored spoke {} clashes with another stored spoke (a CIDR, an "
                               "inside /30, an outside address or a route tag is used twice)",
                               spoke.name));
    }
    const std::string name = spoke.name;
    spokes_.emplace(name, std::make_shared<const Spoke>(std::move(spoke)));
  }
  return std::nullopt;
}

bool Registry::refresh() {
  auto contents = store_.load();
  if (!contents) {
    spdlog::debug("cannot reload the store: {}", contents.error().message);
    markStale(contents.error().message);
    return false;
  }
  // Kept to put back if what the store holds cannot be indexed (the hub keeps serving the state
  // it had; the refused command is answered with the store's refusal).
  auto spokes = spokes_;
  const auto revision = revision_;
  if (auto refused = adopt(std::move(*contents))) {
    spdlog::error("the store holds spokes that clash: {}", refused->message);
    StoreContents previous{revision, {}};
    for (const auto& [name, spoke] : spokes) previous.spokes.push_back(*spoke);
    adopt(std::move(previous));
    markStale(fmt::format("the store holds spokes that clash: {}", refused->message));
    return false;
  }
  if (!view_.loaded) {  // the first load, late: the hub started while the store was down
    allocateMissingRouteTags();
    spdlog::info("loaded {} spoke(s) from {} (revision {})", spokes_.size(), store_.describe(),
                 revision_);
  }
  std::lock_guard lock(health_mutex_);
  view_.revision = revision_;
  view_.loaded = true;
  return true;
}

void Registry::allocateMissingRouteTags() {
  std::vector<StoreWrite> writes;
  std::vector<SpokePtr> tagged;
  for (auto& [name, spoke] : spokes_) {  // in name order, so every hub allocates alike
    if (spoke->route_tag != 0) continue;
    auto copy = std::make_shared<Spoke>(*spoke);
    copy->route_tag = freeRouteTag();
    tags_.emplace(copy->route_tag, name);
    spoke = copy;
    tagged.push_back(copy);
    // The same generation: the spoke's configuration is unchanged, and a client's If-Match
    // still holds.
    writes.push_back(StoreWrite{StoreWrite::Kind::kReplace, copy.get(), name, copy->generation});
  }
  if (writes.empty()) return;
  const auto results = store_.apply(writes);
  std::size_t stored = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      ++stored;
      revision_ = std::max(revision_, *results[i]);
      if (*results[i] == seen_revision_ + 1) seen_revision_ = *results[i];
    } else {
      spdlog::warn(
          "route tag {} of spoke {} could not be stored ({}); it is stored with the "
          "spoke's next change",
          tagged[i]->route_tag, tagged[i]->name, results[i].error().message);
    }
  }
  spdlog::info("allocated route tags for {} spoke(s) stored before route tags existed ({} stored)",
               writes.size(), stored);
}

std::uint32_t Registry::freeRouteTag() {
  // The lowest free tag, or after a lost race one of the lowest tag_spread_ free ones.
  const std::uint32_t skip = tag_spread_ == 0 ? 0 : random_() % tag_spread_;
  std::uint32_t tag = 1;
  std::uint32_t skipped = 0;
  auto held = tags_.begin();
  for (;; ++tag) {
    while (held != tags_.end() && held->first < tag) ++held;
    if (held != tags_.end() && held->first == tag) continue;
    if (skipped++ == skip) return tag;
  }
}

Registry::~Registry() {
  watch_.reset();  // no notification after this (it waits for one in progress)
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) {
    writer_.join();
  }
}

std::shared_ptr<const DesiredState> Registry::snapshot() const { return published_.latest(); }

Registry::StoreHealth Registry::storeHealth() const {
  if (auto checked = store_.check(); !checked) {
    return StoreHealth{false, checked.error().message};
  }
  std::lock_guard lock(health_mutex_);
  return store_health_;
}

StoreView Registry::storeView() const {
  std::lock_guard lock(health_mutex_);
  return view_;
}

Registry::Subscription Registry::subscribe(PublishCallback callback) {
  return published_.subscribe(std::move(callback));
}

std::size_t Registry::queuedCommands() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

Registry::Result Registry::create(peers::SpokeDraft draft, ChangeOrigin origin) {
  return runAndWait(CreateCommand{std::move(draft), std::move(origin)});
}

Registry::Result Registry::replace(std::string name, peers::SpokeDraft draft,
                                   std::optional<std::uint64_t> if_match, ChangeOrigin origin) {
  return runAndWait(ReplaceCommand{std::move(name), std::move(draft), if_match, std::move(origin)});
}

Registry::Result Registry::remove(std::string name, std::optional<std::uint64_t> if_match,
                                  ChangeOrigin origin) {
  return runAndWait(RemoveCommand{std::move(name), if_match, std::move(origin)});
}

Registry::Result Registry::update(std::string name, std::string spoke,
                                  std::optional<std::uint64_t> if_match, UpdateFn fn,
                                  ChangeOrigin origin) {
  return runAndWait(
      UpdateCommand{std::move(name), std::move(spoke), if_match, std::move(fn), std::move(origin)});
}

Registry::Result Registry::runAndWait(Command command) {
  std::promise<Result> promise;
  auto future = promise.get_future();
  submit(std::move(command), [&promise](Result result) { promise.set_value(std::move(result)); });
  return future.get();
}

void Registry::submit(Command command, Completion completion) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(Pending{std::move(command), std::move(completion)});
  }
  queue_cv_.notify_one();
}

void Registry::writerLoop() {
  for (;;) {
    std::deque<Pending> batch;
    std::uint64_t changed = 0;
    bool woken = true;
    {
      std::unique_lock lock(queue_mutex_);
      auto work = [this] { return stopping_ || !queue_.empty() || store_changed_ != 0; };
      if (view_.current) {
        queue_cv_.wait(lock, work);
      } else {
        // Stale: try to catch up every catch_up_interval even if nothing happens.
        woken = queue_cv_.wait_for(lock, options_.catch_up_interval, work);
      }
      if (woken && queue_.empty() && store_changed_ == 0) {
        return;  // stopping, and everything queued has been answered
      }
      batch.swap(queue_);
      changed = std::exchange(store_changed_, 0);
    }
    // Another writer's change first, so the commands are staged on what is stored.
    if (changed != 0) {
      followStore(changed);
    } else if (!woken) {
      catchUp(/*ask_first=*/true);
    }
    if (!batch.empty()) runBatch(batch);
  }
}

void Registry::followStore(std::uint64_t revision) {
  if (view_.current && revision != kUnknownRevision && revision <= seen_revision_) {
    return;  // all of it seen
  }
  // A notice from a watch that follows (again) says the store answers: reload without asking.
  const bool following = !watch_ || !watch_->cut();
  if (catchUp(/*ask_first=*/!following)) {
    spdlog::debug("followed the store to revision {}", revision_);
  }
}

bool Registry::catchUp(bool ask_first) {
  if (view_.current) {
    if (auto cut = watch_ ? watch_->cut() : std::nullopt) markStale(*cut);
  }
  if (ask_first && !view_.current) {
    if (auto down = store_.check(); !down) {
      markStale(down.error().message);
      return false;
    }
  }
  if (!refresh()) {
    reportView();  // the seconds it has been stale
    return false;
  }
  // A reload while the watch is cut is right now, but later changes would not be heard: the
  // view stays stale (and reloads every catch_up_interval) until the watch follows again.
  if (auto cut = watch_ ? watch_->cut() : std::nullopt) {
    markStale(*cut);
  } else {
    markCurrent();
  }
  const auto last = published_.latest();
  if (last == nullptr || last->revision != revision_ || !last->loaded ||
      published_seen_ != seen_revision_) {
    publish();
  }
  return true;
}

void Registry::markStale(std::string reason) {
  {
    std::lock_guard lock(health_mutex_);
    if (view_.current) {
      view_.current = false;
      view_.since = clock_.now();
      spdlog::warn(
          "the store {} is unavailable: {}; every tunnel and route stays as it is, reads serve "
          "revision {} and writes answer 503 until the hub catches up",
          store_.describe(), reason, view_.revision);
    } else if (reason != view_.reason) {
      spdlog::info("the store {} is still unavailable: {}", store_.describe(), reason);
    }
    view_.reason = std::move(reason);
  }
  reportView();
}

void Registry::markCurrent() {
  {
    std::lock_guard lock(health_mutex_);
    if (!view_.current) {
      const auto stale = std::chrono::duration_cast<std::chrono::seconds>(
          clock_.now() - view_.since.value_or(clock_.now()));
      spdlog::info("caught up with the store {} at revision {} after {} s stale", store_.describe(),
                   revision_, stale.count());
    }
    view_.current = true;
    view_.since.reset();
    view_.reason.clear();
    view_.revision = revision_;
  }
  reportView();
}

void Registry::reportView() {
  if (metrics_ == nullptr) return;
  const StoreView view = storeView();
  double stale_seconds = 0;
  if (!view.current && view.since) {
    stale_seconds =
        std::max(0.0, std::chrono::duration<double>(clock_.now() - *view.since).count());
  }
  metrics_->storeView(view.current, view.revision, stale_seconds);
}

HubError Registry::staleRefusal() const {
  const StoreView view = storeView();
  return error(
      ErrorCode::kUnavailable, "",
      fmt::format("the store could not write, nothing changed: the store {} is unavailable since "
                  "{} ({}); the hub serves the last state it read (revision {})",
                  store_.describe(),
                  peers::formatTimestamp(std::chrono::time_point_cast<std::chrono::seconds>(
                      view.since.value_or(clock_.now()))),
                  view.reason, view.revision));
}

void Registry::runBatch(std::deque<Pending>& batch) {
  // Stale: catch up first, so the commands are staged on what is stored; a store that cannot
  // even be read cannot take the writes either, and nothing is staged on an old state.
  if (!view_.current && !catchUp(/*ask_first=*/true)) {
    const HubError refusal = staleRefusal();
    spdlog::debug("{} command(s) answered 503: the store is unavailable", batch.size());
    for (auto& pending : batch) pending.completion(std::unexpected(refusal));
    return;
  }
  std::vector<Result> results(batch.size());
  std::vector<std::size_t> todo(batch.size());
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  bool changed = false;
  for (int attempt = 1;; ++attempt) {
    auto lost = stageAndWrite(batch, todo, results, changed);
    if (lost.empty()) break;
    // Another writer (the pair's other hub) got there first: the working state is behind the
    // store. Reload it and stage these commands again, each against what is now stored, so a
    // race on an allocation is retried instead of answered with 409; what then conflicts for
    // real is answered by the hub's own checks (409 naming the spoke, 412, 404).
    if (attempt == kMaxAttempts) {
      spdlog::warn("{} command(s) lost {} races with another writer in a row; answered 409",
                   lost.size(), attempt);
      break;
    }
    if (!refresh()) break;
    changed = true;
    todo = std::move(lost);
    // The other hub allocates from the same state by the same rule: spread this hub's next
    // picks (a random place for /30s, a random one of the lowest free route tags) so the two
    // stop colliding.
    inside_.seek(Ipv4Address(static_cast<std::uint32_t>(kInsidePool.network().value() +
                                                        (random_() % kInsidePool.size()))));
    tag_spread_ = 16U * static_cast<std::uint32_t>(attempt);
  }
  tag_spread_ = 0;
  if (changed) {
    publish();  // before answering: a client that got 201 must find the spoke with GET
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i].completion(std::move(results[i]));
  }
}

std::vector<std::size_t> Registry::stageAndWrite(std::deque<Pending>& batch,
                                                 const std::vector<std::size_t>& todo,
                                                 std::vector<Result>& results, bool& changed) {
  std::vector<Staged> staged;
  staged.reserve(todo.size());
  for (const std::size_t i : todo) {
    staged.push_back(
        std::visit([this](auto& command) { return stage(command); }, batch[i].command));
  }

  std::vector<StoreWrite> writes;
  std::vector<std::size_t> writer_of;  // writes[w] belongs to staged[writer_of[w]]
  for (std::size_t k = 0; k < staged.size(); ++k) {
    if (staged[k].write) {
      const ChangeOrigin& origin =
          std::visit([](const auto& command) -> const ChangeOrigin& { return command.origin; },
                     batch[todo[k]].command);
      staged[k].audit = auditOf(origin, staged[k]);
      writes.push_back(*staged[k].write);
      writes.back().audit = &*staged[k].audit;
      writer_of.push_back(k);
    }
  }
  std::vector<bool> lost(staged.size(), false);
  if (!writes.empty()) {
    const auto written = store_.apply(writes);
    // Undo refused writes last-first: a later command on the same spoke was staged on top of an
    // earlier one, and the store refuses it too (its generation or existence check fails).
    for (std::size_t w = writes.size(); w-- > 0;) {
      if (!written[w]) {
        auto& refused = staged[writer_of[w]];
        undo(refused);
        refused.result = std::unexpected(storeFailed(written[w].error()));
        const auto code = written[w].error().code;
        lost[writer_of[w]] = code == StoreErrorCode::kConflict || code == StoreErrorCode::kNotFound;
      }
    }
    for (std::size_t w = 0; w < writes.size(); ++w) {
      if (written[w]) {
        storeSucceeded(*written[w]);
        changed = true;
        const AuditRecord& audit = *staged[writer_of[w]].audit;
        std::string fields;
        for (const auto& change : audit.changes) {
          if (!fields.empty()) fields += ", ";
          fields += change.field;
        }
        spdlog::info("audit: {} of spoke {} by {}{} at revision {}: generation {}; {}",
                     audit.action, audit.spoke, audit.actor,
                     audit.request_id.empty() ? "" : fmt::format(" (request {})", audit.request_id),
                     *written[w], audit.generation,
                     fields.empty() ? std::string("no field changed") : "changed " + fields);
      }
    }
  }
  std::vector<std::size_t> retry;
  for (std::size_t k = 0; k < staged.size(); ++k) {
    results[todo[k]] = std::move(staged[k].result);
    if (lost[k]) retry.push_back(todo[k]);
  }
  return retry;
}

AuditRecord Registry::auditOf(const ChangeOrigin& origin, const Staged& staged) const {
  AuditRecord record;
  record.at = std::chrono::time_point_cast<std::chrono::milliseconds>(clock_.now());
  record.hub = options_.validation.hub_name;
  record.actor = origin.actor.empty() ? "hub" : origin.actor;
  record.request_id = origin.request_id;
  const StoreWrite& write = *staged.write;
  if (!origin.action.empty()) {
    record.action = origin.action;
  } else {
    switch (write.kind) {
      case StoreWrite::Kind::kCreate:
        record.action = "create";
        break;
      case StoreWrite::Kind::kReplace:
        record.action = "replace";
        break;
      case StoreWrite::Kind::kRemove:
        record.action = "delete";
        break;
    }
  }
  record.spoke = write.name;
  record.generation = staged.after ? staged.after->generation : staged.before->generation;
  record.changes = diffSpokes(staged.before.get(), staged.after.get());
  return record;
}

void Registry::undo(const Staged& staged) {
  if (staged.after) {
    unindex(*staged.after);
    spokes_.erase(staged.after->name);
  }
  if (staged.before) {
    index(*staged.before);
    spokes_.insert_or_assign(staged.before->name, staged.before);
  }
}

Registry::Staged Registry::stage(const CreateCommand& command) {
  auto refuse = [](HubError e) { return Staged{std::unexpected(std::move(e)), {}, {}, {}, {}}; };
  auto request = peers::validateSpoke(command.draft, options_.validation);
  if (!request) {
    return refuse(error(ErrorCode::kInvalid, request.error().field, request.error().message));
  }
  const std::string& name = request->spoke.name;
  if (spokes_.contains(name)) {
    return refuse(
        error(ErrorCode::kConflict, "name", fmt::format("spoke {} already exists", name)));
  }
  if (auto conflict = findConflict(*request)) {
    return refuse(*conflict);
  }
  auto spoke = complete(*request, nullptr);
  if (!spoke) {
    return refuse(spoke.error());
  }
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
  spoke->generation = 1;
  spoke->created_at = now;
  spoke->updated_at = now;

  auto after = std::make_shared<const Spoke>(std::move(*spoke));
  index(*after);
  spokes_.emplace(name, after);
  return Staged{
      after, StoreWrite{StoreWrite::Kind::kCreate, after.get(), name, 0}, nullptr, after, {}};
}

std::expected<Registry::SpokePtr, HubError> Registry::existing(
    const std::string& name, std::optional<std::uint64_t> if_match) const {
  auto it = spokes_.find(name);
  if (it == spokes_.end()) {
    return std::unexpected(error(ErrorCode::kNotFound, "", fmt::format("no spoke named {}", name)));
  }
  if (if_match && *if_match != it->second->generation) {
    return std::unexpected(error(ErrorCode::kPreconditionFailed, "",
                                 fmt::format("spoke {} is at generation {}, not {}", name,
                                             it->second->generation, *if_match)));
  }
  return it->second;
}

Registry::Staged Registry::stage(const ReplaceCommand& command) {
  auto found = existing(command.name, command.if_match);
  if (!found) {
    return Staged{std::unexpected(found.error()), {}, {}, {}, {}};
  }
  return stageReplace(*found, command.draft);
}

Registry::Staged Registry::stage(UpdateCommand& command) {
  auto refuse = [&command](HubError e) {
    spdlog::debug("update {} of spoke {} refused: {}", command.name, command.spoke, e.message);
    return Staged{std::unexpected(std::move(e)), {}, {}, {}, {}};
  };
  auto found = existing(command.spoke, command.if_match);
  if (!found) {
    return refuse(found.error());
  }
  auto draft = command.fn(**found);
  if (!draft) {
    return refuse(std::move(draft.error()));
  }
  Staged staged = stageReplace(*found, std::move(*draft));
  if (!staged.result) {
    spdlog::debug("update {} of spoke {} refused: {}", command.name, command.spoke,
                  staged.result.error().message);
  }
  return staged;
}

Registry::Staged Registry::stageReplace(const SpokePtr& current, peers::SpokeDraft draft) {
  auto refuse = [](HubError e) { return Staged{std::unexpected(std::move(e)), {}, {}, {}, {}}; };
  const std::string& name = current->name;
  if (!draft.name) {
    draft.name = name;
  } else if (*draft.name != name) {
    return refuse(error(ErrorCode::kInvalid, "name",
                        "must match the name in the path (spokes cannot be renamed)"));
  }
  auto request = peers::validateSpoke(draft, options_.validation);
  if (!request) {
    return refuse(error(ErrorCode::kInvalid, request.error().field, request.error().message));
  }

  // Check against every other spoke: take this one out of the indexes, put it back on failure.
  unindex(*current);
  if (auto conflict = findConflict(*request)) {
    index(*current);
    return refuse(*conflict);
  }
  auto spoke = complete(*request, current.get());
  if (!spoke) {
    index(*current);
    return refuse(spoke.error());
  }
  spoke->generation = current->generation;
  spoke->created_at = current->created_at;
  spoke->updated_at = current->updated_at;
  if (sameContent(*spoke, *current)) {
    unindex(*spoke);
    index(*current);
    return Staged{current, {}, {}, {}, {}};  // nothing to change: no write, no new generation
  }
  spoke->generation = current->generation + 1;
  spoke->updated_at = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());

  auto after = std::make_shared<const Spoke>(std::move(*spoke));
  index(*after);
  spokes_.insert_or_assign(name, after);
  return Staged{after,
                StoreWrite{StoreWrite::Kind::kReplace, after.get(), name, current->generation},
                current,
                after,
                {}};
}

Registry::Staged Registry::stage(const RemoveCommand& command) {
  auto refuse = [](HubError e) { return Staged{std::unexpected(std::move(e)), {}, {}, {}, {}}; };
  auto found = existing(command.name, command.if_match);
  if (!found) {
    return refuse(found.error());
  }
  const SpokePtr current = *found;
  unindex(*current);
  spokes_.erase(command.name);
  return Staged{current,
                StoreWrite{StoreWrite::Kind::kRemove, nullptr, command.name, current->generation},
                current,
                nullptr,
                {}};
}

std::optional<HubError> Registry::findConflict(const SpokeRequest& request) const {
  const Spoke& spoke = request.spoke;
  for (std::size_t i = 0; i < spoke.cidrs.size(); ++i) {
    if (auto overlap = cidrs_.findOverlap(spoke.cidrs[i])) {
      return error(ErrorCode::kConflict, fmt::format("cidrs[{}]", i),
                   fmt::format("{} overlaps {} of spoke {}", spoke.cidrs[i].toString(),
                               overlap->prefix.toString(), overlap->owner));
    }
  }
  for (std::size_t i = 0; i < request.tunnels.size(); ++i) {
    const auto& tunnel = request.tunnels[i];
    for (const auto& reserved : options_.reserved_inside) {
      if (tunnel.inside_cidr && reserved.overlaps(*tunnel.inside_cidr)) {
        return error(ErrorCode::kInvalid, fmt::format("tunnels[{}].inside_cidr", i),
                     fmt::format("{} overlaps {}, the link between the hubs of the pair",
                                 tunnel.inside_cidr->toString(), reserved.toString()));
      }
    }
    if (auto owner = outside_.find(std::pair(tunnel.hub, tunnel.outside_ip.value()));
        owner != outside_.end()) {
      return error(ErrorCode::kConflict, fmt::format("tunnels[{}].outside_ip", i),
                   fmt::format("{} is already a tunnel endpoint of spoke {} on hub {}",
                               tunnel.outside_ip.toString(), owner->second, tunnel.hub));
    }
    if (tunnel.inside_cidr && inside_.isUsed(*tunnel.inside_cidr)) {
      return error(ErrorCode::kConflict, fmt::format("tunnels[{}].inside_cidr", i),
                   fmt::format("{} is already used by spoke {}", tunnel.inside_cidr->toString(),
                               insideOwner(*tunnel.inside_cidr)));
    }
  }
  return std::nullopt;
}

std::expected<Spoke, HubError> Registry::complete(const SpokeRequest& request,
                                                  const Spoke* previous) {
  Spoke spoke = request.spoke;
  // Allocated once, kept for the spoke's life (routes are attributed by it on every hub).
  spoke.route_tag = previous != nullptr ? previous->route_tag : freeRouteTag();
  // A tunnel that keeps its hub and outside address keeps its inside /30 and PSK unless the
  // request sets them: a client that PUTs back what GET returned (no PSKs there) changes nothing.
  auto previousTunnel = [previous](const peers::TunnelRequest& t) -> const peers::Tunnel* {
    if (previous == nullptr) return nullptr;
    auto it = std::ranges::find_if(previous->tunnels, [&](const peers::Tunnel& kept) {
      return kept.hub == t.hub && kept.outside_ip == t.outside_ip;
    });
    return it == previous->tunnels.end() ? nullptr : &*it;
  };
  std::vector<Ipv4Prefix> taken;
  for (const auto& t : request.tunnels) {
    if (t.inside_cidr) {
      taken.push_back(*t.inside_cidr);
    } else if (const auto* kept = previousTunnel(t)) {
      taken.push_back(kept->inside_cidr);
    }
  }
  std::vector<Ipv4Prefix> allocated;
  for (std::size_t i = 0; i < request.tunnels.size(); ++i) {
    const auto& t = request.tunnels[i];
    const auto* kept = previousTunnel(t);
    peers::Tunnel tunnel;
    tunnel.hub = t.hub;
    tunnel.outside_ip = t.outside_ip;
    if (t.inside_cidr) {
      tunnel.inside_cidr = *t.inside_cidr;
    } else if (kept != nullptr) {
      tunnel.inside_cidr = kept->inside_cidr;
    } else {
      auto fresh = inside_.allocate(taken);
      if (!fresh) {
        for (const auto& a : allocated) inside_.release(a);
        return std::unexpected(error(ErrorCode::kConflict,
                                     fmt::format("tunnels[{}].inside_cidr", i),
                                     "no free inside /30 is left in 169.254.0.0/16"));
      }
      allocated.push_back(*fresh);
      taken.push_back(*fresh);
      tunnel.inside_cidr = *fresh;
    }
    if (t.psk) {
      tunnel.psk = *t.psk;
    } else if (kept != nullptr) {
      tunnel.psk = kept->psk;
    } else {
      tunnel.psk = options_.psk_source();
    }
    spoke.tunnels.push_back(std::move(tunnel));
  }
  return spoke;
}

bool Registry::index(const Spoke& spoke) {
  if (spoke.route_tag != 0) {
    if (auto owner = tags_.find(spoke.route_tag);
        owner != tags_.end() && owner->second != spoke.name) {
      return false;
    }
  }
  for (const auto& cidr : spoke.cidrs) {
    if (auto overlap = cidrs_.findOverlap(cidr); overlap && overlap->owner != spoke.name) {
      return false;
    }
  }
  for (const auto& t : spoke.tunnels) {
    auto owner = outside_.find(std::pair(t.hub, t.outside_ip.value()));
    if (owner != outside_.end() && owner->second != spoke.name) {
      return false;
    }
  }
  for (const auto& cidr : spoke.cidrs) {
    cidrs_.insert(cidr, spoke.name);
  }
  for (const auto& t : spoke.tunnels) {
    outside_.emplace(std::pair(t.hub, t.outside_ip.value()), spoke.name);
    inside_.reserve(t.inside_cidr);
  }
  if (spoke.route_tag != 0) tags_.emplace(spoke.route_tag, spoke.name);
  return true;
}

void Registry::unindex(const Spoke& spoke) {
  if (auto owner = tags_.find(spoke.route_tag);
      owner != tags_.end() && owner->second == spoke.name) {
    tags_.erase(owner);
  }
  for (const auto& cidr : spoke.cidrs) {
    cidrs_.erase(cidr);
  }
  for (const auto& t : spoke.tunnels) {
    if (auto owner = outside_.find(std::pair(t.hub, t.outside_ip.value()));
        owner != outside_.end() && owner->second == spoke.name) {
      outside_.erase(owner);
    }
    inside_.release(t.inside_cidr);
  }
}

std::string Registry::insideOwner(const Ipv4Prefix& cidr) const {
  for (const auto& [name, spoke] : spokes_) {
    for (const auto& t : spoke->tunnels) {
      if (t.inside_cidr == cidr) return name;
    }
  }
  return "another spoke";
}

HubError Registry::storeFailed(const StoreError& failure) {
  if (metrics_ != nullptr) metrics_->storeWrite(false);
  switch (failure.code) {
    case StoreErrorCode::kNotFound:
    case StoreErrorCode::kConflict:
      // The hub checked first, so another writer (the pair's other hub) got there before us;
      // runBatch reloads and tries again, and answers with this only when that keeps failing.
      spdlog::info("store refused a write the hub had checked: {}", failure.message);
      return error(ErrorCode::kConflict, "",
                   fmt::format("the store refused the write: {}", failure.message));
    case StoreErrorCode::kUnavailable:
    case StoreErrorCode::kCorrupt:
      break;
  }
  spdlog::warn("store write failed: {}", failure.message);
  {
    std::lock_guard lock(health_mutex_);
    store_health_ = StoreHealth{false, failure.message};
  }
  if (failure.code == StoreErrorCode::kUnavailable) markStale(failure.message);
  return error(ErrorCode::kUnavailable, "",
               fmt::format("the store could not write, nothing changed: {}", failure.message));
}

void Registry::storeSucceeded(std::uint64_t revision) {
  revision_ = revision;
  // Right after what the state reflected: nothing of another writer's came in between.
  if (revision == seen_revision_ + 1) seen_revision_ = revision;
  if (metrics_ != nullptr) metrics_->storeWrite(true);
  std::lock_guard lock(health_mutex_);
  view_.revision = std::max(view_.revision, revision);
  if (!store_health_.ok) {
    spdlog::info("store writes work again");
    store_health_ = StoreHealth{};
  }
}

void Registry::publish() {
  auto state = std::make_shared<DesiredState>();
  state->revision = revision_;
  state->loaded = view_.loaded;
  state->spokes = spokes_;
  for (const auto& [name, spoke] : state->spokes) {
    ++(spoke->kind == peers::SpokeKind::kVpc ? state->vpc_spokes : state->site_spokes);
  }
  if (metrics_ != nullptr) {
    metrics_->setSpokes(state->count(peers::SpokeKind::kVpc),
                        state->count(peers::SpokeKind::kSite));
  }
  published_.publish(std::move(state));
  published_seen_ = seen_revision_;
  reportView();
}

}  // namespace transit::hub
