// Tool test (label `tool`, needs root and bird): the pair's iBGP and BFD on two real BIRDs.
//
// Three network namespaces, each named thpt-<pid>-<role> and removed when the test ends:
//   A: hub-a's BIRD (renderMainConfig + renderInclude), B: hub-b's, S: one BIRD standing in for
//   every spoke, each spoke session in its own table so what each spoke was sent stays apart.
//   A <-> B: a veth pair named th-pair at both ends (the link between the hubs).
//   S <-> A, one veth per session: vpc-1 tunnel 1 (169.254.10.0/30) and vpc-4 (169.254.11.0/30),
//   only on hub-a. S <-> B, one veth per session: vpc-1 tunnel 1 (169.254.20.0/30, prepended 3
//   times by the spoke), vpc-2
//            (169.254.21.0/30, default) and dev-3 (169.254.22.0/30, segment dev), only on hub-b.
// Segment ids differ: hub-a's file also names a segment `aaa` (aaa 1, default 2, dev 3); hub-b's
// does not (default 1, dev 2).
#include "tests/routing/bird/bird_render_fixtures.hpp"

#include <chrono>
#include <thread>

#include "tests/fakes/shell.hpp"

namespace transit::routing {
namespace {

std::string run(const std::string& command) { return fakes::shellOutput(command); }
bool ok(const std::string& command) { return fakes::shellOk(command); }

// The namespaces and links; everything is removed in the destructor, whatever happened.
class Lab {
 public:
  Lab() : tag_("thpt-" + std::to_string(::getpid())) {
    for (const char* role : {"a", "b", "s"}) {
      if (!ok("ip netns add " + ns(role))) {
        error_ = "cannot create namespace " + ns(role);
        return;
      }
      created_.push_back(ns(role));
      ok("ip -n " + ns(role) + " link set lo up");
    }
    const std::string p = "thpt" + std::to_string(::getpid());
    std::vector<std::string> steps = {
        // The link between the hubs.
        "ip link add " + p + "ab netns " + ns("a") + " type veth peer name " + p + "ba netns " +
            ns("b"),
        "ip -n " + ns("a") + " link set " + p + "ab name th-pair",
        "ip -n " + ns("b") + " link set " + p + "ba name th-pair",
        "ip -n " + ns("a") + " addr add 169.254.253.253/30 dev th-pair",
        "ip -n " + ns("b") + " addr add 169.254.253.254/30 dev th-pair",
    };
    std::vector<std::pair<std::string, std::string>> up = {{"a", "th-pair"}, {"b", "th-pair"}};
    // One link per spoke session (as each tunnel is its own device on a hub): the spoke end
    // X.1/30 in S, the hub end X.2/30.
    const std::vector<std::pair<std::string, std::string>> spokes = {{"a", "169.254.10"},
                                                                     {"a", "169.254.11"},
                                                                     {"b", "169.254.20"},
                                                                     {"b", "169.254.21"},
                                                                     {"b", "169.254.22"}};
    for (std::size_t i = 0; i < spokes.size(); ++i) {
      const auto& [hub, net] = spokes[i];
      const auto spoke_end = p + "s" + std::to_string(i);
      const auto hub_end = p + "h" + std::to_string(i);
      steps.push_back("ip link add " + spoke_end + " netns " + ns("s") + " type veth peer name " +
                      hub_end + " netns " + ns(hub));
      steps.push_back("ip -n " + ns("s") + " addr add " + net + ".1/30 dev " + spoke_end);
      steps.push_back("ip -n " + ns(hub) + " addr add " + net + ".2/30 dev " + hub_end);
      up.emplace_back("s", spoke_end);
      up.emplace_back(hub, hub_end);
    }
    for (const auto& step : steps) {
      if (!ok(step)) {
        error_ = "failed: " + step;
        return;
      }
    }
    for (const auto& [role, dev] : up) ok("ip -n " + ns(role) + " link set " + dev + " up");
  }
  ~Lab() {
    for (const pid_t pid : birds_) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    // Deleting a namespace deletes its veth ends, and with them the peers in the others.
    for (const auto& name : created_) ok("ip netns del " + name);
  }
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::string& error() const { return error_; }
  std::string ns(const std::string& role) const { return tag_ + "-" + role; }

  // `bird -f` in the role's namespace; returns its control socket once it exists.
  std::string startBird(const std::string& role, const std::string& config) {
    const auto socket = (dir_ / (role + ".ctl")).string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execlp("ip", "ip", "netns", "exec", ns(role).c_str(), TRANSIT_BIRD_BINARY, "-f", "-c",
               config.c_str(), "-s", socket.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    birds_.push_back(pid);
    for (int i = 0; i < 400 && !std::filesystem::exists(socket); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return socket;
  }

  const TempDir& dir() const { return dir_; }

 private:
  std::string tag_;
  std::string error_;
  std::vector<std::string> created_;
  std::vector<pid_t> birds_;
  TempDir dir_;
};

std::string birdc(const std::string& socket, const std::string& command) {
  return run(std::string(TRANSIT_BIRD_BINARY) + "c -s " + socket + " " + command);
}

// Polls `check` (bounded: 60 s) until it holds; returns the last output seen.
template <class Check>
std::string waitFor(const std::string& socket, const std::string& command, Check check) {
  std::string out;
  for (int i = 0; i < 600; ++i) {
    out = birdc(socket, command);
    if (check(out)) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The hub side of a spoke session.
BgpSessionSpec spokeSession(std::string name, std::string spoke, std::uint32_t tag,
                            std::string_view local, std::string_view neighbor, std::uint32_t asn,
                            std::string cidr, std::string segment) {
  auto s = session(std::move(name), std::move(spoke), tag, 1, local, neighbor, asn, {net(cidr)});
  s.segment = segment;
  s.export_segments = {segment};
  return s;
}

PeerHubSpec peerHub(std::string other, std::string_view local, std::string_view neighbor) {
  PeerHubSpec peer;
  peer.name = "th_pair";
  peer.hub = std::move(other);
  peer.interface = "th-pair";
  peer.local_address = ip(local);
  peer.neighbor_address = ip(neighbor);
  peer.bfd_interval_ms = 100;
  peer.bfd_multiplier = 3;
  // The registry: every spoke, wherever it is connected.
  peer.spokes = {{1, {"vpc-1", "default"}},
                 {2, {"vpc-2", "default"}},
                 {3, {"dev-3", "dev"}},
                 {4, {"vpc-4", "default"}}};
  return peer;
}

RoutingSpec hubA() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  spec.sessions = {
      spokeSession("th_vpc_1_1", "vpc-1", 1, "169.254.10.2", "169.254.10.1", 64512, "10.1.0.0/16",
                   "default"),
      spokeSession("th_vpc_4_1", "vpc-4", 4, "169.254.11.2", "169.254.11.1", 64512, "10.4.0.0/16",
                   "default"),
  };
  // A segment only hub-a's file names: its segment ids differ from hub-b's.
  spec.sessions[1].export_segments = {"aaa", "default"};
  // A summary hub-a originates (for some export_only spoke): never sent to hub-b.
  spec.summaries = {net("10.0.0.0/8")};
  spec.peer_hub = peerHub("hub-b", "169.254.253.253", "169.254.253.254");
  return spec;
}

RoutingSpec hubB() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.2");
  spec.sessions = {
      spokeSession("th_dev_3_1", "dev-3", 3, "169.254.22.2", "169.254.22.1", 64513, "10.3.0.0/16",
                   "dev"),
      spokeSession("th_vpc_1_1", "vpc-1", 1, "169.254.20.2", "169.254.20.1", 64512, "10.1.0.0/16",
                   "default"),
      spokeSession("th_vpc_2_1", "vpc-2", 2, "169.254.21.2", "169.254.21.1", 64512, "10.2.0.0/16",
                   "default"),
  };
  spec.peer_hub = peerHub("hub-a", "169.254.253.254", "169.254.253.253");
  return spec;
}

// One spoke of the stand-in: its own table, its prefix, a session to a hub.
std::string spokeProtocols(const std::string& name, const std::string& local,
                           const std::string& hub, std::uint32_t asn, const std::string& prefix,
                           int prepend) {
  std::string path;
  for (int i = 0; i < prepend; ++i) path += "bgp_path.prepend(" + std::to_string(asn) + "); ";
  return "ipv4 table t_" + name + ";\n" +  //
         "protocol static st_" + name + " { ipv4 { table t_" + name + "; }; route " + prefix +
         " blackhole; }\n" +  //
         "protocol bgp " + name + " {\n  local " + local + " as " + std::to_string(asn) +
         ";\n  neighbor " + hub + " as 65000;\n  connect delay time 0;\n" +
         "  connect retry time 2;\n  hold time 9;\n  keepalive time 3;\n" +  //
         "  ipv4 { table t_" + name + "; import all; export filter { if proto != \"st_" + name +
         "\" then reject; " + path + "accept; }; };\n}\n";
}

std::string spokesConfig(const TempDir& dir) {
  return "log \"" + (dir / "s.log").string() + "\" all;\nrouter id 10.255.0.9;\n" +
         "protocol device { scan time 10; }\n" +
         spokeProtocols("vpc1a", "169.254.10.1", "169.254.10.2", 64512, "10.1.0.0/16", 0) +
         spokeProtocols("vpc4", "169.254.11.1", "169.254.11.2", 64512, "10.4.0.0/16", 0) +
         // vpc-1 prefers hub-a: it prepends its path to hub-b three times.
         spokeProtocols("vpc1b", "169.254.20.1", "169.254.20.2", 64512, "10.1.0.0/16", 3) +
         spokeProtocols("vpc2", "169.254.21.1", "169.254.21.2", 64512, "10.2.0.0/16", 0) +
         spokeProtocols("dev3", "169.254.22.1", "169.254.22.2", 64513, "10.3.0.0/16", 0);
}

std::string hubConfig(Lab& lab, const std::string& role, const RoutingSpec& spec) {
  auto options = labOptions();
  options.router_id = spec.router_id;
  options.log_file = (lab.dir() / (role + ".log")).string();
  options.include_path = (lab.dir() / (role + "-include.conf")).string();
  const auto include = renderInclude(spec, options);
  EXPECT_TRUE(include.has_value()) << include.error().message;
  lab.dir().write(role + "-include.conf", include.value_or(""));
  return lab.dir().write(role + ".conf", renderMainConfig(options)).string();
}

// The `show route ... all` entry of `prefix` for the protocol in brackets.
std::string entryOf(const std::string& shown, const std::string& protocol) {
  const auto at = shown.find("[" + protocol + " ");
  if (at == std::string::npos) return {};
  const auto start = shown.rfind('\n', at) + 1;
  auto end = shown.find('\n', at);
  while (end != std::string::npos && end + 1 < shown.size() &&
         (shown[end + 1] == '\t' || shown[end + 1] == ' ')) {
    end = shown.find('\n', end + 1);
  }
  return shown.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

class BirdPair : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(TRANSIT_BIRD_BINARY)) GTEST_SKIP() << "bird is not installed";
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    lab_ = std::make_unique<Lab>();
    ASSERT_EQ(lab_->error(), "");
    a_ = lab_->startBird("a", hubConfig(*lab_, "a", hubA()));
    b_ = lab_->startBird("b", hubConfig(*lab_, "b", hubB()));
    s_ = lab_->startBird("s", lab_->dir().write("s.conf", spokesConfig(lab_->dir())).string());
    // Everything up: both hubs' iBGP and every spoke session.
    for (const auto* name : {"vpc1a", "vpc4", "vpc1b", "vpc2", "dev3"}) {
      const auto shown = waitFor(s_, std::string("show protocols ") + name,
                                 [](const std::string& out) { return has(out, "Established"); });
      ASSERT_TRUE(has(shown, "Established")) << name << ":\n" << shown;
    }
    const auto pair = waitFor(b_, "show protocols th_pair",
                              [](const std::string& out) { return has(out, "Established"); });
    ASSERT_TRUE(has(pair, "Established")) << pair << run("cat " + (lab_->dir() / "b.log").string());
  }

  std::unique_ptr<Lab> lab_;
  std::string a_, b_, s_;
};

TEST_F(BirdPair, ARouteOfASpokeOnlyHubAHasReachesHubBRetaggedWithHubAsLinkAddressAsNextHop) {
  const auto shown = waitFor(b_, "show route 10.4.0.0/16 all",
                             [](const std::string& out) { return has(out, "[th_pair "); });
  const auto entry = entryOf(shown, "th_pair");
  ASSERT_NE(entry, "") << shown;
  EXPECT_TRUE(has(entry, "via 169.254.253.253 on th-pair")) << entry;
  // hub-a tagged it (65000, 1, 2) (default is its segment 2); hub-b's default is 1.
  EXPECT_TRUE(has(entry, "(65000, 1, 1)")) << entry;
  EXPECT_TRUE(has(entry, "(65000, 2, 4)")) << entry;
  EXPECT_FALSE(has(entry, "(65000, 1, 2)")) << entry;  // hub-a's id is gone
  EXPECT_TRUE(has(entry, "BGP.local_pref: 50")) << entry;
  // Into hub-b's kernel over the link.
  const auto kernel = run("ip -n " + lab_->ns("b") + " route show 10.4.0.0/16");
  EXPECT_TRUE(has(kernel, "via 169.254.253.253 dev th-pair")) << kernel;
}

TEST_F(BirdPair, HubBSendsItToSpokesOfItsSegmentAndNotToAnotherSegment) {
  const auto vpc2 = waitFor(s_, "show route table t_vpc2 10.4.0.0/16",
                            [](const std::string& out) { return has(out, "10.4.0.0/16"); });
  EXPECT_TRUE(has(vpc2, "10.4.0.0/16")) << vpc2;
  // Routes flowed to dev-3 in the meantime too (the check below is not just too early): dev-3
  // is sent nothing of default, the other segment.
  const auto dev3 = birdc(s_, "show route table t_dev3");
  EXPECT_FALSE(has(dev3, "10.4.0.0/16")) << dev3;
  EXPECT_FALSE(has(dev3, "10.2.0.0/16")) << dev3;
  // And hub-a has dev-3's route (learned only by hub-b) tagged with its own dev id, 3.
  const auto onA = waitFor(a_, "show route 10.3.0.0/16 all",
                           [](const std::string& out) { return has(out, "[th_pair "); });
  EXPECT_TRUE(has(onA, "(65000, 1, 3)")) << onA;
  EXPECT_TRUE(has(onA, "(65000, 2, 3)")) << onA;
  EXPECT_FALSE(has(onA, "(65000, 1, 2)")) << onA;
}

TEST_F(BirdPair, ASpokeIsNeverSentItsOwnRoutesEvenWhenTheyArriveFromTheOtherHub) {
  // hub-b has vpc-1's 10.1/16 twice (its own session and hub-a's copy); vpc-1's session to
  // hub-b gets neither, and vpc-2 gets it.
  const auto vpc2 = waitFor(s_, "show route table t_vpc2 10.1.0.0/16",
                            [](const std::string& out) { return has(out, "[vpc2 "); });
  EXPECT_TRUE(has(vpc2, "[vpc2 ")) << vpc2 << birdc(b_, "show route all 10.1.0.0/16")
                                   << birdc(b_, "show route export th_vpc_2_1 all");
  const auto vpc1b = birdc(s_, "show route table t_vpc1b 10.1.0.0/16");
  EXPECT_FALSE(has(vpc1b, "[vpc1b ")) << vpc1b;
  // It is sent other spokes' routes, hub-a's vpc-4 included (over iBGP first: waited for, as
  // vpc-2's route above was; looking once failed under load).
  const auto vpc4 = waitFor(s_, "show route table t_vpc1b 10.4.0.0/16",
                            [](const std::string& out) { return has(out, "[vpc1b "); });
  EXPECT_TRUE(has(vpc4, "[vpc1b ")) << vpc4;
}

TEST_F(BirdPair, AHubsOwnSessionWinsOverTheOtherHubsCopyEvenWithALongerAsPath) {
  // vpc-1 prepends 3 times toward hub-b; hub-a's copy over iBGP has a path of 1. hub-b still
  // routes to vpc-1 over its own tunnel.
  const auto shown = waitFor(b_, "show route 10.1.0.0/16 all", [](const std::string& out) {
    return has(out, "[th_pair ") && has(out, "[th_vpc_1_1 ");
  });
  const auto own = entryOf(shown, "th_vpc_1_1");
  EXPECT_TRUE(has(own, " * (100)")) << shown;  // the best route
  EXPECT_TRUE(has(own, "BGP.as_path: 64512 64512 64512 64512")) << own;
  EXPECT_FALSE(has(entryOf(shown, "th_pair"), " * (")) << shown;
  const auto kernel = run("ip -n " + lab_->ns("b") + " route show 10.1.0.0/16");
  EXPECT_TRUE(has(kernel, "via 169.254.20.1 dev")) << kernel;
}

TEST_F(BirdPair, NeitherSummariesNorRoutesLearnedFromTheOtherHubAreSentBack) {
  waitFor(b_, "show route 10.4.0.0/16", [](const std::string& out) { return has(out, "th_pair"); });
  // hub-a's summary stays on hub-a.
  EXPECT_TRUE(has(birdc(a_, "show route 10.0.0.0/8"), "th_summaries"));
  EXPECT_FALSE(has(birdc(b_, "show route 10.0.0.0/8"), "10.0.0.0/8"));
  // hub-b does not send 10.4/16 (learned from hub-a) back; hub-a has only its own copy.
  EXPECT_FALSE(has(birdc(b_, "show route export th_pair"), "10.4.0.0/16"));
  const auto onA = birdc(a_, "show route 10.4.0.0/16 all");
  EXPECT_FALSE(has(onA, "th_pair")) << onA;
  // What hub-b does send: its own spokes' routes only.
  const auto sent = birdc(b_, "show route export th_pair");
  EXPECT_TRUE(has(sent, "10.2.0.0/16")) << sent;
  EXPECT_TRUE(has(sent, "10.3.0.0/16")) << sent;
}

TEST_F(BirdPair, BfdComesUpBetweenTheHubsAndGuardsTheIbgpSession) {
  for (const auto& socket : {a_, b_}) {
    const auto shown = waitFor(socket, "show bfd sessions",
                               [](const std::string& out) { return has(out, " Up "); });
    EXPECT_TRUE(has(shown, "th-pair")) << shown;
    EXPECT_TRUE(has(shown, " Up ")) << shown;
  }
  // hub-b stops hearing hub-a on the link while the device stays up (as a VXLAN device does
  // when the other instance dies): BFD, not the 9 s hold time, takes the iBGP session down.
  ASSERT_TRUE(ok("ip netns exec " + lab_->ns("b") +
                 " nft 'add table inet thpt; add chain inet thpt in { type filter hook input "
                 "priority 0; }; add rule inet thpt in iifname \"th-pair\" drop'"));
  const auto start = std::chrono::steady_clock::now();
  const auto pair = waitFor(b_, "show protocols all th_pair",
                            [](const std::string& out) { return !has(out, "Established"); });
  EXPECT_FALSE(has(pair, "Established")) << pair;
  EXPECT_TRUE(has(pair, "BFD session down")) << pair;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace transit::routing
