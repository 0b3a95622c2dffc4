// Tool test (label `tool`): EtcdStore against a real etcd 3.4 (TRANSIT_ETCD_BINARY, Debian's
// etcd-server; the distro service is not used). The Store conformance suite, two hubs sharing
// one etcd (racing for one inside /30, for one spoke, reading each other's records), endpoint
// failover, etcd killed and restarted under a live store, user authentication and TLS with a
// client certificate. Each test process starts the etcds it needs (tests/hub/store/etcd/
// real_etcd.hpp): one shared per process for the tests that only need a fresh key prefix, a
// private one for those that kill it or turn on auth or TLS.
#include "hub/store/etcd/etcd_store.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/store/etcd/real_etcd.hpp"
#include "tests/hub/store/store_conformance.hpp"

namespace transit {
namespace {

using etcd_test::freePort;
using etcd_test::RealEtcd;
using fakes::TempDir;
using hub::EtcdStore;
using hub::EtcdStoreOptions;
using hub::StoreErrorCode;
using namespace store_test;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

namespace json = boost::json;

bool installed(const char* binary) { return ::access(binary, X_OK) == 0; }

// Records a skip when etcd is not installed (ctest reports it as skipped, never passed); true if
// it is.
bool etcdInstalled() {
  if (installed(TRANSIT_ETCD_BINARY)) return true;
  [] { GTEST_SKIP() << TRANSIT_ETCD_BINARY << " is missing (Debian package etcd-server)"; }();
  return false;
}

class EtcdToolTest : public ::testing::Test {
 protected:
  void SetUp() override { etcdInstalled(); }
};

// One etcd for every test of this process that needs only a fresh prefix: started by the first
// that asks, killed when the tests end.
class SharedEtcd : public ::testing::Environment {
 public:
  void TearDown() override {
    etcd_.reset();
    dir_.reset();
  }

  static RealEtcd& get() {
    if (!instance->etcd_) {
      instance->dir_ = std::make_unique<TempDir>();
      instance->etcd_ = std::make_unique<RealEtcd>(instance->dir_->path());
    }
    return *instance->etcd_;
  }

  // A prefix no earlier test of this process used.
  static std::string freshPrefix() { return fmt::format("/test-{}/", ++instance->prefixes_); }

  static SharedEtcd* instance;

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<RealEtcd> etcd_;
  int prefixes_ = 0;
};

SharedEtcd* SharedEtcd::instance = dynamic_cast<SharedEtcd*>(
    ::testing::AddGlobalTestEnvironment(new SharedEtcd));  // gtest owns it

EtcdStoreOptions optionsFor(const RealEtcd& etcd, std::string prefix) {
  EtcdStoreOptions options;
  options.endpoints = {etcd.endpoint()};
  options.prefix = std::move(prefix);
  options.timeout = std::chrono::milliseconds(3000);
  options.connect_timeout = std::chrono::milliseconds(500);
  return options;
}

std::unique_ptr<EtcdStore> openStore(const EtcdStoreOptions& options) {
  auto store = EtcdStore::open(options);
  EXPECT_TRUE(store.has_value()) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

// ---------------------------------------------------------------------------------------------
// Conformance: the rules SqliteStore keeps, each test on a fresh prefix of the shared etcd.

class EtcdBackend {
 public:
  static constexpr const char* kName = "Etcd";
  static constexpr bool kSharedRevision = true;  // etcd's revision: an empty etcd is at 1
  static constexpr std::uint64_t kAuditCountCheck = EtcdStore::kAuditCountCheck;
  std::expected<std::unique_ptr<hub::Store>, hub::StoreError> open() {
    if (!etcdInstalled()) {
      return std::unexpected(hub::StoreError{StoreErrorCode::kUnavailable, "no etcd"});
    }
    auto store = EtcdStore::open(optionsFor(SharedEtcd::get(), SharedEtcd::freshPrefix()));
    if (!store) return std::unexpected(store.error());
    return std::unique_ptr<hub::Store>(std::move(*store));
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Etcd, StoreConformanceTest, EtcdBackend, BackendName);

// ---------------------------------------------------------------------------------------------
// Two hubs, one etcd.

class TwoHubs : public EtcdToolTest {
 protected:
  void SetUp() override {
    EtcdToolTest::SetUp();
    if (IsSkipped()) return;
    const auto options = optionsFor(SharedEtcd::get(), SharedEtcd::freshPrefix());
    hub_a_ = openStore(options);
    hub_b_ = openStore(options);
    ASSERT_TRUE(hub_a_ && hub_b_);
  }

  // Runs `a` and `b` on two threads released together; their results.
  template <typename A, typename B>
  static auto race(A a, B b) {
    std::latch start(2);
    decltype(a()) result_a;
    decltype(b()) result_b;
    std::thread ta([&] {
      start.arrive_and_wait();
      result_a = a();
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      result_b = b();
    });
    ta.join();
    tb.join();
    return std::pair(std::move(result_a), std::move(result_b));
  }

  void expectBothLoad(const std::vector<Spoke>& spokes) {
    auto a = hub_a_->load();
    auto b = hub_b_->load();
    ASSERT_TRUE(a.has_value()) << a.error().message;
    ASSERT_TRUE(b.has_value()) << b.error().message;
    EXPECT_EQ(a->spokes, spokes);
    EXPECT_EQ(b->spokes, spokes);
    EXPECT_EQ(a->revision, b->revision);
  }

  std::unique_ptr<EtcdStore> hub_a_;
  std::unique_ptr<EtcdStore> hub_b_;
};

TEST_F(TwoHubs, RacingForOneInsideNetworkExactlyOneWins) {
  std::vector<Spoke> winners;
  for (std::uint32_t round = 0; round < 10; ++round) {
    SCOPED_TRACE(round);
    Spoke a = numberedSpoke(2 * round);
    Spoke b = numberedSpoke(2 * round + 1);
    b.tunnels[0].inside_cidr = a.tunnels[0].inside_cidr;
    auto [result_a, result_b] =
        race([&] { return hub_a_->create(a); }, [&] { return hub_b_->create(b); });
    ASSERT_NE(result_a.has_value(), result_b.has_value()) << "exactly one create must win";
    const Spoke& winner = result_a ? a : b;
    const auto& refused = result_a ? result_b : result_a;
    EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict) << refused.error().message;
    EXPECT_EQ(refused.error().message,
              fmt::format("tunnel inside network {} is already used by spoke '{}'",
                          a.tunnels[0].inside_cidr.toString(), winner.name));
    winners.push_back(winner);
  }
  std::ranges::sort(winners, {}, &Spoke::name);
  expectBothLoad(winners);
}

TEST_F(TwoHubs, ReplacingOneSpokeFromTheSameGenerationExactlyOneWins) {
  const Spoke original = siteSpoke();
  ASSERT_TRUE(hub_a_->create(original).has_value());
  Spoke from_a = original;
  from_a.generation = 8;
  from_a.segment = "from-a";
  Spoke from_b = original;
  from_b.generation = 8;
  from_b.segment = "from-b";
  auto [result_a, result_b] =
      race([&] { return hub_a_->replace(from_a, 7); }, [&] { return hub_b_->replace(from_b, 7); });
  ASSERT_NE(result_a.has_value(), result_b.has_value()) << "exactly one replace must win";
  const auto& refused = result_a ? result_b : result_a;
  EXPECT_EQ(refused.error().code, StoreErrorCode::kConflict) << refused.error().message;
  EXPECT_THAT(refused.error().message, HasSubstr("spoke 'branch-7'"));
  EXPECT_THAT(refused.error().message, Not(HasSubstr(kSecretMarker)));
  expectBothLoad({result_a ? from_a : from_b});
}

TEST_F(TwoHubs, EachLoadsWhatTheOtherWrote) {
  const Spoke spoke = siteSpoke();
  const auto created = hub_a_->create(spoke);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  expectBothLoad({spoke});
  Spoke changed = spoke;
  changed.generation = 8;
  changed.tunnels[0].psk = "ChangedSekr3t_9";
  const auto replaced = hub_b_->replace(changed, 7);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().message;
  EXPECT_EQ(*replaced, *created + 1);
  expectBothLoad({changed});
  // hub A still thinks generation 7: refused, and nothing changes.
  EXPECT_EQ(hub_a_->remove(spoke.name, 7).error().code, StoreErrorCode::kConflict);
  ASSERT_TRUE(hub_a_->remove(spoke.name, 8).has_value());
  expectBothLoad({});
}

// ---------------------------------------------------------------------------------------------
// Endpoints, failures, auth, TLS.

class EtcdStoreEndpoints : public EtcdToolTest {};

TEST_F(EtcdStoreEndpoints, FailsOverFromAClosedEndpointToALiveOne) {
  RealEtcd& etcd = SharedEtcd::get();
  auto options = optionsFor(etcd, SharedEtcd::freshPrefix());
  const std::string closed = fmt::format("http://127.0.0.1:{}", freePort());
  options.endpoints = {closed, etcd.endpoint()};
  auto store = openStore(options);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->describe(),
            fmt::format("etcd:{},{}{}", closed, etcd.endpoint(), options.prefix));
  const auto created = store->create(vpcSpoke());
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const auto loaded = store->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->spokes, std::vector<Spoke>{vpcSpoke()});
  EXPECT_TRUE(store->check().has_value());
}

TEST_F(EtcdStoreEndpoints, UnavailableWhileEtcdIsDownThenWorksAgainAfterARestart) {
  TempDir dir;
  RealEtcd etcd(dir.path());
  auto store = openStore(optionsFor(etcd, "/transit-hub/"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(vpcSpoke()).has_value());

  etcd.kill();
  const auto refused = store->create(siteSpoke());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr(etcd.endpoint()));
  EXPECT_THAT(refused.error().message, Not(HasSubstr(kSecretMarker)));
  const auto unloaded = store->load();
  ASSERT_FALSE(unloaded.has_value());
  EXPECT_EQ(unloaded.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(unloaded.error().message, HasSubstr(etcd.endpoint()));
  const auto checked = store->check();
  ASSERT_FALSE(checked.has_value());
  EXPECT_THAT(checked.error().message, HasSubstr(etcd.endpoint()));

  etcd.start();  // the same data directory: the first spoke is still there
  const auto created = store->create(siteSpoke());
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const auto loaded = store->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->spokes, (std::vector<Spoke>{siteSpoke(), vpcSpoke()}));
  EXPECT_TRUE(store->check().has_value());
}

TEST_F(EtcdStoreEndpoints, CheckProbesOnlyAfterAQuietSpell) {
  TempDir dir;
  RealEtcd etcd(dir.path());
  auto now = std::make_shared<std::chrono::steady_clock::time_point>();
  auto options = optionsFor(etcd, "/transit-hub/");
  options.now = [now] { return *now; };
  auto store = openStore(options);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->check().has_value());  // nothing heard yet: a probe, which works
  etcd.kill();
  EXPECT_TRUE(store->check().has_value()) << "within the quiet spell: the last outcome";
  *now += std::chrono::seconds(4);
  const auto probed = store->check();
  ASSERT_FALSE(probed.has_value());
  EXPECT_EQ(probed.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(probed.error().message, HasSubstr(etcd.endpoint()));
  etcd.start();
  EXPECT_FALSE(store->check().has_value()) << "the failed probe counts as heard";
  *now += std::chrono::seconds(4);
  EXPECT_TRUE(store->check().has_value());
}

class EtcdStoreAuth : public EtcdToolTest {
 protected:
  void SetUp() override {
    EtcdToolTest::SetUp();
    if (IsSkipped()) return;
    etcd_ = std::make_unique<RealEtcd>(dir_.path());
    // root (needed to enable auth), and a role that may read and write /transit-hub/ only.
    const std::string prefix = "/transit-hub/";
    const json::object permission{
        {"permType", "READWRITE"},
        {"key", hub::etcd::encodeBase64(prefix)},
        {"range_end", hub::etcd::encodeBase64(hub::etcd::prefixEnd(prefix))}};
    for (const auto& [path, body] : std::vector<std::pair<std::string, json::object>>{
             {"/v3/auth/user/add", {{"name", "root"}, {"password", kRootPassword}}},
             {"/v3/auth/user/grant", {{"user", "root"}, {"role", "root"}}},
             {"/v3/auth/role/add", {{"name", "hub"}}},
             {"/v3/auth/role/grant", {{"name", "hub"}, {"perm", permission}}},
             {"/v3/auth/user/add", {{"name", "hub-a"}, {"password", kHubPassword}}},
             {"/v3/auth/user/grant", {{"user", "hub-a"}, {"role", "hub"}}},
             {"/v3/auth/enable", {}}}) {
      ASSERT_TRUE(etcd_->admin(path, body).has_value()) << path;
    }
  }

  EtcdStoreOptions options(std::string user, std::string password,
                           std::string prefix = "/transit-hub/") const {
    auto out = optionsFor(*etcd_, std::move(prefix));
    out.user = std::move(user);
    out.password = std::move(password);
    return out;
  }

  static constexpr const char* kRootPassword = "R00tPassw0rd";
  static constexpr const char* kHubPassword = "HubPassw0rd-Sekr3t";
  TempDir dir_;
  std::unique_ptr<RealEtcd> etcd_;
};

TEST_F(EtcdStoreAuth, AHubUserWritesAndReadsItsPrefix) {
  auto store = openStore(options("hub-a", kHubPassword));
  ASSERT_TRUE(store);
  const auto created = store->create(vpcSpoke());
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const auto loaded = store->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->spokes, std::vector<Spoke>{vpcSpoke()});
  EXPECT_TRUE(store->check().has_value());
  EXPECT_THAT(store->describe(), Not(HasSubstr("hub-a")));
  EXPECT_THAT(store->describe(), Not(HasSubstr(kHubPassword)));
}

TEST_F(EtcdStoreAuth, AWrongPasswordIsAClearErrorWithoutThePassword) {
  auto store = openStore(options("hub-a", "WrongPassw0rd-x"));
  ASSERT_TRUE(store);
  const auto loaded = store->load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, StoreErrorCode::kUnavailable);
  EXPECT_THAT(loaded.error().message, HasSubstr("authentication as user 'hub-a' failed"));
  EXPECT_THAT(loaded.error().message, HasSubstr("invalid user ID or password"));
  EXPECT_THAT(loaded.error().message, HasSubstr(etcd_->endpoint()));
  EXPECT_THAT(loaded.error().message, Not(HasSubstr("WrongPassw0rd")));
  const auto checked = store->check();
  ASSERT_FALSE(checked.has_value()) << "the refusal stays until a call succeeds";
  EXPECT_THAT(checked.error().message, HasSubstr("authentication"));
}

TEST_F(EtcdStoreAuth, NoUserOrAPrefixOutsideItsRoleIsRefused) {
  auto anonymous = openStore(options("", ""));
  ASSERT_TRUE(anonymous);
  const auto refused = anonymous->create(vpcSpoke());
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("user name is empty"));
  EXPECT_THAT(refused.error().message, HasSubstr("set a user and password"));
  auto elsewhere = openStore(options("hub-a", kHubPassword, "/elsewhere/"));
  ASSERT_TRUE(elsewhere);
  const auto denied = elsewhere->create(vpcSpoke());
  ASSERT_FALSE(denied.has_value());
  EXPECT_THAT(denied.error().message, HasSubstr("permission denied"));
  EXPECT_THAT(denied.error().message, Not(HasSubstr(kSecretMarker)));
}

TEST_F(EtcdStoreAuth, ATokenEtcdForgotIsRenewed) {
  auto store = openStore(options("hub-a", kHubPassword));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(vpcSpoke()).has_value());
  // Turning auth off and on again drops every token etcd issued: the next call gets 401.
  ASSERT_TRUE(etcd_->admin("/v3/auth/disable", json::object{}, "root", kRootPassword));
  ASSERT_TRUE(etcd_->admin("/v3/auth/enable", json::object{}));
  const auto created = store->create(siteSpoke());
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const auto loaded = store->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->spokes.size(), 2U);
}

class EtcdStoreTls : public EtcdToolTest {
 protected:
  void SetUp() override {
    EtcdToolTest::SetUp();
    if (IsSkipped()) return;
    if (!installed("/usr/bin/openssl")) GTEST_SKIP() << "/usr/bin/openssl is missing";
    files_ = etcd_test::makeCertificates(dir_.path());
    ASSERT_TRUE(files_.has_value());
    etcd_ = std::make_unique<RealEtcd>(dir_.path(), files_);
  }

  EtcdStoreOptions options() const {
    auto out = optionsFor(*etcd_, "/transit-hub/");
    out.tls = {files_->ca.string(), files_->client_cert.string(), files_->client_key.string()};
    return out;
  }

  std::string loadError(const EtcdStoreOptions& options) {
    auto store = openStore(options);
    if (!store) return "cannot open";
    auto loaded = store->load();
    if (loaded) return "loaded";
    EXPECT_EQ(loaded.error().code, StoreErrorCode::kUnavailable);
    return loaded.error().message;
  }

  TempDir dir_;
  std::optional<etcd_test::TlsFiles> files_;
  std::unique_ptr<RealEtcd> etcd_;
};

TEST_F(EtcdStoreTls, WorksWithAClientCertificate) {
  auto store = openStore(options());
  ASSERT_TRUE(store);
  EXPECT_THAT(store->describe(), HasSubstr("https://127.0.0.1:"));
  const auto created = store->create(vpcSpoke());
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const auto loaded = store->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->spokes, std::vector<Spoke>{vpcSpoke()});
  EXPECT_TRUE(store->check().has_value());
}

TEST_F(EtcdStoreTls, FailsClearlyWithoutTheClientCertificate) {
  auto no_certificate = options();
  no_certificate.tls.cert_file.clear();
  no_certificate.tls.key_file.clear();
  const std::string message = loadError(no_certificate);
  EXPECT_THAT(message, HasSubstr(etcd_->endpoint()));
  EXPECT_THAT(message, HasSubstr("client certificate"));
}

TEST_F(EtcdStoreTls, RefusesAServerItCannotVerify) {
  auto other_ca = options();
  other_ca.tls.ca_file = files_->other_ca.string();
  EXPECT_THAT(loadError(other_ca), HasSubstr("certificate verify failed"));
  // The certificate is for IP 127.0.0.1; "localhost" is another name.
  auto by_name = options();
  by_name.endpoints = {fmt::format("https://localhost:{}", etcd_->port())};
  EXPECT_THAT(loadError(by_name),
              AnyOf(HasSubstr("hostname mismatch"), HasSubstr("certificate verify failed")));
}

// ---------------------------------------------------------------------------------------------
// watch(): another hub's writes reach this one.

// What a watch told, for a test thread to wait on.
class Heard {
 public:
  hub::StoreChanged callback() {
    return [this](std::uint64_t revision) {
      std::lock_guard lock(mutex_);
      revisions_.push_back(revision);
      changed_.notify_all();
    };
  }

  // Waits until `revision` was told (0: a cut), at most `within`.
  bool waitFor(std::uint64_t revision,
               std::chrono::milliseconds within = std::chrono::milliseconds(5000)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(
        lock, within, [&] { return std::ranges::find(revisions_, revision) != revisions_.end(); });
  }

  std::vector<std::uint64_t> revisions() {
    std::lock_guard lock(mutex_);
    return revisions_;
  }

  void clear() {
    std::lock_guard lock(mutex_);
    revisions_.clear();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::uint64_t> revisions_;
};

std::unique_ptr<hub::EtcdClient> rawClient(const RealEtcd& etcd) {
  auto client = hub::EtcdClient::create(etcd.clientOptions());
  EXPECT_TRUE(client.has_value()) << client.error().message;
  return client ? std::move(*client) : nullptr;
}

class EtcdStoreWatch : public EtcdToolTest {
 protected:
  static EtcdStoreOptions watchOptions(const RealEtcd& etcd, std::string prefix) {
    auto options = optionsFor(etcd, std::move(prefix));
    options.watch_retry_min = std::chrono::milliseconds(50);
    options.watch_retry_max = std::chrono::milliseconds(200);
    return options;
  }
};

TEST_F(EtcdStoreWatch, HearsTheOtherHubsWritesWithTheirRevisionsAndNothingOutsideItsSpokes) {
  RealEtcd& etcd = SharedEtcd::get();
  const std::string prefix = SharedEtcd::freshPrefix();
  auto hub_a = openStore(watchOptions(etcd, prefix));
  auto hub_b = openStore(watchOptions(etcd, prefix));
  auto elsewhere = openStore(watchOptions(etcd, SharedEtcd::freshPrefix()));
  ASSERT_TRUE(hub_a && hub_b && elsewhere);
  ASSERT_TRUE(hub_a->load().has_value());
  Heard heard;
  auto watch = hub_a->watch(heard.callback());
  ASSERT_NE(watch, nullptr);

  const auto created = hub_b->create(vpcSpoke());
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_TRUE(heard.waitFor(*created)) << ::testing::PrintToString(heard.revisions());
  const auto removed = hub_b->remove(vpcSpoke().name, vpcSpoke().generation);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_TRUE(heard.waitFor(*removed)) << ::testing::PrintToString(heard.revisions());

  // Another prefix, and a key of this prefix outside spokes/: not heard. The last write is to
  // the spokes: once it is heard, nothing came before it.
  ASSERT_TRUE(elsewhere->create(siteSpoke()).has_value());
  auto raw = rawClient(etcd);
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->post("/v3/kv/put", hub::etcd::putRequest(prefix + "claims/other", "x")));
  heard.clear();
  const auto last = hub_b->create(siteSpoke());
  ASSERT_TRUE(last.has_value()) << last.error().message;
  ASSERT_TRUE(heard.waitFor(*last));
  EXPECT_EQ(heard.revisions(), std::vector<std::uint64_t>{*last});
}

TEST_F(EtcdStoreWatch, ACompactedStartIsACutThenLaterWritesAreHeard) {
  RealEtcd& etcd = SharedEtcd::get();
  const std::string prefix = SharedEtcd::freshPrefix();
  auto hub_a = openStore(watchOptions(etcd, prefix));
  auto hub_b = openStore(watchOptions(etcd, prefix));
  ASSERT_TRUE(hub_a && hub_b);
  ASSERT_TRUE(hub_a->load().has_value());
  // Hub B writes and etcd compacts past hub A's load before hub A watches.
  ASSERT_TRUE(hub_b->create(vpcSpoke()).has_value());
  const auto second = hub_b->create(siteSpoke());
  ASSERT_TRUE(second.has_value());
  auto raw = rawClient(etcd);
  ASSERT_TRUE(raw);
  const auto compacted = raw->post(
      "/v3/kv/compaction", json::object{{"revision", std::to_string(*second)}, {"physical", true}});
  ASSERT_TRUE(compacted.has_value()) << compacted.error().message;

  Heard heard;
  auto watch = hub_a->watch(heard.callback());
  ASSERT_NE(watch, nullptr);
  EXPECT_TRUE(heard.waitFor(0)) << ::testing::PrintToString(heard.revisions());
  const auto later = hub_b->create(numberedSpoke(3));
  ASSERT_TRUE(later.has_value()) << later.error().message;
  EXPECT_TRUE(heard.waitFor(*later)) << ::testing::PrintToString(heard.revisions());
}

TEST_F(EtcdStoreWatch, EtcdKilledIsACutAndWritesAreHeardAgainAfterItsRestart) {
  TempDir dir;
  RealEtcd etcd(dir.path());
  auto hub_a = openStore(watchOptions(etcd, "/transit-hub/"));
  auto hub_b = openStore(watchOptions(etcd, "/transit-hub/"));
  ASSERT_TRUE(hub_a && hub_b);
  ASSERT_TRUE(hub_a->load().has_value());
  Heard heard;
  auto watch = hub_a->watch(heard.callback());
  ASSERT_NE(watch, nullptr);
  const auto before = hub_b->create(vpcSpoke());
  ASSERT_TRUE(before.has_value()) << before.error().message;
  ASSERT_TRUE(heard.waitFor(*before));

  EXPECT_EQ(watch->cut(), std::nullopt);

  etcd.kill();
  EXPECT_TRUE(heard.waitFor(0)) << ::testing::PrintToString(heard.revisions());
  // The cut is known before its notice: the registry, reloading on it, finds the watch cut.
  const auto cut = watch->cut();
  ASSERT_TRUE(cut.has_value());
  EXPECT_THAT(*cut, HasSubstr("the etcd watch was cut"));
  etcd.start();
  heard.clear();
  const auto after = hub_b->create(siteSpoke());
  ASSERT_TRUE(after.has_value()) << after.error().message;
  // The new watch starts after the last revision heard: this write is heard whether it came
  // before or after the watch was set up again.
  EXPECT_TRUE(heard.waitFor(*after)) << ::testing::PrintToString(heard.revisions());
  EXPECT_EQ(watch->cut(), std::nullopt);  // following again
}

TEST_F(EtcdStoreWatch, AHungEtcdFailsTheLivenessCheckAndWritesAreHeardOnceItGoesOn) {
  TempDir dir;
  RealEtcd etcd(dir.path());
  auto options = watchOptions(etcd, "/transit-hub/");
  options.watch_check_interval = std::chrono::milliseconds(200);
  options.probe_timeout = std::chrono::milliseconds(300);
  auto hub_a = openStore(options);
  auto hub_b = openStore(options);
  ASSERT_TRUE(hub_a && hub_b);
  ASSERT_TRUE(hub_a->load().has_value());
  Heard heard;
  auto watch = hub_a->watch(heard.callback());
  ASSERT_NE(watch, nullptr);
  // A quiet stream on a live etcd passes its checks: no cut.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const auto before = hub_b->create(vpcSpoke());
  ASSERT_TRUE(before.has_value()) << before.error().message;
  ASSERT_TRUE(heard.waitFor(*before));
  EXPECT_EQ(heard.revisions(), std::vector<std::uint64_t>{*before});

  etcd.pause();  // the stream stays open and silent
  const bool cut = heard.waitFor(0, std::chrono::milliseconds(3000));
  etcd.resume();
  EXPECT_TRUE(cut) << ::testing::PrintToString(heard.revisions());
  heard.clear();
  const auto after = hub_b->create(siteSpoke());
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_TRUE(heard.waitFor(*after)) << ::testing::PrintToString(heard.revisions());
}

TEST_F(EtcdStoreWatch, DestroyingAWatchBlockedOnItsReadReturnsAtOnce) {
  RealEtcd& etcd = SharedEtcd::get();
  const std::string prefix = SharedEtcd::freshPrefix();
  auto hub_a = openStore(watchOptions(etcd, prefix));
  auto hub_b = openStore(watchOptions(etcd, prefix));
  ASSERT_TRUE(hub_a && hub_b);
  ASSERT_TRUE(hub_a->load().has_value());
  Heard heard;
  auto watch = hub_a->watch(heard.callback());
  ASSERT_NE(watch, nullptr);
  const auto created = hub_b->create(vpcSpoke());
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(heard.waitFor(*created));  // the stream is open: the thread waits on its read
  const auto start = std::chrono::steady_clock::now();
  watch.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_EQ(heard.revisions(), std::vector<std::uint64_t>{*created});
}

TEST_F(EtcdStoreWatch, AStoreOverGivenTransportsHasNoWatch) {
  auto store = EtcdStore::withTransports(nullptr, nullptr, EtcdStoreOptions{}, "test");
  EXPECT_EQ(store->watch([](std::uint64_t) {}), nullptr);
}

}  // namespace
}  // namespace transit
