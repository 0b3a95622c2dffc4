// The store section: store.sqlite (a single hub) or store.etcd (the pair), never both; every key
// of store.etcd checked at load time, naming the key, never echoing a password.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "hub/config/config.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/config/config_fixtures.hpp"

namespace transit::hub {
namespace {

using ::testing::HasSubstr;

std::string withStore(std::string_view store) {
  return replaced(kMinimal, kStoreBlock, std::string(store));
}

const std::string kEtcdStore =
    "store:\n  etcd:\n    endpoints: [\"http://10.0.1.5:2379\", \"http://10.0.2.5:2379\", "
    "\"http://10.0.3.5:2379\"]\n";

TEST(ConfigStore, EtcdWithOnlyEndpointsGetsTheDefaults) {
  auto config = parseConfig(withStore(kEtcdStore));
  ASSERT_TRUE(config) << config.error().toString();
  ASSERT_TRUE(config->store.etcd);
  EXPECT_TRUE(config->store.sqlite.empty());
  EXPECT_EQ(config->store.etcd->endpoints,
            (std::vector<std::string>{"http://10.0.1.5:2379", "http://10.0.2.5:2379",
                                      "http://10.0.3.5:2379"}));
  EXPECT_EQ(config->store.etcd->prefix, "/transit-hub/");
  EXPECT_TRUE(config->store.etcd->user.empty());
  EXPECT_TRUE(config->store.etcd->tls.ca.empty());
  EXPECT_EQ(config->drivers.dry_run_dir, std::filesystem::path("/var/lib/transit-hub/dry-run"));
}

TEST(ConfigStore, SqliteStaysTheDefaultStore) {
  auto config = parseConfig(kMinimal);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_FALSE(config->store.etcd);
  EXPECT_EQ(config->store.sqlite, std::filesystem::path("state.db"));
}

TEST(ConfigStore, EtcdWithTlsAndAUserReadsEveryKey) {
  fakes::TempDir dir;
  for (const auto* name : {"ca.pem", "client.pem", "client.key", "password"}) {
    std::ofstream(dir.path() / name) << "x\n";
  }
  const auto file = [&dir](const char* name) { return (dir.path() / name).string(); };
  const std::string store =
      "store:\n  etcd:\n    endpoints: [\"https://etcd-a.internal:2379\"]\n"
      "    prefix: /pair-1/\n    tls:\n      ca: " +
      file("ca.pem") + "\n      cert: " + file("client.pem") +
      "\n      key: " + file("client.key") +
      "\n    user: hub\n    password_file: " + file("password") + "\n";
  auto config = parseConfig(withStore(store));
  ASSERT_TRUE(config) << config.error().toString();
  const auto& etcd = *config->store.etcd;
  EXPECT_EQ(etcd.prefix, "/pair-1/");
  EXPECT_EQ(etcd.tls.ca, dir.path() / "ca.pem");
  EXPECT_EQ(etcd.tls.cert, dir.path() / "client.pem");
  EXPECT_EQ(etcd.tls.key, dir.path() / "client.key");
  EXPECT_EQ(etcd.user, "hub");
  EXPECT_EQ(etcd.password_file, dir.path() / "password");
}

TEST(ConfigStore, BadStoreSectionsNameTheKey) {
  struct Case {
    std::string store;
    std::string key;
    std::string message;
  };
  const std::string etcd = "store:\n  etcd:\n";
  const std::vector<Case> cases = {
      {"store:\n  sqlite: state.db\n  etcd:\n    endpoints: [\"http://a:2379\"]\n", "store",
       "must name one store: sqlite (a single hub) or etcd (the pair), not both"},
      {"store: {}\n", "store.sqlite", "is required"},
      {etcd + "    prefix: /x/\n", "store.etcd.endpoints", "is required"},
      {etcd + "    endpoints: []\n", "store.etcd.endpoints", "must be a list of at least one URL"},
      {etcd + "    endpoints: http://a:2379\n", "store.etcd.endpoints",
       "must be a list of at least one URL"},
      {etcd + "    endpoints: [\"a:2379\"]\n", "store.etcd.endpoints[0]",
       "must be http://HOST:PORT or https://HOST:PORT"},
      {etcd + "    endpoints: [\"http://a\"]\n", "store.etcd.endpoints[0]",
       "must be http://HOST:PORT or https://HOST:PORT"},
      {etcd + "    endpoints: [\"http://a:70000\"]\n", "store.etcd.endpoints[0]",
       "must be http://HOST:PORT or https://HOST:PORT"},
      {etcd + "    endpoints: [\"http://a:2379/v3\"]\n", "store.etcd.endpoints[0]",
       "must be http://HOST:PORT or https://HOST:PORT"},
      {etcd + "    endpoints: [\"http://a:2379\", \"https://b:2379\"]\n", "store.etcd.endpoints[1]",
       "must use the same scheme as the other endpoints"},
      {etcd + "    endpoints: [\"http://a:2379\", \"http://a:2379\"]\n", "store.etcd.endpoints[1]",
       "is listed twice"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    prefix: transit\n", "store.etcd.prefix",
       "must start and end with '/' and hold printable characters only"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    prefix: \"/a b/\"\n", "store.etcd.prefix",
       "must start and end with '/' and hold printable characters only"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    user: hub\n", "store.etcd",
       "user and password_file go together"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    user: \"\"\n", "store.etcd.user",
       "must not be empty"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    password_file: /nonexistent/pw\n",
       "store.etcd.password_file", "/nonexistent/pw"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    tls: {ca: /nonexistent/ca.pem}\n",
       "store.etcd.tls.ca", "/nonexistent/ca.pem"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    tls: {crt: x}\n", "store.etcd.tls.crt",
       "is not a known key"},
      {etcd + "    endpoints: [\"http://a:2379\"]\n    password: secret-value\n",
       "store.etcd.password", "is not a known key"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.store);
    const auto error = errorOf(withStore(c.store));
    EXPECT_EQ(error.key, c.key) << error.toString();
    EXPECT_THAT(error.message, HasSubstr(c.message)) << error.toString();
    EXPECT_THAT(error.toString(), ::testing::Not(HasSubstr("secret-value")));
  }
}

TEST(ConfigStore, TlsFilesNeedHttpsEndpointsAndACertNeedsItsKey) {
  fakes::TempDir dir;
  std::ofstream(dir.path() / "ca.pem") << "x\n";
  std::ofstream(dir.path() / "client.pem") << "x\n";
  const std::string ca = (dir.path() / "ca.pem").string();
  const std::string cert = (dir.path() / "client.pem").string();
  auto error = errorOf(withStore(
      "store:\n  etcd:\n    endpoints: [\"http://a:2379\"]\n    tls: {ca: " + ca + "}\n"));
  EXPECT_EQ(error.key, "store.etcd.tls");
  EXPECT_EQ(error.message, "needs https:// endpoints");
  error = errorOf(withStore(
      "store:\n  etcd:\n    endpoints: [\"https://a:2379\"]\n    tls: {cert: " + cert + "}\n"));
  EXPECT_EQ(error.key, "store.etcd.tls");
  EXPECT_EQ(error.message, "cert and key go together");
}

}  // namespace
}  // namespace transit::hub
