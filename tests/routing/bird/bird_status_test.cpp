#include "routing/bird/bird_status.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/fakes/fake_bird_server.hpp"

namespace transit::routing {
namespace {

std::string dataFile(const std::string& name) {
  return std::string(TRANSIT_BIRD_DATA_DIR) + "/" + name;
}

// The reply to `command` in a transcript, framed.
BirdReply replyFor(const std::string& file, const std::string& command, int occurrence = 0) {
  const auto transcript = fakes::loadTranscript(dataFile(file));
  for (const auto& exchange : transcript.exchanges) {
    if (exchange.command != command || occurrence-- > 0) continue;
    BirdReplyReader reader;
    reader.feed(exchange.reply);
    BirdReply reply;
    EXPECT_EQ(reader.next(reply), BirdReplyReader::Status::kReply) << command;
    return reply;
  }
  ADD_FAILURE() << "no '" << command << "' in " << file;
  return {};
}

TEST(BirdStatus, ShowStatusGivesRebootTimeAsIdentity) {
  const auto status = parseShowStatus(replyFor("bird_t_hub4.txt", "show status"));
  ASSERT_TRUE(status.has_value()) << status.error();
  EXPECT_EQ(status->version, "BIRD 2.0.12");
  EXPECT_EQ(status->router_id, "10.255.0.1");
  EXPECT_EQ(status->last_reboot, "2026-11-26 04:37:45.227");
  EXPECT_EQ(status->state, "Daemon is up and running");
}

TEST(BirdStatus, ShowStatusErrorIsRefused) {
  BirdReply reply{8007, {{8007, "Access denied"}}};
  EXPECT_FALSE(parseShowStatus(reply).has_value());
}

TEST(BirdStatus, ShowProtocolsListsEveryRowWithTwoTokenSince) {
  const auto protocols = parseShowProtocols(replyFor("bird_t_hub5.txt", "show protocols"));
  ASSERT_TRUE(protocols.has_value()) << protocols.error();
  ASSERT_EQ(protocols->size(), 7u);
  EXPECT_EQ((*protocols)[0].name, "device1");
  EXPECT_EQ((*protocols)[3].name, "spoke1a");
  EXPECT_EQ((*protocols)[3].proto, "BGP");
  EXPECT_EQ((*protocols)[3].state, "up");
  EXPECT_EQ((*protocols)[3].info, "Established");
  EXPECT_EQ((*protocols)[6].name, "spoke3");
  EXPECT_EQ((*protocols)[6].state, "start");
  EXPECT_EQ((*protocols)[6].info, "Active");
}

TEST(BirdStatus, ShowProtocolsKeepsTheErrorInInfo) {
  const auto protocols =
      parseShowProtocols(replyFor("bird_t_linkdown.txt", "show protocols \"spoke1*\""));
  ASSERT_TRUE(protocols.has_value());
  ASSERT_EQ(protocols->size(), 2u);
  EXPECT_EQ((*protocols)[1].info, "Idle          Error: Link down");
}

TEST(BirdStatus, NoMatchingProtocolsIsAnEmptyList) {
  const auto protocols =
      parseShowProtocols(replyFor("bird_t_hub3.txt", "show protocols \"nomatch*\""));
  ASSERT_TRUE(protocols.has_value());
  EXPECT_TRUE(protocols->empty());
}

TEST(BirdStatus, SyntaxErrorIsAFailure) {
  EXPECT_FALSE(parseShowProtocols(replyFor("bird_t_hub3.txt", "show protocols nosuch")));
}

TEST(BirdStatus, EstablishedSessionWithRouteCounts) {
  const auto sessions =
      parseShowProtocolsAll(replyFor("bird_t_hub1.txt", "show protocols all spoke1a"), "spoke");
  ASSERT_TRUE(sessions.has_value()) << sessions.error();
  ASSERT_EQ(sessions->size(), 1u);
  const auto& s = (*sessions)[0];
  EXPECT_EQ(s.name, "spoke1a");
  EXPECT_EQ(s.protocol_state, "up");
  EXPECT_EQ(s.bgp_state, "Established");
  EXPECT_TRUE(s.established);
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(s.routes_imported, 2u);
  EXPECT_EQ(s.routes_filtered, 1u);
  EXPECT_EQ(s.routes_exported, 3u);
}

TEST(BirdStatus, ActiveSessionHasNoRoutes) {
  const auto sessions =
      parseShowProtocolsAll(replyFor("bird_t_hub6.txt", "show protocols all spoke3"), "spoke");
  ASSERT_TRUE(sessions.has_value());
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].protocol_state, "start");
  EXPECT_EQ((*sessions)[0].bgp_state, "Active");
  EXPECT_FALSE((*sessions)[0].established);
  EXPECT_EQ((*sessions)[0].routes_imported, 0u);
}

TEST(BirdStatus, RouteLimitShutdownIsTheLastError) {
  // bird_t_hub9.txt was cut after 12 lines; close the reply as BIRD would.
  auto transcript = fakes::loadTranscript(dataFile("bird_t_hub9.txt"));
  BirdReplyReader reader;
  reader.feed(transcript.exchanges.at(0).reply + " \n0000 \n");
  BirdReply reply;
  ASSERT_EQ(reader.next(reply), BirdReplyReader::Status::kReply);
  const auto sessions = parseShowProtocolsAll(reply, "spoke");
  ASSERT_TRUE(sessions.has_value());
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].protocol_state, "down");
  EXPECT_EQ((*sessions)[0].bgp_state, "Down");
  EXPECT_EQ((*sessions)[0].last_error, "Automatic shutdown: Route limit exceeded");
}

TEST(BirdStatus, ReceivedNotificationIsTheLastError) {
  auto transcript = fakes::loadTranscript(dataFile("bird_t_hub12.txt"));
  BirdReplyReader reader;
  reader.feed(transcript.exchanges.at(1).reply + " \n0000 \n");
  BirdReply reply;
  ASSERT_EQ(reader.next(reply), BirdReplyReader::Status::kReply);
  const auto sessions = parseShowProtocolsAll(reply, "spoke");
  ASSERT_TRUE(sessions.has_value());
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].bgp_state, "Active");
  EXPECT_EQ((*sessions)[0].last_error, "Received: Administrative shutdown");
}

TEST(BirdStatus, OnlyBgpProtocolsWithThePrefixAreReported) {
  auto first = replyFor("bird_t_hub1.txt", "show protocols all spoke1a");
  auto kernel = replyFor("bird_t_hub10.txt", "show protocols all kernel4");
  auto third = replyFor("bird_t_hub6.txt", "show protocols all spoke3");
  // One reply with three protocols, as `show protocols all` prints them.
  BirdReply combined;
  for (const auto* part : {&first, &kernel, &third}) {
    for (const auto& line : part->lines) {
      if (line.code == 0 || (line.code == 2002 && part != &first)) continue;
      combined.lines.push_back(line);
    }
  }
  combined.lines.push_back({0, ""});
  const auto sessions = parseShowProtocolsAll(combined, "spoke");
  ASSERT_TRUE(sessions.has_value());
  ASSERT_EQ(sessions->size(), 2u);
  EXPECT_EQ((*sessions)[0].name, "spoke1a");
  EXPECT_EQ((*sessions)[0].routes_imported, 2u);
  EXPECT_EQ((*sessions)[1].name, "spoke3");
  EXPECT_EQ((*sessions)[1].bgp_state, "Active");
  const auto none = parseShowProtocolsAll(combined, "th_");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace transit::routing
