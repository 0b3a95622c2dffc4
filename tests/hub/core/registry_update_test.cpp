// Registry::update: a named read-modify-write run on the writer thread against the spoke as it is
// then, through the replace path; and subscribe(): any number of subscribers to each publish.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "hub/core/registry.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/hub/core/registry_drafts.hpp"

namespace transit::hub {
namespace {

// The draft that keeps `spoke` as it is (its tunnels keep their inside /30 and PSK by omission).
peers::SpokeDraft draftOf(const peers::Spoke& spoke) {
  auto d =
      vpcDraft(spoke.name, spoke.cidrs.at(0).toString(), spoke.tunnels.at(0).outside_ip.toString());
  d.segment = spoke.segment;
  if (spoke.export_limit) d.export_limit = *spoke.export_limit;
  return d;
}

class RegistryUpdate : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    Registry::Options options;
    options.validation.hub_asn = 65000;
    options.validation.hub_name = "hub-a";
    auto created = Registry::create(store_, clock_, nullptr, std::move(options));
    ASSERT_TRUE(created.has_value()) << created.error().message;
    registry_ = std::move(*created);
    ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.1")));
    publishes_ = registry_->subscribe([this](const auto&, auto) { ++published_; });
  }

  // Waits (bounded) until `n` commands sit in the writer's queue.
  void waitQueued(std::size_t n) {
    for (int i = 0; i < 5000 && registry_->queuedCommands() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(registry_->queuedCommands(), n);
  }

  const peers::Spoke& spoke() {
    snapshot_ = registry_->snapshot();
    return *snapshot_->spokes.at("prod-a");
  }

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  std::unique_ptr<Registry> registry_;
  std::atomic<int> published_{0};
  Registry::Subscription publishes_;
  std::shared_ptr<const DesiredState> snapshot_;
};

TEST_F(RegistryUpdate, TheFunctionSeesTheSpokeAsAnEarlierQueuedReplaceLeftIt) {
  // Hold the writer in a store write, queue a replace and then an update behind it.
  store_.holdWrites();
  auto held = std::async(std::launch::async, [this] {
    return registry_->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.2"));
  });
  store_.waitUntilHeld(1);
  auto segment = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.1");
  segment.segment = "prod";
  auto replaced = std::async(std::launch::async, [this, segment] {
    return registry_->replace("prod-a", segment, std::nullopt);
  });
  waitQueued(1);
  std::string seen_segment;
  auto updated = std::async(std::launch::async, [this, &seen_segment] {
    return registry_->update(
        "limit", "prod-a", std::nullopt,
        [&seen_segment](const peers::Spoke& current) -> std::expected<peers::SpokeDraft, HubError> {
          seen_segment = current.segment;
          auto d = draftOf(current);
          d.export_limit = 40;
          return d;
        });
  });
  waitQueued(2);
  store_.releaseWrites();

  ASSERT_TRUE(held.get());
  ASSERT_TRUE(replaced.get());
  const auto result = updated.get();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(seen_segment, "prod");
  EXPECT_EQ((*result)->generation, 3u);
  const auto& now = spoke();
  EXPECT_EQ(now.segment, "prod");    // the replace's change
  EXPECT_EQ(now.export_limit, 40u);  // the update's
  EXPECT_EQ(now.generation, 3u);
}

TEST_F(RegistryUpdate, UpdateWritesThroughTheReplacePathAndPublishes) {
  const auto before = spoke();
  const int publishes = published_;
  const auto result =
      registry_->update("limit", "prod-a", before.generation, [](const peers::Spoke& current) {
        auto d = draftOf(current);
        d.export_limit = 40;
        return std::expected<peers::SpokeDraft, HubError>(d);
      });
  ASSERT_TRUE(result) << result.error().message;
  const auto& after = spoke();
  EXPECT_EQ(after.generation, before.generation + 1);
  EXPECT_EQ(after.export_limit, 40u);
  // As a replace: a tunnel that keeps its outside address keeps its inside /30 and PSK.
  EXPECT_EQ(after.tunnels, before.tunnels);
  EXPECT_EQ(published_, publishes + 1);
  EXPECT_EQ(*store_.load()->spokes.at(0).export_limit, 40u);  // durable

  // A draft that changes nothing writes nothing and publishes nothing, as replace.
  const auto applies = store_.applies();
  const auto same = registry_->update("noop", "prod-a", std::nullopt, [](const peers::Spoke& c) {
    return std::expected<peers::SpokeDraft, HubError>(draftOf(c));
  });
  ASSERT_TRUE(same);
  EXPECT_EQ((*same)->generation, after.generation);
  EXPECT_EQ(store_.applies(), applies);
  EXPECT_EQ(published_, publishes + 1);
}

TEST_F(RegistryUpdate, AnIfMatchMismatchIsTheSameRefusalAsReplace) {
  const auto before = registry_->snapshot();
  bool called = false;
  const auto updated = registry_->update("limit", "prod-a", 7, [&called](const peers::Spoke& c) {
    called = true;
    return std::expected<peers::SpokeDraft, HubError>(draftOf(c));
  });
  const auto replaced =
      registry_->replace("prod-a", vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.1"), 7);
  ASSERT_FALSE(updated);
  ASSERT_FALSE(replaced);
  EXPECT_EQ(updated.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(updated.error().code, replaced.error().code);
  EXPECT_EQ(updated.error().message, replaced.error().message);
  EXPECT_FALSE(called) << "the function ran on a spoke the caller did not expect";
  EXPECT_EQ(registry_->snapshot(), before);
}

TEST_F(RegistryUpdate, AMissingSpokeIsNotFoundAndTheFunctionDoesNotRun) {
  bool called = false;
  const auto result =
      registry_->update("limit", "nope", std::nullopt, [&called](const peers::Spoke& c) {
        called = true;
        return std::expected<peers::SpokeDraft, HubError>(draftOf(c));
      });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(called);
}

TEST_F(RegistryUpdate, AnErrorFromTheFunctionIsTheAnswerAndChangesNothing) {
  const auto before = registry_->snapshot();
  const auto applies = store_.applies();
  const int publishes = published_;
  const auto result =
      registry_->update("refuse", "prod-a", std::nullopt, [](const peers::Spoke& current) {
        return std::expected<peers::SpokeDraft, HubError>(
            std::unexpected(HubError{ErrorCode::kConflict, current.name + " says no", "kind"}));
      });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message, "prod-a says no");
  EXPECT_EQ(result.error().field, "kind");
  EXPECT_EQ(registry_->snapshot(), before);
  EXPECT_EQ(store_.applies(), applies);
  EXPECT_EQ(published_, publishes);
}

TEST_F(RegistryUpdate, ADraftThatFailsValidationChangesNothing) {
  const auto before = registry_->snapshot();
  const auto applies = store_.applies();
  const int publishes = published_;
  const auto bad_cidr =
      registry_->update("bad", "prod-a", std::nullopt, [](const peers::Spoke& current) {
        auto d = draftOf(current);
        d.cidrs = std::vector<std::string>{"10.1.0.0/33"};
        return std::expected<peers::SpokeDraft, HubError>(d);
      });
  ASSERT_FALSE(bad_cidr);
  EXPECT_EQ(bad_cidr.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(bad_cidr.error().field, "cidrs[0]");
  const auto renamed =
      registry_->update("rename", "prod-a", std::nullopt, [](const peers::Spoke& current) {
        auto d = draftOf(current);
        d.name = "prod-z";
        return std::expected<peers::SpokeDraft, HubError>(d);
      });
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(renamed.error().field, "name");
  // A clash with another spoke is refused too, and frees what it was checked with.
  ASSERT_TRUE(registry_->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.2")));
  const auto clash =
      registry_->update("clash", "prod-a", std::nullopt, [](const peers::Spoke& current) {
        auto d = draftOf(current);
        d.cidrs = std::vector<std::string>{"10.2.1.0/24"};
        return std::expected<peers::SpokeDraft, HubError>(d);
      });
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, ErrorCode::kConflict);
  EXPECT_EQ(spoke(), *before->spokes.at("prod-a"));
  EXPECT_EQ(store_.applies(), applies + 1);  // prod-b's create only
  EXPECT_EQ(published_, publishes + 1);      // prod-b's create only
}

TEST(RegistrySubscribe, EverySubscriberSeesEveryPublishUntilItUnsubscribes) {
  spdlog::set_level(spdlog::level::off);
  fakes::MemoryStore store;
  fakes::ManualClock clock;
  Registry::Options options;
  options.validation.hub_name = "hub-a";
  auto registry = std::move(*Registry::create(store, clock, nullptr, std::move(options)));
  std::vector<std::size_t> first;
  std::vector<std::size_t> second;
  auto one =
      registry->subscribe([&first](const std::shared_ptr<const DesiredState>& state,
                                   std::uint64_t) { first.push_back(state->spokes.size()); });
  auto two =
      registry->subscribe([&second](const std::shared_ptr<const DesiredState>& state,
                                    std::uint64_t) { second.push_back(state->spokes.size()); });
  ASSERT_TRUE(registry->create(vpcDraft("a", "10.1.0.0/16", "198.51.100.1")));
  ASSERT_TRUE(registry->create(vpcDraft("b", "10.2.0.0/16", "198.51.100.2")));
  EXPECT_EQ(first, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(second, (std::vector<std::size_t>{1, 2}));

  two.reset();
  ASSERT_TRUE(registry->remove("a", std::nullopt));
  EXPECT_EQ(first, (std::vector<std::size_t>{1, 2, 1}));
  EXPECT_EQ(second, (std::vector<std::size_t>{1, 2})) << "an unsubscribed callback ran";
}

}  // namespace
}  // namespace transit::hub
