// The pair section: the other hub, the link between the two, BFD on the iBGP session.
#include <gtest/gtest.h>

#include <string>

#include "tests/hub/config/config_fixtures.hpp"

namespace transit::hub {
namespace {

const std::string kEtcdStore = "store:\n  etcd:\n    endpoints: [\"http://127.0.0.1:2379\"]\n";
const std::string kPeer =
    "pair:\n  peer:\n    name: hub-b\n    public_ip: 203.0.113.20\n    local_ip: 10.0.2.10\n";
const std::string kPairMinimal = kHubBlock + kApiBlock + kEtcdStore + kPeer;

TEST(ConfigPair, ASingleHubHasNoPair) {
  auto config = parseConfig(kMinimal);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_FALSE(config->pair);
}

TEST(ConfigPair, OnlyThePeerGetsTheLinkAndBfdDefaults) {
  auto config = parseConfig(kPairMinimal);
  ASSERT_TRUE(config) << config.error().toString();
  ASSERT_TRUE(config->pair);
  const auto& pair = *config->pair;
  EXPECT_EQ(pair.peer.name, "hub-b");
  EXPECT_EQ(pair.peer.public_ip.toString(), "203.0.113.20");
  EXPECT_EQ(pair.peer.local_ip.toString(), "10.0.2.10");
  EXPECT_EQ(pair.link.vni, 4789u);
  EXPECT_EQ(pair.link.port, 4789u);
  EXPECT_EQ(pair.link.inside.toString(), "169.254.253.252/30");
  EXPECT_EQ(pair.link.mtu, 1450u);
  EXPECT_EQ(pair.link.underlay_device, "");
  EXPECT_EQ(pair.bfd.interval_ms, 200u);
  EXPECT_EQ(pair.bfd.multiplier, 3u);
}

TEST(ConfigPair, EveryKeyIsRead) {
  auto config = parseConfig(kPairMinimal +
                            "  link:\n    vni: 77\n    port: 8472\n    inside: 169.254.200.0/30\n"
                            "    mtu: 8950\n    underlay_device: ens5\n"
                            "  bfd:\n    interval_ms: 100\n    multiplier: 5\n");
  ASSERT_TRUE(config) << config.error().toString();
  const auto& pair = *config->pair;
  EXPECT_EQ(pair.link.vni, 77u);
  EXPECT_EQ(pair.link.port, 8472u);
  EXPECT_EQ(pair.link.inside.toString(), "169.254.200.0/30");
  EXPECT_EQ(pair.link.mtu, 8950u);
  EXPECT_EQ(pair.link.underlay_device, "ens5");
  EXPECT_EQ(pair.bfd.interval_ms, 100u);
  EXPECT_EQ(pair.bfd.multiplier, 5u);
}

TEST(ConfigPair, BadPairSectionsNameTheKey) {
  struct Case {
    std::string yaml;
    std::string key;
    std::string message;
  };
  const std::vector<Case> cases = {
      {kHubBlock + kApiBlock + kStoreBlock + kPeer, "pair",
       "needs store.etcd: the two hubs of a pair share one registry"},
      {kHubBlock + kApiBlock + kEtcdStore + "pair:\n  link:\n    vni: 5\n", "pair.peer",
       "is required"},
      {replaced(kPairMinimal, "name: hub-b", "name: hub-a"), "pair.peer.name",
       "must differ from hub.name (the peer is the other hub)"},
      {replaced(kPairMinimal, "public_ip: 203.0.113.20", "public_ip: 203.0.113.10"),
       "pair.peer.public_ip", "must differ from hub.public_ip"},
      {replaced(kPairMinimal, "local_ip: 10.0.2.10", "local_ip: 10.0.0.10"), "pair.peer.local_ip",
       "must differ from hub.local_ip"},
      {replaced(kPairMinimal, "local_ip: 10.0.2.10", "local_ip: 127.0.0.1"), "pair.peer.local_ip",
       ""},
      {kPairMinimal + "  link:\n    vni: 0\n", "pair.link.vni", "must be between 1 and 16777215"},
      {kPairMinimal + "  link:\n    inside: 169.254.0.0/29\n", "pair.link.inside", "must be a /30"},
      {kPairMinimal + "  link:\n    mtu: 9000\n", "pair.link.mtu", "must be between 1280 and 8950"},
      {kPairMinimal + "  link:\n    underlay_device: \"eth0; rm\"\n", "pair.link.underlay_device",
       "must be a network interface name (1-15 of A-Z a-z 0-9 . _ -)"},
      {kPairMinimal + "  bfd:\n    multiplier: 1\n", "pair.bfd.multiplier",
       "must be between 2 and 255"},
      {kPairMinimal + "  witness: x\n", "pair.witness", "is not a known key"},
  };
  for (const auto& c : cases) {
    const auto error = errorOf(c.yaml);
    EXPECT_EQ(error.key, c.key) << c.yaml;
    if (!c.message.empty()) {
      EXPECT_EQ(error.message, c.message) << c.yaml;
    }
  }
}

}  // namespace
}  // namespace transit::hub
