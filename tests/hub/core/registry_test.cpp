// Registry: the single writer of desired state. Uses the in-memory store and a manual clock.
#include "hub/core/registry.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "hub/metrics/hub_metrics.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::hub {
namespace {

using peers::SpokeDraft;
using peers::TunnelDraft;

SpokeDraft vpcDraft(std::string name, std::string cidr, std::string outside1,
                    std::optional<std::string> outside2 = std::nullopt) {
  SpokeDraft d;
  d.name = std::move(name);
  d.kind = "vpc";
  d.cidrs = std::vector<std::string>{std::move(cidr)};
  d.asn = 64512;
  std::vector<TunnelDraft> tunnels{TunnelDraft{std::move(outside1), std::nullopt, std::nullopt}};
  if (outside2) tunnels.push_back(TunnelDraft{*outside2, std::nullopt, std::nullopt});
  d.tunnels = std::move(tunnels);
  return d;
}

double metricValue(prometheus::Registry& registry, const std::string& name,
                   const std::string& label, const std::string& value) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& l : metric.label) {
        if (l.name == label && l.value == value) {
          return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                : metric.gauge.value;
        }
      }
    }
  }
  return -1;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    start();
  }

  void start() {
    registry_.reset();
    Registry::Options options;
    options.validation.hub_asn = 65000;
    options.validation.hub_name = "hub-a";
    options.validation.peer_hub = "hub-b";  // the pair: tunnels may be hub-b's too
    options.validation.hub_addresses = {*Ipv4Address::parse("203.0.113.10")};
    options.psk_source = [this] { return "generated" + std::to_string(++psk_counter_) + "_key"; };
    auto created = Registry::create(store_, clock_, &metrics_, std::move(options));
    ASSERT_TRUE(created.has_value()) << created.error().message;
    registry_ = std::move(*created);
  }

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  prometheus::Registry prometheus_;
  HubMetrics metrics_{prometheus_, "test"};
  int psk_counter_ = 0;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, CreateAllocatesInsideNetworksAndKeysAndStoresDurably) {
  auto result =
      registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const auto& spoke = **result;
  ASSERT_EQ(spoke.tunnels.size(), 2u);
  EXPECT_NE(spoke.tunnels[0].inside_cidr, spoke.tunnels[1].inside_cidr);
  for (const auto& t : spoke.tunnels) {
    EXPECT_EQ(t.inside_cidr.length(), 30);
    EXPECT_FALSE(isAwsReservedInside(t.inside_cidr));
    EXPECT_FALSE(peers::checkPsk(t.psk).has_value()) << "generated PSK breaks AWS's rules";
  }
  EXPECT_EQ(spoke.generation, 1u);
  EXPECT_EQ(spoke.created_at.time_since_epoch(), fakes::ManualClock::kStart);

  auto stored = store_.load();
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->spokes.size(), 1u);
  EXPECT_EQ(stored->spokes[0], spoke);
  EXPECT_EQ(registry_->snapshot()->spokes.at("prod-a")->tunnels, spoke.tunnels);
}

TEST_F(RegistryTest, CreateKeepsGivenInsideCidrAndPsk) {
  auto draft = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  (*draft.tunnels)[0].inside_cidr = "169.254.20.0/30";
  (*draft.tunnels)[0].psk = "given.key_1234";
  auto result = registry_->create(draft);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ((*result)->tunnels[0].inside_cidr.toString(), "169.254.20.0/30");
  EXPECT_EQ((*result)->tunnels[0].psk, "given.key_1234");
  EXPECT_EQ(psk_counter_, 0);
}

TEST_F(RegistryTest, InvalidDraftIsRefusedWithItsField) {
  auto draft = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  (*draft.tunnels)[0].psk = "0starts_with_zero";
  auto result = registry_->create(draft);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(result.error().field, "tunnels[0].psk");
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
}

TEST_F(RegistryTest, HubAddressAsTunnelEndpointIsRefused) {
  auto result = registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "203.0.113.10"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[0].outside_ip");
}

TEST_F(RegistryTest, ConflictsWithOtherSpokesAreRefusedAndNameTheOtherSpoke) {
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));

  auto same_name = registry_->create(vpcDraft("prod-a", "10.9.0.0/16", "198.51.100.90"));
  ASSERT_FALSE(same_name.has_value());
  EXPECT_EQ(same_name.error().code, ErrorCode::kConflict);
  EXPECT_EQ(same_name.error().field, "name");

  auto overlap = registry_->create(vpcDraft("prod-b", "10.1.128.0/17", "198.51.100.20"));
  ASSERT_FALSE(overlap.has_value());
  EXPECT_EQ(overlap.error().code, ErrorCode::kConflict);
  EXPECT_EQ(overlap.error().field, "cidrs[0]");
  EXPECT_NE(overlap.error().message.find("prod-a"), std::string::npos);

  auto covering = registry_->create(vpcDraft("prod-b", "10.0.0.0/8", "198.51.100.20"));
  ASSERT_FALSE(covering.has_value());
  EXPECT_EQ(covering.error().field, "cidrs[0]");

  auto endpoint = registry_->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.10"));
  ASSERT_FALSE(endpoint.has_value());
  EXPECT_EQ(endpoint.error().field, "tunnels[0].outside_ip");

  const auto taken = registry_->snapshot()->spokes.at("prod-a")->tunnels[0].inside_cidr;
  auto inside = vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20");
  (*inside.tunnels)[0].inside_cidr = taken.toString();
  auto inside_result = registry_->create(inside);
  ASSERT_FALSE(inside_result.has_value());
  EXPECT_EQ(inside_result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(inside_result.error().field, "tunnels[0].inside_cidr");
  EXPECT_NE(inside_result.error().message.find("prod-a"), std::string::npos);

  EXPECT_EQ(registry_->snapshot()->spokes.size(), 1u);
}

TEST_F(RegistryTest, ReplaceChecksGenerationAndBumpsIt) {
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  auto draft = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  draft.segment = "prod";

  auto stale = registry_->replace("prod-a", draft, 7);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);

  clock_.advance(std::chrono::seconds(60));
  auto replaced = registry_->replace("prod-a", draft, 1);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().message;
  EXPECT_EQ((*replaced)->generation, 2u);
  EXPECT_EQ((*replaced)->segment, "prod");
  EXPECT_EQ((*replaced)->updated_at - (*replaced)->created_at, std::chrono::seconds(60));
}

TEST_F(RegistryTest, PuttingBackWhatGetReturnedKeepsKeysAndInsideNetworksAndWritesNothing) {
  auto created =
      registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  ASSERT_TRUE(created.has_value());
  const auto writes_before =
      metricValue(prometheus_, "transit_hub_store_writes_total", "result", "ok");

  // GET never returns PSKs, so a client's PUT carries none; tunnels listed in another order.
  auto draft = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.11", "198.51.100.10");
  auto replaced = registry_->replace("prod-a", draft, std::nullopt);
  ASSERT_TRUE(replaced.has_value());
  const auto& before = (*created)->tunnels;
  const auto& after = (*replaced)->tunnels;
  EXPECT_EQ(after[0].psk, before[1].psk);
  EXPECT_EQ(after[0].inside_cidr, before[1].inside_cidr);
  EXPECT_EQ(after[1].psk, before[0].psk);
  EXPECT_EQ(after[1].inside_cidr, before[0].inside_cidr);
  EXPECT_EQ(psk_counter_, 2);  // no new key generated

  // The same content in the same order is no change at all.
  auto again = registry_->replace("prod-a", draft, std::nullopt);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->generation, (*replaced)->generation);
  EXPECT_EQ(metricValue(prometheus_, "transit_hub_store_writes_total", "result", "ok"),
            writes_before + 1);
}

TEST_F(RegistryTest, ReplacingATunnelEndpointAllocatesAFreshInsideNetworkAndKey) {
  auto created = registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_TRUE(created.has_value());
  auto replaced =
      registry_->replace("prod-a", vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.99"), 1);
  ASSERT_TRUE(replaced.has_value());
  EXPECT_NE((*replaced)->tunnels[0].psk, (*created)->tunnels[0].psk);
  // The old endpoint is free for another spoke now.
  EXPECT_TRUE(registry_->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.10")));
}

TEST_F(RegistryTest, ReplaceCannotRenameOrCollide) {
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  ASSERT_TRUE(registry_->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20")));

  auto renamed = registry_->replace("prod-a", vpcDraft("prod-z", "10.1.0.0/16", "198.51.100.10"),
                                    std::nullopt);
  ASSERT_FALSE(renamed.has_value());
  EXPECT_EQ(renamed.error().field, "name");

  auto collide = registry_->replace("prod-a", vpcDraft("prod-a", "10.2.1.0/24", "198.51.100.10"),
                                    std::nullopt);
  ASSERT_FALSE(collide.has_value());
  EXPECT_EQ(collide.error().code, ErrorCode::kConflict);

  // prod-a is unchanged and still holds its CIDR against newcomers.
  EXPECT_EQ(registry_->snapshot()->spokes.at("prod-a")->generation, 1u);
  auto newcomer = registry_->create(vpcDraft("prod-c", "10.1.5.0/24", "198.51.100.30"));
  ASSERT_FALSE(newcomer.has_value());
  EXPECT_EQ(newcomer.error().code, ErrorCode::kConflict);

  auto missing =
      registry_->replace("nope", vpcDraft("nope", "10.7.0.0/16", "198.51.100.70"), std::nullopt);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(RegistryTest, RemoveFreesEverythingTheSpokeHeld) {
  auto created = registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_TRUE(created.has_value());
  auto wrong = registry_->remove("prod-a", 2);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kPreconditionFailed);

  ASSERT_TRUE(registry_->remove("prod-a", 1));
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
  auto missing = registry_->remove("prod-a", std::nullopt);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto reuse = vpcDraft("prod-b", "10.1.0.0/16", "198.51.100.10");
  (*reuse.tunnels)[0].inside_cidr = (*created)->tunnels[0].inside_cidr.toString();
  EXPECT_TRUE(registry_->create(reuse));
}

TEST_F(RegistryTest, StoreFailureChangesNothingAndIsReportedUntilAWriteWorks) {
  store_.failNextWrites(1, StoreErrorCode::kUnavailable);
  auto failed = registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
  EXPECT_FALSE(registry_->storeHealth().ok);
  EXPECT_EQ(metricValue(prometheus_, "transit_hub_store_writes_total", "result", "error"), 1);

  // The CIDR, endpoint and inside network it would have taken are free again.
  auto retried = registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_TRUE(retried.has_value());
  EXPECT_TRUE(registry_->storeHealth().ok);
  EXPECT_EQ(metricValue(prometheus_, "transit_hub_spokes", "kind", "vpc"), 1);
}

TEST_F(RegistryTest, StartsFromWhatTheStoreHolds) {
  auto created = registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_TRUE(created.has_value());
  start();  // a new registry on the same store, as after a restart
  const auto state = registry_->snapshot();
  ASSERT_EQ(state->spokes.size(), 1u);
  EXPECT_EQ(*state->spokes.at("prod-a"), **created);
  EXPECT_EQ(state->revision, 1u);
  // Loaded spokes still guard their CIDRs and inside networks.
  auto clash = registry_->create(vpcDraft("prod-b", "10.1.0.0/24", "198.51.100.20"));
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code, ErrorCode::kConflict);
  auto fresh = registry_->create(vpcDraft("prod-b", "10.2.0.0/16", "198.51.100.20"));
  ASSERT_TRUE(fresh.has_value());
  EXPECT_NE((*fresh)->tunnels[0].inside_cidr, (*created)->tunnels[0].inside_cidr);
}

TEST_F(RegistryTest, UnreadableStoreFailsStartWithAReason) {
  registry_.reset();
  store_.failNextLoads(1, StoreErrorCode::kCorrupt);
  auto created = Registry::create(store_, clock_, nullptr, Registry::Options{});
  ASSERT_FALSE(created.has_value());
  EXPECT_NE(created.error().message.find("cannot load the store"), std::string::npos);
}

TEST_F(RegistryTest, AsyncCommandsCompleteOnTheCallersExecutor) {
  boost::asio::io_context io;
  std::optional<Registry::Result> got;
  std::thread::id completed_on;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        got = co_await registry_->asyncCreate(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"),
                                              hub::ChangeOrigin{}, boost::asio::use_awaitable);
        completed_on = std::this_thread::get_id();
      },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(completed_on, std::this_thread::get_id());
}

TEST_F(RegistryTest, ConcurrentWritersGetDistinctAllocations) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        auto result = registry_->create(
            vpcDraft("s-" + std::to_string(n), "10." + std::to_string(n) + ".0.0/16",
                     "198.51." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1)));
        ASSERT_TRUE(result.has_value()) << result.error().message;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto state = registry_->snapshot();
  ASSERT_EQ(state->spokes.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::set<Ipv4Prefix> inside;
  std::set<std::uint32_t> tags;
  for (const auto& [name, spoke] : state->spokes) {
    inside.insert(spoke->tunnels[0].inside_cidr);
    tags.insert(spoke->route_tag);
  }
  EXPECT_EQ(inside.size(), state->spokes.size());
  EXPECT_EQ(tags.size(), state->spokes.size());
  EXPECT_FALSE(tags.contains(0));
  EXPECT_EQ(state->revision, static_cast<std::uint64_t>(kThreads * kPerThread));
}

// ---- route tags ------------------------------------------------------------------------------

std::uint32_t tagOf(const Registry& registry, const std::string& name) {
  return registry.snapshot()->spokes.at(name)->route_tag;
}

TEST_F(RegistryTest, EachSpokeGetsTheLowestFreeRouteTagAndKeepsIt) {
  ASSERT_TRUE(registry_->create(vpcDraft("c", "10.3.0.0/16", "198.51.100.30")));
  ASSERT_TRUE(registry_->create(vpcDraft("a", "10.1.0.0/16", "198.51.100.10")));
  ASSERT_TRUE(registry_->create(vpcDraft("b", "10.2.0.0/16", "198.51.100.20")));
  EXPECT_EQ(tagOf(*registry_, "c"), 1u);  // in creation order, not by name
  EXPECT_EQ(tagOf(*registry_, "a"), 2u);
  EXPECT_EQ(tagOf(*registry_, "b"), 3u);

  // A replace keeps the tag, whatever it changes; a client cannot set it.
  auto changed = vpcDraft("a", "10.11.0.0/16", "198.51.100.11");
  changed.segment = "prod";
  auto replaced = registry_->replace("a", changed, std::nullopt);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().message;
  EXPECT_EQ((*replaced)->route_tag, 2u);

  // A removed spoke's tag is free again; the others keep theirs.
  ASSERT_TRUE(registry_->remove("c", std::nullopt));
  ASSERT_TRUE(registry_->create(vpcDraft("d", "10.4.0.0/16", "198.51.100.40")));
  EXPECT_EQ(tagOf(*registry_, "d"), 1u);
  EXPECT_EQ(tagOf(*registry_, "b"), 3u);

  start();  // the tags are stored: a restart keeps every one
  EXPECT_EQ(tagOf(*registry_, "a"), 2u);
  EXPECT_EQ(tagOf(*registry_, "b"), 3u);
  EXPECT_EQ(tagOf(*registry_, "d"), 1u);
}

TEST_F(RegistryTest, AFailedCreateLeavesItsRouteTagFree) {
  store_.failNextWrites(1, StoreErrorCode::kUnavailable);
  ASSERT_FALSE(registry_->create(vpcDraft("a", "10.1.0.0/16", "198.51.100.10")));
  ASSERT_TRUE(registry_->create(vpcDraft("b", "10.2.0.0/16", "198.51.100.20")));
  EXPECT_EQ(tagOf(*registry_, "b"), 1u);
}

// Spokes stored before route tags existed (record version 1) load with none: the registry
// allocates them in name order, around the tags already held, and stores them at the spokes'
// generations (their configuration did not change; a client's If-Match still holds).
TEST_F(RegistryTest, SpokesStoredWithoutARouteTagGetOneAtLoadAndKeepTheirGeneration) {
  ASSERT_TRUE(registry_->create(vpcDraft("x", "10.9.0.0/16", "198.51.100.90")));  // tag 1
  registry_.reset();
  for (const auto& [name, cidr, outside] :
       {std::tuple{"b", "10.2.0.0/16", "198.51.100.20"}, {"a", "10.1.0.0/16", "198.51.100.10"}}) {
    peers::Spoke old;
    old.name = name;
    old.cidrs = {*Ipv4Prefix::parse(cidr)};
    old.asn = 64512;
    old.tunnels = {
        {*Ipv4Address::parse(outside),
         *Ipv4Prefix::parse(std::string("169.254.") + (name[0] == 'a' ? "1" : "2") + ".0/30"),
         "stored.key_0", "hub-a"}};
    old.generation = 3;
    ASSERT_TRUE(store_.create(old).has_value());  // route_tag 0: not allocated
  }
  const auto revision_before = store_.load()->revision;
  start();
  EXPECT_EQ(tagOf(*registry_, "a"), 2u);
  EXPECT_EQ(tagOf(*registry_, "b"), 3u);
  EXPECT_EQ(tagOf(*registry_, "x"), 1u);
  const auto stored = store_.load();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->revision, revision_before + 2);  // two write-backs, nothing else
  for (const auto& spoke : stored->spokes) {
    EXPECT_NE(spoke.route_tag, 0u) << spoke.name;
    if (spoke.name != "x") {
      EXPECT_EQ(spoke.generation, 3u) << spoke.name;
    }
  }
  EXPECT_EQ(registry_->snapshot()->revision, stored->revision);
  auto kept = registry_->replace("a", vpcDraft("a", "10.1.0.0/16", "198.51.100.10"), 3);
  ASSERT_TRUE(kept.has_value()) << kept.error().message;
  EXPECT_EQ((*kept)->route_tag, 2u);
}

// A store that refuses the write-back still runs the hub with the tags allocated; they are
// stored with each spoke's next change.
TEST_F(RegistryTest, RouteTagsAStoreCannotTakeAtLoadAreStoredWithTheNextChange) {
  registry_.reset();
  peers::Spoke old;
  old.name = "a";
  old.cidrs = {*Ipv4Prefix::parse("10.1.0.0/16")};
  old.asn = 64512;
  old.tunnels = {{*Ipv4Address::parse("198.51.100.10"), *Ipv4Prefix::parse("169.254.1.0/30"),
                  "stored.key_0", "hub-a"}};
  old.generation = 1;
  ASSERT_TRUE(store_.create(old).has_value());
  store_.failNextWrites(1, StoreErrorCode::kUnavailable);
  start();
  EXPECT_EQ(tagOf(*registry_, "a"), 1u);
  EXPECT_EQ(store_.load()->spokes.at(0).route_tag, 0u);
  auto changed = vpcDraft("a", "10.1.0.0/16", "198.51.100.10");
  changed.segment = "prod";
  ASSERT_TRUE(registry_->replace("a", changed, std::nullopt));
  EXPECT_EQ(store_.load()->spokes.at(0).route_tag, 1u);
}

// ---- tunnels per hub (the pair) -------------------------------------------------------------

TunnelDraft onHub(std::string outside, std::string hub) {
  TunnelDraft t{std::move(outside), std::nullopt, std::nullopt};
  t.hub = std::move(hub);
  return t;
}

// A spoke connected to both hubs: the one registry gives all four tunnels a /30 and a PSK.
TEST_F(RegistryTest, AllFourTunnelsOfBothHubsGetInsideNetworksAndKeys) {
  auto draft = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11");
  draft.tunnels->push_back(onHub("198.51.100.12", "hub-b"));
  draft.tunnels->push_back(onHub("198.51.100.13", "hub-b"));
  auto result = registry_->create(draft);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const auto& tunnels = (*result)->tunnels;
  ASSERT_EQ(tunnels.size(), 4u);
  std::set<Ipv4Prefix> insides;
  std::set<std::string> keys;
  for (const auto& t : tunnels) {
    insides.insert(t.inside_cidr);
    keys.insert(t.psk);
    EXPECT_FALSE(peers::checkPsk(t.psk).has_value());
  }
  EXPECT_EQ(insides.size(), 4u);
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(tunnels[0].hub, "hub-a");  // named none: the hub that got the request
  EXPECT_EQ(tunnels[1].hub, "hub-a");
  EXPECT_EQ(tunnels[2].hub, "hub-b");
  EXPECT_EQ(tunnels[3].hub, "hub-b");
  EXPECT_EQ(store_.load()->spokes.at(0).tunnels, tunnels);
}

// One outside address may reach both hubs (a site with one public address); on one hub it is
// one spoke's endpoint only.
TEST_F(RegistryTest, OutsideAddressesAreUniquePerHubAcrossSpokes) {
  ASSERT_TRUE(registry_->create(vpcDraft("a", "10.1.0.0/16", "198.51.100.10")));
  auto other = vpcDraft("b", "10.2.0.0/16", "198.51.100.20");
  (*other.tunnels)[0] = onHub("198.51.100.10", "hub-b");
  auto on_b = registry_->create(other);
  ASSERT_TRUE(on_b.has_value()) << on_b.error().message;

  auto clash = vpcDraft("c", "10.3.0.0/16", "198.51.100.30");
  (*clash.tunnels)[0] = onHub("198.51.100.10", "hub-b");
  auto refused = registry_->create(clash);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().field, "tunnels[0].outside_ip");
  EXPECT_EQ(refused.error().message,
            "198.51.100.10 is already a tunnel endpoint of spoke b on hub hub-b");
  EXPECT_FALSE(registry_->snapshot()->spokes.contains("c"));
}

// Adding the other hub's tunnels keeps this hub's as they were (their /30s and PSKs), and a
// tunnel keeps its /30 and PSK by hub and outside address.
TEST_F(RegistryTest, AddingTheOtherHubsTunnelsKeepsThisHubsAsTheyWere) {
  auto created = registry_->create(vpcDraft("a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  ASSERT_TRUE(created.has_value());
  const auto before = (*created)->tunnels;
  auto draft = vpcDraft("a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11");
  draft.tunnels->push_back(onHub("198.51.100.10", "hub-b"));  // the same address, on hub-b
  draft.tunnels->push_back(onHub("198.51.100.11", "hub-b"));
  auto replaced = registry_->replace("a", draft, 1);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().message;
  const auto& after = (*replaced)->tunnels;
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_NE(after[2].inside_cidr, before[0].inside_cidr);
  EXPECT_NE(after[2].psk, before[0].psk);
  EXPECT_EQ((*replaced)->generation, 2u);
}

}  // namespace
}  // namespace transit::hub
