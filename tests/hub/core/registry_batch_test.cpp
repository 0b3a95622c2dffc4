// Group commit: commands that arrive while the writer is busy are written in one transaction,
// and a write the store refuses is undone without disturbing the rest of its batch.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>

#include "hub/core/registry.hpp"
#include "tests/hub/hub_harness.hpp"

namespace transit::hub {
namespace {

peers::SpokeDraft draft(int n) {
  peers::SpokeDraft d;
  d.name = "s-" + std::to_string(n);
  d.kind = "vpc";
  d.cidrs = std::vector<std::string>{"10." + std::to_string(n) + ".0.0/16"};
  d.asn = 64512;
  d.tunnels = std::vector<peers::TunnelDraft>{
      peers::TunnelDraft{"198.51.100." + std::to_string(n + 1), std::nullopt, std::nullopt}};
  return d;
}

// A store that can hold the writer inside apply() (so commands pile up behind it) and refuse
// the write of one named spoke.
class GatedStore final : public Store {
 public:
  std::expected<StoreContents, StoreError> load() override { return inner_.load(); }
  std::string describe() const override { return "gated:"; }
  std::expected<void, StoreError> check() const override { return {}; }

  std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) override {
    {
      std::unique_lock lock(mutex_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
      batch_sizes_.push_back(writes.size());
    }
    std::vector<StoreWriteResult> results;
    for (const auto& write : writes) {
      const std::string& name = write.spoke != nullptr ? write.spoke->name : write.name;
      if (name == refuse_) {
        results.push_back(std::unexpected(StoreError{StoreErrorCode::kConflict, "refused"}));
      } else {
        results.push_back(inner_.apply(std::span(&write, 1)).front());
      }
    }
    return results;
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
  int entered() {
    std::lock_guard lock(mutex_);
    return entered_;
  }
  void waitUntilEntered(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  void refuse(std::string name) { refuse_ = std::move(name); }
  std::vector<std::size_t> batchSizes() {
    std::lock_guard lock(mutex_);
    return batch_sizes_;
  }
  fakes::MemoryStore& inner() { return inner_; }

 private:
  fakes::MemoryStore inner_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = true;
  int entered_ = 0;
  std::string refuse_;
  std::vector<std::size_t> batch_sizes_;
};

class RegistryBatch : public ::testing::Test {
 protected:
  // Holds the writer in apply() with command `first`, queues `rest`, then lets everything run.
  std::vector<Registry::Result> pileUp(std::function<Registry::Result()> first,
                                       std::vector<std::function<Registry::Result()>> rest) {
    store_.close();
    const int before = store_.entered();
    auto head = std::async(std::launch::async, first);
    store_.waitUntilEntered(before + 1);
    // The writer cannot take these while it sits in apply(); queued one by one, in order.
    std::vector<std::future<Registry::Result>> queued;
    for (auto& command : rest) {
      queued.push_back(std::async(std::launch::async, command));
      waitQueued(queued.size());
    }
    store_.open();
    std::vector<Registry::Result> results{head.get()};
    for (auto& f : queued) results.push_back(f.get());
    return results;
  }

  // Waits (bounded) until `n` commands sit in the writer's queue.
  void waitQueued(std::size_t n) {
    for (int i = 0; i < 5000 && registry_->queuedCommands() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(registry_->queuedCommands(), n);
  }

  testing::HubHarness<GatedStore> hub_{testing::registryOnly()};
  GatedStore& store_ = hub_.store;
  std::unique_ptr<Registry>& registry_ = hub_.registry;
};

TEST_F(RegistryBatch, ABurstOfCommandsIsWrittenInOneTransaction) {
  std::vector<std::function<Registry::Result()>> rest;
  for (int n = 2; n <= 11; ++n) rest.push_back([this, n] { return registry_->create(draft(n)); });
  auto results = pileUp([this] { return registry_->create(draft(1)); }, rest);

  for (const auto& r : results) ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(store_.batchSizes(), (std::vector<std::size_t>{1, 10}));
  const auto state = registry_->snapshot();
  EXPECT_EQ(state->spokes.size(), 11u);
  EXPECT_EQ(state->revision, 11u);
  std::set<Ipv4Prefix> inside;
  for (const auto& [name, spoke] : state->spokes) inside.insert(spoke->tunnels[0].inside_cidr);
  EXPECT_EQ(inside.size(), 11u);
}

TEST_F(RegistryBatch, ARefusedWriteIsUndoneAndTheRestOfItsBatchStands) {
  store_.refuse("s-3");
  std::vector<std::function<Registry::Result()>> rest;
  for (int n = 2; n <= 4; ++n) rest.push_back([this, n] { return registry_->create(draft(n)); });
  auto results = pileUp([this] { return registry_->create(draft(1)); }, rest);

  EXPECT_TRUE(results[0].has_value());
  EXPECT_TRUE(results[1].has_value());
  ASSERT_FALSE(results[2].has_value());
  EXPECT_EQ(results[2].error().code, ErrorCode::kConflict);
  EXPECT_TRUE(results[3].has_value());
  const auto state = registry_->snapshot();
  EXPECT_FALSE(state->spokes.contains("s-3"));
  EXPECT_EQ(state->spokes.size(), 3u);

  // Everything s-3 was staged with is free again.
  store_.refuse("");
  EXPECT_TRUE(registry_->create(draft(3)).has_value());
}

TEST_F(RegistryBatch, CommandsOnTheSameSpokeInOneBatchFailTogether) {
  ASSERT_TRUE(registry_->create(draft(1)).has_value());
  store_.refuse("s-1");
  auto renamed = draft(1);
  renamed.segment = "prod";
  auto results = pileUp([this] { return registry_->create(draft(2)); },
                        {[this, renamed] { return registry_->replace("s-1", renamed, 1); },
                         [this] { return registry_->remove("s-1", 2); }});
  EXPECT_TRUE(results[0].has_value());
  EXPECT_FALSE(results[1].has_value());
  EXPECT_FALSE(results[2].has_value());
  const auto state = registry_->snapshot();
  ASSERT_TRUE(state->spokes.contains("s-1"));
  EXPECT_EQ(state->spokes.at("s-1")->segment, "default");
  EXPECT_EQ(state->spokes.at("s-1")->generation, 1u);
}

}  // namespace
}  // namespace transit::hub
