// RecordingCommandRunner: runs nothing, logs each command as a pasteable line (changes at info,
// queries at debug), answers with the first answerer that knows the command, else exit 0.
#include "routing/base/recording_command_runner.hpp"

#include <gtest/gtest.h>

#include "tests/fakes/log_capture.hpp"

namespace transit {
namespace {

using fakes::LogCapture;
using namespace std::chrono_literals;

TEST(RecordingCommandRunnerTest, AnUnknownCommandSucceedsSilentlyAndIsLoggedAsAChange) {
  RecordingCommandRunner runner;
  LogCapture log;
  const auto result = runner.run({"nft", "-f", "/run/transit-hub/t.nft"}, 1s);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->exitedWith(0));
  EXPECT_EQ(result->out, "");
  EXPECT_EQ(log.text(), "dry-run: would run: nft -f /run/transit-hub/t.nft\n");
  ASSERT_EQ(runner.commands().size(), 1u);
  EXPECT_EQ(runner.commands()[0],
            (std::vector<std::string>{"nft", "-f", "/run/transit-hub/t.nft"}));
}

TEST(RecordingCommandRunnerTest, TheFirstAnswererThatKnowsTheCommandAnswers) {
  RecordingCommandRunner runner;
  runner.addAnswerer([](const std::vector<std::string>& argv)
                         -> std::optional<RecordingCommandRunner::Answer> {
    if (argv[0] != "whack") return std::nullopt;
    return RecordingCommandRunner::Answer{RecordingCommandRunner::success("000 status\n"), true};
  });
  runner.addAnswerer([](const std::vector<std::string>&) {
    return std::optional(
        RecordingCommandRunner::Answer{RecordingCommandRunner::success("later"), false});
  });
  EXPECT_EQ(runner.run({"whack", "--status"}, 1s)->out, "000 status\n");
  EXPECT_EQ(runner.run({"ip", "link"}, 1s)->out, "later");
}

TEST(RecordingCommandRunnerTest, QueriesAreLoggedAtDebugOnly) {
  RecordingCommandRunner runner;
  runner.addAnswerer([](const std::vector<std::string>&) {
    return std::optional(RecordingCommandRunner::Answer{RecordingCommandRunner::success(), true});
  });
  {
    LogCapture log;
    ASSERT_TRUE(runner.run({"whack", "--status"}, 1s));
    EXPECT_EQ(log.text(), "");
  }
  LogCapture debug(spdlog::level::debug);
  ASSERT_TRUE(runner.run({"whack", "--status"}, 1s));
  EXPECT_EQ(debug.text(), "dry-run: would run: whack --status\n");
}

TEST(RecordingCommandRunnerTest, WordsAShellWouldSplitAreQuoted) {
  EXPECT_EQ(shellCommandLine({"ip", "link", "add", "dev", "<underlay>", "it's"}),
            "ip link add dev '<underlay>' 'it'\\''s'");
  EXPECT_EQ(shellCommandLine({"addconn", "--config", "/etc/ipsec.d/a b.conf", ""}),
            "addconn --config '/etc/ipsec.d/a b.conf' ''");
}

TEST(RecordingCommandRunnerTest, KeepsABoundedHistory) {
  RecordingCommandRunner runner;
  for (std::size_t i = 0; i < RecordingCommandRunner::kHistory + 5; ++i) {
    ASSERT_TRUE(runner.run({"true", std::to_string(i)}, 1s));
  }
  ASSERT_EQ(runner.commands().size(), RecordingCommandRunner::kHistory);
  EXPECT_EQ(runner.commands().front()[1], "5");
}

TEST(RecordingCommandRunnerTest, AnEmptyCommandIsAnError) {
  RecordingCommandRunner runner;
  EXPECT_FALSE(runner.run({}, 1s));
}

}  // namespace
}  // namespace transit
