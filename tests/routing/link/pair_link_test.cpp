// VxlanPairLink over a scripted runner: which `ip` commands it runs for a missing, a matching, a
// changed and a foreign device, and what it refuses before running anything.
#include "routing/link/pair_link.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/fakes/fake_command_runner.hpp"

namespace transit::routing {
namespace {

using peers::testing::FakeCommandRunner;

PairLinkSpec spec() {
  PairLinkSpec s;
  s.vni = 77;
  s.port = 4789;
  s.local = *Ipv4Address::parse("10.0.1.10");
  s.remote = *Ipv4Address::parse("10.0.2.10");
  s.underlay_device = "ens5";
  s.inside = *Ipv4Prefix::parse("169.254.253.252/30");
  s.address = *Ipv4Address::parse("169.254.253.253");
  s.mtu = 1450;
  return s;
}

CommandResult exited(int code, std::string out = "", std::string err = "") {
  CommandResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

std::string linkJson(std::uint32_t vni, std::uint32_t mtu = 1450, bool up = true,
                     std::string kind = "vxlan") {
  return fmt::format(
      R"([{{"ifname":"th-pair","flags":["BROADCAST","MULTICAST"{}],"mtu":{},"operstate":"UNKNOWN",)"
      R"("linkinfo":{{"info_kind":"{}","info_data":{{"id":{},"remote":"10.0.2.10",)"
      R"("local":"10.0.1.10","link":"ens5","port":4789}}}}}}])",
      up ? R"(,"UP","LOWER_UP")" : "", mtu, kind, vni);
}

const std::string kAddressJson =
    R"([{"ifname":"th-pair","addr_info":[{"family":"inet","local":"169.254.253.253","prefixlen":30},)"
    R"({"family":"inet6","local":"fe80::1","prefixlen":64}]}])";

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) out += (out.empty() ? "" : " ") + word;
  return out;
}

TEST(PairLink, AMissingLinkIsCreatedAsSpecifiedAndBroughtUp) {
  FakeCommandRunner runner;
  runner.on({"show", "th-pair", "-d"}, exited(1, "", "Device \"th-pair\" does not exist.\n"));
  VxlanPairLink link({}, runner);
  ASSERT_TRUE(link.apply(spec()).has_value());
  std::vector<std::string> commands;
  for (const auto& argv : runner.calls) commands.push_back(joined(argv));
  EXPECT_EQ(commands, (std::vector<std::string>{
                          "ip -j -d link show dev th-pair",
                          "ip link add th-pair type vxlan id 77 local 10.0.1.10 remote 10.0.2.10 "
                          "dstport 4789 dev ens5",
                          "ip link set dev th-pair mtu 1450",
                          "ip addr add 169.254.253.253/30 dev th-pair",
                          "ip link set dev th-pair up",
                      }));
}

TEST(PairLink, AMatchingLinkIsObservedAsSuchAndApplyingItChangesNothing) {
  FakeCommandRunner runner;
  runner.on({"link", "show", "th-pair"}, exited(0, linkJson(77)));
  runner.on({"addr", "show", "th-pair"}, exited(0, kAddressJson));
  VxlanPairLink link({}, runner);
  const auto seen = link.observe(spec());
  ASSERT_TRUE(seen.has_value()) << seen.error().message;
  EXPECT_TRUE(seen->exists && seen->matches && seen->up) << seen->differs;
  ASSERT_TRUE(link.apply(spec()).has_value());
  EXPECT_EQ(runner.count({"add"}) + runner.count({"del"}) + runner.count({"set"}), 0);
}

TEST(PairLink, AnotherVniIsSeenAndTheLinkIsRecreated) {
  FakeCommandRunner runner;
  runner.on({"link", "show", "th-pair"}, exited(0, linkJson(76)));
  runner.on({"addr", "show", "th-pair"}, exited(0, kAddressJson));
  VxlanPairLink link({}, runner);
  const auto seen = link.observe(spec());
  ASSERT_TRUE(seen.has_value());
  EXPECT_FALSE(seen->matches);
  EXPECT_EQ(seen->differs, "vni 76, not 77");
  ASSERT_TRUE(link.apply(spec()).has_value());
  EXPECT_EQ(runner.count({"ip", "link", "del", "dev", "th-pair"}), 1);
  EXPECT_EQ(runner.count({"link", "add", "th-pair", "77"}), 1);
}

TEST(PairLink, AnotherMtuIsSetInPlace) {
  FakeCommandRunner runner;
  runner.on({"link", "show", "th-pair"}, exited(0, linkJson(77, 1500)));
  runner.on({"addr", "show", "th-pair"}, exited(0, kAddressJson));
  VxlanPairLink link({}, runner);
  EXPECT_EQ(link.observe(spec())->differs, "mtu 1500, not 1450");
  ASSERT_TRUE(link.apply(spec()).has_value());
  EXPECT_EQ(runner.count({"del"}), 0);
  EXPECT_EQ(runner.count({"set", "mtu", "1450"}), 1);
}

TEST(PairLink, ADeviceOfThatNameThatIsNotVxlanIsLeftAlone) {
  FakeCommandRunner runner;
  runner.on({"link", "show", "th-pair"}, exited(0, linkJson(77, 1450, true, "veth")));
  VxlanPairLink link({}, runner);
  const auto applied = link.apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().kind, DriverError::Kind::kInvalid);
  EXPECT_NE(applied.error().message.find("not a VXLAN device"), std::string::npos);
  ASSERT_TRUE(link.remove("th-pair").has_value());
  EXPECT_EQ(runner.count({"del"}), 0);
}

TEST(PairLink, RemoveDeletesTheVxlanDeviceAndAnAbsentOneIsRemovedAlready) {
  FakeCommandRunner runner;
  runner.on({"link", "show", "th-pair"}, exited(0, linkJson(77)), 1);
  runner.on({"link", "show", "th-pair"}, exited(1, "", "Device \"th-pair\" does not exist.\n"));
  VxlanPairLink link({}, runner);
  ASSERT_TRUE(link.remove("th-pair").has_value());
  EXPECT_EQ(runner.count({"ip", "link", "del", "dev", "th-pair"}), 1);
  ASSERT_TRUE(link.remove("th-pair").has_value());
  EXPECT_EQ(runner.count({"ip", "link", "del", "dev", "th-pair"}), 1);
}

TEST(PairLink, WithoutAnUnderlayDeviceTheOneHoldingTheLocalAddressIsUsed) {
  FakeCommandRunner runner;
  runner.on({"show", "th-pair", "-d"}, exited(1, "", "Device \"th-pair\" does not exist.\n"));
  runner.on({"-4", "addr", "show"},
            exited(0, R"([{"ifname":"lo","addr_info":[{"local":"127.0.0.1"}]},)"
                      R"({"ifname":"eth7","addr_info":[{"local":"10.0.1.10"}]}])"));
  VxlanPairLink link({}, runner);
  auto s = spec();
  s.underlay_device.clear();
  ASSERT_TRUE(link.apply(s).has_value());
  EXPECT_EQ(runner.count({"link", "add", "th-pair", "dev", "eth7"}), 1);
}

TEST(PairLink, BadSpecsAreRefusedBeforeAnyCommand) {
  FakeCommandRunner runner;
  VxlanPairLink link({}, runner);
  auto refused = [&](PairLinkSpec s, std::string_view why) {
    const auto applied = link.apply(s);
    ASSERT_FALSE(applied.has_value()) << why;
    EXPECT_EQ(applied.error().kind, DriverError::Kind::kInvalid);
    EXPECT_NE(applied.error().message.find(why), std::string::npos) << applied.error().message;
  };
  auto s = spec();
  s.vni = 0;
  refused(s, "VNI 0");
  s = spec();
  s.vni = 16777216;
  refused(s, "VNI 16777216");
  s = spec();
  s.address = *Ipv4Address::parse("169.254.253.255");  // the broadcast address
  refused(s, "not a usable address");
  s = spec();
  s.remote = s.local;
  refused(s, "must differ");
  s = spec();
  s.device = "th pair;x";
  refused(s, "device name");
  EXPECT_TRUE(runner.calls.empty());
}

TEST(PairLink, AFailingCommandIsAnErrorThatNamesIt) {
  FakeCommandRunner runner;
  runner.on({"show", "th-pair", "-d"}, exited(1, "", "Device \"th-pair\" does not exist.\n"));
  runner.on({"link", "add"},
            exited(2, "", "Error: A VXLAN device with the specified VNI exists.\n"));
  VxlanPairLink link({}, runner);
  const auto applied = link.apply(spec());
  ASSERT_FALSE(applied.has_value());
  EXPECT_NE(applied.error().message.find("ip link add th-pair type vxlan"), std::string::npos);
  EXPECT_NE(applied.error().message.find("specified VNI exists"), std::string::npos);
}

}  // namespace
}  // namespace transit::routing
