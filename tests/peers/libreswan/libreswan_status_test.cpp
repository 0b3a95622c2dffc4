#include "peers/libreswan/libreswan_status.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

// ---- corpus replay ----

// Every input of tests/data/corpus/libreswan_status (real whack output, cut and mutated; made by
// make_corpus.py) is parsed by all three parsers and the observation built from it, as if pluto
// had printed it for each command. The result must equal the checked-in `.expected`
// (TRANSIT_UPDATE_GOLDEN=1 rewrites it) and keep the parsers' invariants.

std::string readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What the parsers made of `text`, one line per fact, in a stable order.
std::string describe(std::string_view text) {
  std::string out;
  for (const auto& [name, conn] : parseStatusConnections(text)) {
    out += fmt::format("connection \"{}\" up_policy={}\n", name, conn.up_policy);
  }
  for (const auto& [name, entry] : parseShowStates(text)) {
    out += fmt::format("states \"{}\" ike={} child={} state={} rank={} ike_sas=", name,
                       entry.ike_established, entry.child_established, entry.state, entry.rank);
    for (const auto& sa : entry.established_ike_sas) {
      out += fmt::format("#{}{} ", sa.serial, sa.newest ? "(newest)" : "");
    }
    out += "\n";
  }
  for (const auto& [name, entry] : parseTrafficStatus(text)) {
    out += fmt::format("traffic \"{}\" in={} out={}\n", name, entry.in_bytes, entry.out_bytes);
  }
  for (const auto& t : buildObservedTunnels(text, text, text, "")) {
    out += fmt::format(
        "tunnel \"{}\" loaded={} ike_up={} ipsec_up={} state={} in={} out={} "
        "duplicates={}\n",
        t.name, t.loaded, t.ike_up, t.ipsec_up, t.state, t.in_bytes, t.out_bytes,
        t.duplicate_ike_sas.size());
  }
  return out.empty() ? "nothing\n" : out;
}

// What holds for any input: names come from the text, the observation is sorted and unique,
// traffic implies an installed Child SA only with states, duplicates are SAs the text lists.
void expectInvariants(const std::string& file, std::string_view text) {
  const auto quoted = [&](const std::string& name) {
    return text.find("\"" + name + "\"") != std::string_view::npos;
  };
  const auto connections = parseStatusConnections(text);
  const auto states = parseShowStates(text);
  for (const auto& [name, conn] : connections) EXPECT_TRUE(quoted(name)) << file << ": " << name;
  for (const auto& [name, entry] : states) {
    EXPECT_TRUE(quoted(name)) << file << ": " << name;
    EXPECT_EQ(entry.state.empty(), entry.rank < 0) << file << ": " << name;
  }
  for (const auto& [name, entry] : parseTrafficStatus(text)) {
    EXPECT_TRUE(quoted(name)) << file << ": " << name;
  }
  const auto tunnels = buildObservedTunnels(text, text, text, "");
  for (std::size_t i = 0; i < tunnels.size(); ++i) {
    const auto& t = tunnels[i];
    if (i > 0) {
      EXPECT_LT(tunnels[i - 1].name, t.name) << file;
    }
    EXPECT_TRUE(connections.contains(t.name) || states.contains(t.name)) << file << ": " << t.name;
    EXPECT_TRUE(t.loaded) << file << ": " << t.name;
    EXPECT_TRUE(!t.ipsec_up || t.ike_up) << file << ": " << t.name;
    EXPECT_TRUE(!t.ike_up || states.contains(t.name)) << file << ": " << t.name;
    EXPECT_TRUE(std::ranges::is_sorted(t.duplicate_ike_sas)) << file << ": " << t.name;
    for (const auto serial : t.duplicate_ike_sas) {
      EXPECT_NE(text.find(fmt::format("#{}:", serial)), std::string_view::npos) << file;
    }
  }
  // Only the owned names are kept.
  for (const auto& t : buildObservedTunnels(text, text, text, "th-")) {
    EXPECT_TRUE(t.name.starts_with("th-")) << file << ": " << t.name;
  }
}

TEST(LibreswanStatusCorpus, EveryInputParsesToItsExpectedResult) {
  const std::filesystem::path dir = std::string(TRANSIT_TEST_DATA) + "/corpus/libreswan_status";
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") inputs.push_back(entry.path());
  }
  std::ranges::sort(inputs);
  ASSERT_GE(inputs.size(), 40U) << "the corpus is missing; run tests/data/corpus/make_corpus.py";
  const bool update = std::getenv("TRANSIT_UPDATE_GOLDEN") != nullptr;
  for (const auto& input : inputs) {
    const std::string text = readBytes(input);
    const std::string file = input.filename().string();
    expectInvariants(file, text);
    auto expected_path = input;
    expected_path.replace_extension(".expected");
    const std::string actual = describe(text);
    if (update) std::ofstream(expected_path, std::ios::binary) << actual;
    ASSERT_TRUE(std::filesystem::exists(expected_path)) << expected_path;
    EXPECT_EQ(actual, readBytes(expected_path)) << file;
  }
}

}  // namespace
}  // namespace transit::peers
