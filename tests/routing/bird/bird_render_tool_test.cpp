// Tool test (label `tool`) of the BIRD renderer: parses every golden and a rich rendered spec
// with `bird -p`, and runs a real BIRD (static protocols only, no BGP peers, no kernel protocol)
// to read back the routes it originates. Needs bird; ami/dev.sh installs it and fails on a skip.
#include "tests/routing/bird/bird_render_fixtures.hpp"

namespace transit::routing {
namespace {

bool haveBird() { return std::filesystem::exists(TRANSIT_BIRD_BINARY); }

// `bird -p -c MAIN` (parse only) on renderMainConfig() with `include` as the include file.
class BirdParse : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  }

  // Returns bird's exit status; its messages are in errors_.
  int parse(const std::string& include) {
    auto options = labOptions();
    options.include_path = (dir_ / "transit-hub.conf").string();
    std::ofstream(options.include_path) << include;
    const auto main = (dir_ / "bird.conf").string();
    std::ofstream(main) << renderMainConfig(options);
    const auto command =
        std::string(TRANSIT_BIRD_BINARY) + " -p -c " + main + " 2>" + (dir_ / "err").string();
    const int status = std::system(command.c_str());
    errors_ = readFile((dir_ / "err").string());
    return status;
  }

  TempDir dir_;
  std::string errors_;
};

TEST_F(BirdParse, LabGoldenParses) {
  EXPECT_EQ(parse(readFile(dataPath("golden_include_lab.conf"))), 0) << errors_;
}

TEST_F(BirdParse, PolicyGoldenParses) {
  EXPECT_EQ(parse(readFile(dataPath("golden_include_policy.conf"))), 0) << errors_;
}

TEST_F(BirdParse, EmptyGoldenParses) {
  EXPECT_EQ(parse(readFile(dataPath("golden_include_empty.conf"))), 0) << errors_;
}

// 3 segments, 4 BGP sessions, a static spoke over 2 tunnels, 2 summaries, prepend 2, MED 50 and
// an export_only receiver, rendered now (not read from a golden).
TEST_F(BirdParse, RenderedPolicyWithEveryFeatureParses) {
  const auto text = renderInclude(policySpec(), labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(parse(*text), 0) << errors_ << "\n" << *text;
}

TEST_F(BirdParse, EdgeCasesParse) {
  auto spec = policySpec();
  spec.sessions[0].export_segments.clear();                  // sent nothing
  spec.sessions[3].export_only = std::vector<Ipv4Prefix>{};  // sent nothing
  spec.sessions[1].prepend = 16;
  spec.statics.push_back(spec.statics[0]);
  spec.statics.back().name = "th_s_prod_d";
  spec.statics.back().spoke = "prod-d";
  spec.statics.back().spoke_tag = 11;
  spec.statics.back().next_hops.clear();  // no routes
  const auto text = renderInclude(spec, labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(parse(*text), 0) << errors_ << "\n" << *text;
}

// The pair: the iBGP session with its import re-tagging `case`, BFD on the link and on a site's
// session, two BGP spokes, a static spoke and a spoke only the other hub has.
TEST_F(BirdParse, RenderedPairParses) {
  const auto text = renderInclude(pairSpec(), labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(parse(*text), 0) << errors_ << "\n" << *text;
}

TEST_F(BirdParse, RenderedPairWithNoSpokeInTheRegistryParses) {
  auto spec = pairSpec();
  spec.peer_hub->spokes.clear();
  const auto text = renderInclude(spec, labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(parse(*text), 0) << errors_ << "\n" << *text;
}

TEST_F(BirdParse, MainGoldenDiffersFromTheParsedOneOnlyInTheIncludePath) {
  auto options = labOptions();
  auto golden = readFile(dataPath("golden_main.conf"));
  const auto at = golden.find(options.include_path);
  ASSERT_NE(at, std::string::npos);
  const auto include = (dir_ / "transit-hub.conf").string();
  golden.replace(at, options.include_path.size(), include);
  std::ofstream(include) << "";
  std::ofstream((dir_ / "bird.conf").string()) << golden;
  const auto command = std::string(TRANSIT_BIRD_BINARY) + " -p -c " + (dir_ / "bird.conf").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
}

// A real BIRD in the foreground on a socket in `dir`, with only `protocol device` and the
// include: no kernel protocol (nothing reaches the host's FIB) and no BGP session (no port).
// Killed when the test ends, whatever happened.
class LiveBird {
 public:
  LiveBird(const TempDir& dir, const std::string& include) : socket_((dir / "bird.ctl").string()) {
    const auto include_path = (dir / "transit-hub.conf").string();
    std::ofstream(include_path) << include;
    const auto main = (dir / "bird.conf").string();
    std::ofstream(main) << "log \"" << (dir / "bird.log").string() << "\" all;\n"
                        << "router id 10.255.0.1;\n"
                        << "protocol device {\n  scan time 10;\n}\n"
                        << "include \"" << include_path << "\";\n";
    const int watch = ::inotify_init1(IN_CLOEXEC);
    ::inotify_add_watch(watch, dir.path().c_str(), IN_CREATE);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(TRANSIT_BIRD_BINARY, "bird", "-f", "-c", main.c_str(), "-s", socket_.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Bounded wait for the control socket (an event, not a sleep).
    while (!std::filesystem::exists(socket_)) {
      pollfd fd{watch, POLLIN, 0};
      if (::poll(&fd, 1, 10000) <= 0) break;
      char events[4096];
      (void)!::read(watch, events, sizeof(events));
    }
    ::close(watch);
  }
  ~LiveBird() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  LiveBird(const LiveBird&) = delete;
  LiveBird& operator=(const LiveBird&) = delete;

  // `birdc -s SOCK COMMAND`, stdout and stderr.
  std::string birdc(const std::string& command) const {
    const auto line =
        std::string(TRANSIT_BIRD_BINARY) + "c -s " + socket_ + " " + command + " 2>&1";
    std::string out;
    if (FILE* pipe = ::popen(line.c_str(), "r")) {
      char buffer[4096];
      std::size_t n = 0;
      while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
      ::pclose(pipe);
    }
    return out;
  }

  // `show route all` once every static protocol named in `protocols` is up (BIRD starts them
  // while it serves its socket; a bounded number of polls, never a timed assertion).
  std::string routesOnceUp(const std::vector<std::string>& protocols) const {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto shown = birdc("show protocols");
      bool all_up = true;
      for (const auto& name : protocols) {
        const auto at = shown.find("\n" + name + " ");
        all_up =
            all_up && at != std::string::npos && shown.find(" up ", at) < shown.find('\n', at + 1);
      }
      if (all_up) return birdc("show route all");
      ::poll(nullptr, 0, 25);
    }
    return birdc("show route all");
  }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

// The `show route all` entry of `prefix`: its first line and the indented lines after it.
std::string routeEntry(const std::string& shown, const std::string& prefix) {
  auto at = shown.find("\n" + prefix + " ");
  if (at == std::string::npos) return {};
  ++at;
  auto end = at;
  do {
    end = shown.find('\n', end + 1);
  } while (end != std::string::npos && end + 1 < shown.size() &&
           (shown[end + 1] == '\t' || shown[end + 1] == ' '));
  return shown.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

TEST(BirdLive, SummariesAreUnreachableWithPreference10AndTagged) {
  if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.statics = {staticSpoke("th_s_dev_b", "dev-b", 6, "dev", {net("10.9.0.0/16")}, {})};
  spec.summaries = {net("10.0.0.0/8"), net("172.16.0.0/12")};
  const auto include = renderInclude(spec, labOptions());
  ASSERT_TRUE(include.has_value()) << include.error().message;
  TempDir dir;
  LiveBird bird(dir, *include);
  const auto shown = bird.routesOnceUp({"th_summaries", "th_s_dev_b"});
  for (const auto* prefix : {"10.0.0.0/8", "172.16.0.0/12"}) {
    const auto entry = routeEntry(shown, prefix);
    EXPECT_NE(entry.find("unreachable [th_summaries "), std::string::npos) << shown;
    EXPECT_NE(entry.find("] * (10)"), std::string::npos) << entry;  // best, preference 10
    EXPECT_NE(entry.find("BGP.large_community: (65000, 3, 0)"), std::string::npos) << entry;
  }
  // The static spoke without a usable tunnel runs and originates nothing.
  EXPECT_EQ(routeEntry(shown, "10.9.0.0/16"), "") << shown;
  EXPECT_NE(bird.birdc("show protocols th_s_dev_b").find("th_s_dev_b Static"), std::string::npos);
}

// Two addresses other than ours on a directly connected IPv4 network of this host (BIRD needs a
// static route's gateway to be on one); nothing is sent to them: the test has no kernel protocol.
std::optional<std::vector<Ipv4Address> > connectedNeighbours() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::vector<Ipv4Address> > found;
  for (auto* entry = list; entry != nullptr && !found; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_netmask == nullptr ||
        entry->ifa_addr->sa_family != AF_INET || (entry->ifa_flags & IFF_UP) == 0 ||
        (entry->ifa_flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    sockaddr_in address{};
    sockaddr_in mask{};
    std::memcpy(&address, entry->ifa_addr, sizeof(address));
    std::memcpy(&mask, entry->ifa_netmask, sizeof(mask));
    const Ipv4Address own(ntohl(address.sin_addr.s_addr));
    const int length = __builtin_popcount(ntohl(mask.sin_addr.s_addr));
    if (length < 8 || length > 29) continue;
    const auto network = Ipv4Prefix::containing(own, length);
    std::vector<Ipv4Address> hops;
    for (std::uint32_t offset = 1; hops.size() < 2; ++offset) {
      if (network.host(offset) != own) hops.push_back(network.host(offset));
    }
    found = hops;
  }
  ::freeifaddrs(list);
  return found;
}

TEST(BirdLive, StaticSpokeRoutesCarryTheirSegmentAndSpokeTags) {
  if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  const auto hops = connectedNeighbours();
  if (!hops) GTEST_SKIP() << "no IPv4 interface with a /8../29 network to put next hops on";
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.statics = {staticSpoke("th_s_dev_b", "dev-b", 6, "dev", {net("10.9.0.0/16")}, {}),
                  staticSpoke("th_s_prod_c", "prod-c", 8, "prod",
                              {net("10.3.0.0/16"), net("10.33.0.0/16")}, *hops)};
  const auto include = renderInclude(spec, labOptions());
  ASSERT_TRUE(include.has_value()) << include.error().message;
  TempDir dir;
  LiveBird bird(dir, *include);
  const auto shown = bird.routesOnceUp({"th_s_dev_b", "th_s_prod_c"});
  // Segment ids: dev 1, prod 2; route tags: dev-b 6, prod-c 8.
  for (const auto* prefix : {"10.3.0.0/16", "10.33.0.0/16"}) {
    const auto entry = routeEntry(shown, prefix);
    EXPECT_NE(entry.find("unicast [th_s_prod_c "), std::string::npos) << shown;
    EXPECT_NE(entry.find("via " + (*hops)[0].toString()), std::string::npos) << entry;
    EXPECT_NE(entry.find("via " + (*hops)[1].toString()), std::string::npos) << entry;
    EXPECT_NE(entry.find("BGP.large_community: (65000, 1, 2) (65000, 2, 8)"), std::string::npos)
        << entry;
  }
}

// Path selection by preference: for one prefix a static spoke's route (BIRD's static default,
// 200) beats a BGP-learned one (100), which beats the hub's own summary (10).
TEST(BirdLive, AStaticSpokesRouteIsPreferredToASummaryOfTheSamePrefix) {
  if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  const auto hops = connectedNeighbours();
  if (!hops) GTEST_SKIP() << "no IPv4 interface with a /8../29 network to put next hops on";
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.statics = {staticSpoke("th_s_prod_c", "prod-c", 8, "prod", {net("10.3.0.0/16")}, *hops)};
  spec.summaries = {net("10.3.0.0/16")};
  const auto include = renderInclude(spec, labOptions());
  ASSERT_TRUE(include.has_value()) << include.error().message;
  TempDir dir;
  LiveBird bird(dir, *include);
  const auto shown = bird.routesOnceUp({"th_summaries", "th_s_prod_c"});
  const auto entry = routeEntry(shown, "10.3.0.0/16");
  EXPECT_NE(entry.find("unicast [th_s_prod_c "), std::string::npos) << shown;
  EXPECT_NE(entry.find("] * (200)"), std::string::npos) << entry;  // selected
  EXPECT_NE(entry.find("unreachable [th_summaries "), std::string::npos) << entry;
  EXPECT_NE(entry.find("] (10)"), std::string::npos) << entry;  // present, not selected
}

}  // namespace
}  // namespace transit::routing
