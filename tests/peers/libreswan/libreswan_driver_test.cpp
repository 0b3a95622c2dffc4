#include "peers/libreswan/libreswan_driver.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fakes/fake_command_runner.hpp"

namespace transit::peers {
namespace {

using testing::FakeCommandRunner;
using testing::reply;
using testing::transcriptBlock;
using Kind = DriverError::Kind;

Ipv4Address ip(std::string_view text) { return Ipv4Address::parse(text).value(); }

std::string data(const std::string& name) {
  return std::string(TRANSIT_TEST_DATA) + "/libreswan/" + name;
}

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777U;
}

constexpr const char* kPsk = "Very_secret.psk1";

class LibreswanDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "th-ls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    options_.whack = "/x/whack";
    options_.addconn = "/x/addconn";
    options_.ctl_socket = dir_ + "/run/pluto.ctl";
    options_.conf_dir = dir_ + "/conns";
    options_.secrets_file = dir_ + "/hub.secrets";
    options_.pid_file = dir_ + "/run/pluto.pid";
    options_.links = TunnelLinks::kExternal;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<LibreswanDriver> makeDriver() {
    auto driver = LibreswanDriver::create(options_, runner_);
    EXPECT_TRUE(driver.has_value());
    return driver ? std::move(*driver) : nullptr;
  }

  static TunnelSpec spec(const std::string& name = "th-prod-a-1") {
    TunnelSpec s;
    s.name = name;
    s.spoke = "prod-a";
    s.local_address = ip("192.0.2.1");
    s.local_id = ip("192.0.2.1");
    s.remote_address = ip("192.0.2.2");
    s.inside_cidr = Ipv4Prefix::parse("169.254.20.0/30").value();
    s.hub_inside = ip("169.254.20.2");
    s.psk = kPsk;
    s.interface_id = 7;
    return s;
  }

  // pluto's --status reports `name` loaded (with the UP policy when up_policy).
  void statusLoaded(const std::string& name, bool up_policy) {
    auto status = transcriptBlock(data("ipsec_t_status_idle.txt"), "--status", 0, "tun1", name);
    if (up_policy) {
      const std::string from = "+PFS+";
      status.output.replace(status.output.find(from), from.size(), "+PFS+UP+");
    }
    runner_.on({"--status"}, reply(status.output));
  }

  std::string confPath(const std::string& name = "th-prod-a-1") const {
    return options_.conf_dir + "/" + name + ".conf";
  }

  std::string dir_;
  LibreswanOptions options_;
  FakeCommandRunner runner_;
};

TEST_F(LibreswanDriverTest, FirstApplyWritesFilesLoadsAndInitiates) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());

  EXPECT_EQ(slurp(confPath()), renderConnection(spec(), options_));
  EXPECT_EQ(modeOf(confPath()), 0600U);
  const auto secrets = slurp(options_.secrets_file);
  ASSERT_TRUE(secrets.has_value());
  EXPECT_NE(secrets->find("192.0.2.1 192.0.2.2 : PSK \"Very_secret.psk1\""), std::string::npos);
  EXPECT_EQ(modeOf(options_.secrets_file), 0600U);

  const std::vector<std::string> addconn{"/x/addconn", "--ctlsocket",           options_.ctl_socket,
                                         "--config",   confPath() + ".pending", "th-prod-a-1"};
  const std::vector<std::string> initiate{"/x/whack",      "--ctlsocket", options_.ctl_socket,
                                          "--name",        "th-prod-a-1", "--initiate",
                                          "--asynchronous"};
  ASSERT_EQ(runner_.calls.size(), 4U);  // --status, --rereadsecrets, addconn, initiate
  EXPECT_EQ(runner_.calls[2], addconn);
  EXPECT_EQ(runner_.calls[3], initiate);
  EXPECT_EQ(runner_.count({"--rereadsecrets"}), 1);
}

TEST_F(LibreswanDriverTest, NoInitiateWhenNotAsked) {
  auto driver = makeDriver();
  auto s = spec();
  s.initiate = false;
  ASSERT_TRUE(driver->apply(s).has_value());
  EXPECT_EQ(runner_.count({"/x/addconn"}), 1);
  EXPECT_EQ(runner_.count({"--initiate"}), 0);
}

TEST_F(LibreswanDriverTest, IdenticalReapplyOfAnInitiatedTunnelRunsNothingButStatus) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  runner_.calls.clear();
  statusLoaded("th-prod-a-1", true);
  ASSERT_TRUE(driver->apply(spec()).has_value());
  ASSERT_EQ(runner_.calls.size(), 1U);
  EXPECT_EQ(runner_.count({"--status"}), 1);
}

TEST_F(LibreswanDriverTest, IdenticalReapplyOfALoadedIdleTunnelOnlyInitiates) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  runner_.calls.clear();
  statusLoaded("th-prod-a-1", false);
  ASSERT_TRUE(driver->apply(spec()).has_value());
  EXPECT_EQ(runner_.count({"/x/addconn"}), 0);
  EXPECT_EQ(runner_.count({"--initiate"}), 1);
}

TEST_F(LibreswanDriverTest, PskOnlyChangeRereadsSecretsWithoutReloading) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  runner_.calls.clear();
  statusLoaded("th-prod-a-1", true);
  auto changed = spec();
  changed.psk = "Another_key.2";
  ASSERT_TRUE(driver->apply(changed).has_value());
  EXPECT_EQ(runner_.count({"--rereadsecrets"}), 1);
  EXPECT_EQ(runner_.count({"/x/addconn"}), 0);
  EXPECT_EQ(runner_.count({"--initiate"}), 0);
  const auto secrets = slurp(options_.secrets_file).value_or("");
  EXPECT_NE(secrets.find("Another_key.2"), std::string::npos);
  EXPECT_EQ(secrets.find(kPsk), std::string::npos);
}

TEST_F(LibreswanDriverTest, ChangedSpecReloadsTheConnection) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  runner_.calls.clear();
  statusLoaded("th-prod-a-1", true);
  auto changed = spec();
  changed.interface_id = 8;
  ASSERT_TRUE(driver->apply(changed).has_value());
  EXPECT_EQ(runner_.count({"/x/addconn"}), 1);
  EXPECT_EQ(runner_.count({"--initiate"}), 1);
  EXPECT_EQ(runner_.count({"--rereadsecrets"}), 0);
  EXPECT_EQ(slurp(confPath()), renderConnection(changed, options_));
}

TEST_F(LibreswanDriverTest, FileOnDiskButNotLoadedInPlutoIsLoaded) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  runner_.calls.clear();  // pluto restarted: --status lists nothing
  ASSERT_TRUE(driver->apply(spec()).has_value());
  EXPECT_EQ(runner_.count({"/x/addconn"}), 1);
  EXPECT_EQ(runner_.count({"--initiate"}), 1);
}

TEST_F(LibreswanDriverTest, RemoveDeletesConnectionFileAndSecret) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  ASSERT_TRUE(driver->apply(spec("th-prod-a-2")).has_value());
  runner_.calls.clear();
  const auto deleted =
      transcriptBlock(data("ipsec_t_delete.txt"), "--name tun1 --delete", 0, "tun1", "th-prod-a-1");
  runner_.on({"--delete"}, reply(deleted.output));
  ASSERT_TRUE(driver->remove("th-prod-a-1").has_value());
  EXPECT_EQ(runner_.count({"--name", "th-prod-a-1", "--delete"}), 1);
  EXPECT_FALSE(std::filesystem::exists(confPath()));
  EXPECT_TRUE(std::filesystem::exists(confPath("th-prod-a-2")));
  const auto secrets = slurp(options_.secrets_file).value_or("");
  EXPECT_EQ(secrets.find("# conn th-prod-a-1\n"), std::string::npos);
  EXPECT_NE(secrets.find("# conn th-prod-a-2\n"), std::string::npos);
  EXPECT_EQ(runner_.count({"--rereadsecrets"}), 1);
}

TEST_F(LibreswanDriverTest, RemovingAMissingTunnelSucceeds) {
  auto driver = makeDriver();
  EXPECT_TRUE(driver->remove("th-never-1").has_value());
}

TEST_F(LibreswanDriverTest, ForeignNamesAreRefusedWithoutRunningAnything) {
  auto driver = makeDriver();
  const auto removed = driver->remove("tun1");
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().kind, Kind::kInvalid);
  const auto applied = driver->apply(spec("tun1"));
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kInvalid);
  EXPECT_TRUE(driver->remove("th-../../etc/passwd").error().kind == Kind::kInvalid);
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(LibreswanDriverTest, ForeignConnectionsAreNotObservedNorTouched) {
  ASSERT_TRUE(std::filesystem::create_directories(dir_ + "/run"));
  std::ofstream(options_.pid_file) << ::getpid() << "\n";
  auto driver = makeDriver();
  runner_.on({"--status"}, reply(transcriptBlock(data("ipsec_t_status_idle.txt"), "--status")
                                     .output));  // loads foreign "tun1"
  runner_.on({"--showstates"},
             reply(transcriptBlock(data("ipsec_t_est.txt"), "--showstates").output));
  ASSERT_TRUE(driver->apply(spec()).has_value());
  const auto seen = driver->observe();
  ASSERT_TRUE(seen.has_value());
  // Only the hub's own connection (its file and secret; this pluto has not loaded it).
  ASSERT_EQ(seen->tunnels.size(), 1U);
  EXPECT_EQ(seen->tunnels[0].name, "th-prod-a-1");
  EXPECT_FALSE(seen->tunnels[0].loaded);
  for (const auto& argv : runner_.calls) {
    for (const auto& word : argv) {
      EXPECT_NE(word, "tun1");
    }
  }
}

TEST_F(LibreswanDriverTest, ObserveReportsOwnedTunnelsAndDaemonInstance) {
  ASSERT_TRUE(std::filesystem::create_directories(dir_ + "/run"));
  std::ofstream(options_.pid_file) << ::getpid() << "\n";
  auto driver = makeDriver();
  statusLoaded("th-prod-a-1", true);
  runner_.on({"--showstates"}, reply(transcriptBlock(data("ipsec_t_est.txt"), "--showstates", 0,
                                                     "tun1", "th-prod-a-1")
                                         .output));
  const auto seen = driver->observe();
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(seen->daemon_instance.starts_with(std::to_string(::getpid()) + ":"));
  EXPECT_GT(seen->daemon_instance.size(), std::to_string(::getpid()).size() + 1);
  ASSERT_EQ(seen->tunnels.size(), 1U);
  EXPECT_TRUE(seen->tunnels[0].loaded);
  EXPECT_TRUE(seen->tunnels[0].ike_up);
  EXPECT_FALSE(seen->tunnels[0].ipsec_up);
}

// A removal while pluto was down, or a crash between writing a connection and loading it, leaves
// a file or a secret that no pluto has: observe() reports it (not loaded), so the reconciler
// removes it when no spoke wants it (or loads it when one does), and remove() leaves nothing.
TEST_F(LibreswanDriverTest, WhatTheHubHoldsOnDiskIsObservedEvenWhenPlutoHasItNot) {
  ASSERT_TRUE(std::filesystem::create_directories(dir_ + "/run"));
  std::ofstream(options_.pid_file) << ::getpid() << "\n";
  // Left by a crash before this run: a pending file, and a file that is not the hub's.
  ASSERT_TRUE(std::filesystem::create_directories(options_.conf_dir));
  std::ofstream(confPath("th-prod-b-1") + ".pending") << "conn th-prod-b-1\n";
  std::ofstream(confPath("not-ours")) << "conn not-ours\n";
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  runner_.calls.clear();  // pluto restarted: --status lists nothing
  const auto seen = driver->observe();
  ASSERT_TRUE(seen.has_value());
  std::vector<std::string> names;
  for (const auto& tunnel : seen->tunnels) {
    names.push_back(tunnel.name);
    EXPECT_FALSE(tunnel.loaded) << tunnel.name;
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("th-prod-a-1", "th-prod-b-1"));

  ASSERT_TRUE(driver->remove("th-prod-a-1").has_value());
  ASSERT_TRUE(driver->remove("th-prod-b-1").has_value());
  EXPECT_FALSE(std::filesystem::exists(confPath()));
  EXPECT_FALSE(std::filesystem::exists(confPath("th-prod-b-1") + ".pending"));
  EXPECT_TRUE(std::filesystem::exists(confPath("not-ours")));
  EXPECT_EQ(slurp(options_.secrets_file).value_or("").find("th-prod-a-1"), std::string::npos);
  const auto after = driver->observe();
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->tunnels.empty());
}

constexpr const char* kTwoIkeSas =
    "000 #23: \"th-prod-a-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in "
    "28452s; REPLACE in 28735s; idle;\n"
    "000 #25: \"th-prod-a-1\":4500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in "
    "28600s; REPLACE in 28735s; newest; idle;\n";

TEST_F(LibreswanDriverTest, DeleteIkeSaDeletesAnEstablishedIkeSaOfThatConnection) {
  auto driver = makeDriver();
  runner_.on({"--showstates"}, reply(kTwoIkeSas));
  ASSERT_TRUE(driver->deleteIkeSa("th-prod-a-1", 23).has_value());
  ASSERT_EQ(runner_.count({"--deletestate"}), 1);
  EXPECT_EQ(runner_.calls.back(),
            (std::vector<std::string>{"/x/whack", "--ctlsocket", options_.ctl_socket,
                                      "--deletestate", "23"}));
}

TEST_F(LibreswanDriverTest, DeleteIkeSaOfAnotherConnectionsStateDeletesNothing) {
  auto driver = makeDriver();
  runner_.on({"--showstates"}, reply(kTwoIkeSas));
  EXPECT_TRUE(driver->deleteIkeSa("th-prod-b-1", 23).has_value());
  EXPECT_TRUE(driver->deleteIkeSa("th-prod-a-1", 24).has_value());  // no such state
  EXPECT_EQ(runner_.count({"--deletestate"}), 0);
}

TEST_F(LibreswanDriverTest, DeleteIkeSaOfAStateGoneMeanwhileSucceeds) {
  auto driver = makeDriver();
  runner_.on({"--showstates"}, reply(kTwoIkeSas));
  runner_.on({"--deletestate"}, reply("021 no state #23 to delete\n", 21));
  EXPECT_TRUE(driver->deleteIkeSa("th-prod-a-1", 23).has_value());
}

TEST_F(LibreswanDriverTest, DeleteIkeSaFailureIsAnError) {
  auto driver = makeDriver();
  runner_.on({"--showstates"}, reply(kTwoIkeSas));
  runner_.on({"--deletestate"}, reply("", 1, "whack: something broke"));
  const auto deleted = driver->deleteIkeSa("th-prod-a-1", 23);
  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().kind, Kind::kTransient);
}

TEST_F(LibreswanDriverTest, DeleteIkeSaRefusesForeignNamesWithoutRunningAnything) {
  auto driver = makeDriver();
  const auto deleted = driver->deleteIkeSa("other-1", 23);
  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().kind, Kind::kInvalid);
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(LibreswanDriverTest, ObserveWithoutPidFileNeedsPluto) {
  auto driver = makeDriver();
  const auto seen = driver->observe();
  ASSERT_FALSE(seen.has_value());
  EXPECT_EQ(seen.error().kind, Kind::kNeedsDependency);
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(LibreswanDriverTest, ObserveWithStalePidFileNeedsPluto) {
  ASSERT_TRUE(std::filesystem::create_directories(dir_ + "/run"));
  std::ofstream(options_.pid_file) << "2147483646\n";
  auto driver = makeDriver();
  const auto seen = driver->observe();
  ASSERT_FALSE(seen.has_value());
  EXPECT_EQ(seen.error().kind, Kind::kNeedsDependency);
}

TEST_F(LibreswanDriverTest, PlutoNotRunningNeedsDependency) {
  auto driver = makeDriver();
  runner_.on({"/x/whack"},
             reply("", 33, "whack: Pluto is not running (no \"/run/pluto/pluto.ctl\")\n"));
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kNeedsDependency);
}

TEST_F(LibreswanDriverTest, MissingWhackNeedsDependency) {
  auto driver = makeDriver();
  runner_.failToStart({"/x/whack"}, "cannot start /x/whack: No such file or directory");
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kNeedsDependency);
}

TEST_F(LibreswanDriverTest, TimeoutIsTransient) {
  auto driver = makeDriver();
  CommandResult slow;
  slow.timed_out = true;
  slow.signal = 15;
  runner_.on({"--status"}, slow);
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kTransient);
}

TEST_F(LibreswanDriverTest, AddconnRefusalWithoutOutputIsInvalid) {
  auto driver = makeDriver();
  const auto refused = transcriptBlock(data("ipsec_t_addconn_err.txt"), "badalg", 1);
  ASSERT_EQ(refused.exit_code, 36);
  runner_.on({"/x/addconn"}, reply(refused.output, refused.exit_code));
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kInvalid);
  EXPECT_EQ(runner_.count({"--initiate"}), 0);
}

TEST_F(LibreswanDriverTest, AddconnSyntaxErrorIsInvalid) {
  auto driver = makeDriver();
  const auto refused = transcriptBlock(data("ipsec_t_addconn_err.txt"), "badalg", 0);
  runner_.on({"/x/addconn"}, reply("", refused.exit_code, refused.output));
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kInvalid);
  EXPECT_NE(applied.error().message.find("syntax error"), std::string::npos);
}

TEST_F(LibreswanDriverTest, InitiateErrorLineFailsEvenWithExitZero) {
  auto driver = makeDriver();
  const auto failed =
      transcriptBlock(data("ipsec_t_errors.txt"), "nosuch --initiate", 0, "nosuch", "th-prod-a-1");
  runner_.on({"--initiate"}, reply(failed.output, 0));
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kTransient);
  EXPECT_NE(applied.error().message.find("021"), std::string::npos);
}

TEST_F(LibreswanDriverTest, ChildSaFailureAfterInitiateIsNotAnApplyError) {
  // Whether the tunnel comes up is observe()'s business; apply only starts negotiation.
  auto driver = makeDriver();
  runner_.on({"--initiate"}, reply(transcriptBlock(data("ipsec_t_initiate.txt"), "--initiate", 0,
                                                   "tun1", "th-prod-a-1")
                                       .output));
  EXPECT_TRUE(driver->apply(spec()).has_value());
}

TEST_F(LibreswanDriverTest, SecretsNeverAppearInErrors) {
  auto driver = makeDriver();
  // pluto quotes words of a bad secrets line back; make those words the key.
  auto bad = transcriptBlock(data("ipsec_t_secrets_bad.txt"), "--rereadsecrets").output;
  bad.replace(bad.find("missing colon"), 13, kPsk);
  runner_.on({"--rereadsecrets"}, reply(bad, 0, std::string("stderr ") + kPsk));
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().message.find(kPsk), std::string::npos);
  EXPECT_NE(applied.error().message.find("secrets file"), std::string::npos);

  FakeCommandRunner loud;
  loud.on({"/x/addconn"}, reply(std::string("echo ") + kPsk, 36, kPsk));
  auto driver2 = LibreswanDriver::create(options_, loud);
  ASSERT_TRUE(driver2.has_value());
  auto s = spec("th-prod-b-1");
  s.psk = "Another_key.9";
  loud.on({"/x/addconn"}, reply(std::string("x ") + s.psk, 36, s.psk));
  const auto refused = (*driver2)->apply(s);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message.find(s.psk), std::string::npos);
  EXPECT_EQ(refused.error().message.find(kPsk), std::string::npos);
}

TEST_F(LibreswanDriverTest, RestartKeepsSecretsOfTunnelsNotYetReapplied) {
  {
    auto driver = makeDriver();
    ASSERT_TRUE(driver->apply(spec("th-prod-a-1")).has_value());
    auto other = spec("th-prod-a-2");
    other.remote_address = ip("192.0.2.3");
    other.psk = "Second_key.2";
    ASSERT_TRUE(driver->apply(other).has_value());
  }
  auto restarted = makeDriver();
  auto changed = spec("th-prod-a-1");
  changed.psk = "Rotated_key.3";
  ASSERT_TRUE(restarted->apply(changed).has_value());
  const auto secrets = slurp(options_.secrets_file).value_or("");
  EXPECT_NE(secrets.find("192.0.2.1 192.0.2.3 : PSK \"Second_key.2\""), std::string::npos);
  EXPECT_NE(secrets.find("Rotated_key.3"), std::string::npos);
  EXPECT_EQ(secrets.find(kPsk), std::string::npos);
}

TEST_F(LibreswanDriverTest, RestartRereadsSecretsOnceAndReloadsNothing) {
  {
    auto driver = makeDriver();
    ASSERT_TRUE(driver->apply(spec()).has_value());
  }
  auto restarted = makeDriver();
  runner_.calls.clear();
  statusLoaded("th-prod-a-1", true);
  ASSERT_TRUE(restarted->apply(spec()).has_value());
  EXPECT_EQ(runner_.count({"--rereadsecrets"}), 1);  // the old process may have died before it
  EXPECT_EQ(runner_.count({"/x/addconn"}), 0);
  EXPECT_EQ(runner_.count({"--initiate"}), 0);
  runner_.calls.clear();
  ASSERT_TRUE(restarted->apply(spec()).has_value());
  EXPECT_EQ(runner_.calls.size(), 1U);
}

TEST_F(LibreswanDriverTest, FailedLoadIsRetriedByTheNextApply) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  statusLoaded("th-prod-a-1", true);
  auto changed = spec();
  changed.interface_id = 9;
  runner_.on({"/x/addconn"}, testing::reply("", 1), 1);  // one failure
  ASSERT_FALSE(driver->apply(changed).has_value());
  EXPECT_EQ(slurp(confPath()), renderConnection(spec(), options_));  // still the loaded one
  EXPECT_FALSE(std::filesystem::exists(confPath() + ".pending"));
  runner_.calls.clear();
  ASSERT_TRUE(driver->apply(changed).has_value());
  EXPECT_EQ(runner_.count({"/x/addconn"}), 1);
  EXPECT_EQ(slurp(confPath()), renderConnection(changed, options_));
}

TEST_F(LibreswanDriverTest, FailedSecretsRereadIsRetriedByTheNextApply) {
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  statusLoaded("th-prod-a-1", true);
  auto changed = spec();
  changed.psk = "Rotated_key.4";
  CommandResult slow;
  slow.timed_out = true;
  runner_.on({"--rereadsecrets"}, slow, 1);
  ASSERT_FALSE(driver->apply(changed).has_value());
  runner_.calls.clear();
  ASSERT_TRUE(driver->apply(changed).has_value());
  EXPECT_EQ(runner_.count({"--rereadsecrets"}), 1);
}

// kXfrm: the hub makes ipsecN (XfrmLinks, tested on its own in xfrm_links_test.cpp).
class LibreswanDriverXfrmTest : public LibreswanDriverTest {
 protected:
  void SetUp() override {
    LibreswanDriverTest::SetUp();
    options_.links = TunnelLinks::kXfrm;
    options_.xfrm.ip = "/x/ip";
    options_.xfrm.underlay_device = "eth0";
  }

  // Where in runner_.calls the first command with all needles is (calls.size() if none).
  std::size_t firstCall(const std::vector<std::string>& needles) const {
    for (std::size_t i = 0; i < runner_.calls.size(); ++i) {
      FakeCommandRunner probe;
      probe.calls.push_back(runner_.calls[i]);
      if (probe.count(needles) == 1) {
        return i;
      }
    }
    return runner_.calls.size();
  }

  // `ip -j -d link show dev ipsecN` finds nothing (for the next `times` reads; -1: always).
  void linkAbsent(int id, int times) {
    runner_.on({"link", "show", "ipsec" + std::to_string(id)},
               reply("", 1, "Device \"ipsec" + std::to_string(id) + "\" does not exist.\n"), times);
  }

  // ipsec7 as `ip -j` shows it once the hub made it (if_id printed as iproute2 6.1 does).
  void linkExists() {
    runner_.on({"link", "show", "ipsec7"},
               reply(R"([{"ifindex":12,"ifname":"ipsec7","link":"eth0","flags":["NOARP","UP",)"
                     R"("LOWER_UP"],"mtu":1399,"qdisc":"noqueue","operstate":"UNKNOWN",)"
                     R"("link_type":"none","linkinfo":{"info_kind":"xfrm","info_data":)"
                     R"({"if_id":"0x7"}}}])"));
  }
};

TEST_F(LibreswanDriverXfrmTest, ApplyMakesTheLinkBeforeLoadingTheConnection) {
  linkAbsent(7, -1);
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  const auto addconn = firstCall({"/x/addconn"});
  ASSERT_LT(addconn, runner_.calls.size());
  EXPECT_LT(firstCall({"/x/ip", "link", "add", "ipsec7", "if_id", "7"}), addconn);
  EXPECT_LT(firstCall({"/x/ip", "addr", "add", "169.254.20.2/30", "dev", "ipsec7"}), addconn);
  EXPECT_LT(firstCall({"/x/ip", "link", "set", "dev", "ipsec7", "up"}), addconn);
  EXPECT_NE(slurp(confPath()).value_or("").find("\tipsec-interface=7\n"), std::string::npos);
}

TEST_F(LibreswanDriverXfrmTest, RemoveAfterARestartStillDeletesTheLink) {
  linkAbsent(7, 1);
  {
    auto driver = makeDriver();
    ASSERT_TRUE(driver->apply(spec()).has_value());
  }
  linkExists();
  auto restarted = makeDriver();
  runner_.calls.clear();
  ASSERT_TRUE(restarted->remove("th-prod-a-1").has_value());
  const auto link_del = firstCall({"/x/ip", "link", "del", "dev", "ipsec7"});
  ASSERT_LT(link_del, runner_.calls.size());
  EXPECT_GT(link_del, firstCall({"--name", "th-prod-a-1", "--delete"}));  // after pluto let go
  EXPECT_FALSE(std::filesystem::exists(confPath()));
}

TEST_F(LibreswanDriverXfrmTest, FailedLinkRemovalKeepsTheConfSoRemoveIsRetried) {
  linkAbsent(7, 1);
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  linkExists();
  runner_.on({"link", "del"}, reply("", 2, "RTNETLINK answers: Device or resource busy\n"), 1);
  ASSERT_FALSE(driver->remove("th-prod-a-1").has_value());
  EXPECT_TRUE(std::filesystem::exists(confPath()));
  auto restarted = makeDriver();
  runner_.calls.clear();
  ASSERT_TRUE(restarted->remove("th-prod-a-1").has_value());
  EXPECT_EQ(runner_.count({"/x/ip", "link", "del", "dev", "ipsec7"}), 1);
}

TEST_F(LibreswanDriverXfrmTest, MovingToAnotherInterfaceIdDeletesTheOldLink) {
  linkAbsent(7, 1);
  linkAbsent(8, -1);
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  linkExists();
  statusLoaded("th-prod-a-1", true);
  runner_.calls.clear();
  auto moved = spec();
  moved.interface_id = 8;
  ASSERT_TRUE(driver->apply(moved).has_value());
  EXPECT_LT(firstCall({"/x/ip", "link", "del", "dev", "ipsec7"}), firstCall({"/x/addconn"}));
  EXPECT_EQ(runner_.count({"/x/ip", "link", "add", "ipsec8"}), 1);
}

TEST_F(LibreswanDriverXfrmTest, ForeignDeviceRefusesTheTunnelBeforePlutoSeesIt) {
  runner_.on({"link", "show", "ipsec7"},
             reply(R"([{"ifindex":3,"ifname":"ipsec7","flags":["BROADCAST","NOARP"],)"
                   R"("mtu":1500,"linkinfo":{"info_kind":"dummy"}}])"));
  auto driver = makeDriver();
  const auto applied = driver->apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, Kind::kInvalid);
  EXPECT_EQ(runner_.count({"/x/addconn"}), 0);
  EXPECT_EQ(runner_.count({"link", "del"}), 0);
}

TEST_F(LibreswanDriverTest, ExternalLinksRunNoIpCommand) {
  options_.xfrm.ip = "/x/ip";
  auto driver = makeDriver();
  ASSERT_TRUE(driver->apply(spec()).has_value());
  ASSERT_TRUE(driver->remove("th-prod-a-1").has_value());
  auto restarted = makeDriver();
  ASSERT_TRUE(restarted->remove("th-prod-a-1").has_value());
  EXPECT_EQ(runner_.count({"/x/ip"}), 0);
}

}  // namespace
}  // namespace transit::peers
