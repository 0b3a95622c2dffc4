// EtcdStore (hub/store/etcd/etcd_store.hpp) over a scripted transport: the txns it sends (the
// guards, the claims it takes and drops), how it reads etcd's refusals, damaged records and
// malformed answers, batches that meet an unavailable etcd, and check()'s probe. The same store
// against a real etcd: etcd_store_tool_test.cpp.
#include "hub/store/etcd/etcd_store.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "hub/store/record_codec.hpp"
#include "tests/fakes/fake_etcd_transport.hpp"
#include "tests/hub/store/store_conformance.hpp"

namespace transit {
namespace store_test {
// Only the suite's spokes are used here; the suite itself runs in etcd_store_tool_test.cpp.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformanceTest);
}  // namespace store_test

namespace {

namespace json = boost::json;
using fakes::EtcdScript;
using fakes::FakeEtcdTransport;
using hub::EtcdError;
using hub::EtcdErrorKind;
using hub::StoreErrorCode;
using hub::StoreWrite;
using namespace store_test;
using ::testing::HasSubstr;
using ::testing::Not;

std::string b64(std::string_view bytes) { return hub::etcd::encodeBase64(bytes); }
std::string unb64(const json::value& text) {
  return hub::etcd::decodeBase64(text.as_string()).value_or("(not base64)");
}
std::string record(const Spoke& spoke) { return json::serialize(hub::encodeSpokeRecord(spoke)); }

std::string kv(std::string_view key, std::string_view value, int mod_revision) {
  return fmt::format(
      R"({{"key":"{}","create_revision":"2","mod_revision":"{}","version":"1","value":"{}"}})",
      b64(key), mod_revision, b64(value));
}

std::string rangeAnswer(int revision, const std::vector<std::string>& kvs) {
  std::string items;
  for (const auto& item : kvs) items += (items.empty() ? "" : ",") + item;
  return fmt::format(R"({{"header":{{"revision":"{}"}},"kvs":[{}],"count":"{}"}})", revision, items,
                     kvs.size());
}

// A failed txn whose failure branch found `found[i]` (a kv, or "" for a miss) for range i.
std::string refusedTxn(int revision, const std::vector<std::string>& found) {
  std::string responses;
  for (const auto& item : found) {
    responses += responses.empty() ? "" : ",";
    responses += item.empty() ? R"({"response_range":{"header":{}}})"
                              : fmt::format(R"({{"response_range":{{"kvs":[{}]}}}})", item);
  }
  return fmt::format(R"({{"header":{{"revision":"{}"}},"responses":[{}]}})", revision, responses);
}

constexpr std::string_view kSpokeKey = "/transit-hub/spokes/prod-a";
constexpr std::string_view kInsideKey = "/transit-hub/claims/inside/169.254.20.0/30";
constexpr std::string_view kOutsideKey = "/transit-hub/claims/outside/hub-a/198.51.100.10";
constexpr std::string_view kTagKey = "/transit-hub/claims/tag/1";
constexpr std::string_view kStatusOk =
    R"({"header":{"revision":"3","member_id":"7"},"version":"3.4.23","leader":"7"})";

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::EtcdStoreOptions options;
    options.now = [this] { return now_; };
    store_ = hub::EtcdStore::withTransports(std::make_unique<FakeEtcdTransport>(etcd_),
                                            std::make_unique<FakeEtcdTransport>(probe_), options,
                                            "etcd:fake/transit-hub/");
  }
  void TearDown() override {
    EXPECT_EQ(etcd_->unanswered(), 0U);
    EXPECT_EQ(probe_->unanswered(), 0U);
  }

  std::shared_ptr<EtcdScript> etcd_ = std::make_shared<EtcdScript>();
  std::shared_ptr<EtcdScript> probe_ = std::make_shared<EtcdScript>();
  std::chrono::steady_clock::time_point now_{};
  std::unique_ptr<hub::EtcdStore> store_;
};

struct Compared {
  std::string target;
  std::string key;
  std::string number;
};

std::vector<Compared> compares(const json::value& txn) {
  std::vector<Compared> out;
  for (const auto& c : txn.at("compare").as_array()) {
    const auto& o = c.as_object();
    const auto& target = o.at("target").as_string();
    const char* field = target == "MOD" ? "mod_revision" : "create_revision";
    EXPECT_EQ(o.at("result").as_string(), "EQUAL");
    out.push_back({std::string(target), unb64(o.at("key")), std::string(o.at(field).as_string())});
  }
  return out;
}

// "put KEY=VALUE", "delete KEY", "range KEY", one per op of `branch`.
std::vector<std::string> ops(const json::value& txn, std::string_view branch) {
  std::vector<std::string> out;
  for (const auto& op : txn.at(branch).as_array()) {
    const auto& o = op.as_object();
    if (const auto* put = o.if_contains("request_put")) {
      out.push_back(fmt::format("put {}={}", unb64(put->at("key")), unb64(put->at("value"))));
    } else if (const auto* del = o.if_contains("request_delete_range")) {
      out.push_back("delete " + unb64(del->at("key")));
    } else {
      out.push_back("range " + unb64(o.at("request_range").at("key")));
    }
  }
  return out;
}

TEST_F(EtcdStoreTest, CreateIsOneTxnGuardingTheSpokeAndEveryClaim) {
  etcd_->answer(R"({"header":{"revision":"12"},"succeeded":true,"responses":[]})");
  EXPECT_EQ(store_->create(vpcSpoke()), 12U);
  const auto calls = etcd_->calls();
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].path, "/v3/kv/txn");
  std::vector<std::string> guarded;
  for (const auto& c : compares(calls[0].body)) {
    EXPECT_EQ(c.target, "CREATE");
    EXPECT_EQ(c.number, "0");
    guarded.push_back(c.key);
  }
  EXPECT_EQ(guarded, (std::vector<std::string>{std::string(kSpokeKey), std::string(kInsideKey),
                                               std::string(kOutsideKey), std::string(kTagKey)}));
  EXPECT_EQ(ops(calls[0].body, "success"),
            (std::vector<std::string>{fmt::format("put {}={}", kSpokeKey, record(vpcSpoke())),
                                      fmt::format("put {}=prod-a", kInsideKey),
                                      fmt::format("put {}=prod-a", kOutsideKey),
                                      fmt::format("put {}=prod-a", kTagKey)}));
  EXPECT_EQ(ops(calls[0].body, "failure"),
            (std::vector<std::string>{
                fmt::format("range {}", kSpokeKey), fmt::format("range {}", kInsideKey),
                fmt::format("range {}", kOutsideKey), fmt::format("range {}", kTagKey)}));
}

TEST_F(EtcdStoreTest, ARefusedCreateNamesWhatHeldFromItsFailureBranch) {
  etcd_->answer(refusedTxn(12, {"", "", kv(kOutsideKey, "other", 5), ""}));
  auto refused = store_->create(vpcSpoke());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(refused.error().message,
            "tunnel outside address 198.51.100.10 (on hub hub-a) is already used by spoke 'other'");
  etcd_->answer(refusedTxn(12, {kv(kSpokeKey, record(vpcSpoke()), 3), "", "", ""}));
  refused = store_->create(vpcSpoke());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message, "spoke 'prod-a' already exists");
}

TEST_F(EtcdStoreTest, AClaimListedTwiceIsRefusedWithoutAsking) {
  Spoke spoke = numberedSpoke(1);
  spoke.tunnels[1].outside_ip = spoke.tunnels[0].outside_ip;
  const auto refused = store_->create(spoke);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(
      refused.error().message,
      fmt::format("tunnel outside address {} (on hub hub-a) is listed twice in spoke 'spoke-0001'",
                  spoke.tunnels[0].outside_ip.toString()));
  EXPECT_TRUE(etcd_->calls().empty());
}

TEST_F(EtcdStoreTest, ReplaceGuardsOnWhatItReadAndMovesItsClaims) {
  Spoke moved = vpcSpoke();
  moved.tunnels[0] = {store_test::address("198.51.100.11"), prefix("169.254.21.0/30"),
                      "MovedSekr3t_1", "hub-a"};
  moved.generation = 2;
  etcd_->answer(rangeAnswer(8, {kv(kSpokeKey, record(vpcSpoke()), 7)}));
  etcd_->answer(R"({"header":{"revision":"9"},"succeeded":true})");
  EXPECT_EQ(store_->replace(moved, 1), 9U);
  const auto calls = etcd_->calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].path, "/v3/kv/range");
  EXPECT_EQ(unb64(calls[0].body.at("key")), kSpokeKey);
  const auto guards = compares(calls[1].body);
  ASSERT_EQ(guards.size(), 3U);
  EXPECT_EQ(guards[0].target, "MOD");
  EXPECT_EQ(guards[0].key, kSpokeKey);
  EXPECT_EQ(guards[0].number, "7");
  EXPECT_EQ(guards[1].key, "/transit-hub/claims/inside/169.254.21.0/30");
  EXPECT_EQ(guards[2].key, "/transit-hub/claims/outside/hub-a/198.51.100.11");
  // The route tag it keeps is neither guarded nor written again.
  EXPECT_EQ(ops(calls[1].body, "success"),
            (std::vector<std::string>{fmt::format("put {}={}", kSpokeKey, record(moved)),
                                      "put /transit-hub/claims/inside/169.254.21.0/30=prod-a",
                                      "put /transit-hub/claims/outside/hub-a/198.51.100.11=prod-a",
                                      fmt::format("delete {}", kInsideKey),
                                      fmt::format("delete {}", kOutsideKey)}));
}

TEST_F(EtcdStoreTest, AReplaceThatLostTheRaceSaysWhy) {
  Spoke newer = vpcSpoke();
  newer.generation = 2;
  Spoke changed = vpcSpoke();
  changed.generation = 2;
  changed.segment = "mine";
  // Changed in between: generation 2 is there now.
  etcd_->answer(rangeAnswer(8, {kv(kSpokeKey, record(vpcSpoke()), 7)}));
  etcd_->answer(refusedTxn(9, {kv(kSpokeKey, record(newer), 9)}));
  auto refused = store_->replace(changed, 1);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(refused.error().message, "spoke 'prod-a' has generation 2, not 1");
  // Removed in between.
  etcd_->answer(rangeAnswer(8, {kv(kSpokeKey, record(vpcSpoke()), 7)}));
  etcd_->answer(refusedTxn(9, {""}));
  refused = store_->replace(changed, 1);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kNotFound);
  // Read already at another generation: no txn at all.
  etcd_->answer(rangeAnswer(8, {kv(kSpokeKey, record(newer), 7)}));
  refused = store_->remove("prod-a", 1);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message, "spoke 'prod-a' has generation 2, not 1");
  EXPECT_EQ(etcd_->calls().size(), 5U);
}

TEST_F(EtcdStoreTest, RemoveDropsTheSpokeAndEveryClaimUnderOneGuard) {
  etcd_->answer(rangeAnswer(8, {kv(kSpokeKey, record(vpcSpoke()), 7)}));
  etcd_->answer(R"({"header":{"revision":"10"},"succeeded":true})");
  EXPECT_EQ(store_->remove("prod-a", 1), 10U);
  const auto txn = etcd_->calls().at(1).body;
  ASSERT_EQ(compares(txn).size(), 1U);
  EXPECT_EQ(compares(txn)[0].number, "7");
  EXPECT_EQ(ops(txn, "success"),
            (std::vector<std::string>{
                fmt::format("delete {}", kSpokeKey), fmt::format("delete {}", kInsideKey),
                fmt::format("delete {}", kOutsideKey), fmt::format("delete {}", kTagKey)}));
}

TEST_F(EtcdStoreTest, LoadReadsOneRangeInNameOrderAtEtcdsRevision) {
  etcd_->answer(rangeAnswer(41, {kv("/transit-hub/spokes/prod-a", record(vpcSpoke()), 3),
                                 kv("/transit-hub/spokes/branch-7", record(siteSpoke()), 4)}));
  const auto loaded = store_->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->revision, 41U);
  EXPECT_EQ(loaded->spokes, (std::vector<Spoke>{siteSpoke(), vpcSpoke()}));
  const auto call = etcd_->calls().at(0);
  EXPECT_EQ(unb64(call.body.at("key")), "/transit-hub/spokes/");
  EXPECT_EQ(unb64(call.body.at("range_end")), "/transit-hub/spokes0");
}

TEST_F(EtcdStoreTest, ADamagedRecordIsCorruptAndNamesItsSpoke) {
  std::string bad_cidr = record(vpcSpoke());
  bad_cidr.replace(bad_cidr.find("10.1.0.0/16"), 11, "10.1.0.0/99");
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"name":"prod-a","psk":"VpcSekr3tKey_1")", "is not valid JSON"},
      {bad_cidr, "cannot be decoded: cidrs"},
      {record(siteSpoke()), "carries another name"}};
  for (const auto& [value, problem] : cases) {
    etcd_->answer(rangeAnswer(5, {kv(kSpokeKey, value, 3)}));
    const auto loaded = store_->load();
    ASSERT_FALSE(loaded.has_value());
    EXPECT_EQ(loaded.error().code, StoreErrorCode::kCorrupt);
    EXPECT_THAT(loaded.error().message, HasSubstr("the stored record of spoke 'prod-a'"));
    EXPECT_THAT(loaded.error().message, HasSubstr(problem));
    EXPECT_THAT(loaded.error().message, Not(HasSubstr(kSecretMarker)));
  }
}

TEST_F(EtcdStoreTest, AMalformedAnswerIsAnErrorNotACrash) {
  etcd_->answer("[]");
  auto loaded = store_->load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(loaded.error().message, HasSubstr("malformed range answer"));
  etcd_->answer(rangeAnswer(5, {kv("/elsewhere/x", "{}", 3)}));
  loaded = store_->load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_THAT(loaded.error().message, HasSubstr("outside the range"));
  etcd_->answer(refusedTxn(12, {""}));  // four ranges asked, one answered
  const auto created = store_->create(vpcSpoke());
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(created.error().message, HasSubstr("answered 1 ranges of 4"));
  etcd_->answer(refusedTxn(12, {"", "", "", ""}));
  EXPECT_THAT(store_->create(vpcSpoke()).error().message, HasSubstr("shows nothing in the way"));
}

TEST_F(EtcdStoreTest, ABatchStopsAtAnUnavailableEtcd) {
  etcd_->fail(EtcdError{EtcdErrorKind::kUnavailable,
                        "etcd http://10.0.1.5:2379: cannot connect: Connection refused"});
  const Spoke a = numberedSpoke(1);
  const Spoke b = numberedSpoke(2);
  const std::vector<StoreWrite> writes{{StoreWrite::Kind::kCreate, &a, a.name, 0},
                                       {StoreWrite::Kind::kCreate, &b, b.name, 0}};
  const auto results = store_->apply(writes);
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0].error().message,
            "etcd store: create of spoke 'spoke-0001' failed: etcd http://10.0.1.5:2379: cannot "
            "connect: Connection refused");
  EXPECT_EQ(results[1].error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(results[1].error().message, HasSubstr("create of spoke 'spoke-0002' not attempted"));
  EXPECT_EQ(etcd_->calls().size(), 1U);
}

// What the client reports when etcd's leader died with the write's proposal: the member waited
// for its request timeout, and the write may yet commit or never.
EtcdError lostAnswer() {
  EtcdError lost{EtcdErrorKind::kUnavailable,
                 "etcd http://10.0.1.5:2379 could not serve /v3/kv/txn: etcdserver: request timed "
                 "out, possibly due to previous leader failure (HTTP 503)"};
  lost.outcome_unknown = true;
  return lost;
}

// A write whose answer was lost is settled by reading the spoke's key (linearizable: the new
// leader has committed the lost proposal by then, or it never will).
TEST_F(EtcdStoreTest, AWriteWhoseAnswerWasLostButThatLandedSucceeds) {
  etcd_->fail(lostAnswer());
  etcd_->answer(rangeAnswer(14, {kv(kSpokeKey, record(vpcSpoke()), 13)}));
  EXPECT_EQ(store_->create(vpcSpoke()), 13U);  // the revision it landed at
  const auto calls = etcd_->calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[1].path, "/v3/kv/range");
  EXPECT_EQ(unb64(calls[1].body.at("key")), kSpokeKey);
  EXPECT_FALSE(calls[1].body.as_object().contains("serializable"));
}

TEST_F(EtcdStoreTest, AWriteWhoseAnswerWasLostAndThatDidNotLandIsSentAgain) {
  etcd_->fail(lostAnswer());
  etcd_->answer(rangeAnswer(12, {}));
  etcd_->answer(R"({"header":{"revision":"13"},"succeeded":true,"responses":[]})");
  EXPECT_EQ(store_->create(vpcSpoke()), 13U);
  const auto calls = etcd_->calls();
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_EQ(calls[2].path, "/v3/kv/txn");
  EXPECT_EQ(calls[2].body, calls[0].body);  // the same guarded txn: it cannot apply twice

  // A replace whose key still holds the version it replaces was not applied either.
  Spoke changed = vpcSpoke();
  changed.generation = 2;
  changed.segment = "prod";
  etcd_->answer(rangeAnswer(13, {kv(kSpokeKey, record(vpcSpoke()), 13)}));
  etcd_->fail(lostAnswer());
  etcd_->answer(rangeAnswer(13, {kv(kSpokeKey, record(vpcSpoke()), 13)}));
  etcd_->answer(R"({"header":{"revision":"14"},"succeeded":true,"responses":[]})");
  EXPECT_EQ(store_->replace(changed, 1), 14U);
}

TEST_F(EtcdStoreTest, ASecondSendThatFindsTheFirstLandedSucceeds) {
  // The read came before the first send committed (slow, not lost): the second send's guard
  // fails on the key as the first one left it.
  etcd_->fail(lostAnswer());
  etcd_->answer(rangeAnswer(12, {}));
  etcd_->answer(refusedTxn(13, {kv(kSpokeKey, record(vpcSpoke()), 13), "", "", ""}));
  EXPECT_EQ(store_->create(vpcSpoke()), 13U);
  // ... and another writer's spoke of that name is still a conflict.
  Spoke other = vpcSpoke();
  other.export_limit = 70;
  etcd_->fail(lostAnswer());
  etcd_->answer(rangeAnswer(14, {}));
  etcd_->answer(refusedTxn(15, {kv(kSpokeKey, record(other), 15), "", "", ""}));
  const auto refused = store_->create(vpcSpoke());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict);
}

TEST_F(EtcdStoreTest, ARemovalWhoseAnswerWasLostLandedWhenTheKeyIsGone) {
  etcd_->answer(rangeAnswer(8, {kv(kSpokeKey, record(vpcSpoke()), 7)}));
  etcd_->fail(lostAnswer());
  etcd_->answer(rangeAnswer(10, {}));
  EXPECT_EQ(store_->remove("prod-a", 1), 10U);
  EXPECT_EQ(etcd_->calls().size(), 3U);
}

TEST_F(EtcdStoreTest, AWriteWhoseAnswerWasLostStaysUnknownWhenEtcdCannotBeRead) {
  etcd_->fail(lostAnswer());
  etcd_->fail(EtcdError{EtcdErrorKind::kUnavailable,
                        "no etcd endpoint could serve /v3/kv/range: etcdserver: no leader"});
  const auto created = store_->create(vpcSpoke());
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(created.error().message, HasSubstr("request timed out"));
  EXPECT_THAT(created.error().message, HasSubstr("etcd may still apply it"));
  EXPECT_EQ(etcd_->calls().size(), 2U);  // never sent again without knowing
}

TEST_F(EtcdStoreTest, CheckAnswersFromTheLastCallAndProbesAfterAQuietSpell) {
  probe_->answer(kStatusOk);
  EXPECT_TRUE(store_->check().has_value());  // nothing heard yet: one probe
  EXPECT_TRUE(store_->check().has_value());
  EXPECT_EQ(probe_->calls().size(), 1U);
  EXPECT_EQ(probe_->calls()[0].path, "/v3/maintenance/status");

  etcd_->fail(EtcdError{EtcdErrorKind::kUnavailable, "etcd http://10.0.1.5:2379: down"});
  ASSERT_FALSE(store_->load().has_value());
  EXPECT_THAT(store_->check().error().message, HasSubstr("etcd http://10.0.1.5:2379: down"));
  EXPECT_EQ(probe_->calls().size(), 1U);

  now_ += std::chrono::seconds(4);
  probe_->answer(kStatusOk);
  EXPECT_TRUE(store_->check().has_value()) << "a probe that works clears an outage";

  etcd_->fail(EtcdError{EtcdErrorKind::kInvalid, "etcd refused: permission denied"});
  ASSERT_FALSE(store_->load().has_value());
  now_ += std::chrono::seconds(4);
  probe_->answer(kStatusOk);
  EXPECT_FALSE(store_->check().has_value()) << "a refusal stays until a call works";

  now_ += std::chrono::seconds(4);
  probe_->answer(R"({"header":{"revision":"3"},"errors":["etcdserver: no leader"]})");
  EXPECT_THAT(store_->check().error().message, HasSubstr("etcdserver: no leader"));
  EXPECT_EQ(store_->describe(), "etcd:fake/transit-hub/");
}

}  // namespace
}  // namespace transit
