// Dry-run of the routing driver: the live BirdDriver over a DryRunBirdChannel. The include file
// is the live driver's, BIRD's apply sequence is in the log as the driver really sends it, and
// the observation is an idle BIRD's: the applied sessions present, none established.
#include "routing/bird/dry_run_channel.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "routing/base/file_io.hpp"
#include "routing/bird/bird_driver.hpp"
#include "routing/bird/bird_status.hpp"
#include "tests/fakes/log_capture.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::routing {
namespace {

namespace fs = std::filesystem;
using fakes::LogCapture;

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

RoutingSpec routingSpec() {
  BgpSessionSpec session;
  session.name = "th_prod_a_1";
  session.spoke = "prod-a";
  session.spoke_tag = 1;
  session.local_address = ip("169.254.20.2");
  session.neighbor_address = ip("169.254.20.1");
  session.neighbor_as = 64512;
  session.accepted = {*Ipv4Prefix::parse("10.1.0.0/16")};
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("203.0.113.10");
  spec.sessions = {session};
  return spec;
}

std::string read(const fs::path& path) { return readWholeFile(path.string()).value_or(""); }

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

// Options whose include file is in `dir` (never the system's /etc/bird).
BirdOptions optionsIn(const fs::path& dir) {
  fs::create_directories(dir / "bird");
  BirdOptions options;
  options.include_path = (dir / "bird" / "transit-hub.conf").string();
  options.router_id = ip("10.0.0.10");
  return options;
}

class DryRunBirdChannelTest : public ::testing::Test {
 protected:
  fs::path include() const { return temp_ / "bird" / "transit-hub.conf"; }

  fakes::TempDir temp_;
  BirdOptions options_ = optionsIn(temp_.path());
  DryRunBirdChannel channel_{options_};
  BirdDriver driver_{options_, channel_};
};

TEST_F(DryRunBirdChannelTest, WritesTheIncludeFileTheLiveDriverWould) {
  ASSERT_TRUE(driver_.apply(routingSpec()));
  EXPECT_EQ(read(include()), *renderInclude(routingSpec(), options_));
}

TEST_F(DryRunBirdChannelTest, LogsTheSocketCommandsLiveModeWouldSend) {
  LogCapture log;
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const std::string text = log.text();
  const std::string to = "dry-run: would send to /run/bird/bird.ctl: ";
  const auto check = text.find(to + "configure check \"/etc/bird/bird.conf\"\n");
  const auto configure = text.find(to + "configure \"/etc/bird/bird.conf\" timeout 30\n");
  const auto confirm = text.find(to + "configure confirm\n");
  ASSERT_NE(check, std::string::npos) << text;
  ASSERT_NE(configure, std::string::npos) << text;
  ASSERT_NE(confirm, std::string::npos) << text;
  EXPECT_LT(check, configure);
  EXPECT_LT(configure, confirm);
  EXPECT_EQ(text.find("show protocols"), std::string::npos) << "queries are logged at debug";
}

TEST_F(DryRunBirdChannelTest, TheVerificationBetweenConfigureAndConfirmIsSentAtDebug) {
  LogCapture log(spdlog::level::debug);
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const std::string text = log.text();
  const std::string to = "dry-run: would send to /run/bird/bird.ctl: ";
  const auto configure = text.find(to + "configure \"/etc/bird/bird.conf\" timeout 30\n");
  const auto verify = text.find(to + "show protocols \"th_*\"\n", configure);
  const auto confirm = text.find(to + "configure confirm\n");
  ASSERT_NE(verify, std::string::npos) << text;
  EXPECT_LT(verify, confirm);
}

TEST_F(DryRunBirdChannelTest, AnIdenticalSpecRewritesAndLogsNothing) {
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const auto before = version(include());
  LogCapture log;
  ASSERT_TRUE(driver_.apply(routingSpec()));
  EXPECT_EQ(version(include()), before);
  EXPECT_EQ(log.text(), "");
}

TEST_F(DryRunBirdChannelTest, RendererErrorsPassThroughAndNothingIsWritten) {
  auto spec = routingSpec();
  spec.sessions[0].name = "prod_a_1";  // not the hub's prefix
  LogCapture log;
  const auto result = driver_.apply(spec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_EQ(result.error().message, renderInclude(spec, options_).error().message);
  EXPECT_FALSE(fs::exists(include()));
  EXPECT_EQ(log.text(), "");
}

TEST_F(DryRunBirdChannelTest, ObserveReportsTheAppliedSessionsNotEstablished) {
  const auto empty = driver_.observe();
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->sessions.empty());
  ASSERT_TRUE(driver_.apply(routingSpec()));
  const auto observed = driver_.observe();
  ASSERT_TRUE(observed);
  EXPECT_EQ(observed->daemon_instance, empty->daemon_instance) << "the same BIRD all along";
  ASSERT_EQ(observed->sessions.size(), 1u);
  EXPECT_EQ(observed->sessions[0].name, "th_prod_a_1");
  EXPECT_EQ(observed->sessions[0].protocol_state, "start");
  EXPECT_EQ(observed->sessions[0].bgp_state, "Active");
  EXPECT_FALSE(observed->sessions[0].established);
  EXPECT_TRUE(observed->routes.empty());
  EXPECT_FALSE(observed->routes_error);
}

TEST_F(DryRunBirdChannelTest, ARestartedChannelRunsTheIncludeAnEarlierRunLeft) {
  ASSERT_TRUE(driver_.apply(routingSpec()));
  DryRunBirdChannel restarted(options_);
  BirdDriver driver(options_, restarted);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed);
  ASSERT_EQ(observed->sessions.size(), 1u);
  LogCapture log;
  ASSERT_TRUE(driver.apply(routingSpec()));
  EXPECT_EQ(log.text(), "") << "adopted without a reconfiguration";
}

TEST_F(DryRunBirdChannelTest, RemovedSessionsGoFromTheObservation) {
  ASSERT_TRUE(driver_.apply(routingSpec()));
  RoutingSpec none = routingSpec();
  none.sessions.clear();
  ASSERT_TRUE(driver_.apply(none));
  EXPECT_TRUE(driver_.observe()->sessions.empty());
}

TEST_F(DryRunBirdChannelTest, RepliesCarryBirdsCodes) {
  EXPECT_EQ(channel_.command("configure check \"/etc/bird/bird.conf\"")->code, 20);
  EXPECT_EQ(channel_.command("configure \"/etc/bird/bird.conf\" timeout 30")->code, 3);
  EXPECT_EQ(channel_.command("configure confirm")->code, 18);
  EXPECT_EQ(channel_.command("configure undo")->code, 4);
  EXPECT_EQ(channel_.command("show status")->code, 13);
  EXPECT_EQ(channel_.command("show protocols \"th_*\"")->code, 8003);
  EXPECT_EQ(channel_.command("show route all where proto ~ \"th_*\"")->code, 0);
  const auto status = parseShowStatus(*channel_.command("show status"));
  ASSERT_TRUE(status) << status.error();
  EXPECT_EQ(status->router_id, "10.0.0.10");
  EXPECT_FALSE(status->last_reboot.empty());
}

}  // namespace
}  // namespace transit::routing
