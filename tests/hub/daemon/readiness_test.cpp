// The /readyz checks: ready only once the store takes writes, both daemons answer, the server
// serves and a first full pass has run; each failing check says why.
#include "hub/daemon/readiness.hpp"

#include <gtest/gtest.h>

#include "tests/fakes/fake_drivers.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::hub {
namespace {

class ReadinessTest : public ::testing::Test {
 protected:
  ReadinessTest() {
    Registry::Options options;
    options.validation.hub_name = "hub-a";
    registry_ = std::move(*Registry::create(store_, clock_, nullptr, std::move(options)));
    reconciler_ = std::make_unique<Reconciler>(*registry_, tunnels_, routing_, nullptr, clock_,
                                               nullptr, Reconciler::Options{});
    addReadinessChecks(health_, *registry_, *reconciler_, serving_);
  }

  Health::Status check(std::string_view name) const {
    for (const auto& check : health_.evaluate()) {
      if (check.name == name) return check.status;
    }
    ADD_FAILURE() << "no check " << name;
    return {};
  }

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  fakes::FakeTunnelDriver tunnels_;
  fakes::FakeRoutingDriver routing_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Reconciler> reconciler_;
  std::atomic<bool> serving_{false};
  Health health_;
};

TEST_F(ReadinessTest, ReadyOnceServingAfterAFirstPass) {
  EXPECT_FALSE(Health::ready(health_.evaluate()));
  reconciler_->runOnce();
  EXPECT_FALSE(check("initial_sync").ok) << "not serving yet";
  EXPECT_EQ(check("initial_sync").reason, "the initial sync has not finished");
  serving_ = true;
  EXPECT_TRUE(check("store").ok);
  EXPECT_TRUE(check("drivers").ok) << check("drivers").reason;
  EXPECT_TRUE(check("initial_sync").ok);
  EXPECT_TRUE(Health::ready(health_.evaluate()));
}

TEST_F(ReadinessTest, ADaemonThatDoesNotAnswerIsNamed) {
  tunnels_.down = "pluto is not running (no /run/pluto/pluto.pid)";
  routing_.down = "no socket";
  serving_ = true;
  reconciler_->runOnce();
  const auto drivers = check("drivers");
  EXPECT_FALSE(drivers.ok);
  EXPECT_EQ(drivers.reason,
            "pluto: pluto is not running (no /run/pluto/pluto.pid); BIRD: no socket");
  EXPECT_FALSE(Health::ready(health_.evaluate()));
}

TEST_F(ReadinessTest, AStaleViewOfTheStoreSaysSinceWhenAndWhy) {
  store_.failNextWrites(1, StoreErrorCode::kUnavailable);
  store_.failNextLoads(1 << 30, StoreErrorCode::kUnavailable);
  peers::SpokeDraft draft;
  draft.name = "prod-a";
  draft.kind = "vpc";
  draft.cidrs = std::vector<std::string>{"10.1.0.0/16"};
  draft.asn = 64512;
  draft.tunnels = std::vector<peers::TunnelDraft>{{"198.51.100.10", std::nullopt, std::nullopt}};
  ASSERT_FALSE(registry_->create(draft).has_value());
  const auto store = check("store");
  EXPECT_FALSE(store.ok);
  EXPECT_EQ(store.reason, "stale since 2026-11-26T06:30:00Z: memory store: injected fault");
  store_.failNextLoads(0, StoreErrorCode::kUnavailable);
}

}  // namespace
}  // namespace transit::hub
