#include "peers/libreswan/xfrm_links.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/fakes/fake_command_runner.hpp"

namespace transit::peers {
namespace {

using testing::FakeCommandRunner;
using testing::reply;
using Kind = DriverError::Kind;
using Argv = std::vector<std::string>;

Ipv4Address ip(std::string_view text) { return Ipv4Address::parse(text).value(); }

// `ip -j -4 addr show` as iproute2 6.1 prints it (captured on the development machine).
constexpr const char* kHostAddresses =
    R"([{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,)"
    R"("qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"addr_info":)"
    R"([{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo",)"
    R"("valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":4,)"
    R"("ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1400,)"
    R"("qdisc":"pfifo_fast","operstate":"UP","group":"default","txqlen":1000,"addr_info":)"
    R"([{"family":"inet","local":"192.0.2.2","prefixlen":24,"broadcast":"192.0.2.255",)"
    R"("scope":"global","label":"eth0","valid_life_time":4294967295,)"
    R"("preferred_life_time":4294967295}]}])"
    "\n";

// `ip -j -d link show dev ipsecN`. The envelope is what iproute2 6.1 prints for any link (captured
// for lo); the xfrm parts follow the kernel (NOARP, link_type none, IFLA_LINK -> "link") and
// iproute2's link_xfrm.c, which prints if_id with print_0xhex: a JSON string such as "0x7".
std::string linkJson(std::uint32_t id, std::string_view if_id_json, std::uint32_t mtu = 1399,
                     bool up = true, std::string_view kind = "xfrm") {
  const std::string info_data =
      if_id_json.empty() ? "" : fmt::format(R"(,"info_data":{{"if_id":{}}})", if_id_json);
  return fmt::format(
      R"([{{"ifindex":{0},"ifname":"ipsec{1}","link":"eth0","flags":[{2}],"mtu":{3},)"
      R"("qdisc":"noqueue","operstate":"{4}","linkmode":"DEFAULT","group":"default",)"
      R"("txqlen":1000,"link_type":"none","promiscuity":0,"allmulti":0,"min_mtu":68,)"
      R"("max_mtu":65535,"linkinfo":{{"info_kind":"{5}"{6}}},"inet6_addr_gen_mode":"eui64",)"
      R"("num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,)"
      R"("tso_max_size":65536,"tso_max_segs":65535,"gro_max_size":65536}}])"
      "\n",
      10 + id, id, up ? R"("NOARP","UP","LOWER_UP")" : R"("NOARP")", mtu, up ? "UNKNOWN" : "DOWN",
      kind, info_data);
}

std::string xfrmLink(std::uint32_t id, std::uint32_t mtu = 1399, bool up = true) {
  return linkJson(id, fmt::format("\"{:#x}\"", id), mtu, up);
}

// `ip -j addr show dev ipsecN` with the given IPv4 addresses (and the IPv6 link-local address
// the kernel gives the device, which the hub leaves alone).
std::string addrJson(std::uint32_t id, const std::vector<std::pair<std::string, int>>& v4) {
  std::string infos;
  for (const auto& [address, length] : v4) {
    infos += fmt::format(
        R"({{"family":"inet","local":"{}","prefixlen":{},"scope":"global","label":"ipsec{}",)"
        R"("valid_life_time":4294967295,"preferred_life_time":4294967295}},)",
        address, length, id);
  }
  infos += R"({"family":"inet6","local":"fe80::5c4e:1fff:fe2a:9b01","prefixlen":64,"scope":"link",)"
           R"("valid_life_time":4294967295,"preferred_life_time":4294967295})";
  return fmt::format(
      R"([{{"ifindex":{0},"ifname":"ipsec{1}","link":"eth0","flags":["NOARP","UP","LOWER_UP"],)"
      R"("mtu":1399,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,)"
      R"("link_type":"none","addr_info":[{2}]}}])"
      "\n",
      10 + id, id, infos);
}

CommandResult noSuchDevice(std::uint32_t id) {
  return reply("", 1, fmt::format("Device \"ipsec{}\" does not exist.\n", id));
}

bool reads(const Argv& argv) { return std::ranges::find(argv, "show") != argv.end(); }

class XfrmLinksTest : public ::testing::Test {
 protected:
  XfrmLinksTest() { options_.ip = "/x/ip"; }

  static TunnelSpec spec(std::uint32_t id = 7) {
    TunnelSpec s;
    s.name = fmt::format("th-prod-a-{}", id);
    s.spoke = "prod-a";
    s.local_address = ip("192.0.2.2");
    s.local_id = ip("198.51.100.1");
    s.remote_address = ip("203.0.113.9");
    // ipsec7: 169.254.20.0/30, ipsec8: 169.254.20.4/30
    const Ipv4Address network(ip("169.254.20.0").value() + 4 * (id - 7));
    s.inside_cidr = Ipv4Prefix::containing(network, 30);
    s.hub_inside = s.inside_cidr.host(2);
    s.psk = "Not_used.here";
    s.interface_id = id;
    return s;
  }

  // ipsecN exists, healthy: the right kind, if_id, MTU, address, up.
  void healthy(std::uint32_t id = 7) {
    const auto s = spec(id);
    const std::string dev = xfrmDeviceName(id);
    runner_.on({"link", "show", dev}, reply(xfrmLink(id)));
    runner_.on({"addr", "show", dev},
               reply(addrJson(id, {{s.hub_inside.toString(), s.inside_cidr.length()}})));
  }

  std::vector<Argv> mutations() const {
    std::vector<Argv> out;
    for (const auto& argv : runner_.calls) {
      if (!reads(argv)) {
        out.push_back(argv);
      }
    }
    return out;
  }

  XfrmLinkOptions options_;
  FakeCommandRunner runner_;
};

TEST_F(XfrmLinksTest, CreatesTheLinkFromNothing) {
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice(7));
  runner_.on({"-4", "addr", "show"}, reply(kHostAddresses));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());

  const std::vector<Argv> expected{
      {"/x/ip", "-j", "-d", "link", "show", "dev", "ipsec7"},
      {"/x/ip", "-j", "-4", "addr", "show"},
      {"/x/ip", "link", "add", "ipsec7", "type", "xfrm", "dev", "eth0", "if_id", "7"},
      {"/x/ip", "link", "set", "dev", "ipsec7", "mtu", "1399"},
      {"/x/ip", "addr", "add", "169.254.20.2/30", "dev", "ipsec7"},
      {"/x/ip", "link", "set", "dev", "ipsec7", "up"},
  };
  EXPECT_EQ(runner_.calls, expected);  // no nft: the MSS clamp is routing/nft's
}

TEST_F(XfrmLinksTest, SecondEnsureOfAHealthyLinkOnlyReads) {
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice(7), 1);
  runner_.on({"-4", "addr", "show"}, reply(kHostAddresses));
  healthy();
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  runner_.calls.clear();
  ASSERT_TRUE(links.ensure(spec()).has_value());
  EXPECT_EQ(runner_.calls.size(), 2U);  // link show, addr show
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, ExistingHealthyLinkIsAdoptedWithoutChanges) {
  healthy();
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, IfIdPrintedAsANumberIsAcceptedToo) {
  runner_.on({"link", "show", "ipsec7"}, reply(linkJson(7, "7")));
  runner_.on({"addr", "show", "ipsec7"}, reply(addrJson(7, {{"169.254.20.2", 30}})));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, LinkWithAnotherIfIdIsRefusedAndLeftAlone) {
  runner_.on({"link", "show", "ipsec7"}, reply(linkJson(7, "\"0x9\"")));
  XfrmLinks links(options_, runner_);
  const auto ensured = links.ensure(spec());
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kInvalid);
  EXPECT_NE(ensured.error().message.find("ipsec7"), std::string::npos);
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, DeviceThatIsNotAnXfrmLinkIsRefusedAndLeftAlone) {
  runner_.on({"link", "show", "ipsec7"}, reply(linkJson(7, "", 1500, true, "dummy")));
  XfrmLinks links(options_, runner_);
  const auto ensured = links.ensure(spec());
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kInvalid);
  EXPECT_NE(ensured.error().message.find("ipsec7"), std::string::npos);
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, StrayAddressesAreRemovedAndTheInsideAddressAdded) {
  runner_.on({"link", "show", "ipsec7"}, reply(xfrmLink(7)));
  runner_.on({"addr", "show", "ipsec7"},
             reply(addrJson(7, {{"169.254.99.2", 30}, {"10.9.9.9", 24}})));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  const std::vector<Argv> expected{
      {"/x/ip", "addr", "del", "169.254.99.2/30", "dev", "ipsec7"},
      {"/x/ip", "addr", "del", "10.9.9.9/24", "dev", "ipsec7"},
      {"/x/ip", "addr", "add", "169.254.20.2/30", "dev", "ipsec7"},
  };
  EXPECT_EQ(mutations(), expected);  // the IPv6 link-local address stays
}

TEST_F(XfrmLinksTest, InsideAddressWithTheWrongLengthIsReplaced) {
  runner_.on({"link", "show", "ipsec7"}, reply(xfrmLink(7)));
  runner_.on({"addr", "show", "ipsec7"}, reply(addrJson(7, {{"169.254.20.2", 32}})));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  EXPECT_EQ(runner_.count({"/x/ip", "addr", "del", "169.254.20.2/32", "dev", "ipsec7"}), 1);
  EXPECT_EQ(runner_.count({"/x/ip", "addr", "add", "169.254.20.2/30", "dev", "ipsec7"}), 1);
}

TEST_F(XfrmLinksTest, WrongMtuIsFixed) {
  runner_.on({"link", "show", "ipsec7"}, reply(xfrmLink(7, 1500)));
  runner_.on({"addr", "show", "ipsec7"}, reply(addrJson(7, {{"169.254.20.2", 30}})));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  const std::vector<Argv> expected{{"/x/ip", "link", "set", "dev", "ipsec7", "mtu", "1399"}};
  EXPECT_EQ(mutations(), expected);
}

TEST_F(XfrmLinksTest, DownLinkIsBroughtUp) {
  runner_.on({"link", "show", "ipsec7"}, reply(xfrmLink(7, 1399, false)));
  runner_.on({"addr", "show", "ipsec7"}, reply(addrJson(7, {{"169.254.20.2", 30}})));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  const std::vector<Argv> expected{{"/x/ip", "link", "set", "dev", "ipsec7", "up"}};
  EXPECT_EQ(mutations(), expected);
}

TEST_F(XfrmLinksTest, ConfiguredUnderlayIsUsedWithoutLookingItUp) {
  options_.underlay_device = "ens5";
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice(7));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec()).has_value());
  EXPECT_EQ(runner_.count({"-4"}), 0);
  EXPECT_EQ(runner_.count({"/x/ip", "link", "add", "ipsec7", "dev", "ens5", "if_id", "7"}), 1);
}

TEST_F(XfrmLinksTest, NoDeviceWithTheLocalAddressNeedsTheUnderlay) {
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice(7));
  runner_.on({"-4", "addr", "show"}, reply(kHostAddresses));
  auto s = spec();
  s.local_address = ip("10.0.0.5");
  XfrmLinks links(options_, runner_);
  const auto ensured = links.ensure(s);
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kNeedsDependency);
  EXPECT_NE(ensured.error().message.find("10.0.0.5"), std::string::npos);
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, FailingLinkAddIsAClearTransientError) {
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice(7));
  runner_.on({"-4", "addr", "show"}, reply(kHostAddresses));
  runner_.on({"link", "add"}, reply("", 2, "RTNETLINK answers: Operation not supported\n"));
  XfrmLinks links(options_, runner_);
  const auto ensured = links.ensure(spec());
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kTransient);
  EXPECT_EQ(ensured.error().message,
            "/x/ip link add ipsec7 type xfrm dev eth0 if_id 7: exit 2, signal 0: "
            "RTNETLINK answers: Operation not supported");
  EXPECT_EQ(mutations().size(), 1U);  // nothing after the failed add
}

TEST_F(XfrmLinksTest, MissingIpNeedsDependency) {
  runner_.failToStart({"/x/ip"}, "cannot start /x/ip: No such file or directory");
  XfrmLinks links(options_, runner_);
  const auto ensured = links.ensure(spec());
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kNeedsDependency);
}

TEST_F(XfrmLinksTest, UnparsableIpOutputIsTransient) {
  runner_.on({"link", "show", "ipsec7"}, reply("ipsec7@eth0: <NOARP,UP,LOWER_UP> mtu 1399\n"));
  XfrmLinks links(options_, runner_);
  const auto ensured = links.ensure(spec());
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kTransient);
  EXPECT_TRUE(mutations().empty());
}

TEST_F(XfrmLinksTest, InterfaceIdZeroIsInvalid) {
  XfrmLinks links(options_, runner_);
  auto s = spec();
  s.interface_id = 0;
  const auto ensured = links.ensure(s);
  ASSERT_FALSE(ensured.has_value());
  EXPECT_EQ(ensured.error().kind, Kind::kInvalid);
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(XfrmLinksTest, RemoveDeletesOnlyThatLink) {
  healthy(7);
  healthy(8);
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.ensure(spec(7)).has_value());
  ASSERT_TRUE(links.ensure(spec(8)).has_value());
  runner_.calls.clear();
  ASSERT_TRUE(links.remove(7).has_value());
  const std::vector<Argv> expected{{"/x/ip", "link", "del", "dev", "ipsec7"}};
  EXPECT_EQ(mutations(), expected);
}

TEST_F(XfrmLinksTest, RemovingAnAbsentLinkSucceeds) {
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice(7));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.remove(7).has_value());
  EXPECT_EQ(runner_.count({"link", "del"}), 0);
}

TEST_F(XfrmLinksTest, RemoveLeavesADeviceThatIsNotOurs) {
  runner_.on({"link", "show", "ipsec7"}, reply(linkJson(7, "\"0x9\"")));
  XfrmLinks links(options_, runner_);
  ASSERT_TRUE(links.remove(7).has_value());
  EXPECT_EQ(runner_.count({"link", "del"}), 0);
}

TEST_F(XfrmLinksTest, RemoveAfterARestartDeletesTheLink) {
  runner_.on({"link", "show", "ipsec7"}, reply(xfrmLink(7)));
  XfrmLinks fresh(options_, runner_);  // knows nothing of the links a previous process made
  ASSERT_TRUE(fresh.remove(7).has_value());
  EXPECT_EQ(runner_.count({"/x/ip", "link", "del", "dev", "ipsec7"}), 1);
}

}  // namespace
}  // namespace transit::peers
