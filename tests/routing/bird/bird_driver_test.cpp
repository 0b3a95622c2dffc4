// BirdDriver tests (unit) against FakeBirdServer. bird_driver_tool_test.cpp runs the driver
// against a real BIRD on a temporary socket.
#include "tests/routing/bird/bird_driver_fixtures.hpp"

namespace transit::routing {
namespace {

using fakes::FakeBirdServer;

// A scripted BIRD: answers configure commands with fixed replies and `show protocols` with
// the protocols in `running`.
class FakeBird {
 public:
  explicit FakeBird(const std::string& socket_path)
      : server_(socket_path, [this](const std::string& command) { return answer(command); }) {}

  std::vector<std::string> commands() const { return server_.commands(); }

  std::set<std::string> running;
  std::string last_reboot = "2026-11-26 04:37:45.227";
  std::string check_reply = "0002-Reading configuration from x\n0020 Configuration OK\n";
  std::string configure_reply =
      "0002-Reading configuration from x\n0022-Undo scheduled in 30 s\n0003 Reconfigured\n";
  std::set<std::string> after_configure;  // `running` after a successful configure
  bool apply_configure = true;
  std::string routes_reply = "0000 \n";           // show route all where proto ~ ...
  std::string filtered_routes_reply = "0000 \n";  // show route filtered all where proto ~ ...

 private:
  FakeBirdServer::Response answer(const std::string& command) {
    std::string reply;
    if (command.rfind("configure check", 0) == 0) {
      reply = check_reply;
    } else if (command.rfind("configure confirm", 0) == 0) {
      reply = "0018 Reconfiguration confirmed\n";
    } else if (command.rfind("configure undo", 0) == 0) {
      reply = "0021-Undo requested\n0004 Reconfiguration in progress\n";
    } else if (command.rfind("configure \"", 0) == 0) {
      reply = configure_reply;
      if (apply_configure && configure_reply.find("000") != std::string::npos) {
        running = after_configure;
      }
    } else if (command == "show status") {
      reply = "1000-BIRD 2.0.12\n1011-Router ID is 10.255.0.1\n Last reboot on " + last_reboot +
              "\n0013 Daemon is up and running\n";
    } else if (command.rfind("show protocols all", 0) == 0) {
      reply = "2002-Name       Proto      Table      State  Since         Info\n";
      for (const auto& name : running) {
        reply += "1002-" + name + "  BGP  ---  start  2026-11-26 04:38:35  Active\n";
        reply += "1006-  BGP state:          Active\n";
        reply += "     Routes:         1 imported, 2 filtered, 3 exported, 1 preferred\n";
      }
      reply = running.empty() ? "8003 No protocols match\n" : reply + "0000 \n";
    } else if (command.rfind("show route all where proto ~ ", 0) == 0) {
      reply = routes_reply;
    } else if (command.rfind("show route filtered all where proto ~ ", 0) == 0) {
      reply = filtered_routes_reply;
    } else if (command.rfind("show protocols", 0) == 0) {
      reply = "2002-Name       Proto      Table      State  Since         Info\n";
      for (const auto& name : running) {
        reply += "1002-" + name + "  BGP  ---  start  2026-11-26 04:38:35  Active\n";
      }
      reply = running.empty() ? "8003 No protocols match\n" : reply + "0000 \n";
    } else {
      reply = "9001 syntax error\n";
    }
    return FakeBirdServer::Response{{reply}};
  }

  FakeBirdServer server_;
};

class BirdDriverTest : public ::testing::Test {
 protected:
  TempDir dir_;
  BirdOptions options_ = optionsIn(dir_);
};

TEST_F(BirdDriverTest, ApplyChecksConfiguresVerifiesAndConfirms) {
  FakeBird bird(options_.socket_path);
  bird.after_configure = {"th_vpc_a_1", "th_vpc_b_1"};
  BirdDriver driver(options_);
  const auto result = driver.apply(twoSessions());
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const auto main = "\"" + options_.main_config_path + "\"";
  EXPECT_EQ(bird.commands(), (std::vector<std::string>{
                                 "configure check " + main,
                                 "configure " + main + " timeout 30",
                                 "show protocols \"th_*\"",
                                 "configure confirm",
                             }));
  EXPECT_EQ(readWholeFile(options_.include_path), *renderInclude(twoSessions(), options_));
}

TEST_F(BirdDriverTest, UnchangedFileAndRunningProtocolsDoNothing) {
  writeFileAtomically(options_.include_path, *renderInclude(twoSessions(), options_)).value();
  FakeBird bird(options_.socket_path);
  bird.running = {"th_vpc_a_1", "th_vpc_b_1"};
  BirdDriver driver(options_);
  ASSERT_TRUE(driver.apply(twoSessions()).has_value());
  EXPECT_EQ(bird.commands(), std::vector<std::string>{"show protocols \"th_*\""});
}

TEST_F(BirdDriverTest, UnchangedFileButMissingProtocolReconfigures) {
  writeFileAtomically(options_.include_path, *renderInclude(twoSessions(), options_)).value();
  FakeBird bird(options_.socket_path);
  bird.running = {"th_vpc_a_1"};
  bird.after_configure = {"th_vpc_a_1", "th_vpc_b_1"};
  BirdDriver driver(options_);
  ASSERT_TRUE(driver.apply(twoSessions()).has_value());
  EXPECT_EQ(bird.commands().back(), "configure confirm");
}

TEST_F(BirdDriverTest, RefusedConfigurationIsInvalidAndTheOldFileComesBack) {
  writeFileAtomically(options_.include_path, "# previous\n").value();
  FakeBird bird(options_.socket_path);
  bird.check_reply =
      "0002-Reading configuration from x\n8002 /x/transit-hub.conf:5:14 Hold time must be in "
      "range 3-65535 or zero\n";
  BirdDriver driver(options_);
  const auto result = driver.apply(twoSessions());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_NE(result.error().message.find("Hold time must be"), std::string::npos);
  EXPECT_EQ(readWholeFile(options_.include_path), "# previous\n");
  EXPECT_EQ(bird.commands().size(), 1u);
}

TEST_F(BirdDriverTest, RefusedConfigureIsInvalid) {
  FakeBird bird(options_.socket_path);
  bird.configure_reply = "0002-Reading configuration from x\n8002 x:1:1 syntax error\n";
  BirdDriver driver(options_);
  const auto result = driver.apply(twoSessions());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_FALSE(readWholeFile(options_.include_path).has_value());
}

TEST_F(BirdDriverTest, MissingProtocolAfterConfigureIsUndone) {
  writeFileAtomically(options_.include_path, "# previous\n").value();
  FakeBird bird(options_.socket_path);
  bird.after_configure = {"th_vpc_a_1"};
  BirdDriver driver(options_);
  const auto result = driver.apply(twoSessions());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DriverError::Kind::kTransient);
  EXPECT_NE(result.error().message.find("th_vpc_b_1"), std::string::npos);
  EXPECT_EQ(bird.commands().back(), "configure undo");
  EXPECT_EQ(readWholeFile(options_.include_path), "# previous\n");
}

TEST_F(BirdDriverTest, DaemonNotRunningNeedsDependencyAndKeepsTheOldFile) {
  writeFileAtomically(options_.include_path, "# previous\n").value();
  BirdDriver driver(options_);
  const auto result = driver.apply(twoSessions());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DriverError::Kind::kNeedsDependency);
  EXPECT_EQ(readWholeFile(options_.include_path), "# previous\n");
}

TEST_F(BirdDriverTest, UnrenderableSpecIsInvalidAndSendsNothing) {
  FakeBird bird(options_.socket_path);
  auto spec = twoSessions();
  spec.sessions[0].name = "th_Bad-Name";
  BirdDriver driver(options_);
  const auto result = driver.apply(spec);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_TRUE(bird.commands().empty());
}

TEST_F(BirdDriverTest, ObserveReportsOwnedSessionsAndTheDaemonInstance) {
  FakeBird bird(options_.socket_path);
  bird.running = {"th_vpc_b_1", "th_vpc_a_1"};
  BirdDriver driver(options_);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_EQ(observed->daemon_instance, "2026-11-26 04:37:45.227");
  ASSERT_EQ(observed->sessions.size(), 2u);
  EXPECT_EQ(observed->sessions[0].name, "th_vpc_a_1");
  EXPECT_EQ(observed->sessions[0].bgp_state, "Active");
  EXPECT_EQ(observed->sessions[0].routes_filtered, 2u);
  EXPECT_EQ(bird.commands(), (std::vector<std::string>{
                                 "show status",
                                 "show protocols all \"th_*\"",
                                 "show route all where proto ~ \"th_*\"",
                                 "show route filtered all where proto ~ \"th_*\"",
                             }));
}

// BIRD derives "Last reboot" from a monotonic clock on every call: the text jitters by a
// millisecond, which must not look like a restart. A new boot time does.
TEST_F(BirdDriverTest, BootTimeJitterIsTheSameInstanceAndANewBootTimeIsARestart) {
  FakeBird bird(options_.socket_path);
  BirdDriver driver(options_);
  const auto first = driver.observe();
  ASSERT_TRUE(first.has_value());
  bird.last_reboot = "2026-11-26 04:37:45.228";
  const auto jitter = driver.observe();
  ASSERT_TRUE(jitter.has_value());
  EXPECT_EQ(jitter->daemon_instance, first->daemon_instance);
  bird.last_reboot = "2026-11-26 04:52:10.031";
  const auto restarted = driver.observe();
  ASSERT_TRUE(restarted.has_value());
  EXPECT_NE(restarted->daemon_instance, first->daemon_instance);
}

TEST_F(BirdDriverTest, ObserveWithNoOwnedProtocolsIsEmpty) {
  FakeBird bird(options_.socket_path);
  BirdDriver driver(options_);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value());
  EXPECT_TRUE(observed->sessions.empty());
  EXPECT_TRUE(observed->routes.empty());
}

// The raw reply to `command` in a recorded transcript of tests/data/bird.
std::string recorded(const std::string& file, const std::string& command) {
  const auto transcript = fakes::loadTranscript(std::string(TRANSIT_BIRD_DATA_DIR) + "/" + file);
  for (const auto& exchange : transcript.exchanges) {
    if (exchange.command == command) return exchange.reply;
  }
  ADD_FAILURE() << "no '" << command << "' in " << file;
  return "0000 \n";
}

std::vector<std::string> routeKeys(const RoutingObservation& observation) {
  std::vector<std::string> keys;
  for (const auto& route : observation.routes) {
    keys.push_back(route.prefix.toString() + " " + route.protocol +
                   (route.filtered ? " filtered" : "") + (route.primary ? " *" : ""));
  }
  return keys;
}

TEST_F(BirdDriverTest, ObserveReportsAcceptedAndFilteredRoutesSortedByPrefixThenProtocol) {
  FakeBird bird(options_.socket_path);
  bird.routes_reply = recorded("routes-hub.txt", "show route all where proto ~ \"th_*\"");
  bird.filtered_routes_reply =
      recorded("routes-hub.txt", "show route filtered all where proto ~ \"th_*\"");
  BirdDriver driver(options_);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_EQ(routeKeys(*observed), (std::vector<std::string>{
                                      "10.1.0.0/16 th_vpc_a_1 *",
                                      "10.1.0.0/16 th_vpc_a_2",
                                      "10.1.1.0/24 th_vpc_a_1 *",
                                      "10.1.1.0/24 th_vpc_a_2",
                                      "10.2.0.0/16 th_vpc_i_1 *",
                                      "10.2.0.0/22 th_vpc_f_1 *",
                                      "10.60.0.0/16 th_s_site1 *",
                                      "10.61.0.0/16 th_s_site2 *",
                                      "10.62.0.0/16 th_s_site1 *",
                                      "10.63.0.0/16 th_s_site1 *",
                                      "10.64.0.0/16 th_s_site2 *",
                                      "10.65.0.0/16 th_s_site2 *",
                                      "10.66.0.0/16 th_s_site1 *",
                                      "10.99.0.0/16 th_vpc_a_1 filtered",
                                      "10.99.0.0/16 th_vpc_a_2 filtered",
                                  }));
  EXPECT_EQ(observed->routes[0].as_path, std::vector<std::uint32_t>{64512});
  EXPECT_EQ(observed->routes[0].med, 50u);
  EXPECT_EQ(driver.routeQueryFailures(), 0u);
}

// The hub's summaries are its own output, not something it observed.
TEST_F(BirdDriverTest, ObserveLeavesOutTheSummariesProtocol) {
  FakeBird bird(options_.socket_path);
  bird.routes_reply =
      "1007-Table master4:\n"
      " 10.1.0.0/16          unicast [th_vpc_a_1 2026-11-26 09:30:05] * (100) [AS64512i]\n"
      " \tvia 169.254.30.2 on h1\n"
      "1007-                     unreachable [th_summaries 2026-11-26 09:30:01] (50)\n"
      "1007-10.0.0.0/8           unreachable [th_summaries 2026-11-26 09:30:01] * (50)\n"
      "0000 \n";
  BirdDriver driver(options_);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value());
  EXPECT_EQ(routeKeys(*observed), std::vector<std::string>{"10.1.0.0/16 th_vpc_a_1 *"});
}

TEST_F(BirdDriverTest, ObserveLeavesOutProtocolsWithoutThePrefix) {
  FakeBird bird(options_.socket_path);
  bird.routes_reply =
      "1007-192.0.2.0/24         blackhole [other_static 2026-11-26 09:30:01] * (200)\n"
      "1007-10.61.0.0/16         blackhole [th_s_site2 2026-11-26 09:30:01] * (200)\n"
      "0000 \n";
  BirdDriver driver(options_);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value());
  EXPECT_EQ(routeKeys(*observed), std::vector<std::string>{"10.61.0.0/16 th_s_site2 *"});
}

TEST_F(BirdDriverTest, RefusedRouteQueryLeavesRoutesEmptyButObserveWorks) {
  FakeBird bird(options_.socket_path);
  bird.running = {"th_vpc_a_1"};
  bird.routes_reply =
      "1007-10.61.0.0/16 blackhole [th_s_site2 2026-11-26 09:30:01] * (200)\n"
      "0000 \n";
  bird.filtered_routes_reply = "9001 syntax error, unexpected FILTERED\n";
  BirdDriver driver(options_);
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_EQ(observed->sessions.size(), 1u);
  EXPECT_TRUE(observed->routes.empty());  // all or nothing: no half a picture
  EXPECT_EQ(driver.routeQueryFailures(), 1u);
}

TEST_F(BirdDriverTest, RouteQueryFailureIsCountedEveryTimeAndRecovers) {
  FakeBird bird(options_.socket_path);
  bird.routes_reply = "8004 Stopped due to reconfiguration\n";
  BirdDriver driver(options_);
  ASSERT_TRUE(driver.observe().has_value());
  ASSERT_TRUE(driver.observe().has_value());
  EXPECT_EQ(driver.routeQueryFailures(), 2u);
  bird.routes_reply =
      "1007-10.61.0.0/16 blackhole [th_s_site2 2026-11-26 09:30:01] * (200)\n"
      "0000 \n";
  const auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value());
  EXPECT_EQ(observed->routes.size(), 1u);
  EXPECT_EQ(driver.routeQueryFailures(), 2u);
}

}  // namespace
}  // namespace transit::routing
