#include "peers/libreswan/libreswan_status.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/fakes/fake_command_runner.hpp"

namespace transit::peers {
namespace {

using testing::transcriptBlock;

std::string data(const std::string& name) {
  return std::string(TRANSIT_TEST_DATA) + "/libreswan/" + name;
}

// Output of a transcript command, with connection "tun1" renamed into the hub's namespace.
std::string output(const std::string& file, const std::string& needle, int n = 0) {
  return transcriptBlock(data(file), needle, n, "tun1", "th-a-1").output;
}

TEST(LibreswanStatus, IdleStatusListsTheLoadedConnection) {
  const auto conns = parseStatusConnections(output("ipsec_t_status_idle.txt", "--status"));
  ASSERT_EQ(conns.size(), 1U);
  ASSERT_TRUE(conns.contains("th-a-1"));
  EXPECT_FALSE(conns.at("th-a-1").up_policy);
}

TEST(LibreswanStatus, StatusAfterInitiateHasTheUpPolicy) {
  // The established-state capture's connection list (after --initiate).
  const std::string text = R"(000 Connection list:
000  
000 "th-a-1": 0.0.0.0/0===192.0.2.1...192.0.2.2===0.0.0.0/0; unrouted; eroute owner: #0
000 "th-a-1":   policy: IKEv2+PSK+ENCRYPT+TUNNEL+PFS+UP+IKE_FRAG_ALLOW+ESN_NO+ESN_YES;
000 "th-b-1":   policy: IKEv2+PSK+ENCRYPT+TUNNEL+PFS+IKE_FRAG_ALLOW+ESN_NO+ESN_YES;
)";
  const auto conns = parseStatusConnections(text);
  EXPECT_TRUE(conns.at("th-a-1").up_policy);
  EXPECT_FALSE(conns.at("th-b-1").up_policy);
}

TEST(LibreswanStatus, EstablishedIkeSaIsIkeUpButNotIpsecUp) {
  const auto tunnels = buildObservedTunnels(output("ipsec_t_status_idle.txt", "--status"),
                                            output("ipsec_t_est.txt", "--showstates"),
                                            output("ipsec_t_est.txt", "--trafficstatus"), "th-");
  ASSERT_EQ(tunnels.size(), 1U);
  EXPECT_EQ(tunnels[0].name, "th-a-1");
  EXPECT_TRUE(tunnels[0].loaded);
  EXPECT_TRUE(tunnels[0].ike_up);
  EXPECT_FALSE(tunnels[0].ipsec_up);
  EXPECT_EQ(tunnels[0].state, "STATE_V2_ESTABLISHED_IKE_SA");
}

TEST(LibreswanStatus, LoadedButIdleConnectionIsReportedLoaded) {
  const auto tunnels =
      buildObservedTunnels(output("ipsec_t_status_idle.txt", "--status"), "", "", "th-");
  ASSERT_EQ(tunnels.size(), 1U);
  EXPECT_TRUE(tunnels[0].loaded);
  EXPECT_FALSE(tunnels[0].ike_up);
  EXPECT_EQ(tunnels[0].state, "");
}

TEST(LibreswanStatus, PendingNegotiationShowsItsState) {
  const auto states = parseShowStates(output("ipsec_t_unreach.txt", "--showstates"));
  ASSERT_TRUE(states.contains("th-a-1"));
  EXPECT_EQ(states.at("th-a-1").state, "STATE_V2_PARENT_I1");
  EXPECT_FALSE(states.at("th-a-1").ike_established);
}

TEST(LibreswanStatus, ForeignConnectionsAreLeftOut) {
  const auto tunnels = buildObservedTunnels(
      transcriptBlock(data("ipsec_t_status_idle.txt"), "--status").output,
      transcriptBlock(data("ipsec_t_est.txt"), "--showstates").output, "", "th-");
  EXPECT_TRUE(tunnels.empty());
}

TEST(LibreswanStatus, TrafficLinesGiveBytesPerConnection) {
  const auto traffic = parseTrafficStatus(
      transcriptBlock(data("trafficstatus_upstream.txt"), "--trafficstatus").output);
  ASSERT_EQ(traffic.size(), 3U);
  EXPECT_EQ(traffic.at("north").in_bytes, 84U);
  EXPECT_EQ(traffic.at("north").out_bytes, 84U);
  EXPECT_TRUE(traffic.contains("private#192.1.2.0/24"));
}

TEST(LibreswanStatus, ChildSaWithTrafficIsIpsecUpWithBytes) {
  const std::string showstates =
      "000 #1: \"th-a-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in 27792s; "
      "REPLACE in 28796s; newest; idle;\n"
      "000 #2: \"th-a-1\":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); REKEY in "
      "3000s; REPLACE in 3330s; newest; eroute owner; IKE SA #1; idle;\n";
  const std::string traffic =
      "006 #2: \"th-a-1\", type=ESP, add_time=1234567890, inBytes=1500, outBytes=9000000000, "
      "maxBytes=2^63B, id='192.0.2.2'\n";
  const auto tunnels = buildObservedTunnels("", showstates, traffic, "th-");
  ASSERT_EQ(tunnels.size(), 1U);
  EXPECT_TRUE(tunnels[0].ike_up);
  EXPECT_TRUE(tunnels[0].ipsec_up);
  EXPECT_EQ(tunnels[0].state, "STATE_V2_ESTABLISHED_CHILD_SA");
  EXPECT_EQ(tunnels[0].in_bytes, 1500U);
  EXPECT_EQ(tunnels[0].out_bytes, 9000000000U);
}

TEST(LibreswanStatus, ChildStateWithoutTrafficLineIsNotIpsecUp) {
  const std::string showstates =
      "000 #2: \"th-a-1\":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); idle;\n";
  const auto tunnels = buildObservedTunnels("", showstates, "", "th-");
  ASSERT_EQ(tunnels.size(), 1U);
  EXPECT_FALSE(tunnels[0].ipsec_up);
}

TEST(LibreswanStatus, InstanceAndPeerDecorationsAreParsed) {
  const auto states =
      parseShowStates(transcriptBlock(data("trafficstatus_upstream.txt"), "--showstates").output);
  ASSERT_TRUE(states.contains("private-or-clear#192.1.3.0/24"));
  EXPECT_TRUE(states.at("private-or-clear#192.1.3.0/24").child_established);
}

// Both ends initiated at once (captured in the lab: the hub's pluto and a site's charon).
constexpr const char* kCrossedIkeSas =
    "000 #23: \"th-site-1-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in "
    "28452s; REPLACE in 28735s; idle;\n"
    "000 #25: \"th-site-1-1\":4500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in "
    "28600s; REPLACE in 28735s; newest; idle;\n"
    "000 #24: \"th-site-1-2\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in "
    "28236s; REPLACE in 28735s; newest; idle;\n"
    "000 #26: \"th-site-1-2\":4500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in "
    "28600s; REPLACE in 28735s; idle;\n";

TEST(LibreswanStatus, CrossedIkeSasKeepTheNewestAndReportTheOthers) {
  const auto tunnels = buildObservedTunnels("", kCrossedIkeSas, "", "th-");
  ASSERT_EQ(tunnels.size(), 2U);
  EXPECT_EQ(tunnels[0].name, "th-site-1-1");
  EXPECT_EQ(tunnels[0].duplicate_ike_sas, std::vector<std::uint64_t>{23});
  EXPECT_EQ(tunnels[1].name, "th-site-1-2");
  EXPECT_EQ(tunnels[1].duplicate_ike_sas, std::vector<std::uint64_t>{26});
  EXPECT_TRUE(tunnels[0].ike_up);
}

TEST(LibreswanStatus, EstablishedIkeSasCarrySerialAndNewestFlag) {
  const auto states = parseShowStates(kCrossedIkeSas);
  const std::vector<EstablishedIkeSa> expected{{23, false}, {25, true}};
  EXPECT_EQ(states.at("th-site-1-1").established_ike_sas, expected);
}

TEST(LibreswanStatus, OneIkeSaWithItsChildAndARekeyInProgressIsNoDuplicate) {
  const std::string showstates =
      "000 #1: \"th-a-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in 9s; "
      "newest; idle;\n"
      "000 #2: \"th-a-1\":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); newest; "
      "idle;\n"
      "000 #3: \"th-a-1\":500 STATE_V2_REKEY_IKE_I1 (sent CREATE_CHILD_SA request to rekey IKE "
      "SA); RETRANSMIT in 1s; idle;\n";
  const auto tunnels = buildObservedTunnels("", showstates, "", "th-");
  ASSERT_EQ(tunnels.size(), 1U);
  EXPECT_TRUE(tunnels[0].duplicate_ike_sas.empty());
}

TEST(LibreswanStatus, WithoutANewestFlagTheHighestSerialIsKept) {
  const std::string showstates =
      "000 #7: \"th-a-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); idle;\n"
      "000 #12: \"th-a-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); idle;\n"
      "000 #9: \"th-a-1\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); newestx; idle;\n";
  EXPECT_EQ(duplicateIkeSas(parseShowStates(showstates).at("th-a-1")),
            (std::vector<std::uint64_t>{7, 9}));
}

TEST(LibreswanStatus, DuplicatesOfForeignConnectionsAreNotReported) {
  const std::string showstates =
      "000 #1: \"other\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); idle;\n"
      "000 #2: \"other\":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); newest; idle;\n";
  EXPECT_TRUE(buildObservedTunnels("", showstates, "", "th-").empty());
}

TEST(LibreswanStatus, OddLinesAreIgnored) {
  const std::string text =
      "garbage\n000\n000 \n000 #\n000 #12\n000 #12:\n000 #12: \"\n000 #12: \"\"\n"
      "000 #x: \"th-a\":500 STATE_V2_ESTABLISHED_IKE_SA\n006 #3: \"th-b\", inBytes=abc\n"
      "whack: Pluto is not running\n\r\n0a0 \"th-c\": x\n";
  EXPECT_TRUE(parseShowStates(text).empty());
  EXPECT_EQ(parseTrafficStatus(text).at("th-b").in_bytes, 0U);
  EXPECT_TRUE(parseStatusConnections(text).empty());
}

// Fuzz-style: random bytes, random splices of real lines and every truncation of them.
TEST(LibreswanStatus, RandomAndTruncatedInputNeverCrashes) {
  std::vector<std::string> corpus;
  for (const char* file : {"ipsec_t_status_idle.txt", "ipsec_t_est.txt", "ipsec_t_unreach.txt",
                           "trafficstatus_upstream.txt"}) {
    for (const auto& block : testing::readTranscript(data(file))) {
      corpus.push_back(block.output);
    }
  }
  std::mt19937 random(12345);
  auto parseAll = [](const std::string& text) { (void)buildObservedTunnels(text, text, text, ""); };
  for (const auto& text : corpus) {
    for (std::size_t cut = 0; cut < text.size() && cut < 4000; cut += 7) {
      parseAll(text.substr(0, cut));
      parseAll(text.substr(cut));
    }
  }
  const std::string alphabet = "0123456789 #\":;=,[]()\n\rSTATE_V2_inBytes=006000th-";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 300);
    for (int i = 0; i < length; ++i) {
      text += random() % 4 == 0 ? static_cast<char>(random() % 256)
                                : alphabet[random() % alphabet.size()];
    }
    if (!corpus.empty()) {
      const auto& donor = corpus[random() % corpus.size()];
      const auto at = donor.empty() ? 0 : random() % donor.size();
      text.insert(random() % (text.size() + 1), donor.substr(at, random() % 200));
    }
    parseAll(text);
  }
  SUCCEED();
}

}  // namespace
}  // namespace transit::peers
