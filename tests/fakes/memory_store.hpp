// MemoryStore: an in-memory hub::Store for tests, with fault injection.
//
// Owns: spokes in a map and the revision counter. Same rules as SqliteStore: a write checks
// existence and generation, a tunnel inside network or outside address held by another spoke
// (or listed twice) is kConflict, every successful write bumps the revision by one, and a failed
// write changes nothing. Nothing survives the object.
// Any thread: a mutex guards everything, so a test may inject faults while the registry's writer
// thread writes. holdWrites() holds writes mid-way (the writer waits inside apply()) until
// releaseWrites(), for tests of what happens while a write is in progress. watch() tells every
// watcher of each successful apply(), so two registries on one MemoryStore behave as the pair's
// two hubs on one etcd. cutWatches() / resumeWatches() play the watch losing its stream and
// getting it back (the etcd watch's cut(), and its changed(0) each time). Audit records are kept
// with their write, numbered from 1, and trimmed by the retention as SqliteStore does.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hub/store/store.hpp"
#include "peers/model/spoke.hpp"

namespace transit::fakes {

class MemoryStore final : public hub::Store {
 public:
  // The next `n` apply() calls (each create, replace or remove is one) fail whole with `code`,
  // as a transaction that cannot commit does, and change nothing.
  void failNextWrites(int n, hub::StoreErrorCode code) {
    std::lock_guard lock(mutex_);
    failing_writes_ = n;
    write_fault_ = code;
  }

  // The next `n` load() calls fail with `code`.
  void failNextLoads(int n, hub::StoreErrorCode code) {
    std::lock_guard lock(mutex_);
    failing_loads_ = n;
    load_fault_ = code;
  }

  // From now on apply() waits, before writing anything, until releaseWrites().
  void holdWrites() {
    std::lock_guard lock(gate_mutex_);
    holding_ = true;
  }
  // Lets every held apply() go on, and later ones pass.
  void releaseWrites() {
    std::lock_guard lock(gate_mutex_);
    holding_ = false;
    gate_cv_.notify_all();
  }
  // Waits until `n` apply() calls are held.
  void waitUntilHeld(int n) {
    std::unique_lock lock(gate_mutex_);
    gate_cv_.wait(lock, [&] { return held_ >= n; });
  }

  std::expected<hub::StoreContents, hub::StoreError> load() override {
    std::lock_guard lock(mutex_);
    ++loads_;
    if (auto fault = takeFault(failing_loads_, load_fault_)) {
      return std::unexpected(std::move(*fault));
    }
    hub::StoreContents out;
    out.revision = revision_;
    for (const auto& [name, spoke] : spokes_) {
      out.spokes.push_back(spoke);
    }
    return out;
  }

  // Every watcher hears of each apply() that wrote something, on the writer's thread, after the
  // store's lock is released (two registries on one MemoryStore are the pair's two hubs).
  std::unique_ptr<hub::StoreWatch> watch(hub::StoreChanged changed) override {
    std::lock_guard lock(watchers_->mutex);
    const int id = ++watchers_->next_id;
    watchers_->callbacks.emplace(id, std::move(changed));
    return std::make_unique<Watch>(watchers_, id);
  }
  // Every watch reports it is cut with `reason`, and its watchers hear changed(0).
  void cutWatches(std::string reason) { setCut(std::move(reason)); }
  // Every watch follows again, and its watchers hear changed(0) (what came meanwhile is unknown).
  void resumeWatches() { setCut(std::nullopt); }

  // How many load() calls the store has answered (a registry reloads after another writer).
  int loads() const {
    std::lock_guard lock(mutex_);
    return loads_;
  }

  std::vector<hub::StoreWriteResult> apply(std::span<const hub::StoreWrite> writes) override {
    auto results = applyLocked(writes);
    std::uint64_t revision = 0;
    for (const auto& result : results) {
      if (result) revision = std::max(revision, *result);
    }
    if (revision != 0) {
      std::lock_guard lock(watchers_->mutex);
      for (const auto& [id, callback] : watchers_->callbacks) callback(revision);
    }
    return results;
  }

 private:
  struct Watchers {
    std::mutex mutex;  // held while callbacks run: a Watch's destructor waits for them
    int next_id = 0;
    std::map<int, hub::StoreChanged> callbacks;
    mutable std::mutex cut_mutex;    // guards cut only; never held while calling back
    std::optional<std::string> cut;  // why the watches are cut; nullopt: they follow
  };
  void setCut(std::optional<std::string> reason) {
    {
      std::lock_guard lock(watchers_->cut_mutex);
      watchers_->cut = std::move(reason);
    }
    std::lock_guard lock(watchers_->mutex);
    for (const auto& [id, callback] : watchers_->callbacks) callback(0);
  }
  class Watch final : public hub::StoreWatch {
   public:
    Watch(std::shared_ptr<Watchers> watchers, int id) : watchers_(std::move(watchers)), id_(id) {}
    ~Watch() override {
      std::lock_guard lock(watchers_->mutex);
      watchers_->callbacks.erase(id_);
    }
    std::optional<std::string> cut() const override {
      std::lock_guard lock(watchers_->cut_mutex);
      return watchers_->cut;
    }

   private:
    std::shared_ptr<Watchers> watchers_;
    int id_;
  };

  std::vector<hub::StoreWriteResult> applyLocked(std::span<const hub::StoreWrite> writes) {
    {
      std::unique_lock gate(gate_mutex_);
      if (holding_) {
        ++held_;
        gate_cv_.notify_all();
        gate_cv_.wait(gate, [this] { return !holding_; });
        --held_;
      }
    }
    std::lock_guard lock(mutex_);
    if (auto fault = takeFault(failing_writes_, write_fault_)) {
      ++applies_;
      return std::vector<hub::StoreWriteResult>(writes.size(), std::unexpected(*fault));
    }
    ++applies_;
    std::vector<hub::StoreWriteResult> results;
    for (const auto& write : writes) {
      switch (write.kind) {
        case hub::StoreWrite::Kind::kCreate:
          results.push_back(createOne(*write.spoke));
          break;
        case hub::StoreWrite::Kind::kReplace:
          results.push_back(replaceOne(*write.spoke, write.expected_generation));
          break;
        case hub::StoreWrite::Kind::kRemove:
          results.push_back(removeOne(write.name, write.expected_generation));
          break;
      }
      if (results.back() && write.audit != nullptr) {
        hub::AuditRecord record = *write.audit;
        record.revision = *results.back();
        record.id = std::to_string(++audit_seq_);
        audit_.emplace(audit_seq_, std::move(record));
        trimAudit(write.audit->at);
      }
    }
    return results;
  }

  void trimAudit(std::chrono::sys_time<std::chrono::milliseconds> newest) {
    const auto& keep = auditRetention();
    const auto cutoff =
        newest - std::chrono::duration_cast<std::chrono::milliseconds>(keep.max_age);
    std::erase_if(audit_, [&](const auto& entry) {
      return entry.second.at < cutoff || entry.first + keep.max_records <= audit_seq_;
    });
  }

 public:
  std::expected<hub::AuditPage, hub::StoreError> readAudit(
      const hub::AuditQuery& query) const override {
    std::lock_guard lock(mutex_);
    std::uint64_t before = ~std::uint64_t{0};
    if (!query.before.empty()) {
      try {
        before = std::stoull(query.before);
      } catch (const std::exception&) {
        return std::unexpected(hub::StoreError{hub::StoreErrorCode::kNotFound, "not a cursor"});
      }
    }
    hub::AuditPage page;
    for (auto it = audit_.lower_bound(before); it != audit_.begin();) {
      --it;
      if (!query.spoke.empty() && it->second.spoke != query.spoke) continue;
      if (page.records.size() == query.limit) {
        page.next = page.records.back().id;
        break;
      }
      page.records.push_back(it->second);
    }
    return page;
  }

 public:
  // How many transactions (apply calls) the store has seen: group commit makes this smaller
  // than the number of writes.
  int applies() const {
    std::lock_guard lock(mutex_);
    return applies_;
  }

  std::string describe() const override { return "memory:"; }

  std::expected<void, hub::StoreError> check() const override {
    std::lock_guard lock(mutex_);
    if (check_problem_) {
      return std::unexpected(hub::StoreError{hub::StoreErrorCode::kUnavailable, *check_problem_});
    }
    return {};
  }
  // Makes check() report `problem` (nullopt: healthy again).
  void setCheckProblem(std::optional<std::string> problem) {
    std::lock_guard lock(mutex_);
    check_problem_ = std::move(problem);
  }

 private:
  hub::StoreWriteResult createOne(const peers::Spoke& spoke) {
    if (spokes_.contains(spoke.name)) {
      return std::unexpected(hub::StoreError{hub::StoreErrorCode::kConflict,
                                             "spoke '" + spoke.name + "' already exists"});
    }
    if (auto conflict = tunnelConflict(spoke)) {
      return std::unexpected(std::move(*conflict));
    }
    spokes_.emplace(spoke.name, spoke);
    return ++revision_;
  }

  hub::StoreWriteResult replaceOne(const peers::Spoke& spoke, std::uint64_t expected_generation) {
    if (auto problem = checkGeneration(spoke.name, expected_generation)) {
      return std::unexpected(std::move(*problem));
    }
    if (auto conflict = tunnelConflict(spoke)) {
      return std::unexpected(std::move(*conflict));
    }
    spokes_.find(spoke.name)->second = spoke;
    return ++revision_;
  }

  hub::StoreWriteResult removeOne(std::string_view name, std::uint64_t expected_generation) {
    if (auto problem = checkGeneration(name, expected_generation)) {
      return std::unexpected(std::move(*problem));
    }
    spokes_.erase(spokes_.find(name));
    return ++revision_;
  }

  static std::optional<hub::StoreError> takeFault(int& remaining, hub::StoreErrorCode code) {
    if (remaining <= 0) {
      return std::nullopt;
    }
    --remaining;
    return hub::StoreError{code, "memory store: injected fault"};
  }

  std::optional<hub::StoreError> checkGeneration(std::string_view name,
                                                 std::uint64_t expected_generation) const {
    const auto it = spokes_.find(name);
    if (it == spokes_.end()) {
      return hub::StoreError{hub::StoreErrorCode::kNotFound,
                             "spoke '" + std::string(name) + "' does not exist"};
    }
    if (it->second.generation != expected_generation) {
      return hub::StoreError{hub::StoreErrorCode::kConflict,
                             "spoke '" + std::string(name) + "' has generation " +
                                 std::to_string(it->second.generation) + ", not " +
                                 std::to_string(expected_generation)};
    }
    return std::nullopt;
  }

  // An inside network, outside address (per hub) or route tag of `spoke` that another spoke
  // holds, or a
  // tunnel network or address that `spoke` lists twice. The spoke's own stored record does not
  // count: a replace may keep its tunnels and tag.
  std::optional<hub::StoreError> tunnelConflict(const peers::Spoke& spoke) const {
    if (spoke.route_tag != 0) {
      for (const auto& [name, other] : spokes_) {
        if (name != spoke.name && other.route_tag == spoke.route_tag) {
          return conflict("route tag " + std::to_string(spoke.route_tag) +
                          " is already used by spoke '" + name + "'");
        }
      }
    }
    const auto& tunnels = spoke.tunnels;
    for (std::size_t i = 0; i < tunnels.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (tunnels[i].inside_cidr == tunnels[j].inside_cidr ||
            (tunnels[i].hub == tunnels[j].hub && tunnels[i].outside_ip == tunnels[j].outside_ip)) {
          return conflict("a tunnel network or address is listed twice in spoke '" + spoke.name +
                          "'");
        }
      }
      for (const auto& [name, other] : spokes_) {
        if (name == spoke.name) {
          continue;
        }
        for (const peers::Tunnel& held : other.tunnels) {
          if (held.inside_cidr == tunnels[i].inside_cidr) {
            return conflict("tunnel inside network " + held.inside_cidr.toString() +
                            " is already used by spoke '" + name + "'");
          }
          if (held.hub == tunnels[i].hub && held.outside_ip == tunnels[i].outside_ip) {
            return conflict("tunnel outside address " + held.outside_ip.toString() + " (on hub " +
                            held.hub + ") is already used by spoke '" + name + "'");
          }
        }
      }
    }
    return std::nullopt;
  }

  static hub::StoreError conflict(std::string message) {
    return hub::StoreError{hub::StoreErrorCode::kConflict, std::move(message)};
  }

  mutable std::mutex mutex_;
  int loads_ = 0;
  std::shared_ptr<Watchers> watchers_ = std::make_shared<Watchers>();
  std::map<std::string, peers::Spoke, std::less<>> spokes_;
  std::uint64_t revision_ = 0;
  std::map<std::uint64_t, hub::AuditRecord> audit_;  // by id
  std::uint64_t audit_seq_ = 0;
  int applies_ = 0;
  std::optional<std::string> check_problem_;
  int failing_writes_ = 0;
  hub::StoreErrorCode write_fault_ = hub::StoreErrorCode::kUnavailable;
  int failing_loads_ = 0;
  hub::StoreErrorCode load_fault_ = hub::StoreErrorCode::kUnavailable;
  std::mutex gate_mutex_;  // the hold on writes; never taken with mutex_ held
  std::condition_variable gate_cv_;
  bool holding_ = false;
  int held_ = 0;  // apply() calls waiting for releaseWrites()
};

static_assert(std::is_base_of_v<hub::Store, MemoryStore>);

}  // namespace transit::fakes
