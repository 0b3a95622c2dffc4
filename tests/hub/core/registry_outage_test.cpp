// Store outages (issue 12 point 3): while the store cannot be read the registry keeps the state
// it has (a failed reload publishes nothing, so the reconciler tears nothing down), says it is
// stale (since when, the last revision, why) through storeView() and the metrics, answers writes
// 503 naming the store, and once the store answers it catches up with what the other writer
// changed meanwhile.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hub/core/registry.hpp"
#include "hub/metrics/hub_metrics.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/hub/core/registry_drafts.hpp"

namespace transit::hub {
namespace {

constexpr int kAlways = 1 << 30;  // failNextLoads: until told otherwise

double gauge(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric.front().gauge.value;
  }
  return -1;
}

class RegistryOutage : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }

  std::unique_ptr<Registry> makeHub(RegistryRecorder* metrics = nullptr) {
    return makeHubOn(store_, metrics);
  }
  std::unique_ptr<Registry> makeHubOn(Store& store, RegistryRecorder* metrics = nullptr) {
    Registry::Options options;
    options.validation.hub_asn = 65000;
    options.validation.hub_name = "hub-a";
    options.catch_up_interval = std::chrono::milliseconds(20);
    auto created = Registry::create(store, clock_, metrics, std::move(options));
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? std::move(*created) : nullptr;
  }

  // Waits (bounded) until `done` holds; the registry's writer works on its own thread.
  template <typename Done>
  static bool eventually(Done done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  // Counts the states a registry publishes.
  class Publishes {
   public:
    explicit Publishes(Registry& registry)
        : subscription_(registry.subscribe([this](const auto&, auto) { ++count_; })) {}
    int count() const { return count_; }

   private:
    std::atomic<int> count_{0};
    Registry::Subscription subscription_;
  };

  // The store whose load() waits while closed: a reload that takes its time (an etcd that does
  // not answer: connect timeouts, endpoint after endpoint).
  class GatedLoads final : public Store {
   public:
    explicit GatedLoads(Store& store) : store_(store) {}
    std::expected<StoreContents, StoreError> load() override {
      std::unique_lock lock(mutex_);
      ++waiting_;
      cv_.wait(lock, [this] { return open_; });
      --waiting_;
      lock.unlock();
      return store_.load();
    }
    std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) override {
      return store_.apply(writes);
    }
    std::string describe() const override { return store_.describe(); }
    std::expected<void, StoreError> check() const override { return store_.check(); }
    std::unique_ptr<StoreWatch> watch(StoreChanged changed) override {
      return store_.watch(std::move(changed));
    }
    void close() {
      std::lock_guard lock(mutex_);
      open_ = false;
    }
    void open() {
      std::lock_guard lock(mutex_);
      open_ = true;
      cv_.notify_all();
    }
    int waiting() const {
      std::lock_guard lock(mutex_);
      return waiting_;
    }

   private:
    Store& store_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = true;
    int waiting_ = 0;
  };

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
};

TEST_F(RegistryOutage, AFailedReloadPublishesNothingAndTheHubSaysItIsStale) {
  prometheus::Registry prometheus;
  HubMetrics metrics(prometheus, "test");
  auto a = makeHub(&metrics);
  auto b = makeHub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  ASSERT_TRUE(a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20")));
  const auto before = a->snapshot();
  ASSERT_EQ(before->spokes.size(), 2u);
  EXPECT_TRUE(a->storeView().current);
  EXPECT_EQ(gauge(prometheus, "transit_hub_store_up"), 1);
  EXPECT_EQ(gauge(prometheus, "transit_hub_store_revision"), 2);

  ASSERT_TRUE(eventually([&] { return b->snapshot()->spokes.size() == 2; }));  // b followed

  // The store stops answering reads; the other hub's write (it got through) is noticed by hub
  // a, whose reload fails.
  Publishes published(*a);
  store_.failNextLoads(kAlways, StoreErrorCode::kUnavailable);
  ASSERT_TRUE(b->create(vpcDraft("prod-c", "10.3.0.0/16", "198.51.100.30")));
  ASSERT_TRUE(eventually([&] { return !a->storeView().current; }));
  const auto view = a->storeView();
  EXPECT_EQ(view.reason, "memory store: injected fault");
  ASSERT_TRUE(view.since.has_value());
  EXPECT_EQ(*view.since, clock_.now());
  EXPECT_EQ(view.revision, 2u);
  EXPECT_TRUE(view.loaded);
  // The gauge follows the view on the writer thread, just after it (markStale reports once it
  // has released the view): wait for it rather than race it.
  EXPECT_TRUE(eventually([&] { return gauge(prometheus, "transit_hub_store_up") == 0; }));

  // Retries fail for a while: nothing is published, the state is the one it had.
  clock_.advance(std::chrono::seconds(30));
  const int loads = store_.loads();
  ASSERT_TRUE(eventually([&] { return store_.loads() >= loads + 3; }));
  EXPECT_EQ(published.count(), 0);
  EXPECT_EQ(a->snapshot(), before);
  EXPECT_TRUE(
      eventually([&] { return gauge(prometheus, "transit_hub_store_stale_seconds") >= 30; }));

  // The store answers again: hub a catches up with prod-c, written meanwhile.
  store_.failNextLoads(0, StoreErrorCode::kUnavailable);
  ASSERT_TRUE(eventually([&] { return a->storeView().current; }));
  const auto after = a->snapshot();
  EXPECT_TRUE(after->spokes.contains("prod-c"));
  EXPECT_EQ(after->revision, 3u);
  EXPECT_EQ(a->storeView().revision, 3u);
  EXPECT_FALSE(a->storeView().since.has_value());
  EXPECT_GE(published.count(), 1);
  EXPECT_EQ(gauge(prometheus, "transit_hub_store_up"), 1);
  EXPECT_EQ(gauge(prometheus, "transit_hub_store_revision"), 3);
  EXPECT_EQ(gauge(prometheus, "transit_hub_store_stale_seconds"), 0);
}

TEST_F(RegistryOutage, WritesWhileTheStoreCannotBeReadAre503NamingItAndWriteNothing) {
  auto a = makeHub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  store_.failNextWrites(1, StoreErrorCode::kUnavailable);
  store_.failNextLoads(kAlways, StoreErrorCode::kUnavailable);
  auto failed = a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(a->storeView().current);  // the write found the store unavailable

  const int applies = store_.applies();
  auto refused = a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message,
            "the store could not write, nothing changed: the store memory: is unavailable since "
            "2026-11-26T06:30:00Z (memory store: injected fault); the hub serves the last state "
            "it read (revision 1)");
  EXPECT_EQ(store_.applies(), applies);  // not even tried
  EXPECT_EQ(a->snapshot()->spokes.size(), 1u);

  store_.failNextLoads(0, StoreErrorCode::kUnavailable);
  auto retried = a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_TRUE(retried.has_value()) << retried.error().message;
  EXPECT_TRUE(a->storeView().current);
}

TEST_F(RegistryOutage, ACutWatchKeepsTheViewStaleUntilItFollowsAgain) {
  auto a = makeHub();
  auto b = makeHub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  store_.cutWatches("the etcd watch was cut: connection refused");
  ASSERT_TRUE(eventually([&] { return !a->storeView().current; }));
  EXPECT_EQ(a->storeView().reason, "the etcd watch was cut: connection refused");

  // Reads still work: writes go through, and the other hub's writes are reloaded on the
  // catch-up ticks although no watch tells of them.
  ASSERT_TRUE(b->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20")));
  EXPECT_TRUE(eventually([&] { return a->snapshot()->spokes.contains("prod-b"); }));
  EXPECT_FALSE(a->storeView().current);
  ASSERT_TRUE(a->create(vpcDraft("prod-c", "10.3.0.0/16", "198.51.100.30")));

  store_.resumeWatches();
  ASSERT_TRUE(eventually([&] { return a->storeView().current && b->storeView().current; }));
  EXPECT_EQ(a->storeView().reason, "");
  EXPECT_EQ(a->snapshot()->spokes.size(), 3u);
}

// The view turns stale when the watch is cut, not only once the reload the cut starts has failed:
// a store that cannot be reached takes its timeouts to fail it, and reads meanwhile must carry
// the stale marker.
TEST_F(RegistryOutage, ACutWatchMakesTheViewStaleBeforeItsReloadEnds) {
  GatedLoads gated(store_);
  auto a = makeHubOn(gated);
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  gated.close();
  store_.cutWatches("the etcd watch was cut: etcd ended the watch stream");
  ASSERT_TRUE(eventually([&] { return gated.waiting() == 1; }));  // the reload is under way
  EXPECT_FALSE(a->storeView().current);
  EXPECT_EQ(a->storeView().reason, "the etcd watch was cut: etcd ended the watch stream");
  gated.open();
  store_.resumeWatches();
  EXPECT_TRUE(eventually([&] { return a->storeView().current; }));
  EXPECT_EQ(a->snapshot()->spokes.size(), 1u);
}

// While stale, a store whose check() says it is down is not reloaded for every command and
// every tick: a command is answered 503 at once instead of waiting behind a reload that cannot
// work (an unreachable etcd makes each one take its connect timeouts).
TEST_F(RegistryOutage, WhileTheStoreSaysItIsDownCommandsAreAnsweredWithoutAReload) {
  auto a = makeHub();
  ASSERT_TRUE(a->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  store_.setCheckProblem("etcd store: the etcd member reports no leader");
  store_.failNextLoads(kAlways, StoreErrorCode::kUnavailable);
  const int loads = store_.loads();
  store_.cutWatches("the etcd watch was cut: etcd ended the watch stream");
  ASSERT_TRUE(eventually([&] { return !a->storeView().current; }));
  const int applies = store_.applies();
  auto refused = a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("reports no leader"), std::string::npos)
      << refused.error().message;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // five catch-up ticks
  EXPECT_EQ(store_.loads(), loads);                             // no reload was tried
  EXPECT_EQ(store_.applies(), applies);

  // The store answers again: a tick reloads, and writes work.
  store_.setCheckProblem(std::nullopt);
  store_.failNextLoads(0, StoreErrorCode::kUnavailable);
  store_.resumeWatches();
  ASSERT_TRUE(eventually([&] { return a->storeView().current; }));
  auto created = a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  EXPECT_TRUE(created.has_value()) << created.error().message;
}

TEST_F(RegistryOutage, AHubStartedWhileTheStoreIsDownPublishesAnUnloadedStateThenLoads) {
  {
    auto writer = makeHub();
    ASSERT_TRUE(writer->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  }
  store_.failNextLoads(kAlways, StoreErrorCode::kUnavailable);
  auto a = makeHub();
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->snapshot()->loaded);  // "not known", not "no spokes": never reconciled
  EXPECT_TRUE(a->snapshot()->spokes.empty());
  EXPECT_FALSE(a->storeView().loaded);
  EXPECT_FALSE(a->storeView().current);
  auto refused = a->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);

  store_.failNextLoads(0, StoreErrorCode::kUnavailable);
  ASSERT_TRUE(eventually([&] { return a->snapshot()->loaded; }));
  EXPECT_TRUE(a->snapshot()->spokes.contains("prod-a"));
  EXPECT_TRUE(a->storeView().current);
  EXPECT_TRUE(a->storeView().loaded);
}

TEST_F(RegistryOutage, ACorruptStoreStillFailsTheStart) {
  store_.failNextLoads(1, StoreErrorCode::kCorrupt);
  Registry::Options options;
  auto created = Registry::create(store_, clock_, nullptr, std::move(options));
  EXPECT_FALSE(created.has_value());
}

}  // namespace
}  // namespace transit::hub
