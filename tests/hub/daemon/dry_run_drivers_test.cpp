// The dry-run drivers: files rendered exactly as live mode would render them, the commands live
// mode would run in the log, no PSK outside the secrets file; and the real Reconciler over them.
#include "hub/daemon/dry_run_drivers.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <memory>
#include <sstream>

#include "hub/core/reconciler.hpp"
#include "routing/bird/bird_driver.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPsk = "Secret.Key_0123456789";
constexpr std::string_view kOtherPsk = "Other.Key_9876543210";

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

peers::TunnelSpec tunnelSpec(std::string name, std::string_view remote, std::string_view psk) {
  peers::TunnelSpec spec;
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
  return spec;
}

routing::RoutingSpec routingSpec() {
  routing::BgpSessionSpec session;
  session.name = "th_prod_a_1";
  session.spoke = "prod-a";
  session.local_address = ip("169.254.20.2");
  session.neighbor_address = ip("169.254.20.1");
  session.neighbor_as = 64512;
  session.accepted = {*Ipv4Prefix::parse("10.1.0.0/16")};
  routing::RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("203.0.113.10");
  spec.sessions = {session};
  return spec;
}

std::string read(const fs::path& path) {
  return readWholeFile(path.string()).value_or("");
}

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

// Routes spdlog's default logger into a string while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "dry-run-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    logger->set_level(spdlog::level::info);
    logger->set_pattern("%v");
    spdlog::set_default_logger(std::move(logger));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

class DryRunTunnelDriverTest : public ::testing::Test {
 protected:
  fs::path root() const { return temp_ / "dry-run"; }
  fs::path conf(std::string_view name) const {
    return root() / "ipsec" / (std::string(name) + ".conf");
  }
  fs::path secrets() const { return root() / "ipsec" / "transit-hub.secrets"; }

  fakes::TempDir temp_;
  peers::LibreswanOptions options_;
  DryRunTunnelDriver driver_{root(), options_};
};

TEST_F(DryRunTunnelDriverTest, WritesTheConnectionTheLiveDriverWouldLoad) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver_.apply(spec));
  EXPECT_EQ(read(conf("th-prod-a-1")), peers::renderConnection(spec, options_));
  EXPECT_EQ(mode(conf("th-prod-a-1")), 0600u);
}

TEST_F(DryRunTunnelDriverTest, WritesTheSecretsFilePrivately) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver_.apply(spec));
  EXPECT_EQ(read(secrets()), peers::renderSecrets(std::vector{spec}));
  EXPECT_EQ(mode(secrets()), 0600u);
}

TEST_F(DryRunTunnelDriverTest, CreatesItsDirectoriesPrivateOnFirstWrite) {
  ASSERT_FALSE(fs::exists(root()));
  ASSERT_TRUE(driver_.observe());
  EXPECT_FALSE(fs::exists(root())) << "observing writes nothing";
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  EXPECT_EQ(mode(root()), 0700u);
  EXPECT_EQ(mode(root() / "ipsec"), 0700u);
}

TEST_F(DryRunTunnelDriverTest, AnIdenticalSpecRewritesAndLogsNothing) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver_.apply(spec));
  const auto conf_before = version(conf("th-prod-a-1"));
  const auto secrets_before = version(secrets());
  LogCapture log;
  ASSERT_TRUE(driver_.apply(spec));
  EXPECT_EQ(version(conf("th-prod-a-1")), conf_before);
  EXPECT_EQ(version(secrets()), secrets_before);
  EXPECT_EQ(log.text(), "");
}

TEST_F(DryRunTunnelDriverTest, ANewKeyRewritesTheSecretsAndRereadsWithoutReloadingTheConnection) {
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  const auto conf_before = version(conf("th-prod-a-1"));
  LogCapture log;
  const auto changed = tunnelSpec("th-prod-a-1", "198.51.100.10", kOtherPsk);
  ASSERT_TRUE(driver_.apply(changed));
  EXPECT_EQ(read(secrets()), peers::renderSecrets(std::vector{changed}));
  EXPECT_EQ(version(conf("th-prod-a-1")), conf_before);
  EXPECT_NE(log.text().find("--rereadsecrets"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("addconn"), std::string::npos) << log.text();
}

TEST_F(DryRunTunnelDriverTest, LogsTheCommandsLiveModeWouldRun) {
  LogCapture log;
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  const std::string text = log.text();
  EXPECT_NE(text.find("dry-run: would run: /usr/libexec/ipsec/whack --ctlsocket "
                      "/run/pluto/pluto.ctl --rereadsecrets\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dry-run: would run: /usr/libexec/ipsec/addconn --ctlsocket "
                      "/run/pluto/pluto.ctl --config /etc/ipsec.d/transit-hub/th-prod-a-1.conf"
                      ".pending th-prod-a-1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dry-run: would run: /usr/libexec/ipsec/whack --ctlsocket "
                      "/run/pluto/pluto.ctl --name th-prod-a-1 --initiate --asynchronous\n"),
            std::string::npos)
      << text;
  // In live order: secrets re-read before the connection is loaded, initiated last.
  EXPECT_LT(text.find("--rereadsecrets"), text.find("addconn"));
  EXPECT_LT(text.find("addconn"), text.find("--initiate"));
}

TEST_F(DryRunTunnelDriverTest, ATunnelThatDoesNotInitiateIsOnlyLoaded) {
  auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  spec.initiate = false;
  LogCapture log;
  ASSERT_TRUE(driver_.apply(spec));
  EXPECT_NE(log.text().find("addconn"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("--initiate"), std::string::npos) << log.text();
}

TEST_F(DryRunTunnelDriverTest, NoLogLineEverHoldsTheKey) {
  LogCapture log;
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kOtherPsk)));
  ASSERT_TRUE(driver_.remove("th-prod-a-1"));
  ASSERT_FALSE(log.text().empty());
  EXPECT_EQ(log.text().find(kPsk), std::string::npos);
  EXPECT_EQ(log.text().find(kOtherPsk), std::string::npos);
}

TEST_F(DryRunTunnelDriverTest, RemoveDeletesTheConnectionAndLogsTheDelete) {
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  LogCapture log;
  ASSERT_TRUE(driver_.remove("th-prod-a-1"));
  EXPECT_FALSE(fs::exists(conf("th-prod-a-1")));
  EXPECT_NE(log.text().find("dry-run: would run: /usr/libexec/ipsec/whack --ctlsocket "
                            "/run/pluto/pluto.ctl --name th-prod-a-1 --delete\n"),
            std::string::npos)
      << log.text();
  EXPECT_NE(log.text().find("--rereadsecrets"), std::string::npos) << log.text();
}

TEST_F(DryRunTunnelDriverTest, RemoveDropsOnlyThatTunnelsKeyFromTheSecretsFile) {
  const auto kept = tunnelSpec("th-prod-b-1", "198.51.100.20", kOtherPsk);
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  ASSERT_TRUE(driver_.apply(kept));
  ASSERT_TRUE(driver_.remove("th-prod-a-1"));
  const std::string text = read(secrets());
  EXPECT_EQ(text.find(kPsk), std::string::npos);
  EXPECT_EQ(text, peers::renderSecrets(std::vector{kept}));
  EXPECT_TRUE(fs::exists(conf("th-prod-b-1")));
}

TEST_F(DryRunTunnelDriverTest, RemovingAnUnknownTunnelIsASilentSuccess) {
  LogCapture log;
  EXPECT_TRUE(driver_.remove("th-never-1"));
  EXPECT_EQ(log.text(), "");
}

TEST_F(DryRunTunnelDriverTest, ANameTheHubDoesNotOwnIsRefusedAndNothingIsWritten) {
  for (const std::string name : {"prod-a-1", "th-../../etc/x", "th-a b", ""}) {
    const auto result = driver_.apply(tunnelSpec(name, "198.51.100.10", kPsk));
    ASSERT_FALSE(result) << name;
    EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid) << name;
    EXPECT_EQ(result.error().message.find(kPsk), std::string::npos);
    EXPECT_FALSE(driver_.remove(name)) << name;
    EXPECT_FALSE(driver_.deleteIkeSa(name, 7)) << name;
  }
  EXPECT_FALSE(fs::exists(root()));
}

TEST_F(DryRunTunnelDriverTest, DeletingAnIkeSaLogsTheCommandAndWritesNothing) {
  LogCapture log;
  ASSERT_TRUE(driver_.deleteIkeSa("th-prod-a-1", 23));
  EXPECT_NE(log.text().find("dry-run: tunnel th-prod-a-1: would run: /usr/libexec/ipsec/whack "
                            "--ctlsocket /run/pluto/pluto.ctl --deletestate 23\n"),
            std::string::npos)
      << log.text();
  EXPECT_FALSE(fs::exists(root()));
}

TEST_F(DryRunTunnelDriverTest, AKeyTheSecretsFileCannotHoldIsRefusedWithoutQuotingIt) {
  const std::string bad = "has\"quote and space";
  const auto result = driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", bad));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_EQ(result.error().message.find(bad), std::string::npos);
  EXPECT_FALSE(fs::exists(root()));
}

TEST_F(DryRunTunnelDriverTest, ObserveReportsEveryAppliedTunnelLoadedAndNotNegotiated) {
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-b-1", "198.51.100.20", kOtherPsk)));
  ASSERT_TRUE(driver_.remove("th-prod-b-1"));
  const auto observed = driver_.observe();
  ASSERT_TRUE(observed);
  EXPECT_EQ(observed->daemon_instance, "dry-run");
  ASSERT_EQ(observed->tunnels.size(), 1u);
  const auto& tunnel = observed->tunnels[0];
  EXPECT_EQ(tunnel.name, "th-prod-a-1");
  EXPECT_TRUE(tunnel.loaded);
  EXPECT_FALSE(tunnel.ike_up);
  EXPECT_FALSE(tunnel.ipsec_up);
  EXPECT_EQ(tunnel.state, "dry-run (not negotiated)");
}

TEST_F(DryRunTunnelDriverTest, ARestartedDriverReportsWhatAnEarlierRunLeftAndAdoptsItQuietly) {
  const auto spec = tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk);
  ASSERT_TRUE(driver_.apply(spec));
  const auto secrets_before = version(secrets());
  DryRunTunnelDriver restarted(root(), options_);
  const auto observed = restarted.observe();
  ASSERT_TRUE(observed);
  ASSERT_EQ(observed->tunnels.size(), 1u);
  EXPECT_EQ(observed->tunnels[0].name, "th-prod-a-1");
  LogCapture log;
  ASSERT_TRUE(restarted.apply(spec));
  EXPECT_EQ(log.text(), "");
  EXPECT_EQ(version(secrets()), secrets_before);
}

TEST_F(DryRunTunnelDriverTest, ARestartedDriverCanRemoveWhatAnEarlierRunLeft) {
  ASSERT_TRUE(driver_.apply(tunnelSpec("th-prod-a-1", "198.51.100.10", kPsk)));
  DryRunTunnelDriver restarted(root(), options_);
  ASSERT_TRUE(restarted.remove("th-prod-a-1"));
  EXPECT_FALSE(fs::exists(conf("th-prod-a-1")));
  EXPECT_EQ(read(secrets()).find(kPsk), std::string::npos);
  EXPECT_TRUE(restarted.observe()->tunnels.empty());
}

class DryRunRoutingDriverTest : public ::testing::Test {
 protected:
  fs::path root() const { return temp_ / "dry-run"; }
  fs::path include() const { return root() / "bird" / "transit-hub.conf"; }

  fakes::TempDir temp_;
  routing::BirdOptions options_;
  DryRunRoutingDriver driver_{root(), options_};
};

TEST_F(DryRunRoutingDriverTest, WritesTheIncludeFileTheLiveDriverWould) {
  ASSERT_TRUE(driver_.apply(routingSpec()));
  EXPECT_EQ(read(include()), *routing::renderInclude(routingSpec(), options_));
  EXPECT_EQ(mode(include()), 0600u);
  EXPECT_EQ(mode(root()), 0700u);
  EXPECT_EQ(mode(root() / "bird"), 0700u);
}

TEST_F(DryRunRoutingDriverTest, LogsTheSocketCommandsLiveModeWouldSend) {
  LogCapture log;
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const std::string text = log.text();
  const std::string to = "dry-run: would send to /run/bird/bird.ctl: ";
  const auto check = text.find(to + "configure check \"/etc/bird/bird.conf\"\n");
  const auto configure = text.find(to + "configure \"/etc/bird/bird.conf\" timeout 30\n");
  const auto verify = text.find(to + "show protocols \"th_*\"\n");
  const auto confirm = text.find(to + "configure confirm\n");
  ASSERT_NE(check, std::string::npos) << text;
  ASSERT_NE(configure, std::string::npos) << text;
  ASSERT_NE(verify, std::string::npos) << text;
  ASSERT_NE(confirm, std::string::npos) << text;
  EXPECT_LT(check, configure);
  EXPECT_LT(configure, verify);
  EXPECT_LT(verify, confirm);
}

TEST_F(DryRunRoutingDriverTest, AnIdenticalSpecRewritesAndLogsNothing) {
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const auto before = version(include());
  LogCapture log;
  ASSERT_TRUE(driver_.apply(routingSpec()));
  EXPECT_EQ(version(include()), before);
  EXPECT_EQ(log.text(), "");
}

TEST_F(DryRunRoutingDriverTest, RendererErrorsPassThroughAndNothingIsWritten) {
  auto spec = routingSpec();
  spec.sessions[0].name = "prod_a_1";  // not the hub's prefix
  const auto result = driver_.apply(spec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_EQ(result.error().message, routing::renderInclude(spec, options_).error().message);
  EXPECT_FALSE(fs::exists(root()));
}

TEST_F(DryRunRoutingDriverTest, ObserveReportsTheAppliedSessionsNotEstablished) {
  EXPECT_TRUE(driver_.observe()->sessions.empty());
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const auto observed = driver_.observe();
  ASSERT_TRUE(observed);
  EXPECT_EQ(observed->daemon_instance, "dry-run");
  ASSERT_EQ(observed->sessions.size(), 1u);
  EXPECT_EQ(observed->sessions[0].name, "th_prod_a_1");
  EXPECT_EQ(observed->sessions[0].protocol_state, "dry-run");
  EXPECT_EQ(observed->sessions[0].bgp_state, "");
  EXPECT_FALSE(observed->sessions[0].established);
}

// The real Reconciler, registry and planner over the dry-run drivers.
TEST(DryRunReconcilerTest, AddingASpokeRendersItsFilesAndDeletingItRemovesThem) {
  fakes::TempDir temp;
  const fs::path root = temp / "dry-run";
  fakes::MemoryStore store;
  fakes::ManualClock clock;
  Registry::Options registry_options;
  registry_options.validation.hub_asn = 65000;
  auto registry = std::move(*Registry::create(store, clock, nullptr, registry_options));
  DryRunTunnelDriver tunnels(root, peers::LibreswanOptions{});
  DryRunRoutingDriver routing(root, routing::BirdOptions{});
  Reconciler::Options options;
  options.plan.local_address = ip("10.0.0.10");
  options.plan.public_address = ip("203.0.113.10");
  options.plan.local_as = 65000;
  options.plan.router_id = options.plan.public_address;
  Reconciler reconciler(*registry, tunnels, routing, nullptr, clock, nullptr, options);

  peers::SpokeDraft draft;
  draft.name = "prod-a";
  draft.kind = "vpc";
  draft.cidrs = std::vector<std::string>{"10.1.0.0/16"};
  draft.asn = 64512;
  draft.tunnels = std::vector<peers::TunnelDraft>{{"198.51.100.10", std::nullopt, std::nullopt}};
  ASSERT_TRUE(registry->create(draft));
  const std::string psk = registry->snapshot()->spokes.at("prod-a")->tunnels.at(0).psk;
  ASSERT_FALSE(psk.empty());
  reconciler.runOnce();

  const fs::path conf = root / "ipsec" / "th-prod-a-1.conf";
  const fs::path secrets = root / "ipsec" / "transit-hub.secrets";
  const fs::path include = root / "bird" / "transit-hub.conf";
  EXPECT_TRUE(fs::exists(conf));
  EXPECT_NE(read(secrets).find(psk), std::string::npos);
  EXPECT_NE(read(include).find("th_prod_a_1"), std::string::npos);
  reconciler.runOnce();
  const auto status = reconciler.status();
  EXPECT_EQ(status->tunnels.at("th-prod-a-1").object.state, ObjectState::kApplied);
  EXPECT_EQ(status->sessions.at("th_prod_a_1").object.state, ObjectState::kApplied);

  ASSERT_TRUE(registry->remove("prod-a", std::nullopt));
  reconciler.runOnce();
  EXPECT_FALSE(fs::exists(conf));
  EXPECT_EQ(read(secrets).find(psk), std::string::npos);
  EXPECT_EQ(read(include).find("th_prod_a_1"), std::string::npos);
  EXPECT_TRUE(reconciler.status()->tunnels.empty());
}

}  // namespace
}  // namespace transit::hub
