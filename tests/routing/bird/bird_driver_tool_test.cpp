// Tool test (label `tool`): BirdDriver against a real BIRD on a temporary socket. Needs bird;
// ami/dev.sh installs it and fails on a skip.
#include "tests/routing/bird/bird_driver_fixtures.hpp"

namespace transit::routing {
namespace {

// Starts `bird -f` and kills it when the test ends, whatever happened.
class RealBird {
 public:
  explicit RealBird(const BirdOptions& options) {
    const auto pidfile = options.socket_path + ".pid";
    const int watch = ::inotify_init1(IN_CLOEXEC);
    const auto dir = std::filesystem::path(options.socket_path).parent_path().string();
    ::inotify_add_watch(watch, dir.c_str(), IN_CREATE);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(TRANSIT_BIRD_BINARY, "bird", "-f", "-c", options.main_config_path.c_str(), "-s",
              options.socket_path.c_str(), "-P", pidfile.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait (bounded) until BIRD creates its control socket.
    while (!std::filesystem::exists(options.socket_path)) {
      pollfd fd{watch, POLLIN, 0};
      if (::poll(&fd, 1, 10000) <= 0) break;
      char events[4096];
      (void)!::read(watch, events, sizeof(events));
    }
    ::close(watch);
  }
  ~RealBird() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  RealBird(const RealBird&) = delete;
  RealBird& operator=(const RealBird&) = delete;

 private:
  pid_t pid_ = -1;
};

std::vector<std::string> names(const RoutingObservation& observation) {
  std::vector<std::string> out;
  for (const auto& s : observation.sessions) out.push_back(s.name);
  return out;
}

TEST(BirdDriverDaemon, AppliesChangesAndKeepsRunningOnARefusedConfig) {
  TempDir dir;
  auto options = optionsIn(dir);
  options.log_file = dir / "bird.log";
  writeFileAtomically(options.main_config_path, renderMainConfig(options)).value();
  writeFileAtomically(options.include_path, "").value();
  RealBird bird(options);
  BirdDriver driver(options);

  const auto first = driver.apply(twoSessions());
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto observed = driver.observe();
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_EQ(names(*observed), (std::vector<std::string>{"th_vpc_a_1", "th_vpc_b_1"}));
  for (const auto& s : observed->sessions) {
    EXPECT_EQ(s.protocol_state, "start") << s.name;
    EXPECT_FALSE(s.established);
  }
  const auto instance = observed->daemon_instance;
  EXPECT_FALSE(instance.empty());
  // The real BIRD accepts both route queries (no session is up, so there is nothing to report).
  EXPECT_EQ(driver.routeQueryFailures(), 0u);
  EXPECT_TRUE(observed->routes.empty());

  // Same spec again: nothing to do.
  ASSERT_TRUE(driver.apply(twoSessions()).has_value());

  auto one = twoSessions();
  one.sessions.pop_back();
  const auto second = driver.apply(one);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  observed = driver.observe();
  ASSERT_TRUE(observed.has_value());
  EXPECT_EQ(names(*observed), std::vector<std::string>{"th_vpc_a_1"});

  // BIRD refuses a hold time of 1 s; the running configuration and the file stay as they were.
  auto refused = twoSessions();
  refused.sessions[0].hold_time = 1;
  const auto before = readWholeFile(options.include_path);
  const auto third = driver.apply(refused);
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().kind, DriverError::Kind::kInvalid);
  EXPECT_NE(third.error().message.find("Hold time"), std::string::npos);
  EXPECT_EQ(readWholeFile(options.include_path), before);
  observed = driver.observe();
  ASSERT_TRUE(observed.has_value());
  EXPECT_EQ(names(*observed), std::vector<std::string>{"th_vpc_a_1"});
  EXPECT_EQ(observed->daemon_instance, instance);
}

}  // namespace
}  // namespace transit::routing
