// Tests of the spoke store. One conformance suite runs against SqliteStore and the in-memory
// fake (tests/fakes/memory_store.hpp) so both keep the same rules; then SQLite's own behaviour
// (file modes, migrations, damaged files, busy database, durability after SIGKILL) and the
// fake's fault injection.
#include "hub/store/sqlite/sqlite_store.hpp"
#include "tests/fakes/temp_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "hub/store/record_codec.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/hub/store/store_conformance.hpp"

namespace transit {
namespace {

using transit::fakes::TempDir;
using namespace transit::store_test;

namespace fs = std::filesystem;
using hub::StoreErrorCode;
using peers::Spoke;
using ::testing::HasSubstr;
using ::testing::Not;
using transit::Ipv4Address;
using transit::Ipv4Prefix;

// ---------------------------------------------------------------------------------------------
// Conformance: the same rules for every implementation.

class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  std::expected<std::unique_ptr<hub::Store>, hub::StoreError> open() {
    hub::SqliteStoreOptions options;
    options.hub_name = "hub-a";
    return hub::SqliteStore::open(dir_.path() / "state.db", options);
  }

 private:
  TempDir dir_;
};

class MemoryBackend {
 public:
  static constexpr const char* kName = "Memory";
  std::expected<std::unique_ptr<hub::Store>, hub::StoreError> open() {
    return std::make_unique<fakes::MemoryStore>();
  }
};

using Backends = ::testing::Types<SqliteBackend, MemoryBackend>;
INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreConformanceTest, Backends, BackendName);

// ---------------------------------------------------------------------------------------------
// SqliteStore's own behaviour.

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << path << " is missing";
    return 0;
  }
  return st.st_mode & 07777;
}

void makeFile(const fs::path& path, mode_t mode, std::string_view content = {}) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::fchmod(fd, mode), 0);
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
}

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

// A direct connection to the database file, to inspect it or damage it as the world might.
class RawDatabase {
 public:
  explicit RawDatabase(const fs::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << file << ": " << sqlite3_errmsg(db_);
    }
  }
  ~RawDatabase() { sqlite3_close_v2(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  void exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }

  std::int64_t queryInt(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      value = sqlite3_column_int64(statement, 0);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(statement);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  fs::path db() const { return dir_.path() / "state.db"; }

  // The hub that owns the database is hub-a, unless `options` say otherwise.
  static hub::SqliteStoreOptions hubA() {
    hub::SqliteStoreOptions options;
    options.hub_name = "hub-a";
    return options;
  }

  std::unique_ptr<hub::SqliteStore> open(const hub::SqliteStoreOptions& options = hubA()) {
    auto store = hub::SqliteStore::open(db(), options);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  // Creates `spoke` through a store that is closed again.
  void storeAndClose(const Spoke& spoke) {
    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->create(spoke).has_value());
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, SpokesAndRevisionSurviveAReopen) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->create(vpcSpoke()).has_value());
    ASSERT_TRUE(store->create(siteSpoke()).has_value());
    ASSERT_TRUE(store->remove("branch-7", 7).has_value());
  }
  auto store = open();
  ASSERT_TRUE(store);
  auto contents = store->load();
  ASSERT_TRUE(contents.has_value()) << contents.error().message;
  EXPECT_EQ(contents->revision, 3U);
  EXPECT_EQ(contents->spokes, std::vector<Spoke>{vpcSpoke()});
  EXPECT_EQ(store->create(siteSpoke()), 4U);
}

TEST_F(SqliteStoreTest, TheAuditTrailSurvivesAReopenAndItsCursorsStillWork) {
  std::string second_id;
  {
    auto store = open();
    ASSERT_TRUE(store);
    const Spoke a = vpcSpoke();
    const Spoke b = siteSpoke();
    ASSERT_TRUE(writeWithAudit(*store,
                               hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &a, a.name, 0},
                               auditRecord(a.name, "create", 0)));
    ASSERT_TRUE(writeWithAudit(*store,
                               hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &b, b.name, 0},
                               auditRecord(b.name, "create", 1)));
    ASSERT_TRUE(writeWithAudit(*store,
                               hub::StoreWrite{hub::StoreWrite::Kind::kRemove, nullptr, b.name, 7},
                               auditRecord(b.name, "delete", 2)));
    auto first = store->readAudit(hub::AuditQuery{1, "", ""});
    ASSERT_TRUE(first.has_value());
    second_id = first->next;
  }
  auto store = open();
  ASSERT_TRUE(store);
  const auto trail = wholeTrail(*store);
  ASSERT_EQ(trail.size(), 3U);
  EXPECT_EQ(trail[0].action, "delete");
  EXPECT_EQ(trail[0].revision, 3U);
  auto rest = store->readAudit(hub::AuditQuery{10, second_id, ""});
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->records.size(), 2U);
  EXPECT_EQ(rest->records[0].action, "create");
  EXPECT_EQ(rest->records[0].spoke, "branch-7");
  // A cursor that is no record's place is refused, not read as the start.
  auto bad = store->readAudit(hub::AuditQuery{10, "not-a-number", ""});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, StoreErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, DescribeNamesTheAbsoluteNormalPath) {
  auto store = hub::SqliteStore::open(dir_.path() / "sub" / ".." / "state.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ((*store)->describe(), "sqlite:" + db().string());
}

TEST_F(SqliteStoreTest, MissingParentDirectoriesAreCreatedWithMode0700) {
  const UmaskGuard umask(0);
  const fs::path file = dir_.path() / "var" / "transit-hub" / "state.db";
  auto store = hub::SqliteStore::open(file);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(modeOf(dir_.path() / "var"), 0700U);
  EXPECT_EQ(modeOf(file.parent_path()), 0700U);
}

TEST_F(SqliteStoreTest, DatabaseWalAndShmFilesAreMode0600WhateverTheUmask) {
  const UmaskGuard umask(0);
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(vpcSpoke()).has_value());
  EXPECT_EQ(modeOf(db()), 0600U);
  EXPECT_EQ(modeOf(db().string() + "-wal"), 0600U);
  EXPECT_EQ(modeOf(db().string() + "-shm"), 0600U);
}

TEST_F(SqliteStoreTest, AnExistingWorldReadableDatabaseIsTightenedTo0600) {
  makeFile(db(), 0644);
  makeFile(db().string() + "-wal", 0644);
  makeFile(db().string() + "-shm", 0644);
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(vpcSpoke()).has_value());
  EXPECT_EQ(modeOf(db()), 0600U);
  EXPECT_EQ(modeOf(db().string() + "-wal"), 0600U);
  EXPECT_EQ(modeOf(db().string() + "-shm"), 0600U);
}

TEST_F(SqliteStoreTest, AnEmptyFileIsMigratedToTheCurrentSchema) {
  makeFile(db(), 0600);
  {
    auto store = open();
    ASSERT_TRUE(store);
    auto contents = store->load();
    ASSERT_TRUE(contents.has_value()) << contents.error().message;
    EXPECT_EQ(contents->revision, 0U);
  }
  RawDatabase raw(db());
  EXPECT_EQ(raw.queryInt("PRAGMA user_version"), hub::SqliteStore::schemaVersion());
  EXPECT_EQ(raw.queryInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                         "('meta', 'spokes', 'tunnel_inside', 'tunnel_outside', 'route_tags', "
                         "'audit')"),
            6);
  EXPECT_EQ(raw.queryInt("SELECT value FROM meta WHERE key = 'revision'"), 0);
}

// A database of schema 1 holds version 1 records (no "v", no route tag): it opens migrated to the
// current schema, its spokes load with route tag 0 (not allocated), and the tag the registry
// then writes is claimed like any other.
TEST_F(SqliteStoreTest, ASchemaOneDatabaseWithVersionOneRecordsIsMigrated) {
  storeAndClose(vpcSpoke());
  {
    RawDatabase raw(db());
    raw.exec("DROP TABLE audit");  // version 4's
    raw.exec("DROP TABLE route_tags");
    raw.exec(
        "UPDATE spokes SET record = replace(replace(record, ',\"route_tag\":1', ''), "
        "',\"v\":3', '')");
    raw.exec("PRAGMA user_version = 1");
    ASSERT_EQ(raw.queryInt("SELECT count(*) FROM spokes WHERE record LIKE '%route_tag%' OR "
                           "record LIKE '%\"v\"%'"),
              0);
  }
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(RawDatabase(db()).queryInt("PRAGMA user_version"), hub::SqliteStore::schemaVersion());
  auto contents = store->load();
  ASSERT_TRUE(contents.has_value()) << contents.error().message;
  ASSERT_EQ(contents->spokes.size(), 1U);
  Spoke expected = vpcSpoke();
  expected.route_tag = 0;
  EXPECT_EQ(contents->spokes[0], expected);

  Spoke tagged = vpcSpoke();
  tagged.route_tag = 4;
  ASSERT_TRUE(store->replace(tagged, 1).has_value());
  Spoke other = numberedSpoke(1);
  other.route_tag = 4;
  auto refused = store->create(other);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict);
  EXPECT_THAT(refused.error().message, HasSubstr("route tag 4 is already used by spoke 'prod-a'"));
}

// A database as schema 2 left it (one hub: outside-address claims by address alone, records of
// version 2 whose tunnels name no hub) opens migrated in one step: every claim and every tunnel
// becomes the opening hub's, the spokes load unchanged, and the claims are then per hub.
TEST_F(SqliteStoreTest, ASchemaTwoDatabaseWithItsSpokesIsMigratedToClaimsPerHub) {
  makeFile(db(), 0600);
  {
    RawDatabase raw(db());
    raw.exec(R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta(key, value) VALUES('revision', 2);
CREATE TABLE spokes(name TEXT PRIMARY KEY, generation INTEGER NOT NULL,
                    mod_revision INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE tunnel_inside(cidr TEXT PRIMARY KEY,
                           spoke TEXT NOT NULL REFERENCES spokes(name) ON DELETE CASCADE);
CREATE TABLE tunnel_outside(address TEXT PRIMARY KEY,
                            spoke TEXT NOT NULL REFERENCES spokes(name) ON DELETE CASCADE);
CREATE INDEX tunnel_inside_by_spoke ON tunnel_inside(spoke);
CREATE INDEX tunnel_outside_by_spoke ON tunnel_outside(spoke);
CREATE TABLE route_tags(tag INTEGER PRIMARY KEY CHECK (tag > 0),
                        spoke TEXT NOT NULL UNIQUE
                              REFERENCES spokes(name) ON DELETE CASCADE);
PRAGMA user_version = 2;
)sql");
    std::uint64_t revision = 0;
    for (const Spoke& spoke : {vpcSpoke(), numberedSpoke(1)}) {
      auto record = hub::encodeSpokeRecord(spoke);
      record["v"] = 2;
      for (auto& tunnel : record.at("tunnels").as_array()) tunnel.as_object().erase("hub");
      std::string text = boost::json::serialize(record);
      for (std::size_t at = text.find('\''); at != std::string::npos;
           at = text.find('\'', at + 2)) {
        text.insert(at, 1, '\'');
      }
      raw.exec(fmt::format("INSERT INTO spokes VALUES('{}', {}, {}, '{}')", spoke.name,
                           spoke.generation, ++revision, text));
      raw.exec(fmt::format("INSERT INTO route_tags VALUES({}, '{}')", spoke.route_tag, spoke.name));
      for (const auto& tunnel : spoke.tunnels) {
        raw.exec(fmt::format("INSERT INTO tunnel_inside VALUES('{}', '{}')",
                             tunnel.inside_cidr.toString(), spoke.name));
        raw.exec(fmt::format("INSERT INTO tunnel_outside VALUES('{}', '{}')",
                             tunnel.outside_ip.toString(), spoke.name));
      }
    }
  }
  // Only the hub that owns the database may migrate it: whose would the claims be otherwise?
  auto nameless = hub::SqliteStore::open(db());
  ASSERT_FALSE(nameless.has_value());
  EXPECT_EQ(nameless.error().code, StoreErrorCode::kCorrupt);
  EXPECT_THAT(nameless.error().message, HasSubstr("no hub name was given"));
  EXPECT_EQ(RawDatabase(db()).queryInt("PRAGMA user_version"), 2);  // rolled back, untouched

  auto store = open();
  ASSERT_TRUE(store);
  {
    RawDatabase raw(db());
    EXPECT_EQ(raw.queryInt("PRAGMA user_version"), hub::SqliteStore::schemaVersion());
    EXPECT_EQ(raw.queryInt("SELECT count(*) FROM tunnel_outside WHERE hub = 'hub-a'"), 3);
    EXPECT_EQ(raw.queryInt("SELECT count(*) FROM tunnel_outside"), 3);
    EXPECT_EQ(raw.queryInt("SELECT count(*) FROM tunnel_inside"), 3);
  }
  auto contents = store->load();
  ASSERT_TRUE(contents.has_value()) << contents.error().message;
  EXPECT_EQ(contents->revision, 2U);
  EXPECT_EQ(contents->spokes, (std::vector<Spoke>{vpcSpoke(), numberedSpoke(1)}));

  // The migrated claims hold on hub-a; hub-b may use the same address.
  Spoke on_a = numberedSpoke(2);
  on_a.tunnels[0].outside_ip = address("198.51.100.10");
  auto refused = store->create(on_a);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict);
  EXPECT_THAT(refused.error().message,
              HasSubstr("tunnel outside address 198.51.100.10 (on hub hub-a) is already used by "
                        "spoke 'prod-a'"));
  Spoke on_b = on_a;
  on_b.tunnels[0].hub = "hub-b";
  EXPECT_TRUE(store->create(on_b).has_value());
}

TEST_F(SqliteStoreTest, TheDatabaseIsInWalMode) {
  ASSERT_TRUE(open());
  RawDatabase raw(db());
  EXPECT_EQ(raw.queryInt("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
}

TEST_F(SqliteStoreTest, ANewerSchemaVersionIsRefusedAndLeftAlone) {
  storeAndClose(vpcSpoke());
  RawDatabase(db()).exec("PRAGMA user_version = 99");
  auto store = hub::SqliteStore::open(db());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, StoreErrorCode::kCorrupt);
  EXPECT_EQ(store.error().message,
            fmt::format("database schema version 99 is newer than this transit-hubd supports ({})",
                        hub::SqliteStore::schemaVersion()));
  EXPECT_EQ(RawDatabase(db()).queryInt("PRAGMA user_version"), 99);
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsCorrupt) {
  makeFile(db(), 0600, std::string(4096, 'x'));
  auto store = hub::SqliteStore::open(db());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, StoreErrorCode::kCorrupt) << store.error().message;
}

TEST_F(SqliteStoreTest, ARecordThatFailsValidationMakesLoadCorruptNamingTheSpoke) {
  storeAndClose(vpcSpoke());
  RawDatabase(db()).exec(
      "UPDATE spokes SET record = replace(record, '\"kind\":\"vpc\"', '\"kind\":\"boat\"')");
  auto store = open();
  ASSERT_TRUE(store);
  auto contents = store->load();
  ASSERT_FALSE(contents.has_value());
  EXPECT_EQ(contents.error().code, StoreErrorCode::kCorrupt);
  EXPECT_THAT(contents.error().message, HasSubstr("'prod-a'"));
  EXPECT_THAT(contents.error().message, HasSubstr("kind"));
  EXPECT_THAT(contents.error().message, Not(HasSubstr(kSecretMarker)));
}

TEST_F(SqliteStoreTest, ARecordThatIsNotJsonMakesLoadCorruptNamingTheSpoke) {
  storeAndClose(vpcSpoke());
  RawDatabase(db()).exec("UPDATE spokes SET record = substr(record, 1, 150)");
  auto store = open();
  ASSERT_TRUE(store);
  auto contents = store->load();
  ASSERT_FALSE(contents.has_value());
  EXPECT_EQ(contents.error().code, StoreErrorCode::kCorrupt);
  EXPECT_THAT(contents.error().message, HasSubstr("'prod-a'"));
  EXPECT_THAT(contents.error().message, Not(HasSubstr(kSecretMarker)));
}

TEST_F(SqliteStoreTest, ATunnelConflictNamesTheNetworkAndItsHolder) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(vpcSpoke()).has_value());
  Spoke other = numberedSpoke(1);
  other.tunnels[0].inside_cidr = prefix("169.254.20.0/30");
  auto result = store->create(other);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, StoreErrorCode::kConflict);
  EXPECT_THAT(result.error().message, HasSubstr("169.254.20.0/30"));
  EXPECT_THAT(result.error().message, HasSubstr("'prod-a'"));
}

TEST_F(SqliteStoreTest, WritesWhileAnotherConnectionHoldsTheLockAreUnavailable) {
  auto store = open(
      hub::SqliteStoreOptions{.busy_timeout = std::chrono::milliseconds(0), .hub_name = "hub-a"});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(vpcSpoke()).has_value());
  RawDatabase other(db());
  other.exec("BEGIN IMMEDIATE");

  auto refused = store->create(siteSpoke());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("busy or locked"));
  EXPECT_THAT(refused.error().message, HasSubstr("'branch-7'"));

  other.exec("ROLLBACK");
  EXPECT_EQ(store->create(siteSpoke()), 2U);
  auto contents = store->load();
  ASSERT_TRUE(contents.has_value()) << contents.error().message;
  EXPECT_EQ(contents->spokes, (std::vector<Spoke>{siteSpoke(), vpcSpoke()}));
}

// The child process: creates spokes one by one and reports each acknowledged create on `fd`,
// then dies by SIGKILL (if the parent has not killed it first) without closing anything.
[[noreturn]] void createUntilKilled(const fs::path& file, int fd, std::uint32_t count) {
  auto store = hub::SqliteStore::open(file);
  if (!store) {
    ::_exit(10);
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!(*store)->create(numberedSpoke(i))) {
      ::_exit(11);
    }
    const std::uint32_t acknowledged = i + 1;
    if (::write(fd, &acknowledged, sizeof acknowledged) != sizeof acknowledged) {
      ::_exit(12);
    }
  }
  ::raise(SIGKILL);
  ::_exit(13);
}

TEST_F(SqliteStoreTest, EveryAcknowledgedCreateSurvivesSigkill) {
  constexpr std::uint32_t kCount = 200;
  constexpr std::uint32_t kKillAt = 100;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();  // this test process has no other threads
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    createUntilKilled(db(), fds[1], kCount);
  }
  ::close(fds[1]);
  std::uint32_t acknowledged = 0;
  std::uint32_t report = 0;
  while (::read(fds[0], &report, sizeof report) == sizeof report) {
    acknowledged = report;
    if (acknowledged == kKillAt) {
      ::kill(child, SIGKILL);  // mid-stream: the child is likely inside its next write
    }
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer did not die by SIGKILL (exit status " << WEXITSTATUS(status) << ")";
  ASSERT_GE(acknowledged, kKillAt);

  auto store = open();
  ASSERT_TRUE(store);
  auto contents = store->load();
  ASSERT_TRUE(contents.has_value()) << contents.error().message;
  RecordProperty("acknowledged", static_cast<int>(acknowledged));
  RecordProperty("stored", static_cast<int>(contents->spokes.size()));
  std::map<std::string, Spoke> by_name;
  for (const Spoke& spoke : contents->spokes) {
    by_name.emplace(spoke.name, spoke);
  }
  for (std::uint32_t i = 0; i < acknowledged; ++i) {
    const Spoke expected = numberedSpoke(i);
    const auto it = by_name.find(expected.name);
    ASSERT_NE(it, by_name.end()) << expected.name << " was acknowledged but is lost";
    EXPECT_EQ(it->second, expected);
  }
  EXPECT_LE(contents->spokes.size(), acknowledged + 1U) << "at most one write was in flight";
  EXPECT_EQ(contents->revision, contents->spokes.size());
}

// ---------------------------------------------------------------------------------------------
// MemoryStore's fault injection.

TEST(MemoryStoreTest, FailNextWritesFailsThatManyWritesAndChangesNothing) {
  fakes::MemoryStore store;
  ASSERT_TRUE(store.create(vpcSpoke()).has_value());
  store.failNextWrites(3, StoreErrorCode::kUnavailable);

  const auto created = store.create(siteSpoke());
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, StoreErrorCode::kUnavailable);
  Spoke changed = vpcSpoke();
  changed.generation = 2;
  const auto replaced = store.replace(changed, 1);
  ASSERT_FALSE(replaced.has_value());
  EXPECT_EQ(replaced.error().code, StoreErrorCode::kUnavailable);
  const auto removed = store.remove("prod-a", 1);
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().code, StoreErrorCode::kUnavailable);

  auto contents = store.load();
  ASSERT_TRUE(contents.has_value());
  EXPECT_EQ(contents->revision, 1U);
  EXPECT_EQ(contents->spokes, std::vector<Spoke>{vpcSpoke()});
  EXPECT_EQ(store.create(siteSpoke()), 2U);
}

TEST(MemoryStoreTest, FailNextWritesUsesTheGivenCode) {
  fakes::MemoryStore store;
  store.failNextWrites(1, StoreErrorCode::kCorrupt);
  const auto created = store.create(vpcSpoke());
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, StoreErrorCode::kCorrupt);
  EXPECT_TRUE(store.create(vpcSpoke()).has_value());
}

TEST(MemoryStoreTest, FailNextLoadsFailsThatManyLoads) {
  fakes::MemoryStore store;
  store.failNextLoads(1, StoreErrorCode::kCorrupt);
  const auto failed = store.load();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, StoreErrorCode::kCorrupt);
  EXPECT_TRUE(store.load().has_value());
}

}  // namespace
}  // namespace transit
