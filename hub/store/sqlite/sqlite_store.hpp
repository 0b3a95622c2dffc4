// SqliteStore: the embedded default Store, one SQLite database file in WAL mode.
//
// Owns: the database connection and its prepared statements. Built once by main.cpp; load()
// runs at start-up, then every write comes from the Registry's writer thread; readAudit() comes
// from HTTP threads, so a mutex serializes every use of the connection. describe() and check()
// may be called from any thread.
//
// Durability: synchronous=FULL, so a write that returned a revision is on stable storage. The
// database, its -wal and its -shm files are 0600 (they hold PSKs), in a 0700 directory when this
// class creates it. The schema is migrated in code, one transaction per step, tracked by
// PRAGMA user_version; a database from a newer version is refused, never modified. Version 3
// made outside-address claims per (hub, address); its migration gives every existing claim to
// the hub that opens the database (SqliteStoreOptions::hub_name), whose tunnels they all were.
// Version 4 added the audit trail (table audit).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hub/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace transit::hub {

struct SqliteStoreOptions {
  // How long a write waits for a lock held by another connection before failing kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // The hub that owns the database (hub.name). Records and outside-address claims written before
  // tunnels named their hub (schema 2, record version 2) are this hub's. Empty: such a database
  // cannot be migrated nor such records loaded (the error says so).
  std::string hub_name{};
  // Read the database and never write it (transit-hubd --migrate-store): the file must exist at
  // the latest schema version; nothing is created, chmod-ed, migrated or switched to WAL; a
  // shared lock (refused while a transit-hubd holds the file); every write fails kUnavailable.
  bool read_only = false;
};

class SqliteStore final : public Store {
 public:
  // The schema version this build writes (the last migration step).
  static int schemaVersion();

  // Opens (creating if missing) the database at `file` and migrates it to schemaVersion().
  // Fails kUnavailable if another process (or another SqliteStore) has the file open.
  static std::expected<std::unique_ptr<SqliteStore>, StoreError> open(
      const std::filesystem::path& file, const SqliteStoreOptions& options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::expected<StoreContents, StoreError> load() override;
  std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) override;
  std::string describe() const override;
  // The database file at the configured path must still be the file this store opened: one
  // deleted or replaced underneath the hub would swallow every later write.
  std::expected<void, StoreError> check() const override;
  std::expected<AuditPage, StoreError> readAudit(const AuditQuery& query) const override;

 private:
  struct Statements;  // the prepared-statement cache, defined in sqlite_store.cpp

  SqliteStore(sqlite3* db, std::unique_ptr<Statements> statements, std::string hub_name,
              std::filesystem::path path, dev_t device, ino_t inode, int lock_fd);

  void rollback();
  static std::string describeWrite(const StoreWrite& write);
  // One write inside the open transaction.
  StoreWriteResult writeOne(const StoreWrite& write);
  StoreWriteResult writeCreate(const peers::Spoke& spoke);
  StoreWriteResult writeReplace(const peers::Spoke& spoke, std::uint64_t expected_generation);
  StoreWriteResult writeRemove(std::string_view name, std::uint64_t expected_generation);

  std::expected<std::optional<std::uint64_t>, StoreError> storedGeneration(std::string_view name,
                                                                           std::string_view what);
  // kNotFound if the spoke is absent, kConflict if its generation is not `expected_generation`.
  std::expected<void, StoreError> checkGeneration(std::string_view name,
                                                  std::uint64_t expected_generation,
                                                  std::string_view what);
  std::expected<std::uint64_t, StoreError> bumpRevision(std::string_view what);
  // Claims the spoke's inside networks, outside addresses (per hub: one address may reach both
  // hubs) and route tag (when allocated); kConflict if another spoke holds one.
  std::expected<void, StoreError> insertClaims(const peers::Spoke& spoke, std::string_view what);
  // The change's audit record, at the revision the change was written at.
  std::expected<void, StoreError> insertAudit(const AuditRecord& record, std::uint64_t revision,
                                              std::string_view what);
  // Drops the records the retention no longer keeps (`newest`: the latest record's time).
  std::expected<void, StoreError> trimAudit(std::chrono::sys_time<std::chrono::milliseconds> newest,
                                            std::string_view what);

  // Guards the connection (opened NOMUTEX): the registry's writer writes, HTTP threads read the
  // audit trail.
  mutable std::mutex mutex_;
  sqlite3* db_;
  std::unique_ptr<Statements> statements_;
  std::string hub_name_;  // SqliteStoreOptions::hub_name
  std::string description_;
  std::filesystem::path path_;
  dev_t device_;  // identity of the opened database file, for check()
  ino_t inode_;
  int lock_fd_;             // holds flock(LOCK_EX) on the database file: one process per store
  bool read_only_ = false;  // SqliteStoreOptions::read_only
};

}  // namespace transit::hub
