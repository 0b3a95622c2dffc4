// Tool test (label `tool`, needs root and iproute2): VxlanPairLink makes the real link between
// two hubs. Two network namespaces thpt-<pid>-h1 and -h2 joined by a veth underlay
// (192.0.2.1/24, 192.0.2.2/24) stand in for the two instances; the driver runs `ip` in each
// through `ip netns exec`. Everything is removed when the test ends, whatever happened.
#include "routing/link/pair_link.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "tests/fakes/shell.hpp"

namespace transit::routing {
namespace {

std::string run(const std::string& command) { return fakes::shellOutput(command); }
bool ok(const std::string& command) { return fakes::shellOk(command); }

class PairLinkTool : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    const auto tag = "thpt-" + std::to_string(::getpid());
    const auto dev = "thpt" + std::to_string(::getpid());
    ns1_ = tag + "-h1";
    ns2_ = tag + "-h2";
    underlay1_ = dev + "u1";
    for (const auto& ns : {ns1_, ns2_}) {
      ASSERT_TRUE(ok("ip netns add " + ns)) << ns;
      created_.push_back(ns);
    }
    for (const auto& step : {"ip link add " + dev + "u1 netns " + ns1_ + " type veth peer name " +
                                 dev + "u2 netns " + ns2_,
                             "ip -n " + ns1_ + " addr add 192.0.2.1/24 dev " + dev + "u1",
                             "ip -n " + ns2_ + " addr add 192.0.2.2/24 dev " + dev + "u2",
                             "ip -n " + ns1_ + " link set " + dev + "u1 up",
                             "ip -n " + ns2_ + " link set " + dev + "u2 up"}) {
      ASSERT_TRUE(ok(step)) << step;
    }
    runner1_ =
        std::make_unique<PosixCommandRunner>(std::vector<std::string>{"ip", "netns", "exec", ns1_});
    runner2_ =
        std::make_unique<PosixCommandRunner>(std::vector<std::string>{"ip", "netns", "exec", ns2_});
  }
  void TearDown() override {
    for (const auto& ns : created_) ok("ip netns del " + ns);
  }

  // hub 1's spec; hub 2's is the mirror image (the second usable address, no underlay named).
  PairLinkSpec spec(bool first) const {
    PairLinkSpec s;
    s.vni = 77;
    s.port = 4790;
    s.local = *Ipv4Address::parse(first ? "192.0.2.1" : "192.0.2.2");
    s.remote = *Ipv4Address::parse(first ? "192.0.2.2" : "192.0.2.1");
    s.underlay_device = first ? underlay1_ : "";  // hub 2 finds it by its address
    s.inside = *Ipv4Prefix::parse("169.254.253.252/30");
    s.address = *Ipv4Address::parse(first ? "169.254.253.253" : "169.254.253.254");
    s.mtu = 1400;
    return s;
  }

  std::string details(const std::string& ns) const {
    return run("ip -n " + ns + " -d link show dev th-pair") +
           run("ip -n " + ns + " -4 addr show dev th-pair");
  }
  // One reply within 5 s (a probe a second: a neighbour entry that failed while the other end
  // was not there yet is resolved again).
  bool ping(const std::string& from, const std::string& to) const {
    return ok("ip netns exec " + from + " ping -c 1 -w 5 " + to);
  }

  std::string ns1_, ns2_, underlay1_;
  std::vector<std::string> created_;
  std::unique_ptr<PosixCommandRunner> runner1_, runner2_;
};

TEST_F(PairLinkTool, TheLinkIsMadeAsSpecifiedAndCarriesTraffic) {
  VxlanPairLink hub1({}, *runner1_);
  VxlanPairLink hub2({}, *runner2_);
  const auto seen_before = hub1.observe(spec(true));
  ASSERT_TRUE(seen_before.has_value()) << seen_before.error().message;
  EXPECT_FALSE(seen_before->exists);
  const auto made1 = hub1.apply(spec(true));
  ASSERT_TRUE(made1.has_value()) << made1.error().message;
  const auto made2 = hub2.apply(spec(false));
  ASSERT_TRUE(made2.has_value()) << made2.error().message;

  const auto shown = details(ns1_);
  EXPECT_NE(shown.find("mtu 1400"), std::string::npos) << shown;
  EXPECT_NE(shown.find("vxlan id 77 remote 192.0.2.2 local 192.0.2.1 dev " + underlay1_),
            std::string::npos)
      << shown;
  EXPECT_NE(shown.find("dstport 4790"), std::string::npos) << shown;
  EXPECT_NE(shown.find("inet 169.254.253.253/30"), std::string::npos) << shown;
  const auto seen = hub1.observe(spec(true));
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(seen->matches) << seen->differs;
  EXPECT_TRUE(seen->up);
  EXPECT_TRUE(ping(ns1_, "169.254.253.254")) << details(ns1_) << details(ns2_);
}

TEST_F(PairLinkTool, ApplyingWhatRunsKeepsTheDevice) {
  VxlanPairLink hub1({}, *runner1_);
  ASSERT_TRUE(hub1.apply(spec(true)).has_value());
  const auto before = run("ip -n " + ns1_ + " -o link show dev th-pair");
  ASSERT_TRUE(hub1.apply(spec(true)).has_value());
  EXPECT_EQ(run("ip -n " + ns1_ + " -o link show dev th-pair"), before);  // same ifindex
}

TEST_F(PairLinkTool, AChangedVniRecreatesTheLinkOnBothHubsAndTrafficFlowsAgain) {
  VxlanPairLink hub1({}, *runner1_);
  VxlanPairLink hub2({}, *runner2_);
  ASSERT_TRUE(hub1.apply(spec(true)).has_value());
  ASSERT_TRUE(hub2.apply(spec(false)).has_value());
  auto changed1 = spec(true);
  auto changed2 = spec(false);
  changed1.vni = changed2.vni = 4242;
  const auto seen = hub1.observe(changed1);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->differs, "vni 77, not 4242");
  ASSERT_TRUE(hub1.apply(changed1).has_value());
  // Only one end changed: the two VNIs differ and nothing crosses.
  EXPECT_FALSE(ok("ip netns exec " + ns1_ + " ping -c 1 -W 1 169.254.253.254"));
  ASSERT_TRUE(hub2.apply(changed2).has_value());
  EXPECT_NE(details(ns1_).find("vxlan id 4242 "), std::string::npos) << details(ns1_);
  EXPECT_TRUE(hub1.observe(changed1)->matches);
  EXPECT_TRUE(ping(ns1_, "169.254.253.254")) << details(ns1_) << details(ns2_);
}

TEST_F(PairLinkTool, RemoveDeletesTheLink) {
  VxlanPairLink hub1({}, *runner1_);
  ASSERT_TRUE(hub1.apply(spec(true)).has_value());
  ASSERT_TRUE(hub1.remove("th-pair").has_value());
  EXPECT_FALSE(ok("ip -n " + ns1_ + " link show dev th-pair"));
  EXPECT_FALSE(hub1.observe(spec(true))->exists);
}

TEST_F(PairLinkTool, AForeignDeviceOfThatNameIsLeftAlone) {
  ASSERT_TRUE(ok("ip -n " + ns1_ + " link add th-pair type veth peer name thpt-other"));
  VxlanPairLink hub1({}, *runner1_);
  const auto applied = hub1.apply(spec(true));
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, DriverError::Kind::kInvalid);
  ASSERT_TRUE(hub1.remove("th-pair").has_value());
  EXPECT_TRUE(ok("ip -n " + ns1_ + " link show dev th-pair"));
}

}  // namespace
}  // namespace transit::routing
