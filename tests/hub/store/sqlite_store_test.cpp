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

#include "peers/model/spoke_json.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::peers {
// gtest prints a spoke in its API form (no PSK) when an expectation fails.
void PrintTo(const Spoke& spoke, std::ostream* os) {
  *os << boost::json::serialize(encodeSpokeForApi(spoke));
}
}  // namespace transit::peers

namespace transit {
namespace {

using transit::fakes::TempDir;

namespace fs = std::filesystem;
using hub::StoreErrorCode;
using peers::Spoke;
using transit::Ipv4Address;
using transit::Ipv4Prefix;
using ::testing::HasSubstr;
using ::testing::Not;

// Every PSK in these tests contains this, so a leak into an error message is easy to spot.
constexpr std::string_view kSecretMarker = "Sekr3t";

Ipv4Prefix prefix(std::string_view text) {
  auto parsed = Ipv4Prefix::parse(text);
  if (!parsed) {
    throw std::invalid_argument(parsed.error());
  }
  return *parsed;
}

Ipv4Address address(std::string_view text) {
  auto parsed = Ipv4Address::parse(text);
  if (!parsed) {
    throw std::invalid_argument(parsed.error());
  }
  return *parsed;
}

std::chrono::sys_seconds at(std::int64_t seconds) {
  return std::chrono::sys_seconds(std::chrono::seconds(seconds));
}

// A vpc spoke with BGP, one tunnel and defaults elsewhere.
Spoke vpcSpoke(std::string name = "prod-a") {
  Spoke spoke;
  spoke.name = std::move(name);
  spoke.kind = peers::SpokeKind::kVpc;
  spoke.cidrs = {prefix("10.1.0.0/16")};
  spoke.routing = peers::RoutingMode::kBgp;
  spoke.asn = 64512;
  spoke.tunnels = {{address("198.51.100.10"), prefix("169.254.20.0/30"), "VpcSekr3tKey_1"}};
  spoke.generation = 1;
  spoke.created_at = at(1795000000);
  spoke.updated_at = at(1795000000);
  return spoke;
}

// A site spoke that sets every optional field to something other than its default.
Spoke siteSpoke(std::string name = "branch-7") {
  Spoke spoke;
  spoke.name = std::move(name);
  spoke.kind = peers::SpokeKind::kSite;
  spoke.cidrs = {prefix("192.168.10.0/24"), prefix("172.16.0.0/12")};
  spoke.routing = peers::RoutingMode::kStatic;
  spoke.asn = std::nullopt;
  spoke.preferred_hub = "hub-b";
  spoke.segment = "dev";
  spoke.tunnels = {{address("203.0.113.7"), prefix("169.254.30.4/30"), "SiteSekr3t.one_1"},
                   {address("203.0.113.8"), prefix("169.254.30.8/30"), "SiteSekr3t.two_2"}};
  spoke.generation = 7;
  spoke.created_at = at(1795000000);
  spoke.updated_at = at(1795003600);
  return spoke;
}

// Spoke number `i` (below 3000): its own name, networks, tunnel addresses and PSKs. Pure
// arithmetic, so a forked child can build it too.
Spoke numberedSpoke(std::uint32_t i) {
  constexpr std::uint32_t kOutsideBase = 0xC6120000;  // 198.18.0.0
  constexpr std::uint32_t kInsideBase = 0xA9FE1000;   // 169.254.16.0
  Spoke spoke;
  spoke.name = fmt::format("spoke-{:04}", i);
  spoke.cidrs = {Ipv4Prefix::containing(Ipv4Address((10U << 24) | (i << 12)), 20)};
  spoke.asn = 4200000000U + i;
  for (std::uint32_t k = 0; k < 2; ++k) {
    spoke.tunnels.push_back({Ipv4Address(kOutsideBase + 2 * i + k),
                             Ipv4Prefix::containing(Ipv4Address(kInsideBase + (2 * i + k) * 4), 30),
                             fmt::format("Key{}Sekr3t{:04}", k, i)});
  }
  spoke.generation = 1;
  spoke.created_at = at(1795000000 + i);
  spoke.updated_at = at(1795000000 + i);
  return spoke;
}

// ---------------------------------------------------------------------------------------------
// Conformance: the same rules for every implementation.

class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  std::expected<std::unique_ptr<hub::Store>, hub::StoreError> open() {
    return hub::SqliteStore::open(dir_.path() / "state.db");
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

struct BackendName {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

template <typename Backend>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.open();
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
  }

  hub::Store& store() { return *store_; }

  hub::StoreContents contents() {
    auto loaded = store_->load();
    EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
    return loaded.value_or(hub::StoreContents{});
  }

  void created(const Spoke& spoke) {
    auto revision = store_->create(spoke);
    ASSERT_TRUE(revision.has_value()) << revision.error().message;
  }

  // Runs `write`, expects it to fail with `code` without a secret in the message, and expects
  // the store to hold exactly what it held before.
  template <typename Write>
  void expectRefused(StoreErrorCode code, Write write) {
    const hub::StoreContents before = contents();
    const auto result = write();
    ASSERT_FALSE(result.has_value()) << "the write was accepted";
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_THAT(result.error().message, Not(HasSubstr(kSecretMarker)));
    const hub::StoreContents after = contents();
    EXPECT_EQ(after.revision, before.revision);
    EXPECT_EQ(after.spokes, before.spokes);
  }

  Backend backend_;
  std::unique_ptr<hub::Store> store_;
};

using Backends = ::testing::Types<SqliteBackend, MemoryBackend>;
TYPED_TEST_SUITE(StoreConformanceTest, Backends, BackendName);

TYPED_TEST(StoreConformanceTest, AnEmptyStoreHasRevisionZeroAndNoSpokes) {
  const auto contents = this->contents();
  EXPECT_EQ(contents.revision, 0U);
  EXPECT_TRUE(contents.spokes.empty());
}

TYPED_TEST(StoreConformanceTest, LoadReturnsEveryFieldOfACreatedSpokeIncludingThePsk) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  const std::vector<Spoke> expected = {siteSpoke(), vpcSpoke()};
  EXPECT_EQ(this->contents().spokes, expected);
}

TYPED_TEST(StoreConformanceTest, LoadOrdersSpokesByName) {
  for (std::uint32_t i : {2U, 0U, 1U}) {
    this->created(numberedSpoke(i));
  }
  const std::vector<Spoke> expected = {numberedSpoke(0), numberedSpoke(1), numberedSpoke(2)};
  EXPECT_EQ(this->contents().spokes, expected);
}

TYPED_TEST(StoreConformanceTest, EveryWriteAdvancesTheRevisionByOne) {
  EXPECT_EQ(this->store().create(vpcSpoke()), 1U);
  EXPECT_EQ(this->store().create(siteSpoke()), 2U);
  Spoke changed = vpcSpoke();
  changed.generation = 2;
  EXPECT_EQ(this->store().replace(changed, 1), 3U);
  EXPECT_EQ(this->store().remove("branch-7", 7), 4U);
  EXPECT_EQ(this->contents().revision, 4U);
}

TYPED_TEST(StoreConformanceTest, CreatingAnExistingNameIsAConflict) {
  this->created(vpcSpoke());
  Spoke again = numberedSpoke(1);
  again.name = "prod-a";
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(again); });
}

TYPED_TEST(StoreConformanceTest, ReplaceWritesTheRecordAndGenerationAsGiven) {
  this->created(vpcSpoke());
  Spoke changed = vpcSpoke();
  changed.cidrs = {prefix("10.2.0.0/16"), prefix("10.3.0.0/16")};
  changed.tunnels[0].psk = "NewSekr3tKey_2";
  changed.generation = 5;
  changed.updated_at = at(1795007200);
  ASSERT_TRUE(this->store().replace(changed, 1).has_value());
  EXPECT_EQ(this->contents().spokes, std::vector<Spoke>{changed});
}

TYPED_TEST(StoreConformanceTest, ReplaceExpectingAnotherGenerationIsAConflict) {
  this->created(vpcSpoke());
  Spoke changed = vpcSpoke();
  changed.generation = 3;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 2); });
}

TYPED_TEST(StoreConformanceTest, ReplacingAMissingSpokeIsNotFound) {
  this->created(siteSpoke());
  this->expectRefused(StoreErrorCode::kNotFound,
                      [&] { return this->store().replace(vpcSpoke(), 1); });
}

TYPED_TEST(StoreConformanceTest, RemoveDeletesTheSpoke) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  ASSERT_TRUE(this->store().remove("prod-a", 1).has_value());
  EXPECT_EQ(this->contents().spokes, std::vector<Spoke>{siteSpoke()});
}

TYPED_TEST(StoreConformanceTest, RemoveExpectingAnotherGenerationIsAConflict) {
  this->created(vpcSpoke());
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().remove("prod-a", 2); });
}

TYPED_TEST(StoreConformanceTest, RemovingAMissingSpokeIsNotFound) {
  this->created(siteSpoke());
  this->expectRefused(StoreErrorCode::kNotFound, [&] { return this->store().remove("prod-a", 1); });
}

TYPED_TEST(StoreConformanceTest, CreateWithAnInsideNetworkHeldByAnotherSpokeIsAConflict) {
  this->created(vpcSpoke());
  Spoke other = numberedSpoke(1);
  other.tunnels[1].inside_cidr = prefix("169.254.20.0/30");
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(other); });
}

TYPED_TEST(StoreConformanceTest, CreateWithAnOutsideAddressHeldByAnotherSpokeIsAConflict) {
  this->created(vpcSpoke());
  Spoke other = numberedSpoke(1);
  other.tunnels[1].outside_ip = address("198.51.100.10");
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(other); });
}

TYPED_TEST(StoreConformanceTest, ReplaceTakingAnotherSpokesInsideNetworkIsAConflict) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  changed.tunnels[1].inside_cidr = prefix("169.254.20.0/30");
  changed.generation = 8;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 7); });
}

TYPED_TEST(StoreConformanceTest, ReplaceTakingAnotherSpokesOutsideAddressIsAConflict) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  changed.tunnels[0].outside_ip = address("198.51.100.10");
  changed.generation = 8;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 7); });
}

TYPED_TEST(StoreConformanceTest, ATunnelNetworkListedTwiceInOneSpokeIsAConflict) {
  Spoke spoke = numberedSpoke(1);
  spoke.tunnels[1].inside_cidr = spoke.tunnels[0].inside_cidr;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(spoke); });
}

TYPED_TEST(StoreConformanceTest, ReplaceKeepingItsOwnTunnelsSucceeds) {
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  std::swap(changed.tunnels[0].inside_cidr, changed.tunnels[1].inside_cidr);
  changed.generation = 8;
  ASSERT_TRUE(this->store().replace(changed, 7).has_value());
  EXPECT_EQ(this->contents().spokes, std::vector<Spoke>{changed});
}

TYPED_TEST(StoreConformanceTest, ReplaceReleasesTheTunnelsItNoLongerUses) {
  this->created(vpcSpoke());
  Spoke moved = vpcSpoke();
  moved.tunnels[0] = {address("198.51.100.11"), prefix("169.254.21.0/30"), "MovedSekr3t_1"};
  moved.generation = 2;
  ASSERT_TRUE(this->store().replace(moved, 1).has_value());
  Spoke taker = numberedSpoke(1);
  taker.tunnels[0].outside_ip = address("198.51.100.10");
  taker.tunnels[0].inside_cidr = prefix("169.254.20.0/30");
  EXPECT_TRUE(this->store().create(taker).has_value());
}

TYPED_TEST(StoreConformanceTest, RemoveReleasesItsTunnels) {
  this->created(vpcSpoke());
  ASSERT_TRUE(this->store().remove("prod-a", 1).has_value());
  Spoke taker = numberedSpoke(1);
  taker.tunnels[0].outside_ip = address("198.51.100.10");
  taker.tunnels[0].inside_cidr = prefix("169.254.20.0/30");
  EXPECT_TRUE(this->store().create(taker).has_value());
}

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

  std::unique_ptr<hub::SqliteStore> open(const hub::SqliteStoreOptions& options = {}) {
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
                         "('meta', 'spokes', 'tunnel_inside', 'tunnel_outside')"),
            4);
  EXPECT_EQ(raw.queryInt("SELECT value FROM meta WHERE key = 'revision'"), 0);
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
  auto store = open(hub::SqliteStoreOptions{.busy_timeout = std::chrono::milliseconds(0)});
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
