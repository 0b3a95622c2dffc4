// SqliteStore and its file: one process per store, a check that notices the file going away, and
// the read-only open (--migrate-store) that never changes the file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "hub/store/sqlite/sqlite_store.hpp"

namespace transit::hub {
namespace {

class SqliteStoreFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("transit-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto opened = SqliteStore::open(file());
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path file() const { return dir_ / "state.db"; }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreFile, ASecondOpenIsRefusedUntilTheFirstCloses) {
  auto second = SqliteStore::open(file());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, StoreErrorCode::kUnavailable);
  EXPECT_NE(second.error().message.find("in use by another process"), std::string::npos);
  EXPECT_NE(second.error().message.find(file().string()), std::string::npos);

  store_.reset();
  auto third = SqliteStore::open(file());
  EXPECT_TRUE(third.has_value());
}

TEST_F(SqliteStoreFile, AnotherProcessCannotOpenTheStore) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto other = SqliteStore::open(file());
    ::_exit(!other && other.error().code == StoreErrorCode::kUnavailable ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the other process opened a store that is in use";
  // This process's store still works.
  peers::Spoke spoke;
  spoke.name = "a";
  spoke.cidrs = {*Ipv4Prefix::parse("10.1.0.0/16")};
  spoke.asn = 64512;
  spoke.tunnels = {peers::Tunnel{*Ipv4Address::parse("198.51.100.1"),
                                 *Ipv4Prefix::parse("169.254.10.0/30"), "SomeKey_123", "hub-a"}};
  spoke.generation = 1;
  EXPECT_TRUE(store_->create(spoke).has_value());
}

TEST_F(SqliteStoreFile, CheckNoticesTheDatabaseFileDeletedOrReplaced) {
  EXPECT_TRUE(store_->check().has_value());
  std::filesystem::rename(file(), dir_ / "moved.db");
  auto gone = store_->check();
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, StoreErrorCode::kUnavailable);
  EXPECT_NE(gone.error().message.find("is gone"), std::string::npos);

  std::filesystem::copy_file(dir_ / "moved.db", file());  // same content, another file
  auto replaced = store_->check();
  ASSERT_FALSE(replaced.has_value());
  EXPECT_NE(replaced.error().message.find("was replaced"), std::string::npos);

  std::filesystem::remove(file());
  std::filesystem::rename(dir_ / "moved.db", file());  // the original is back
  EXPECT_TRUE(store_->check().has_value());
}

std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(SqliteStoreFile, ReadOnlyReadsWhatIsStoredAndNeverWritesTheFile) {
  peers::Spoke spoke;
  spoke.name = "prod-a";
  spoke.cidrs = {*Ipv4Prefix::parse("10.1.0.0/16")};
  spoke.asn = 64512;
  spoke.tunnels = {{*Ipv4Address::parse("198.51.100.10"), *Ipv4Prefix::parse("169.254.10.0/30"),
                    "stored.psk", "hub-a"}};
  spoke.generation = 4;
  spoke.route_tag = 7;
  ASSERT_TRUE(store_->create(spoke).has_value());

  SqliteStoreOptions read_only;
  read_only.read_only = true;
  auto held = SqliteStore::open(file(), read_only);  // a hub holds it
  ASSERT_FALSE(held.has_value());
  EXPECT_NE(held.error().message.find("in use by another process"), std::string::npos);

  store_.reset();
  const std::string before = contents(file());
  auto reader = SqliteStore::open(file(), read_only);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  auto loaded = (*reader)->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->spokes, std::vector<peers::Spoke>{spoke});
  auto refused = (*reader)->create(spoke);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("read-only"), std::string::npos);
  reader->reset();
  EXPECT_EQ(contents(file()), before);

  auto missing = SqliteStore::open(dir_ / "none.db", read_only);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.db"));
}

}  // namespace
}  // namespace transit::hub
