// Tool test (label `tool`): real pluto (libreswan 4.10) in two network namespaces:
// LibreswanDriver on side A, a hand-written connection on side B. Needs root, `ip` and
// /usr/libexec/ipsec; skipped otherwise (a failure for ami/dev.sh, which installs them).
// The kernel here may lack ESP, so only the IKE SA is expected to come up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "peers/libreswan/libreswan_driver.hpp"
#include "routing/base/command_runner.hpp"

extern char** environ;

namespace transit::peers {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr const char* kPluto = "/usr/libexec/ipsec/pluto";
constexpr const char* kPsk = "Daemon_test.psk1";

// Polls `done` every 100 ms for at most `limit`; a bounded wait for a real daemon, not timing.
template <typename Fn>
bool waitFor(Fn&& done, milliseconds limit) {
  for (auto waited = milliseconds(0); waited < limit; waited += milliseconds(100)) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return done();
}

class LibreswanDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !fs::exists(kPluto) || !fs::exists("/usr/sbin/ip")) {
      GTEST_SKIP() << "needs root, ip and libreswan";
    }
    const auto id = std::to_string(::getpid());
    ns_a_ = "thls-a-" + id;
    ns_b_ = "thls-b-" + id;
    const std::string veth_a = "thla" + std::to_string(::getpid() % 100000);
    const std::string veth_b = "thlb" + std::to_string(::getpid() % 100000);
    dir_ = (fs::temp_directory_path() / ("thls-" + id)).string();
    fs::create_directories(dir_);
    ASSERT_TRUE(sh({"ip", "netns", "add", ns_a_}));
    ASSERT_TRUE(sh({"ip", "netns", "add", ns_b_}));
    ASSERT_TRUE(sh({"ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b}));
    ASSERT_TRUE(sh({"ip", "link", "set", veth_a, "netns", ns_a_}));
    ASSERT_TRUE(sh({"ip", "link", "set", veth_b, "netns", ns_b_}));
    ASSERT_TRUE(inNs(ns_a_, {"ip", "addr", "add", "192.0.2.1/24", "dev", veth_a}));
    ASSERT_TRUE(inNs(ns_b_, {"ip", "addr", "add", "192.0.2.2/24", "dev", veth_b}));
    for (const auto& [ns, dev] : {std::pair{ns_a_, veth_a}, std::pair{ns_b_, veth_b}}) {
      ASSERT_TRUE(inNs(ns, {"ip", "link", "set", "lo", "up"}));
      ASSERT_TRUE(inNs(ns, {"ip", "link", "set", dev, "up"}));
    }
    // Side B: a hand-written conn in its --config (auto=add: loaded by pluto at start).
    writeFile(dir_ + "/b/ipsec.conf", R"(config setup
	uniqueids=yes
conn peer-of-hub
	auto=add
	authby=secret
	ikev2=yes
	left=192.0.2.2
	leftid=192.0.2.2
	right=192.0.2.1
	rightid=192.0.2.1
	leftsubnet=0.0.0.0/0
	rightsubnet=0.0.0.0/0
	ike=aes256-sha2_256;dh14
	esp=aes256-sha2_256;dh14
	mark=77/0xffffffff
)");
    writeFile(dir_ + "/b/ipsec.secrets",
              std::string("192.0.2.2 192.0.2.1 : PSK \"") + kPsk + "\"\n");
    writeFile(dir_ + "/a/ipsec.conf", "config setup\n\tuniqueids=yes\n");
    for (const char* side : {"a", "b"}) {
      const std::string d = dir_ + "/" + side;
      fs::create_directories(d + "/nss");
      fs::create_directories(d + "/run");
      ASSERT_TRUE(sh({"ipsec", "initnss", "--nssdir", d + "/nss"}));
    }
    pluto_a_ = startPluto(ns_a_, dir_ + "/a");
    pluto_b_ = startPluto(ns_b_, dir_ + "/b");
    ASSERT_GT(pluto_a_, 0);
    ASSERT_GT(pluto_b_, 0);
    ASSERT_TRUE(waitFor(
        [&] {
          return fs::exists(dir_ + "/a/run/pluto.ctl") && fs::exists(dir_ + "/b/run/pluto.ctl");
        },
        seconds(10)))
        << "pluto did not start; see " << dir_ << "/{a,b}/pluto.log";
  }

  void TearDown() override {
    for (pid_t& pid : {std::ref(pluto_a_), std::ref(pluto_b_)}) {
      if (pid > 0) {
        ::kill(pid, SIGTERM);
        const bool gone =
            waitFor([&] { return ::waitpid(pid, nullptr, WNOHANG) == pid; }, seconds(5));
        if (!gone) {
          ::kill(pid, SIGKILL);
          ::waitpid(pid, nullptr, 0);
        }
        pid = -1;
      }
    }
    for (const auto& ns : {ns_a_, ns_b_}) {
      if (!ns.empty()) {
        sh({"ip", "netns", "del", ns});
      }
    }
    if (!dir_.empty() && std::getenv("TRANSIT_KEEP_LAB") == nullptr) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  static bool sh(const std::vector<std::string>& argv) {
    PosixCommandRunner runner;
    auto result = runner.run(argv, seconds(20));
    return result && (result->exitedWith(0) ||
                      (argv.size() > 1 && argv[1] == "initnss" && result->exitedWith(42)));
  }
  static bool inNs(const std::string& ns, const std::vector<std::string>& argv) {
    std::vector<std::string> full{"ip", "netns", "exec", ns};
    full.insert(full.end(), argv.begin(), argv.end());
    return sh(full);
  }
  static void writeFile(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }

  // pluto --nofork inside the namespace (ip netns exec execs it: the pid is pluto's).
  static pid_t startPluto(const std::string& ns, const std::string& d) {
    std::vector<std::string> argv{"ip",
                                  "netns",
                                  "exec",
                                  ns,
                                  kPluto,
                                  "--nofork",
                                  "--config",
                                  d + "/ipsec.conf",
                                  "--rundir",
                                  d + "/run",
                                  "--nssdir",
                                  d + "/nss",
                                  "--secretsfile",
                                  d + "/ipsec.secrets",
                                  "--logfile",
                                  d + "/pluto.log"};
    std::vector<char*> cargv;
    for (auto& arg : argv) {
      cargv.push_back(arg.data());
    }
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const std::string out = d + "/pluto.stderr";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, "ip", &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
  }

  LibreswanOptions hubOptions() const {
    LibreswanOptions options;
    options.ctl_socket = dir_ + "/a/run/pluto.ctl";
    options.conf_dir = dir_ + "/a/conns";
    options.secrets_file = dir_ + "/a/ipsec.secrets";
    options.pid_file = dir_ + "/a/run/pluto.pid";
    options.links = TunnelLinks::kExternal;
    return options;
  }

  static TunnelSpec hubSpec() {
    TunnelSpec spec;
    spec.name = "th-daemon-1";
    spec.spoke = "daemon";
    spec.local_address = Ipv4Address::parse("192.0.2.1").value();
    spec.local_id = spec.local_address;
    spec.remote_address = Ipv4Address::parse("192.0.2.2").value();
    spec.inside_cidr = Ipv4Prefix::parse("169.254.20.0/30").value();
    spec.hub_inside = Ipv4Address::parse("169.254.20.2").value();
    spec.psk = kPsk;
    spec.interface_id = 77;
    return spec;
  }

  static std::optional<ObservedTunnel> find(const TunnelObservation& seen) {
    for (const auto& tunnel : seen.tunnels) {
      if (tunnel.name == "th-daemon-1") {
        return tunnel;
      }
    }
    return std::nullopt;
  }

  std::string ns_a_;
  std::string ns_b_;
  std::string dir_;
  pid_t pluto_a_ = -1;
  pid_t pluto_b_ = -1;
};

TEST_F(LibreswanDaemonTest, AppliedTunnelEstablishesIkeAndIsRemoved) {
  PosixCommandRunner runner({"ip", "netns", "exec", ns_a_});
  auto created = LibreswanDriver::create(hubOptions(), runner);
  ASSERT_TRUE(created.has_value());
  auto& driver = **created;

  auto applied = driver.apply(hubSpec());
  ASSERT_TRUE(applied.has_value()) << applied.error().message;

  std::optional<ObservedTunnel> tunnel;
  std::string instance;
  const bool up = waitFor(
      [&] {
        auto seen = driver.observe();
        if (!seen) {
          return false;
        }
        instance = seen->daemon_instance;
        tunnel = find(*seen);
        return tunnel && tunnel->ike_up;
      },
      seconds(20));
  ASSERT_TRUE(up) << "state: " << (tunnel ? tunnel->state : "<not loaded>") << "; logs in " << dir_
                  << " (TRANSIT_KEEP_LAB=1 keeps them)";
  EXPECT_TRUE(tunnel->loaded);
  EXPECT_TRUE(instance.starts_with(std::to_string(pluto_a_) + ":"));

  // Re-applying the same spec must not tear the IKE SA down (no addconn).
  ASSERT_TRUE(driver.apply(hubSpec()).has_value());
  auto again = driver.observe();
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(find(*again).has_value());
  EXPECT_TRUE(find(*again)->ike_up);

  auto removed = driver.remove("th-daemon-1");
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  auto after = driver.observe();
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(find(*after).has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/a/conns/th-daemon-1.conf"));
}

}  // namespace
}  // namespace transit::peers
