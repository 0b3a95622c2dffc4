// Two registries on one store, as the pair's two hubs share theirs: the store is the arbiter,
// and a write that loses a race with the other hub is staged again against what the store then
// holds, so a race on an allocation never reaches the user as a 409, and a real clash is answered
// by the hub's own checks, naming what the other hub wrote.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hub/core/registry.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/hub/core/registry_drafts.hpp"

namespace transit::hub {
namespace {

class RegistryPair : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }

  // A hub's registry on the shared store, starting from what the store holds now. Not
  // following the store's watch, it learns of the other hub's writes only when a race makes it
  // reload: the race tests need that; the pair follows the watch (followingHub()).
  std::unique_ptr<Registry> hub() { return makeHub(unwatched_); }
  std::unique_ptr<Registry> followingHub() { return makeHub(store_); }

  std::unique_ptr<Registry> makeHub(Store& store) {
    Registry::Options options;
    options.validation.hub_asn = 65000;
    options.validation.hub_name = "hub-a";
    auto created = Registry::create(store, clock_, nullptr, std::move(options));
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? std::move(*created) : nullptr;
  }

  // Waits (bounded: the watch's reload is an event, not a timer) until `registry` publishes a
  // state for which `done` holds.
  template <typename Done>
  static bool eventually(Registry& registry, Done done) {
    std::mutex mutex;
    std::condition_variable cv;
    auto subscription = registry.subscribe([&](const auto&, auto) {
      std::lock_guard lock(mutex);
      cv.notify_all();
    });
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return done(*registry.snapshot()); });
  }

  static std::shared_ptr<const peers::Spoke> spokeOf(const Registry& registry,
                                                     const std::string& name) {
    const auto state = registry.snapshot();
    const auto found = state->spokes.find(name);
    return found == state->spokes.end() ? nullptr : found->second;
  }

  // The store without its watch: a registry on it sees no change it did not make.
  class Unwatched final : public Store {
   public:
    explicit Unwatched(Store& store) : store_(store) {}
    std::expected<StoreContents, StoreError> load() override { return store_.load(); }
    std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) override {
      return store_.apply(writes);
    }
    std::string describe() const override { return store_.describe(); }
    std::expected<void, StoreError> check() const override { return store_.check(); }

   private:
    Store& store_;
  };

  // The store with its watch's notices held back (hold()) until deliver(): the other hub's
  // change reaches this hub late, after this hub's own next write.
  class HeldWatch final : public Store {
   public:
    explicit HeldWatch(Store& store) : store_(store) {}
    std::expected<StoreContents, StoreError> load() override { return store_.load(); }
    std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) override {
      return store_.apply(writes);
    }
    std::string describe() const override { return store_.describe(); }
    std::expected<void, StoreError> check() const override { return store_.check(); }
    std::unique_ptr<StoreWatch> watch(StoreChanged changed) override {
      changed_ = std::move(changed);
      return store_.watch([this](std::uint64_t revision) {
        std::lock_guard lock(mutex_);
        if (holding_) {
          held_.push_back(revision);
        } else {
          changed_(revision);
        }
      });
    }
    void hold() {
      std::lock_guard lock(mutex_);
      holding_ = true;
    }
    void deliver() {
      std::lock_guard lock(mutex_);
      holding_ = false;
      for (const std::uint64_t revision : held_) changed_(revision);
      held_.clear();
    }

   private:
    Store& store_;
    StoreChanged changed_;  // set before any notice can come
    std::mutex mutex_;
    bool holding_ = false;
    std::vector<std::uint64_t> held_;
  };

  fakes::MemoryStore store_;
  Unwatched unwatched_{store_};
  fakes::ManualClock clock_;
};

TEST_F(RegistryPair, ARaceForTheSameAllocationsIsRetriedWithFreshOnes) {
  auto a = hub();
  auto b = hub();  // both start from the empty store: both would allocate the same /30 and tag
  auto first = a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto second = b->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_TRUE(second.has_value()) << second.error().message;  // not a 409
  EXPECT_NE((*second)->tunnels[0].inside_cidr, (*first)->tunnels[0].inside_cidr);
  EXPECT_NE((*second)->route_tag, (*first)->route_tag);
  // The reload that settled the race also showed hub b the other hub's spoke.
  EXPECT_NE(spokeOf(*b, "prod-a"), nullptr);
  const auto stored = store_.load();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->spokes.size(), 2u);
}

TEST_F(RegistryPair, ANameOrSpaceTheOtherHubTookIsA409NamingIt) {
  auto a = hub();
  auto b = hub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));

  auto same_name = b->create(vpcDraft("prod-a", "10.9.0.0/16", "198.51.100.90"));
  ASSERT_FALSE(same_name.has_value());
  EXPECT_EQ(same_name.error().code, ErrorCode::kConflict);
  EXPECT_EQ(same_name.error().field, "name");
  EXPECT_EQ(same_name.error().message, "spoke prod-a already exists");

  auto overlap = b->create(vpcDraft("prod-b", "10.1.0.0/24", "198.51.100.20"));
  ASSERT_FALSE(overlap.has_value());
  EXPECT_EQ(overlap.error().code, ErrorCode::kConflict);
  EXPECT_EQ(overlap.error().field, "cidrs[0]");
  EXPECT_NE(overlap.error().message.find("prod-a"), std::string::npos) << overlap.error().message;

  auto endpoint = b->create(vpcDraft("prod-c", "10.3.0.0/16", "198.51.100.10"));
  ASSERT_FALSE(endpoint.has_value());
  EXPECT_EQ(endpoint.error().field, "tunnels[0].outside_ip");
  EXPECT_NE(endpoint.error().message.find("prod-a"), std::string::npos) << endpoint.error().message;
  EXPECT_EQ(store_.load()->spokes.size(), 1u);  // nothing of b's refused writes was stored
}

TEST_F(RegistryPair, AReplaceAtAGenerationTheOtherHubMovedIs412) {
  auto a = hub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  auto b = hub();  // knows prod-a at generation 1
  auto moved = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  moved.segment = "prod";
  ASSERT_TRUE(a->replace("prod-a", moved, 1));

  auto limited = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  limited.export_limit = 70;
  auto stale = b->replace("prod-a", limited, 1);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_NE(stale.error().message.find("generation 2"), std::string::npos) << stale.error().message;
  EXPECT_EQ(spokeOf(*b, "prod-a")->segment, "prod");  // b now serves what is stored
}

TEST_F(RegistryPair, AReplaceWithoutIfMatchLandsOnTopOfTheOtherHubsChange) {
  auto a = hub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  auto b = hub();
  auto moved = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  moved.segment = "prod";
  ASSERT_TRUE(a->replace("prod-a", moved, std::nullopt));
  auto limited = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  limited.export_limit = 80;
  auto replaced = b->replace("prod-a", limited, std::nullopt);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().message;
  EXPECT_EQ((*replaced)->generation, 3u);
  EXPECT_EQ((*replaced)->export_limit, 80u);
  EXPECT_EQ((*replaced)->segment, "default");  // a PUT replaces the whole spoke
  EXPECT_EQ((*replaced)->route_tag, 1u);       // and never its tag
}

TEST_F(RegistryPair, RemovingASpokeTheOtherHubRemovedIs404) {
  auto a = hub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  auto b = hub();
  ASSERT_TRUE(a->remove("prod-a", std::nullopt));
  auto gone = b->remove("prod-a", std::nullopt);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(spokeOf(*b, "prod-a"), nullptr);
}

// A named update runs again, against the spoke as the other hub left it: nothing of either
// change is lost.
TEST_F(RegistryPair, ANamedUpdateRunsAgainOnTheOtherHubsVersion) {
  auto a = hub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  auto b = hub();
  auto moved = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  moved.segment = "prod";
  ASSERT_TRUE(a->replace("prod-a", moved, std::nullopt));

  int runs = 0;
  auto updated =
      b->update("set-limit", "prod-a", std::nullopt,
                [&runs](const peers::Spoke& current) -> std::expected<peers::SpokeDraft, HubError> {
                  ++runs;
                  auto draft = vpcDraft(current.name, current.cidrs.at(0).toString(),
                                        current.tunnels.at(0).outside_ip.toString());
                  draft.segment = current.segment;
                  draft.export_limit = 90;
                  return draft;
                });
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ(runs, 2);  // once on the stale version, once on the stored one
  EXPECT_EQ((*updated)->segment, "prod");
  EXPECT_EQ((*updated)->export_limit, 90u);
  EXPECT_EQ((*updated)->generation, 3u);
}

// Both hubs' APIs taking creates at once: every create succeeds, and no inside /30, outside
// address or route tag is held twice.
TEST_F(RegistryPair, ConcurrentCreatesOnBothHubsAllSucceedWithDistinctAllocations) {
  auto a = hub();
  auto b = hub();
  constexpr int kPerHub = 60;
  std::atomic<int> failures{0};
  auto run = [&failures](Registry& registry, int base) {
    for (int i = 0; i < kPerHub; ++i) {
      const int n = base + i;
      auto result = registry.create(
          vpcDraft("s-" + std::to_string(n), "10." + std::to_string(n) + ".0.0/16",
                   "198.51." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1)));
      if (!result) ++failures;
    }
  };
  std::thread on_a(run, std::ref(*a), 0);
  std::thread on_b(run, std::ref(*b), kPerHub);
  on_a.join();
  on_b.join();
  EXPECT_EQ(failures.load(), 0);
  const auto stored = store_.load();
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->spokes.size(), 2u * kPerHub);
  std::set<Ipv4Prefix> inside;
  std::set<std::uint32_t> tags;
  for (const auto& spoke : stored->spokes) {
    inside.insert(spoke.tunnels.at(0).inside_cidr);
    tags.insert(spoke.route_tag);
  }
  EXPECT_EQ(inside.size(), stored->spokes.size());
  EXPECT_EQ(tags.size(), stored->spokes.size());
}

// ---- following the store's watch ---------------------------------------------------------

TEST_F(RegistryPair, AWriteOnOneHubReachesTheOtherHubsPublishedState) {
  auto a = followingHub();
  auto b = followingHub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  EXPECT_TRUE(eventually(*b, [](const DesiredState& s) { return s.spokes.contains("prod-a"); }));
  EXPECT_EQ(*spokeOf(*b, "prod-a"), *spokeOf(*a, "prod-a"));
  EXPECT_EQ(b->snapshot()->revision, a->snapshot()->revision);

  auto moved = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  moved.segment = "prod";
  ASSERT_TRUE(b->replace("prod-a", moved, 1));  // b knows generation 1: no race, no reload
  EXPECT_TRUE(eventually(*a, [](const DesiredState& s) {
    return s.spokes.contains("prod-a") && s.spokes.at("prod-a")->generation == 2;
  }));
  EXPECT_EQ(spokeOf(*a, "prod-a")->segment, "prod");

  ASSERT_TRUE(a->remove("prod-a", 2));
  EXPECT_TRUE(eventually(*b, [](const DesiredState& s) { return s.spokes.empty(); }));
}

// The other hub's change, heard of only after an own write that landed after it: the own write
// published a state without that change, at the revision the reload then reads. The reload
// must publish all the same, or the hub serves and runs a state without the other hub's change
// until something else changes.
TEST_F(RegistryPair, AChangeHeardOfAfterAnOwnLaterWriteIsPublished) {
  auto a = followingHub();
  HeldWatch held(store_);
  auto b = makeHub(held);
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  ASSERT_TRUE(a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20")));
  ASSERT_TRUE(eventually(*b, [](const DesiredState& s) { return s.spokes.size() == 2; }));

  held.hold();
  ASSERT_TRUE(a->remove("prod-a", 1));
  auto limited = vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20");
  limited.export_limit = 70;
  ASSERT_TRUE(b->replace("prod-b", limited, 1));  // lands after a's removal
  EXPECT_TRUE(spokeOf(*b, "prod-a") != nullptr);  // b has not heard of the removal yet
  held.deliver();
  EXPECT_TRUE(eventually(*b, [](const DesiredState& s) { return !s.spokes.contains("prod-a"); }));
  EXPECT_EQ(spokeOf(*b, "prod-b")->export_limit, 70u);
  EXPECT_EQ(b->snapshot()->revision, store_.load()->revision);
}

// A hub that follows the store stages on what the other hub wrote: the allocation it makes is
// fresh the first time, and a stale no-op replace cannot answer with an old version.
TEST_F(RegistryPair, AFollowingHubStagesOnWhatTheOtherHubWrote) {
  auto a = followingHub();
  auto b = followingHub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  ASSERT_TRUE(eventually(*b, [](const DesiredState& s) { return s.spokes.contains("prod-a"); }));
  const int loads = store_.loads();
  auto second = b->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_NE((*second)->tunnels[0].inside_cidr, spokeOf(*a, "prod-a")->tunnels[0].inside_cidr);
  EXPECT_EQ((*second)->route_tag, 2u);
  // b's own write reloads nothing on b; a reloads once for it.
  ASSERT_TRUE(eventually(*a, [](const DesiredState& s) { return s.spokes.contains("prod-b"); }));
  EXPECT_EQ(store_.loads(), loads + 1);
}

TEST_F(RegistryPair, ConcurrentWritesOnTwoFollowingHubsLeaveIdenticalRegistries) {
  auto a = followingHub();
  auto b = followingHub();
  constexpr int kPerHub = 40;
  std::atomic<int> failures{0};
  auto run = [&failures](Registry& registry, int base) {
    for (int i = 0; i < kPerHub; ++i) {
      const int n = base + i;
      const std::string name = "s-" + std::to_string(n);
      auto created = registry.create(
          vpcDraft(name, "10." + std::to_string(n) + ".0.0/16",
                   "198.51." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1)));
      if (!created) {
        ++failures;
        continue;
      }
      if (i % 3 == 0 && !registry.remove(name, std::nullopt)) ++failures;
    }
  };
  std::thread on_a(run, std::ref(*a), 0);
  std::thread on_b(run, std::ref(*b), kPerHub);
  on_a.join();
  on_b.join();
  EXPECT_EQ(failures.load(), 0);
  const auto stored = store_.load();
  ASSERT_TRUE(stored.has_value());
  const auto same = [&stored](const DesiredState& s) {
    if (s.revision != stored->revision || s.spokes.size() != stored->spokes.size()) return false;
    for (const auto& spoke : stored->spokes) {
      const auto found = s.spokes.find(spoke.name);
      if (found == s.spokes.end() || *found->second != spoke) return false;
    }
    return true;
  };
  EXPECT_TRUE(eventually(*a, same));
  EXPECT_TRUE(eventually(*b, same));
  EXPECT_EQ(stored->spokes.size(), 2u * (kPerHub - (kPerHub + 2) / 3));
}

}  // namespace
}  // namespace transit::hub
