// Store: durable home of the hub's desired state (the spokes), with revisions.
//
// Owns: the records on disk. Exactly one writer: the Registry's writer thread calls every
// mutating method; load() runs once at start before that thread exists. An acknowledged write
// (a method that returned a value) survives a crash of the process and a power cut.
//
// Group commit: the Registry hands every write of a batch of commands to apply() at once, so a
// burst of requests costs one sync, not one each.
//
// Revisions: the store keeps one counter that every successful write increments (like etcd's
// revision); each spoke carries its own generation (1 on create, +1 on replace). Writes are
// conditional on the generation the caller last saw, so a second hub sharing the store (the HA
// pair, through an etcd implementation of this interface) cannot overwrite a newer record.
//
// Audit trail: a write may carry its AuditRecord (hub/store/audit.hpp), which the store keeps in
// the same transaction, trims to the AuditRetention and pages back through readAudit().
//
// Implementations: SqliteStore (hub/store/sqlite/sqlite_store.hpp), the embedded default;
// tests/fakes has an in-memory one for registry tests.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/audit.hpp"
#include "peers/model/spoke.hpp"

namespace transit::hub {

enum class StoreErrorCode {
  kNotFound,     // no record of that name
  kConflict,     // the name exists already, or the stored generation is not the expected one,
                 // or an inside /30 or outside address is already held by another record
  kUnavailable,  // I/O error, database busy or locked, disk full: transient, retry later
  kCorrupt,      // a record on disk cannot be decoded: needs an operator
};

struct StoreError {
  StoreErrorCode code;
  std::string message;  // never contains a PSK
};

struct StoreContents {
  std::uint64_t revision = 0;
  std::vector<peers::Spoke> spokes;  // ordered by name
};

// One change, as the Registry hands it to apply().
struct StoreWrite {
  enum class Kind {
    kCreate,   // fails kConflict if a spoke of that name exists
    kReplace,  // the stored spoke must have generation `expected_generation`
    kRemove,   // as kReplace, for deletion
  };
  Kind kind = Kind::kCreate;
  const peers::Spoke* spoke = nullptr;  // kCreate, kReplace: the record, written as given
  std::string name;                     // kRemove
  std::uint64_t expected_generation = 0;
  // The change's audit record, written with it (both or neither); null: none. Its id and
  // revision are the store's to give.
  const AuditRecord* audit = nullptr;
};

// The store's revision after a successful write.
using StoreWriteResult = std::expected<std::uint64_t, StoreError>;

// Told that the stored spokes may have changed: `revision` is the store's revision after the
// change, or 0 when unknown (a watch that was cut and re-established may have missed changes).
// Called on the store's own thread (or a writer's); it must not block nor call the store.
using StoreChanged = std::function<void(std::uint64_t revision)>;

// A running watch; destroying it stops the notifications (it waits for one in progress).
class StoreWatch {
 public:
  virtual ~StoreWatch() = default;
  // Why the watch is not following the store now (it was cut and is not set up again yet), or
  // nullopt while it follows. Set before the changed(0) that tells of the cut and cleared before
  // the changed(0) that tells the watch is set up again, so the registry, reloading on that
  // notice, reads the state that notice is about. Any thread; never contains a secret.
  virtual std::optional<std::string> cut() const { return std::nullopt; }
};

class Store {
 public:
  virtual ~Store() = default;

  // Every record and the current revision.
  virtual std::expected<StoreContents, StoreError> load() = 0;

  // Applies `writes` in order as one durable transaction (group commit: one sync for all).
  // Each write succeeds or fails on its own (a failed write changes nothing, the others still
  // apply); if the transaction cannot commit, every write fails with that error. Returns one
  // result per write, in order.
  virtual std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) = 0;

  // "sqlite:/var/lib/transit-hub/state.db", for /v1/hub and logs.
  virtual std::string describe() const = 0;

  // Whether the store can take writes, found without writing. Cheap and callable from any
  // thread: /readyz calls it on every probe.
  virtual std::expected<void, StoreError> check() const = 0;

  // Follows the store for changes made by other writers (the pair's other hub): `changed` is
  // called after each change, the hub's own writes included (the registry ignores those by
  // revision), and after any gap in what the store could see. The registry answers by reloading
  // (a relist is always right, whatever was missed), so a watch carries no events. Null: the
  // store has no other writer to follow (SQLite: one process holds the file).
  virtual std::unique_ptr<StoreWatch> watch(StoreChanged changed) {
    (void)changed;
    return nullptr;
  }

  // The audit trail, newest first (AuditQuery: a page, older than a cursor, of one spoke).
  // Any thread; it may wait for a write in progress. A store that keeps no trail says so
  // (kUnavailable).
  virtual std::expected<AuditPage, StoreError> readAudit(const AuditQuery& query) const;

  // How much of the audit trail to keep; set before the first write (the default keeps a year
  // and at most 100,000 records). Every write that carries a record applies it.
  void setAuditRetention(const AuditRetention& retention) { audit_retention_ = retention; }
  const AuditRetention& auditRetention() const { return audit_retention_; }

  // One write in its own transaction.
  StoreWriteResult create(const peers::Spoke& spoke);
  StoreWriteResult replace(const peers::Spoke& spoke, std::uint64_t expected_generation);
  StoreWriteResult remove(std::string_view name, std::uint64_t expected_generation);

 private:
  AuditRetention audit_retention_;
};

}  // namespace transit::hub
