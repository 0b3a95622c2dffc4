// The Store conformance suite: the rules every Store implementation keeps (revisions advance by
// one per write, conditional writes, names, inside networks, outside addresses (per hub) and
// route tags unique across spokes, nothing changed and no secret in the message when a write is
// refused). A backend's test instantiates it with a class that opens an empty store:
//   class MyBackend { public: static constexpr const char* kName = "My";
//                     std::expected<std::unique_ptr<hub::Store>, hub::StoreError> open(); };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreConformanceTest, MyBackend);
// A store that owns its revision counts from 0. A backend whose revision is shared with other
// keys (etcd's moves with every key in the cluster, and an empty etcd is at revision 1) declares
//   static constexpr bool kSharedRevision = true;
// and the suite counts revisions from wherever its empty store starts, still one per write.
// The audit trail: records written with their change, newest first, paged, trimmed by the
// retention (a backend that checks its count bound every N records declares
//   static constexpr std::uint64_t kAuditCountCheck = N;
// and may be past the bound by less than N).
// Run against SQLite and the in-memory fake (sqlite_store_test.cpp) and the pair's etcd store
// (etcd/etcd_store_tool_test.cpp).
#pragma once

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/store.hpp"
#include "peers/model/spoke_json.hpp"

namespace transit::peers {
// gtest prints a spoke in its API form (no PSK) when an expectation fails.
inline void PrintTo(const Spoke& spoke, std::ostream* os) {
  *os << boost::json::serialize(encodeSpokeForApi(spoke));
}
}  // namespace transit::peers

namespace transit::store_test {

using hub::StoreErrorCode;
using peers::Spoke;
using ::testing::HasSubstr;
using ::testing::Not;

// Every PSK in these tests contains this, so a leak into an error message is easy to spot.
inline constexpr std::string_view kSecretMarker = "Sekr3t";

inline Ipv4Prefix prefix(std::string_view text) {
  auto parsed = Ipv4Prefix::parse(text);
  if (!parsed) {
    throw std::invalid_argument(parsed.error());
  }
  return *parsed;
}

inline Ipv4Address address(std::string_view text) {
  auto parsed = Ipv4Address::parse(text);
  if (!parsed) {
    throw std::invalid_argument(parsed.error());
  }
  return *parsed;
}

inline std::chrono::sys_seconds at(std::int64_t seconds) {
  return std::chrono::sys_seconds(std::chrono::seconds(seconds));
}

// A vpc spoke with BGP, one tunnel and defaults elsewhere.
inline Spoke vpcSpoke(std::string name = "prod-a") {
  Spoke spoke;
  spoke.name = std::move(name);
  spoke.kind = peers::SpokeKind::kVpc;
  spoke.cidrs = {prefix("10.1.0.0/16")};
  spoke.routing = peers::RoutingMode::kBgp;
  spoke.asn = 64512;
  spoke.tunnels = {
      {address("198.51.100.10"), prefix("169.254.20.0/30"), "VpcSekr3tKey_1", "hub-a"}};
  spoke.generation = 1;
  spoke.route_tag = 1;
  spoke.created_at = at(1795000000);
  spoke.updated_at = at(1795000000);
  return spoke;
}

// A site spoke that sets every optional field to something other than its default.
inline Spoke siteSpoke(std::string name = "branch-7") {
  Spoke spoke;
  spoke.name = std::move(name);
  spoke.kind = peers::SpokeKind::kSite;
  spoke.cidrs = {prefix("192.168.10.0/24"), prefix("172.16.0.0/12")};
  spoke.routing = peers::RoutingMode::kStatic;
  spoke.asn = std::nullopt;
  spoke.preferred_hub = "hub-b";
  spoke.segment = "dev";
  // One tunnel on each hub of the pair.
  spoke.tunnels = {
      {address("203.0.113.7"), prefix("169.254.30.4/30"), "SiteSekr3t.one_1", "hub-a"},
      {address("203.0.113.8"), prefix("169.254.30.8/30"), "SiteSekr3t.two_2", "hub-b"}};
  spoke.generation = 7;
  spoke.route_tag = 2;
  spoke.created_at = at(1795000000);
  spoke.updated_at = at(1795003600);
  return spoke;
}

// Spoke number `i` (below 3000): its own name, networks, tunnel addresses and PSKs. Pure
// arithmetic, so a forked child can build it too.
inline Spoke numberedSpoke(std::uint32_t i) {
  constexpr std::uint32_t kOutsideBase = 0xC6120000;  // 198.18.0.0
  constexpr std::uint32_t kInsideBase = 0xA9FE1000;   // 169.254.16.0
  Spoke spoke;
  spoke.name = fmt::format("spoke-{:04}", i);
  spoke.cidrs = {Ipv4Prefix::containing(Ipv4Address((10U << 24) | (i << 12)), 20)};
  spoke.asn = 4200000000U + i;
  for (std::uint32_t k = 0; k < 2; ++k) {
    spoke.tunnels.push_back({Ipv4Address(kOutsideBase + 2 * i + k),
                             Ipv4Prefix::containing(Ipv4Address(kInsideBase + (2 * i + k) * 4), 30),
                             fmt::format("Key{}Sekr3t{:04}", k, i), "hub-a"});
  }
  spoke.generation = 1;
  spoke.route_tag = 1000 + i;
  spoke.created_at = at(1795000000 + i);
  spoke.updated_at = at(1795000000 + i);
  return spoke;
}

template <typename Backend>
constexpr bool sharesItsRevision() {
  if constexpr (requires { Backend::kSharedRevision; }) {
    return Backend::kSharedRevision;
  } else {
    return false;
  }
}

struct BackendName {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

template <typename Backend>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.open();
    if (IsSkipped()) return;  // the backend needs a tool that is missing (it called GTEST_SKIP)
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
  }

  hub::Store& store() { return *store_; }

  hub::StoreContents contents() {
    auto loaded = store_->load();
    EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
    return loaded.value_or(hub::StoreContents{});
  }

  void created(const Spoke& spoke) {
    auto revision = store_->create(spoke);
    ASSERT_TRUE(revision.has_value()) << revision.error().message;
  }

  // Runs `write`, expects it to fail with `code` without a secret in the message, and expects
  // the store to hold exactly what it held before.
  template <typename Write>
  void expectRefused(StoreErrorCode code, Write write) {
    const hub::StoreContents before = contents();
    const auto result = write();
    ASSERT_FALSE(result.has_value()) << "the write was accepted";
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_THAT(result.error().message, Not(HasSubstr(kSecretMarker)));
    const hub::StoreContents after = contents();
    EXPECT_EQ(after.revision, before.revision);
    EXPECT_EQ(after.spokes, before.spokes);
  }

  Backend backend_;
  std::unique_ptr<hub::Store> store_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

TYPED_TEST_P(StoreConformanceTest, AnEmptyStoreHasRevisionZeroAndNoSpokes) {
  const auto contents = this->contents();
  if (!sharesItsRevision<TypeParam>()) {
    EXPECT_EQ(contents.revision, 0U);
  }
  EXPECT_TRUE(contents.spokes.empty());
}

TYPED_TEST_P(StoreConformanceTest, LoadReturnsEveryFieldOfACreatedSpokeIncludingThePsk) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  const std::vector<Spoke> expected = {siteSpoke(), vpcSpoke()};
  EXPECT_EQ(this->contents().spokes, expected);
}

TYPED_TEST_P(StoreConformanceTest, LoadOrdersSpokesByName) {
  for (std::uint32_t i : {2U, 0U, 1U}) {
    this->created(numberedSpoke(i));
  }
  const std::vector<Spoke> expected = {numberedSpoke(0), numberedSpoke(1), numberedSpoke(2)};
  EXPECT_EQ(this->contents().spokes, expected);
}

TYPED_TEST_P(StoreConformanceTest, EveryWriteAdvancesTheRevisionByOne) {
  const std::uint64_t empty = this->contents().revision;  // 0 unless the revision is shared
  EXPECT_EQ(this->store().create(vpcSpoke()), empty + 1);
  EXPECT_EQ(this->store().create(siteSpoke()), empty + 2);
  Spoke changed = vpcSpoke();
  changed.generation = 2;
  EXPECT_EQ(this->store().replace(changed, 1), empty + 3);
  EXPECT_EQ(this->store().remove("branch-7", 7), empty + 4);
  EXPECT_EQ(this->contents().revision, empty + 4);
}

TYPED_TEST_P(StoreConformanceTest, CreatingAnExistingNameIsAConflict) {
  this->created(vpcSpoke());
  Spoke again = numberedSpoke(1);
  again.name = "prod-a";
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(again); });
}

TYPED_TEST_P(StoreConformanceTest, ReplaceWritesTheRecordAndGenerationAsGiven) {
  this->created(vpcSpoke());
  Spoke changed = vpcSpoke();
  changed.cidrs = {prefix("10.2.0.0/16"), prefix("10.3.0.0/16")};
  changed.tunnels[0].psk = "NewSekr3tKey_2";
  changed.generation = 5;
  changed.updated_at = at(1795007200);
  ASSERT_TRUE(this->store().replace(changed, 1).has_value());
  EXPECT_EQ(this->contents().spokes, std::vector<Spoke>{changed});
}

TYPED_TEST_P(StoreConformanceTest, ReplaceExpectingAnotherGenerationIsAConflict) {
  this->created(vpcSpoke());
  Spoke changed = vpcSpoke();
  changed.generation = 3;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 2); });
}

TYPED_TEST_P(StoreConformanceTest, ReplacingAMissingSpokeIsNotFound) {
  this->created(siteSpoke());
  this->expectRefused(StoreErrorCode::kNotFound,
                      [&] { return this->store().replace(vpcSpoke(), 1); });
}

TYPED_TEST_P(StoreConformanceTest, RemoveDeletesTheSpoke) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  ASSERT_TRUE(this->store().remove("prod-a", 1).has_value());
  EXPECT_EQ(this->contents().spokes, std::vector<Spoke>{siteSpoke()});
}

TYPED_TEST_P(StoreConformanceTest, RemoveExpectingAnotherGenerationIsAConflict) {
  this->created(vpcSpoke());
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().remove("prod-a", 2); });
}

TYPED_TEST_P(StoreConformanceTest, RemovingAMissingSpokeIsNotFound) {
  this->created(siteSpoke());
  this->expectRefused(StoreErrorCode::kNotFound, [&] { return this->store().remove("prod-a", 1); });
}

TYPED_TEST_P(StoreConformanceTest, CreateWithAnInsideNetworkHeldByAnotherSpokeIsAConflict) {
  this->created(vpcSpoke());
  Spoke other = numberedSpoke(1);
  other.tunnels[1].inside_cidr = prefix("169.254.20.0/30");
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(other); });
}

TYPED_TEST_P(StoreConformanceTest, CreateWithAnOutsideAddressHeldByAnotherSpokeIsAConflict) {
  this->created(vpcSpoke());
  Spoke other = numberedSpoke(1);
  other.tunnels[1].outside_ip = address("198.51.100.10");
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(other); });
}

TYPED_TEST_P(StoreConformanceTest, ReplaceTakingAnotherSpokesInsideNetworkIsAConflict) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  changed.tunnels[1].inside_cidr = prefix("169.254.20.0/30");
  changed.generation = 8;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 7); });
}

TYPED_TEST_P(StoreConformanceTest, ReplaceTakingAnotherSpokesOutsideAddressIsAConflict) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  changed.tunnels[0].outside_ip = address("198.51.100.10");
  changed.generation = 8;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 7); });
}

TYPED_TEST_P(StoreConformanceTest, ATunnelNetworkListedTwiceInOneSpokeIsAConflict) {
  Spoke spoke = numberedSpoke(1);
  spoke.tunnels[1].inside_cidr = spoke.tunnels[0].inside_cidr;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(spoke); });
}

TYPED_TEST_P(StoreConformanceTest, ReplaceKeepingItsOwnTunnelsSucceeds) {
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  std::swap(changed.tunnels[0].inside_cidr, changed.tunnels[1].inside_cidr);
  changed.generation = 8;
  ASSERT_TRUE(this->store().replace(changed, 7).has_value());
  EXPECT_EQ(this->contents().spokes, std::vector<Spoke>{changed});
}

TYPED_TEST_P(StoreConformanceTest, ReplaceReleasesTheTunnelsItNoLongerUses) {
  this->created(vpcSpoke());
  Spoke moved = vpcSpoke();
  moved.tunnels[0] = {address("198.51.100.11"), prefix("169.254.21.0/30"), "MovedSekr3t_1",
                      "hub-a"};
  moved.generation = 2;
  ASSERT_TRUE(this->store().replace(moved, 1).has_value());
  Spoke taker = numberedSpoke(1);
  taker.tunnels[0].outside_ip = address("198.51.100.10");
  taker.tunnels[0].inside_cidr = prefix("169.254.20.0/30");
  EXPECT_TRUE(this->store().create(taker).has_value());
}

TYPED_TEST_P(StoreConformanceTest, RemoveReleasesItsTunnels) {
  this->created(vpcSpoke());
  ASSERT_TRUE(this->store().remove("prod-a", 1).has_value());
  Spoke taker = numberedSpoke(1);
  taker.tunnels[0].outside_ip = address("198.51.100.10");
  taker.tunnels[0].inside_cidr = prefix("169.254.20.0/30");
  EXPECT_TRUE(this->store().create(taker).has_value());
}

TYPED_TEST_P(StoreConformanceTest, CreateWithARouteTagHeldByAnotherSpokeIsAConflict) {
  this->created(vpcSpoke());
  Spoke other = numberedSpoke(1);
  other.route_tag = vpcSpoke().route_tag;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(other); });
  const auto refused = this->store().create(other);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("route tag 1"));
  EXPECT_THAT(refused.error().message, HasSubstr("prod-a"));
}

TYPED_TEST_P(StoreConformanceTest, ReplaceTakingAnotherSpokesRouteTagIsAConflict) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  Spoke changed = siteSpoke();
  changed.route_tag = vpcSpoke().route_tag;
  changed.generation = 8;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(changed, 7); });
}

TYPED_TEST_P(StoreConformanceTest, RemoveAndReplaceReleaseTheRouteTag) {
  this->created(vpcSpoke());
  this->created(siteSpoke());
  Spoke retagged = siteSpoke();
  retagged.route_tag = 9;
  retagged.generation = 8;
  ASSERT_TRUE(this->store().replace(retagged, 7).has_value());
  ASSERT_TRUE(this->store().remove("prod-a", 1).has_value());
  Spoke taker = numberedSpoke(1);
  taker.route_tag = 2;  // siteSpoke's old tag
  ASSERT_TRUE(this->store().create(taker).has_value());
  Spoke second = numberedSpoke(2);
  second.route_tag = 1;  // the removed spoke's tag
  ASSERT_TRUE(this->store().create(second).has_value());
  EXPECT_EQ(this->contents().spokes.size(), 3U);
}

// Records written before route tags existed hold none (0); any number of them may be stored,
// and each claims its tag when the registry writes the one it allocated.
TYPED_TEST_P(StoreConformanceTest, SpokesWithoutARouteTagYetDoNotClash) {
  Spoke a = numberedSpoke(1);
  Spoke b = numberedSpoke(2);
  a.route_tag = 0;
  b.route_tag = 0;
  this->created(a);
  this->created(b);
  a.route_tag = 5;
  ASSERT_TRUE(this->store().replace(a, 1).has_value());
  b.route_tag = 5;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().replace(b, 1); });
  b.route_tag = 6;
  ASSERT_TRUE(this->store().replace(b, 1).has_value());
  EXPECT_EQ(this->contents().spokes, (std::vector<Spoke>{a, b}));
}

// Outside addresses are claimed per hub: a site with one public address connects to both hubs
// of the pair from it, but on one hub an address is one tunnel's.
TYPED_TEST_P(StoreConformanceTest, TheSameOutsideAddressOnTwoHubsIsFine) {
  this->created(vpcSpoke());  // 198.51.100.10 on hub-a
  Spoke other = numberedSpoke(1);
  other.tunnels[1].outside_ip = address("198.51.100.10");
  other.tunnels[1].hub = "hub-b";
  ASSERT_TRUE(this->store().create(other).has_value());
  Spoke both = numberedSpoke(2);  // one spoke, one address, both hubs
  both.tunnels[1].outside_ip = both.tunnels[0].outside_ip;
  both.tunnels[1].hub = "hub-b";
  ASSERT_TRUE(this->store().create(both).has_value());
  EXPECT_EQ(this->contents().spokes, (std::vector<Spoke>{vpcSpoke(), other, both}));
}

TYPED_TEST_P(StoreConformanceTest, AnOutsideAddressTwiceOnOneHubIsAConflict) {
  Spoke on_b = numberedSpoke(1);
  on_b.tunnels[1].outside_ip = address("198.51.100.10");
  on_b.tunnels[1].hub = "hub-b";
  this->created(on_b);
  Spoke clash = numberedSpoke(2);
  clash.tunnels[0].outside_ip = address("198.51.100.10");
  clash.tunnels[0].hub = "hub-b";
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(clash); });
  Spoke twice = numberedSpoke(3);
  twice.tunnels[1].outside_ip = twice.tunnels[0].outside_ip;
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(twice); });
}

// A tunnel moved to the other hub lets its address go on the first.
TYPED_TEST_P(StoreConformanceTest, ReplaceMovingATunnelToTheOtherHubReleasesItsAddress) {
  this->created(vpcSpoke());
  Spoke moved = vpcSpoke();
  moved.tunnels[0].hub = "hub-b";
  moved.generation = 2;
  ASSERT_TRUE(this->store().replace(moved, 1).has_value());
  Spoke other = numberedSpoke(1);
  other.tunnels[0].outside_ip = address("198.51.100.10");  // hub-a's again
  ASSERT_TRUE(this->store().create(other).has_value());
  other = numberedSpoke(2);
  other.tunnels[0].outside_ip = address("198.51.100.10");
  other.tunnels[0].hub = "hub-b";
  this->expectRefused(StoreErrorCode::kConflict, [&] { return this->store().create(other); });
}

// ---- the audit trail

// A record as the registry writes it, at `ms` milliseconds past a fixed time.
inline hub::AuditRecord auditRecord(std::string spoke, std::string action, std::int64_t ms = 0) {
  hub::AuditRecord record;
  record.at =
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(1795000000000LL)) +
      std::chrono::milliseconds(ms);
  record.hub = "hub-a";
  record.actor = "ops-admin";
  record.request_id = "req-" + action;
  record.action = std::move(action);
  record.spoke = std::move(spoke);
  record.generation = 1;
  record.changes = {hub::AuditChange{"cidrs[0]", boost::json::value("10.1.0.0/16"),
                                     boost::json::value("10.2.0.0/16"), false},
                    hub::AuditChange{"tunnels[0].psk", std::nullopt, std::nullopt, true}};
  return record;
}

template <typename Backend>
constexpr bool trimsAuditCountLazily() {
  if constexpr (requires { Backend::kAuditCountCheck; }) {
    return true;
  } else {
    return false;
  }
}

template <typename Store>
std::vector<hub::AuditRecord> wholeTrail(const Store& store, std::string spoke = {}) {
  auto page = store.readAudit(hub::AuditQuery{100000, "", std::move(spoke)});
  EXPECT_TRUE(page.has_value()) << page.error().message;
  return page ? page->records : std::vector<hub::AuditRecord>{};
}

inline hub::StoreWriteResult writeWithAudit(hub::Store& store, hub::StoreWrite write,
                                            const hub::AuditRecord& record) {
  write.audit = &record;
  return store.apply(std::span(&write, 1)).front();
}

TYPED_TEST_P(StoreConformanceTest, AuditRecordsComeBackNewestFirstAtTheirWritesRevisions) {
  const Spoke spoke = vpcSpoke();
  Spoke changed = vpcSpoke();
  changed.generation = 2;
  const auto created = writeWithAudit(
      this->store(), hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &spoke, spoke.name, 0},
      auditRecord("prod-a", "create", 0));
  const auto replaced = writeWithAudit(
      this->store(), hub::StoreWrite{hub::StoreWrite::Kind::kReplace, &changed, changed.name, 1},
      auditRecord("prod-a", "replace", 5));
  const auto removed = writeWithAudit(
      this->store(), hub::StoreWrite{hub::StoreWrite::Kind::kRemove, nullptr, "prod-a", 2},
      auditRecord("prod-a", "delete", 9));
  ASSERT_TRUE(created && replaced && removed);
  const auto trail = wholeTrail(this->store());
  ASSERT_EQ(trail.size(), 3U);
  EXPECT_EQ(trail[0].action, "delete");
  EXPECT_EQ(trail[0].revision, *removed);
  EXPECT_EQ(trail[1].action, "replace");
  EXPECT_EQ(trail[1].revision, *replaced);
  EXPECT_EQ(trail[2].action, "create");
  EXPECT_EQ(trail[2].revision, *created);
  // Everything the registry wrote comes back as written; the store adds the id and revision.
  hub::AuditRecord expected = auditRecord("prod-a", "replace", 5);
  expected.id = trail[1].id;
  expected.revision = trail[1].revision;
  EXPECT_EQ(trail[1], expected);
  EXPECT_NE(trail[0].id, trail[1].id);
}

TYPED_TEST_P(StoreConformanceTest, ARefusedWriteLeavesNoAuditRecord) {
  this->created(vpcSpoke());
  Spoke again = numberedSpoke(1);
  again.name = "prod-a";
  const auto refused = writeWithAudit(
      this->store(), hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &again, again.name, 0},
      auditRecord("prod-a", "create"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(wholeTrail(this->store()).empty());
}

TYPED_TEST_P(StoreConformanceTest, AuditPagesFollowTheCursorAndFilterBySpoke) {
  std::vector<Spoke> spokes;
  for (std::uint32_t i = 0; i < 5; ++i) spokes.push_back(numberedSpoke(i));
  std::vector<hub::AuditRecord> records;
  std::vector<hub::StoreWrite> writes;
  for (std::uint32_t i = 0; i < 5; ++i) {
    records.push_back(auditRecord(spokes[i].name, "create", i));
  }
  for (std::uint32_t i = 0; i < 5; ++i) {
    writes.push_back(hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &spokes[i], spokes[i].name, 0,
                                     &records[i]});
  }
  for (const auto& result : this->store().apply(writes)) ASSERT_TRUE(result.has_value());
  std::vector<std::string> seen;
  std::string cursor;
  std::vector<std::size_t> sizes;
  for (int page_number = 0; page_number < 5; ++page_number) {
    auto page = this->store().readAudit(hub::AuditQuery{2, cursor, ""});
    ASSERT_TRUE(page.has_value()) << page.error().message;
    sizes.push_back(page->records.size());
    for (const auto& record : page->records) seen.push_back(record.spoke);
    cursor = page->next;
    if (cursor.empty()) break;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(seen, (std::vector<std::string>{"spoke-0004", "spoke-0003", "spoke-0002", "spoke-0001",
                                            "spoke-0000"}));
  const auto one = wholeTrail(this->store(), "spoke-0002");
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].spoke, "spoke-0002");
  EXPECT_TRUE(wholeTrail(this->store(), "nobody").empty());
}

TYPED_TEST_P(StoreConformanceTest, AuditRetentionDropsRecordsOlderThanItsAge) {
  this->store().setAuditRetention(hub::AuditRetention{std::chrono::hours(1), 1000});
  std::vector<Spoke> spokes;
  for (std::uint32_t i = 0; i < 3; ++i) spokes.push_back(numberedSpoke(i));
  constexpr std::int64_t kMinute = 60'000;
  const std::int64_t times[] = {0, 30 * kMinute, 75 * kMinute};  // the first is 75 min old
  for (std::uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(writeWithAudit(
        this->store(),
        hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &spokes[i], spokes[i].name, 0},
        auditRecord(spokes[i].name, "create", times[i])));
  }
  const auto trail = wholeTrail(this->store());
  ASSERT_EQ(trail.size(), 2U);
  EXPECT_EQ(trail[0].spoke, "spoke-0002");
  EXPECT_EQ(trail[1].spoke, "spoke-0001");
}

TYPED_TEST_P(StoreConformanceTest, AuditRetentionKeepsTheNewestRecordsUpToItsCount) {
  this->store().setAuditRetention(hub::AuditRetention{std::chrono::hours(24), 3});
  // A store that checks its count every N records (etcd: a count costs a range) is past its
  // bound by less than N at any time, and back at it at every check.
  std::size_t slack = 0;
  std::uint32_t writes = 6;
  if constexpr (trimsAuditCountLazily<TypeParam>()) {
    slack = TypeParam::kAuditCountCheck - 1;
    writes = static_cast<std::uint32_t>(TypeParam::kAuditCountCheck) + 1;
  }
  std::vector<Spoke> spokes;
  for (std::uint32_t i = 0; i < writes; ++i) spokes.push_back(numberedSpoke(i));
  for (std::uint32_t i = 0; i < writes; ++i) {
    ASSERT_TRUE(writeWithAudit(
        this->store(),
        hub::StoreWrite{hub::StoreWrite::Kind::kCreate, &spokes[i], spokes[i].name, 0},
        auditRecord(spokes[i].name, "create", i)));
  }
  const auto trail = wholeTrail(this->store());
  ASSERT_GE(trail.size(), 3U);
  EXPECT_LE(trail.size(), 3U + slack);
  EXPECT_EQ(trail[0].spoke, spokes[writes - 1].name);
  EXPECT_EQ(trail[2].spoke, spokes[writes - 3].name);
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreConformanceTest, AnEmptyStoreHasRevisionZeroAndNoSpokes,
    LoadReturnsEveryFieldOfACreatedSpokeIncludingThePsk, LoadOrdersSpokesByName,
    EveryWriteAdvancesTheRevisionByOne, CreatingAnExistingNameIsAConflict,
    ReplaceWritesTheRecordAndGenerationAsGiven, ReplaceExpectingAnotherGenerationIsAConflict,
    ReplacingAMissingSpokeIsNotFound, RemoveDeletesTheSpoke,
    RemoveExpectingAnotherGenerationIsAConflict, RemovingAMissingSpokeIsNotFound,
    CreateWithAnInsideNetworkHeldByAnotherSpokeIsAConflict,
    CreateWithAnOutsideAddressHeldByAnotherSpokeIsAConflict,
    ReplaceTakingAnotherSpokesInsideNetworkIsAConflict,
    ReplaceTakingAnotherSpokesOutsideAddressIsAConflict,
    ATunnelNetworkListedTwiceInOneSpokeIsAConflict, ReplaceKeepingItsOwnTunnelsSucceeds,
    ReplaceReleasesTheTunnelsItNoLongerUses, RemoveReleasesItsTunnels,
    CreateWithARouteTagHeldByAnotherSpokeIsAConflict, ReplaceTakingAnotherSpokesRouteTagIsAConflict,
    RemoveAndReplaceReleaseTheRouteTag, SpokesWithoutARouteTagYetDoNotClash,
    TheSameOutsideAddressOnTwoHubsIsFine, AnOutsideAddressTwiceOnOneHubIsAConflict,
    ReplaceMovingATunnelToTheOtherHubReleasesItsAddress,
    AuditRecordsComeBackNewestFirstAtTheirWritesRevisions, ARefusedWriteLeavesNoAuditRecord,
    AuditPagesFollowTheCursorAndFilterBySpoke, AuditRetentionDropsRecordsOlderThanItsAge,
    AuditRetentionKeepsTheNewestRecordsUpToItsCount);

}  // namespace transit::store_test
