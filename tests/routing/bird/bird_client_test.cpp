#include "routing/bird/bird_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/fakes/fake_bird_server.hpp"

namespace transit::routing {
namespace {

using fakes::FakeBirdServer;
using Response = FakeBirdServer::Response;

class BirdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bird_client_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string socketPath() const { return (dir_ / "bird.ctl").string(); }
  BirdClientOptions options(std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    return BirdClientOptions{socketPath(), timeout, timeout};
  }

  std::filesystem::path dir_;
};

Response answer(std::string text) { return Response{{std::move(text)}}; }

TEST_F(BirdClientTest, ReadsGreetingThenReturnsTheReply) {
  FakeBirdServer server(socketPath(), [](const std::string&) {
    return answer("1000-BIRD 2.0.12\n1011-Last reboot on x\n0013 Daemon is up and running\n");
  });
  BirdClient client(options());
  const auto reply = client.command("show status");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_EQ(reply->code, 13);
  EXPECT_EQ(reply->lines.size(), 3u);
  EXPECT_EQ(server.commands(), std::vector<std::string>{"show status"});
}

TEST_F(BirdClientTest, ReplySplitAcrossWritesIsReassembled) {
  FakeBirdServer server(socketPath(), [](const std::string&) {
    return Response{{"10", "02-spoke1a BGP", " ---\n", " spoke2 BGP\n0", "000 \n"}};
  });
  BirdClient client(options());
  const auto reply = client.command("show protocols");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  ASSERT_EQ(reply->lines.size(), 3u);
  EXPECT_EQ(reply->lines[0].text, "spoke1a BGP ---");
  EXPECT_EQ(reply->lines[1], (BirdReplyLine{1002, "spoke2 BGP"}));
}

TEST_F(BirdClientTest, GreetingSplitAcrossWritesIsAccepted) {
  FakeBirdServer server(socketPath(), [](const std::string&) { return answer("0000 \n"); },
                        {"0001 BIRD 2.0", ".12 ready.\n"});
  BirdClient client(options());
  EXPECT_TRUE(client.command("echo off").has_value());
}

TEST_F(BirdClientTest, ErrorCodesAreRepliesNotFailures) {
  FakeBirdServer server(socketPath(), [](const std::string&) {
    return answer("0002-Reading configuration from /x.conf\n8002 /x.conf:1:1 syntax error\n");
  });
  BirdClient client(options());
  const auto reply = client.command("configure check \"/x.conf\"");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code, 8002);
}

TEST_F(BirdClientTest, CommandsRunOneAtATimeOnOneConnection) {
  FakeBirdServer server(
      socketPath(), [](const std::string& command) { return answer("0023 " + command + "\n"); });
  BirdClient client(options());
  EXPECT_EQ(client.command("eval 1")->lines[0].text, "eval 1");
  EXPECT_EQ(client.command("eval 2")->lines[0].text, "eval 2");
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(BirdClientTest, MissingSocketNeedsTheDaemon) {
  BirdClient client(options());
  const auto reply = client.command("show status");
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind, DriverError::Kind::kNeedsDependency);
  EXPECT_NE(reply.error().message.find("bird.ctl"), std::string::npos);
}

TEST_F(BirdClientTest, SlowReplyTimesOutAsTransient) {
  FakeBirdServer server(socketPath(), [](const std::string&) {
    return Response{{"1002-spoke1a\n"}, false, true};
  });
  BirdClient client(options(std::chrono::milliseconds(200)));
  const auto reply = client.command("show protocols");
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind, DriverError::Kind::kTransient);
  EXPECT_FALSE(client.connected());
}

TEST_F(BirdClientTest, ServerClosingMidReplyIsTransient) {
  FakeBirdServer server(socketPath(), [](const std::string&) {
    return Response{{"1002-spoke1a BGP\n"}, true, false};
  });
  BirdClient client(options());
  const auto reply = client.command("show protocols");
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind, DriverError::Kind::kTransient);
}

TEST_F(BirdClientTest, NextCommandReconnectsAfterADrop) {
  int calls = 0;
  FakeBirdServer server(socketPath(), [&calls](const std::string&) {
    return ++calls == 1 ? Response{{}, true, false} : answer("0000 \n");
  });
  BirdClient client(options());
  EXPECT_FALSE(client.command("show protocols").has_value());
  const auto again = client.command("show protocols");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(BirdClientTest, WrongGreetingIsRefused) {
  FakeBirdServer server(socketPath(), [](const std::string&) { return answer("0000 \n"); },
                        {"0016 Access restricted\n"});
  BirdClient client(options());
  const auto reply = client.command("show status");
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind, DriverError::Kind::kTransient);
  EXPECT_TRUE(server.commands().empty());
}

TEST_F(BirdClientTest, GarbageFromServerIsTransient) {
  FakeBirdServer server(socketPath(), [](const std::string&) { return answer("hello\n"); });
  BirdClient client(options());
  const auto reply = client.command("show status");
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind, DriverError::Kind::kTransient);
}

TEST_F(BirdClientTest, LongOrMultiLineCommandsAreNeverSent) {
  FakeBirdServer server(socketPath(), [](const std::string&) { return answer("0000 \n"); });
  BirdClient client(options());
  for (const std::string& bad : {std::string(1000, 'x'), std::string("show status\ndown"),
                                 std::string("eval 1\r"), std::string()}) {
    const auto reply = client.command(bad);
    ASSERT_FALSE(reply.has_value());
    EXPECT_EQ(reply.error().kind, DriverError::Kind::kInvalid);
  }
  EXPECT_TRUE(client.command(std::string(999, 'x')).has_value());
  EXPECT_EQ(server.commands().size(), 1u);
}

TEST_F(BirdClientTest, ReplaysATranscript) {
  const auto transcript =
      fakes::loadTranscript(std::string(TRANSIT_BIRD_DATA_DIR) + "/bird_t_hub6.txt");
  std::size_t next = 0;
  FakeBirdServer server(socketPath(), [&](const std::string& command) {
    const auto& exchange = transcript.exchanges.at(next++);
    EXPECT_EQ(command, exchange.command);
    return answer(exchange.reply);
  });
  BirdClient client(options());
  std::vector<int> codes;
  for (const auto& exchange : transcript.exchanges) {
    const auto reply = client.command(exchange.command);
    ASSERT_TRUE(reply.has_value()) << reply.error().message;
    codes.push_back(reply->code);
  }
  ASSERT_EQ(codes.size(), 13u);
  EXPECT_EQ(codes[2], 4);    // configure -> Reconfiguration in progress
  EXPECT_EQ(codes[4], 3);    // configure ... timeout 60 -> Reconfigured
  EXPECT_EQ(codes[10], 18);  // configure confirm -> Reconfiguration confirmed
  EXPECT_EQ(codes[11], 19);  // configure confirm again -> Nothing to do
}

}  // namespace
}  // namespace transit::routing
