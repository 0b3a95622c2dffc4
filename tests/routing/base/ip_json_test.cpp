// IpJson over a scripted runner: what it reads from `ip -j` link and address listings (the
// outputs of VxlanPairLink's and XfrmLinks' tests), and the errors it makes of a missing device,
// a failing or missing `ip` and output that is not a JSON array.
#include "routing/base/ip_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/fakes/fake_command_runner.hpp"

namespace transit {
namespace {

using peers::testing::FakeCommandRunner;
using peers::testing::reply;
using Kind = DriverError::Kind;
using Argv = std::vector<std::string>;

constexpr std::chrono::milliseconds kTimeout{5000};

// `ip -j -d link show dev th-pair` for a VXLAN device (tests/routing/link/pair_link_test.cpp).
constexpr const char* kVxlanLink =
    R"([{"ifname":"th-pair","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,)"
    R"("operstate":"UNKNOWN","linkinfo":{"info_kind":"vxlan","info_data":{"id":77,)"
    R"("remote":"10.0.2.10","local":"10.0.1.10","link":"ens5","port":4789}}}])";

// `ip -j -d link show dev ipsec7`, an XFRM interface that is down, as iproute2 6.1 prints it
// (tests/peers/libreswan/xfrm_links_test.cpp): if_id is a hex string.
constexpr const char* kXfrmLinkDown =
    R"([{"ifindex":17,"ifname":"ipsec7","link":"eth0","flags":["NOARP"],"mtu":1399,)"
    R"("qdisc":"noqueue","operstate":"DOWN","linkmode":"DEFAULT","group":"default",)"
    R"("txqlen":1000,"link_type":"none","promiscuity":0,"allmulti":0,"min_mtu":68,)"
    R"("max_mtu":65535,"linkinfo":{"info_kind":"xfrm","info_data":{"if_id":"0x7"}},)"
    R"("inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1}])"
    "\n";

// `ip -j addr show dev ipsec7` with two IPv4 addresses and the IPv6 link-local one.
constexpr const char* kXfrmAddresses =
    R"([{"ifindex":17,"ifname":"ipsec7","link":"eth0","flags":["NOARP","UP","LOWER_UP"],)"
    R"("mtu":1399,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,)"
    R"("link_type":"none","addr_info":[{"family":"inet","local":"169.254.99.2","prefixlen":30,)"
    R"("scope":"global","label":"ipsec7","valid_life_time":4294967295,)"
    R"("preferred_life_time":4294967295},{"family":"inet","local":"10.9.9.9","prefixlen":24,)"
    R"("scope":"global","label":"ipsec7","valid_life_time":4294967295,)"
    R"("preferred_life_time":4294967295},{"family":"inet6","local":"fe80::5c4e:1fff:fe2a:9b01",)"
    R"("prefixlen":64,"scope":"link","valid_life_time":4294967295,)"
    R"("preferred_life_time":4294967295}]}])"
    "\n";

// `ip -j -4 addr show`, lo and eth0, captured with iproute2 6.1.
constexpr const char* kHostAddresses =
    R"([{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,)"
    R"("qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"addr_info":)"
    R"([{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},)"
    R"({"ifindex":4,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],)"
    R"("mtu":1400,"operstate":"UP","addr_info":[{"family":"inet","local":"192.0.2.2",)"
    R"("prefixlen":24,"broadcast":"192.0.2.255","scope":"global","label":"eth0"}]}])"
    "\n";

CommandResult noSuchDevice(std::string_view device) {
  return reply("", 1, "Device \"" + std::string(device) + "\" does not exist.\n");
}

Ipv4Address address(std::string_view text) { return Ipv4Address::parse(text).value(); }

class IpJsonTest : public ::testing::Test {
 protected:
  FakeCommandRunner runner_;
  IpJson ip_{"/x/ip", kTimeout, runner_};
};

TEST_F(IpJsonTest, ReadsALinkAndItsKindsOwnFields) {
  runner_.on({"link", "show", "th-pair"}, reply(kVxlanLink));
  const auto link = ip_.link("th-pair");
  ASSERT_TRUE(link.has_value()) << link.error().message;
  EXPECT_EQ(runner_.calls,
            (std::vector<Argv>{{"/x/ip", "-j", "-d", "link", "show", "dev", "th-pair"}}));
  EXPECT_TRUE(link->exists);
  EXPECT_EQ(link->name, "th-pair");
  EXPECT_EQ(link->kind, "vxlan");
  EXPECT_EQ(link->mtu, 1450U);
  EXPECT_TRUE(link->admin_up);
  EXPECT_TRUE(link->lower_up);
  const auto& data = link->info_data;
  EXPECT_EQ(jsonCount(data.if_contains("id")), 77U);
  EXPECT_EQ(jsonCount(data.if_contains("port")), 4789U);
  EXPECT_EQ(jsonText(data.if_contains("local")), "10.0.1.10");
  EXPECT_EQ(jsonText(data.if_contains("remote")), "10.0.2.10");
  EXPECT_EQ(jsonText(data.if_contains("link")), "ens5");
}

TEST_F(IpJsonTest, ALinkThatIsDownKeepsItsInfoDataAsIpPrintsIt) {
  runner_.on({"link", "show", "ipsec7"}, reply(kXfrmLinkDown));
  const auto link = ip_.link("ipsec7");
  ASSERT_TRUE(link.has_value()) << link.error().message;
  EXPECT_TRUE(link->exists);
  EXPECT_EQ(link->kind, "xfrm");
  EXPECT_EQ(link->mtu, 1399U);
  EXPECT_FALSE(link->admin_up);
  EXPECT_FALSE(link->lower_up);
  EXPECT_EQ(jsonText(link->info_data.if_contains("if_id")), "0x7");  // the caller parses it
}

TEST_F(IpJsonTest, ALinkWithoutLinkinfoHasNoKindAndNoInfoData) {
  runner_.on({"link", "show", "ipsec7"},
             reply(R"([{"ifname":"ipsec7","flags":["NOARP"],"mtu":1500}])"));
  const auto link = ip_.link("ipsec7");
  ASSERT_TRUE(link.has_value());
  EXPECT_TRUE(link->exists);
  EXPECT_EQ(link->kind, "");
  EXPECT_TRUE(link->info_data.empty());
}

TEST_F(IpJsonTest, AMissingDeviceIsALinkThatDoesNotExist) {
  runner_.on({"link", "show", "ipsec7"}, noSuchDevice("ipsec7"));
  const auto link = ip_.link("ipsec7");
  ASSERT_TRUE(link.has_value()) << link.error().message;
  EXPECT_FALSE(link->exists);
  EXPECT_EQ(link->kind, "");
  EXPECT_EQ(link->mtu, 0U);
}

TEST_F(IpJsonTest, AListingOfAnotherDeviceIsALinkThatDoesNotExist) {
  runner_.on({"link", "show", "ipsec8"}, reply(kXfrmLinkDown));
  const auto link = ip_.link("ipsec8");
  ASSERT_TRUE(link.has_value());
  EXPECT_FALSE(link->exists);
}

TEST_F(IpJsonTest, AnyOtherFailureOfLinkShowIsTransientAndNamesTheCommand) {
  runner_.on({"link", "show"}, reply("", 2, "RTNETLINK answers: Operation not permitted\n"));
  const auto link = ip_.link("ipsec7");
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().kind, Kind::kTransient);
  EXPECT_EQ(link.error().message,
            "/x/ip -j -d link show dev ipsec7: exit 2, signal 0: "
            "RTNETLINK answers: Operation not permitted");
}

TEST_F(IpJsonTest, MalformedJsonIsTransientAndNamesTheCommand) {
  runner_.on({"link", "show", "ipsec7"}, reply("ipsec7@eth0: <NOARP,UP,LOWER_UP> mtu 1399\n"));
  const auto link = ip_.link("ipsec7");
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().kind, Kind::kTransient);
  EXPECT_TRUE(
      link.error().message.starts_with("/x/ip -j -d link show dev ipsec7: unparsable output: "))
      << link.error().message;
}

TEST_F(IpJsonTest, JsonThatIsNotAnArrayIsTransient) {
  runner_.on({"addr", "show", "ipsec7"}, reply(R"({"ifname":"ipsec7"})"));
  const auto addresses = ip_.addresses("ipsec7");
  ASSERT_FALSE(addresses.has_value());
  EXPECT_EQ(addresses.error().kind, Kind::kTransient);
  EXPECT_EQ(addresses.error().message,
            "/x/ip -j addr show dev ipsec7: unparsable output: not a JSON array");
}

TEST_F(IpJsonTest, AddressesAreTheIpv4OnesInIpsOrder) {
  runner_.on({"addr", "show", "ipsec7"}, reply(kXfrmAddresses));
  const auto addresses = ip_.addresses("ipsec7");
  ASSERT_TRUE(addresses.has_value()) << addresses.error().message;
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{{"/x/ip", "-j", "addr", "show", "dev", "ipsec7"}}));
  ASSERT_EQ(addresses->size(), 2U);  // the IPv6 link-local address is left out
  EXPECT_EQ((*addresses)[0].local, "169.254.99.2");
  EXPECT_EQ((*addresses)[0].prefix_length, 30);
  EXPECT_EQ((*addresses)[1].local, "10.9.9.9");
  EXPECT_EQ((*addresses)[1].prefix_length, 24);
}

TEST_F(IpJsonTest, AddressEntriesWithoutAnAddressOrALengthAreLeftOut) {
  runner_.on({"addr", "show", "th-pair"},
             reply(R"([{"ifname":"th-pair","addr_info":[{"family":"inet","prefixlen":30},)"
                   R"({"family":"inet","local":"169.254.253.253"},)"
                   R"({"family":"inet","local":"169.254.253.253","prefixlen":33}]},)"
                   R"({"ifname":"th-pair"}])"));
  const auto addresses = ip_.addresses("th-pair");
  ASSERT_TRUE(addresses.has_value());
  EXPECT_TRUE(addresses->empty());
}

TEST_F(IpJsonTest, AddressesOfAMissingDeviceAreAnError) {
  runner_.on({"addr", "show", "ipsec7"}, noSuchDevice("ipsec7"));
  const auto addresses = ip_.addresses("ipsec7");
  ASSERT_FALSE(addresses.has_value());
  EXPECT_EQ(addresses.error().kind, Kind::kTransient);
  EXPECT_EQ(addresses.error().message,
            "/x/ip -j addr show dev ipsec7: exit 1, signal 0: Device \"ipsec7\" does not exist.");
}

TEST_F(IpJsonTest, TheDeviceHoldingAnAddress) {
  runner_.on({"-4", "addr", "show"}, reply(kHostAddresses));
  const auto holder = [&](std::string_view text) {
    auto found = ip_.deviceHolding(address(text));
    EXPECT_TRUE(found.has_value()) << found.error().message;
    return found.value_or(std::nullopt);
  };
  EXPECT_EQ(holder("192.0.2.2"), "eth0");
  EXPECT_EQ(holder("127.0.0.1"), "lo");
  EXPECT_EQ(holder("10.0.0.5"), std::nullopt);
  EXPECT_EQ(runner_.calls.front(), (Argv{"/x/ip", "-j", "-4", "addr", "show"}));
}

TEST_F(IpJsonTest, DeviceHoldingPassesOnTheError) {
  runner_.on({"-4", "addr", "show"}, reply("not json"));
  const auto holder = ip_.deviceHolding(address("192.0.2.2"));
  ASSERT_FALSE(holder.has_value());
  EXPECT_EQ(holder.error().kind, Kind::kTransient);
  EXPECT_TRUE(holder.error().message.starts_with("/x/ip -j -4 addr show: unparsable output: "));
}

TEST_F(IpJsonTest, RunPutsIpFirstAndReturnsStdout) {
  runner_.on({"link", "set"}, reply("done\n"));
  EXPECT_EQ(ip_.run({"link", "set", "dev", "ipsec7", "up"}), std::string("done\n"));
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{{"/x/ip", "link", "set", "dev", "ipsec7", "up"}}));
}

TEST_F(IpJsonTest, RunMakesANonZeroExitTransient) {
  runner_.on({"link", "add"}, reply("", 2, "RTNETLINK answers: Operation not supported\n"));
  const auto added =
      ip_.run({"link", "add", "ipsec7", "type", "xfrm", "dev", "eth0", "if_id", "7"});
  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error().kind, Kind::kTransient);
  EXPECT_EQ(added.error().message,
            "/x/ip link add ipsec7 type xfrm dev eth0 if_id 7: exit 2, signal 0: "
            "RTNETLINK answers: Operation not supported");
}

TEST_F(IpJsonTest, AMissingIpNeedsADependency) {
  runner_.failToStart({"/x/ip"}, "cannot start /x/ip: No such file or directory");
  const auto link = ip_.link("ipsec7");
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().kind, Kind::kNeedsDependency);
  EXPECT_EQ(ip_.addresses("ipsec7").error().kind, Kind::kNeedsDependency);
  EXPECT_EQ(ip_.run({"link", "del", "dev", "ipsec7"}).error().kind, Kind::kNeedsDependency);
}

TEST(IpJsonValues, CountIsANonNegative32BitNumberAndTextAString) {
  const auto object =
      boost::json::parse(R"({"n":7,"big":4294967296,"neg":-1,"frac":1.5,"s":"7","t":"ens5"})")
          .as_object();
  EXPECT_EQ(jsonCount(object.if_contains("n")), 7U);
  EXPECT_EQ(jsonCount(object.if_contains("big")), std::nullopt);
  EXPECT_EQ(jsonCount(object.if_contains("neg")), std::nullopt);
  EXPECT_EQ(jsonCount(object.if_contains("frac")), std::nullopt);
  EXPECT_EQ(jsonCount(object.if_contains("s")), std::nullopt);
  EXPECT_EQ(jsonCount(object.if_contains("absent")), std::nullopt);
  EXPECT_EQ(jsonText(object.if_contains("t")), "ens5");
  EXPECT_EQ(jsonText(object.if_contains("n")), "");
  EXPECT_EQ(jsonText(object.if_contains("absent")), "");
}

}  // namespace
}  // namespace transit
