// Publisher<T>: the latest value, and any number of subscribers told of each publish until they
// drop their Subscription.
#include "hub/core/publisher.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

namespace transit::hub {
namespace {

struct Seen {
  std::vector<int> values;
  std::vector<std::uint64_t> sequences;
};

Publisher<int>::Callback recorder(Seen& seen) {
  return [&seen](const std::shared_ptr<const int>& value, std::uint64_t seq) {
    seen.values.push_back(*value);
    seen.sequences.push_back(seq);
  };
}

TEST(Publisher, LatestIsTheLastPublishedValue) {
  Publisher<int> publisher;
  EXPECT_EQ(publisher.latest(), nullptr);
  EXPECT_EQ(publisher.sequence(), 0u);
  publisher.publish(std::make_shared<const int>(4));
  publisher.publish(std::make_shared<const int>(5));
  ASSERT_NE(publisher.latest(), nullptr);
  EXPECT_EQ(*publisher.latest(), 5);
  EXPECT_EQ(publisher.sequence(), 2u);
}

TEST(Publisher, TwoSubscribersBothSeeEveryLaterPublish) {
  Publisher<int> publisher;
  publisher.publish(std::make_shared<const int>(1));  // before anyone subscribed
  Seen a;
  Seen b;
  auto sa = publisher.subscribe(recorder(a));
  auto sb = publisher.subscribe(recorder(b));
  EXPECT_EQ(publisher.subscribers(), 2u);
  publisher.publish(std::make_shared<const int>(2));
  publisher.publish(std::make_shared<const int>(3));
  EXPECT_EQ(a.values, (std::vector<int>{2, 3}));
  EXPECT_EQ(b.values, (std::vector<int>{2, 3}));
  EXPECT_EQ(a.sequences, (std::vector<std::uint64_t>{2, 3}));
}

TEST(Publisher, ADroppedSubscriptionSeesNoMore) {
  Publisher<int> publisher;
  Seen kept;
  Seen reset;
  Seen destroyed;
  Seen replaced;
  auto s_kept = publisher.subscribe(recorder(kept));
  auto s_reset = publisher.subscribe(recorder(reset));
  auto s_replaced = publisher.subscribe(recorder(replaced));
  std::optional<Publisher<int>::Subscription> s_destroyed =
      publisher.subscribe(recorder(destroyed));
  publisher.publish(std::make_shared<const int>(1));

  s_reset.reset();
  s_destroyed.reset();
  s_replaced = Publisher<int>::Subscription{};  // move-assigning unsubscribes the old one
  EXPECT_FALSE(s_reset.active());
  EXPECT_FALSE(s_replaced.active());
  EXPECT_TRUE(s_kept.active());
  EXPECT_EQ(publisher.subscribers(), 1u);
  publisher.publish(std::make_shared<const int>(2));

  EXPECT_EQ(kept.values, (std::vector<int>{1, 2}));
  EXPECT_EQ(reset.values, (std::vector<int>{1}));
  EXPECT_EQ(destroyed.values, (std::vector<int>{1}));
  EXPECT_EQ(replaced.values, (std::vector<int>{1}));
}

TEST(Publisher, AMovedSubscriptionStaysSubscribedOnce) {
  Publisher<int> publisher;
  Seen seen;
  auto first = publisher.subscribe(recorder(seen));
  auto moved = std::move(first);
  EXPECT_TRUE(moved.active());
  first.reset();  // the moved-from handle owns nothing
  publisher.publish(std::make_shared<const int>(7));
  EXPECT_EQ(seen.values, (std::vector<int>{7}));
}

TEST(Publisher, ASubscriptionMayOutliveItsPublisher) {
  Seen seen;
  Publisher<int>::Subscription subscription;
  {
    Publisher<int> publisher;
    subscription = publisher.subscribe(recorder(seen));
    publisher.publish(std::make_shared<const int>(1));
  }
  EXPECT_FALSE(subscription.active());
  subscription.reset();  // nothing to do, and no crash
  EXPECT_EQ(seen.values, (std::vector<int>{1}));
}

}  // namespace
}  // namespace transit::hub
