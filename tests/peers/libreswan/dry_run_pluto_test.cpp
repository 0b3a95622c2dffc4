// Dry-run of the tunnel driver: the live LibreswanDriver over a RecordingCommandRunner answered
// by DryRunPluto. Files rendered exactly as live mode renders them (they are live mode's), the
// commands live mode would run in the log, no PSK outside the secrets file.
#include "peers/libreswan/dry_run_pluto.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>

#include "peers/libreswan/libreswan_driver.hpp"
#include "routing/base/file_io.hpp"
#include "tests/fakes/log_capture.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::peers {
namespace {

namespace fs = std::filesystem;
using fakes::LogCapture;

constexpr std::string_view kPsk = "Secret.Key_0123456789";
constexpr std::string_view kOtherPsk = "Other.Key_9876543210";

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

TunnelSpec tunnelSpec(std::string name, std::string_view remote, std::string_view psk) {
  TunnelSpec spec;
  spec.name = std::move(name);
  spec.spoke = "prod-a";
  spec.index = 1;
  spec.local_address = ip("10.0.0.10");
  spec.local_id = ip("203.0.113.10");
  spec.remote_address = ip(remote);
  spec.inside_cidr = *Ipv4Prefix::parse("169.254.20.0/30");
  spec.hub_inside = ip("169.254.20.2");
  spec.psk = std::string(psk);
  spec.interface_id = 1281;
  spec.initiate = true;
  return spec;
}

std::string read(const fs::path& path) { return readWholeFile(path.string()).value_or(""); }

unsigned mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Identity and modification time: a rewrite (even with the same text) changes one of them.
struct FileVersion {
  ino_t inode = 0;
  long long mtime_ns = 0;
  bool operator==(const FileVersion&) const = default;
};
FileVersion version(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_ino, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

// One dry-run tunnel driver as the daemon's factory builds it (a restart is a second one).
struct DryRun {
  explicit DryRun(const LibreswanOptions& options) : pluto(options, ip("10.0.0.10")) {
    runner.addAnswerer(pluto.answerer());
    driver = std::move(*LibreswanDriver::create(options, runner));
  }
  DryRunPluto pluto;
  RecordingCommandRunner runner;
  std::unique_ptr<LibreswanDriver> driver;
};

class DryRunPlutoTest : public ::testing::Test {
 protected:
  DryRunPlutoTest() {
    options_.conf_dir = (root() / "ipsec").string();
    options_.secrets_file = (root() / "ipsec" / "transit-hub.secrets").string();
    options_.pid_file = (root() / "pluto.pid").string();
    EXPECT_TRUE(DryRunPluto::writePidFile(options_.pid_file));
  }

  fs::path root() const { return temp_ / "dry-run"; }
  fs::path conf(std::string_view name) const {
    return root() / "ipsec" / (std::string(name) + ".conf");
  }
  fs::path secrets() const { return root() / "ipsec" / "transit-hub.secrets"; }

  fakes::TempDir temp_;
  LibreswanOptions options_;
  std::unique_ptr<DryRun> dry_ = nullptr;
  LibreswanDriver& driver() {
    if (!dry_) dry_ = std::make_unique<DryRun>(options_);
    return *dry_->driver;
  }
};

TEST_F(DryRunPlutoTest, WritesTheConnectionTheLiveDriverWouldLoad) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver().apply(spec));
  EXPECT_EQ(read(conf("th-prod-a-1")), renderConnection(spec, options_));
  EXPECT_EQ(mode(conf("th-prod-a-1")), 0600u);
  EXPECT_FALSE(fs::exists(conf("th-prod-a-1").string() + ".pending"));
}

TEST_F(DryRunPlutoTest, WritesTheSecretsFilePrivately) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver().apply(spec));
  EXPECT_EQ(read(secrets()), renderSecrets(std::vector{spec}));
  EXPECT_EQ(mode(secrets()), 0600u);
}

TEST_F(DryRunPlutoTest, AnIdenticalSpecRewritesAndLogsNothing) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver().apply(spec));
  const auto conf_before = version(conf("th-prod-a-1"));
  const auto secrets_before = version(secrets());
  LogCapture log;
  ASSERT_TRUE(driver().apply(spec));
  EXPECT_EQ(version(conf("th-prod-a-1")), conf_before);
  EXPECT_EQ(version(secrets()), secrets_before);
  EXPECT_EQ(log.text(), "");
}

TEST_F(DryRunPlutoTest, ANewKeyRewritesTheSecretsAndRereadsWithoutReloadingTheConnection) {
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  const auto conf_before = version(conf("th-prod-a-1"));
  LogCapture log;
  const auto changed = tunnelSpec("th-prod-a-1", "198.51.100.10", kOtherPsk);
  ASSERT_TRUE(driver().apply(changed));
  EXPECT_EQ(read(secrets()), renderSecrets(std::vector{changed}));
  EXPECT_EQ(version(conf("th-prod-a-1")), conf_before);
  EXPECT_NE(log.text().find("--rereadsecrets"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("addconn"), std::string::npos) << log.text();
}

TEST_F(DryRunPlutoTest, LogsTheCommandsLiveModeWouldRun) {
  LogCapture log;
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  const std::string text = log.text();
  const std::string whack =
      "dry-run: would run: /usr/libexec/ipsec/whack --ctlsocket "
      "/run/pluto/pluto.ctl ";
  EXPECT_NE(text.find(whack + "--rereadsecrets\n"), std::string::npos) << text;
  EXPECT_NE(text.find("dry-run: would run: /usr/libexec/ipsec/addconn --ctlsocket "
                      "/run/pluto/pluto.ctl --config " +
                      conf("th-prod-a-1").string() + ".pending th-prod-a-1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(whack + "--name th-prod-a-1 --initiate --asynchronous\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dry-run: would run: ip link add ipsec1281 type xfrm dev '<underlay>' "
                      "if_id 1281\n"),
            std::string::npos)
      << text;
  EXPECT_LT(text.find("--rereadsecrets"), text.find("ip link add"));
  EXPECT_LT(text.find("ip link add"), text.find("addconn"));
  EXPECT_LT(text.find("addconn"), text.find("--initiate"));
  EXPECT_EQ(text.find("--status"), std::string::npos) << "queries are logged at debug";
}

TEST_F(DryRunPlutoTest, ATunnelThatDoesNotInitiateIsOnlyLoaded) {
  auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  spec.initiate = false;
  LogCapture log;
  ASSERT_TRUE(driver().apply(spec));
  EXPECT_NE(log.text().find("addconn"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("--initiate"), std::string::npos) << log.text();
}

TEST_F(DryRunPlutoTest, NoLogLineEverHoldsTheKey) {
  LogCapture log(spdlog::level::trace);
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kOtherPsk)));
  ASSERT_TRUE(driver().observe());
  ASSERT_TRUE(driver().remove("th-prod-a-1"));
  ASSERT_FALSE(log.text().empty());
  EXPECT_EQ(log.text().find(kPsk), std::string::npos);
  EXPECT_EQ(log.text().find(kOtherPsk), std::string::npos);
}

TEST_F(DryRunPlutoTest, RemoveDeletesTheConnectionAndLogsTheDelete) {
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  LogCapture log;
  ASSERT_TRUE(driver().remove("th-prod-a-1"));
  EXPECT_FALSE(fs::exists(conf("th-prod-a-1")));
  EXPECT_NE(log.text().find("dry-run: would run: /usr/libexec/ipsec/whack --ctlsocket "
                            "/run/pluto/pluto.ctl --name th-prod-a-1 --delete\n"),
            std::string::npos)
      << log.text();
  EXPECT_NE(log.text().find("--rereadsecrets"), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("ip link del dev ipsec1281"), std::string::npos) << log.text();
  EXPECT_TRUE(driver().observe()->tunnels.empty());
}

TEST_F(DryRunPlutoTest, RemoveDropsOnlyThatTunnelsKeyFromTheSecretsFile) {
  auto kept = tunnelSpec("th-prod-b-1", "198.51.100.20", kOtherPsk);
  kept.interface_id = 1282;
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  ASSERT_TRUE(driver().apply(kept));
  ASSERT_TRUE(driver().remove("th-prod-a-1"));
  const std::string text = read(secrets());
  EXPECT_EQ(text.find(kPsk), std::string::npos);
  EXPECT_EQ(text, renderSecrets(std::vector{kept}));
  EXPECT_TRUE(fs::exists(conf("th-prod-b-1")));
}

TEST_F(DryRunPlutoTest, RemovingAnUnknownTunnelSucceedsAndWritesNothing) {
  ASSERT_TRUE(driver().remove("th-never-1"));
  EXPECT_FALSE(fs::exists(root() / "ipsec"));
}

TEST_F(DryRunPlutoTest, ANameTheHubDoesNotOwnIsRefusedAndNothingIsRun) {
  for (const std::string name : {"prod-a-1", "th-a b", ".", "..", ""}) {
    const auto result = driver().apply(tunnelSpec(name, "198.51.100.10", kPsk));
    ASSERT_FALSE(result) << name;
    EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid) << name;
    EXPECT_EQ(result.error().message.find(kPsk), std::string::npos);
    EXPECT_FALSE(driver().remove(name)) << name;
    EXPECT_FALSE(driver().deleteIkeSa(name, 7)) << name;
  }
  EXPECT_TRUE(dry_->runner.commands().empty());
  EXPECT_FALSE(fs::exists(root() / "ipsec"));
}

TEST_F(DryRunPlutoTest, AKeyTheSecretsFileCannotHoldIsRefusedWithoutQuotingIt) {
  const std::string bad = "has space";
  const auto result = driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", bad));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_EQ(result.error().message.find(bad), std::string::npos);
  EXPECT_FALSE(fs::exists(root() / "ipsec"));
}

TEST_F(DryRunPlutoTest, ObserveReportsEveryAppliedTunnelLoadedAndNotNegotiated) {
  auto other = tunnelSpec("th-prod-b-1", "198.51.100.20", kOtherPsk);
  other.interface_id = 1282;
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  ASSERT_TRUE(driver().apply(other));
  ASSERT_TRUE(driver().remove("th-prod-b-1"));
  const auto observed = driver().observe();
  ASSERT_TRUE(observed) << observed.error().message;
  EXPECT_FALSE(observed->daemon_instance.empty());
  ASSERT_EQ(observed->tunnels.size(), 1u);
  const auto& tunnel = observed->tunnels[0];
  EXPECT_EQ(tunnel.name, "th-prod-a-1");
  EXPECT_TRUE(tunnel.loaded);
  EXPECT_FALSE(tunnel.ike_up);
  EXPECT_FALSE(tunnel.ipsec_up);
}

TEST_F(DryRunPlutoTest, ARestartedDriverReportsWhatAnEarlierRunLeftAndAdoptsIt) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver().apply(spec));
  const auto conf_before = version(conf("th-prod-a-1"));
  const auto secrets_before = version(secrets());
  DryRun restarted(options_);
  const auto observed = restarted.driver->observe();
  ASSERT_TRUE(observed);
  ASSERT_EQ(observed->tunnels.size(), 1u);
  EXPECT_EQ(observed->tunnels[0].name, "th-prod-a-1");
  LogCapture log;
  ASSERT_TRUE(restarted.driver->apply(spec));
  // Like live mode after a restart: the secrets are re-read once; the connection is not
  // reloaded and no file is rewritten.
  EXPECT_EQ(log.text().find("addconn"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("--initiate"), std::string::npos) << log.text();
  EXPECT_EQ(version(conf("th-prod-a-1")), conf_before);
  EXPECT_EQ(version(secrets()), secrets_before);
}

TEST_F(DryRunPlutoTest, ARestartedDriverCanRemoveWhatAnEarlierRunLeft) {
  ASSERT_TRUE(driver().apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  DryRun restarted(options_);
  ASSERT_TRUE(restarted.driver->remove("th-prod-a-1"));
  EXPECT_FALSE(fs::exists(conf("th-prod-a-1")));
  EXPECT_EQ(read(secrets()).find(kPsk), std::string::npos);
  EXPECT_TRUE(restarted.driver->observe()->tunnels.empty());
}

}  // namespace
}  // namespace transit::peers
