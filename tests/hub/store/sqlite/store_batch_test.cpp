// SqliteStore::apply: a batch is one transaction; each write stands or falls on its own.
#include <gtest/gtest.h>

#include <filesystem>

#include "hub/store/sqlite/sqlite_store.hpp"

namespace transit::hub {
namespace {

peers::Spoke spoke(const std::string& name, int n) {
  peers::Spoke s;
  s.name = name;
  s.cidrs = {*Ipv4Prefix::parse("10." + std::to_string(n) + ".0.0/16")};
  s.asn = 64512;
  s.tunnels = {peers::Tunnel{*Ipv4Address::parse("198.51.100." + std::to_string(n)),
                             *Ipv4Prefix::parse("169.254.10." + std::to_string(4 * n) + "/30"),
                             "KeyNumber_" + std::to_string(n), "hub-a"}};
  s.generation = 1;
  return s;
}

class StoreBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("transit-batch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(*SqliteStore::open(dir_ / "state.db"));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(StoreBatch, IndependentWritesCommitTogetherWithSequentialRevisions) {
  const auto a = spoke("a", 1), b = spoke("b", 2), c = spoke("c", 3);
  const StoreWrite writes[] = {{StoreWrite::Kind::kCreate, &a, "a", 0},
                               {StoreWrite::Kind::kCreate, &b, "b", 0},
                               {StoreWrite::Kind::kCreate, &c, "c", 0}};
  auto results = store_->apply(writes);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[0], 1u);
  EXPECT_EQ(*results[1], 2u);
  EXPECT_EQ(*results[2], 3u);
  store_.reset();
  store_ = std::move(*SqliteStore::open(dir_ / "state.db"));
  auto loaded = store_->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->revision, 3u);
  EXPECT_EQ(loaded->spokes.size(), 3u);
}

TEST_F(StoreBatch, ARefusedWriteLeavesNoTraceAndTheOthersCommit) {
  const auto a = spoke("a", 1);
  auto dup_inside = spoke("b", 2);
  dup_inside.tunnels[0].inside_cidr = a.tunnels[0].inside_cidr;  // clashes with a
  const auto c = spoke("c", 3);
  const StoreWrite writes[] = {{StoreWrite::Kind::kCreate, &a, "a", 0},
                               {StoreWrite::Kind::kCreate, &dup_inside, "b", 0},
                               {StoreWrite::Kind::kCreate, &c, "c", 0}};
  auto results = store_->apply(writes);
  ASSERT_TRUE(results[0].has_value());
  ASSERT_FALSE(results[1].has_value());
  EXPECT_EQ(results[1].error().code, StoreErrorCode::kConflict);
  ASSERT_TRUE(results[2].has_value());
  EXPECT_EQ(*results[2], 2u);  // the refused write took no revision
  auto loaded = store_->load();
  ASSERT_EQ(loaded->spokes.size(), 2u);
  EXPECT_EQ(loaded->spokes[0].name, "a");
  EXPECT_EQ(loaded->spokes[1].name, "c");
}

TEST_F(StoreBatch, LaterWritesSeeEarlierOnesInTheSameBatch) {
  const auto a = spoke("a", 1);
  auto a2 = a;
  a2.generation = 2;
  a2.segment = "prod";
  const StoreWrite writes[] = {{StoreWrite::Kind::kCreate, &a, "a", 0},
                               {StoreWrite::Kind::kReplace, &a2, "a", 1},
                               {StoreWrite::Kind::kRemove, nullptr, "a", 1}};  // stale generation
  auto results = store_->apply(writes);
  EXPECT_TRUE(results[0].has_value());
  EXPECT_TRUE(results[1].has_value());
  ASSERT_FALSE(results[2].has_value());
  EXPECT_EQ(results[2].error().code, StoreErrorCode::kConflict);
  auto loaded = store_->load();
  ASSERT_EQ(loaded->spokes.size(), 1u);
  EXPECT_EQ(loaded->spokes[0].segment, "prod");
}

}  // namespace
}  // namespace transit::hub
