// --migrate-store's logic over two stores: every spoke is copied as stored, a target that holds
// other or different spokes is refused before any write, a re-run copies only what is missing
// (nothing after a complete run), and nothing it reports shows a PSK.
#include "hub/daemon/migrate_store.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/memory_store.hpp"

namespace transit::hub {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

peers::Spoke spoke(std::string name, int n) {
  peers::Spoke s;
  s.name = std::move(name);
  s.cidrs = {*Ipv4Prefix::parse(fmt::format("10.{}.0.0/16", n))};
  s.asn = 64512;
  s.tunnels = {{*Ipv4Address::parse(fmt::format("198.51.100.{}", n)),
                *Ipv4Prefix::parse(fmt::format("169.254.{}.0/30", n)),
                fmt::format("secret.psk_{}", n)}};
  s.generation = static_cast<std::uint64_t>(n + 2);
  s.route_tag = static_cast<std::uint32_t>(n + 10);
  s.created_at = std::chrono::sys_seconds(std::chrono::seconds(1795674600 + n));
  s.updated_at = std::chrono::sys_seconds(std::chrono::seconds(1795678200 + n));
  return s;
}

class MigrateStore : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int n = 1; n <= 3; ++n) {
      ASSERT_TRUE(from_.create(spoke(fmt::format("prod-{}", n), n)).has_value());
    }
  }
  fakes::MemoryStore from_;
  fakes::MemoryStore to_;
};

TEST_F(MigrateStore, CopiesEverySpokeAsStoredThenARerunSaysAlreadyMigrated) {
  auto report = migrateStore(from_, to_);
  ASSERT_TRUE(report.has_value()) << report.error();
  EXPECT_EQ(report->outcome, MigrationReport::Outcome::kCopied);
  EXPECT_EQ(report->copied, (std::vector<std::string>{"prod-1", "prod-2", "prod-3"}));
  EXPECT_EQ(to_.load()->spokes, from_.load()->spokes);  // generations, tags, PSKs, times
  EXPECT_EQ(describeMigration(*report, from_, to_),
            "copied 3 spoke(s) from memory: to memory:: prod-1, prod-2, prod-3");

  const int applies = to_.applies();
  auto again = migrateStore(from_, to_);
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(again->outcome, MigrationReport::Outcome::kAlreadyMigrated);
  EXPECT_EQ(describeMigration(*again, from_, to_), "already migrated, 3 spoke(s) in memory:");
  EXPECT_EQ(to_.applies(), applies);
}

TEST_F(MigrateStore, AnInterruptedMigrationIsCompletedByARerun) {
  ASSERT_TRUE(to_.create(spoke("prod-2", 2)).has_value());
  auto report = migrateStore(from_, to_);
  ASSERT_TRUE(report.has_value()) << report.error();
  EXPECT_EQ(report->copied, (std::vector<std::string>{"prod-1", "prod-3"}));
  EXPECT_EQ(to_.load()->spokes, from_.load()->spokes);
}

TEST_F(MigrateStore, ATargetWithADifferentSpokeIsRefusedBeforeAnyWrite) {
  auto other = spoke("prod-2", 2);
  other.tunnels[0].psk = "another.psk_2";
  ASSERT_TRUE(to_.create(other).has_value());
  const int applies = to_.applies();
  auto report = migrateStore(from_, to_);
  ASSERT_FALSE(report.has_value());
  EXPECT_THAT(report.error(), HasSubstr("refused, nothing written"));
  EXPECT_THAT(report.error(), HasSubstr("spoke prod-2 differs (tunnels)"));
  EXPECT_THAT(report.error(), Not(HasSubstr("psk_2")));
  EXPECT_EQ(to_.applies(), applies);
  EXPECT_EQ(to_.load()->spokes.size(), 1u);
}

TEST_F(MigrateStore, ATargetWithASpokeTheSourceLacksIsRefused) {
  ASSERT_TRUE(to_.create(spoke("elsewhere", 9)).has_value());
  auto report = migrateStore(from_, to_);
  ASSERT_FALSE(report.has_value());
  EXPECT_THAT(report.error(), HasSubstr("spoke elsewhere is there but not in memory:"));
  EXPECT_EQ(to_.load()->spokes.size(), 1u);
}

TEST_F(MigrateStore, AnUnreadableTargetIsNamed) {
  to_.failNextLoads(1, StoreErrorCode::kUnavailable);
  auto report = migrateStore(from_, to_);
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error(), "cannot read memory:: memory store: injected fault");
}

}  // namespace
}  // namespace transit::hub
