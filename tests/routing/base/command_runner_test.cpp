#include "routing/base/command_runner.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace transit::peers {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

CommandResult sh(const std::string& script, milliseconds timeout = seconds(20)) {
  PosixCommandRunner runner({}, milliseconds(500));
  auto result = runner.run({"/bin/sh", "-c", script}, timeout);
  EXPECT_TRUE(result.has_value()) << result.error();
  return result.value_or(CommandResult{});
}

TEST(PosixCommandRunner, ReportsExitCodeAndBothStreams) {
  const auto result = sh("echo out; echo err >&2; exit 3");
  EXPECT_TRUE(result.exitedWith(3));
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
  EXPECT_FALSE(result.timed_out);
}

TEST(PosixCommandRunner, ZeroExitIsSuccess) { EXPECT_TRUE(sh("true").exitedWith(0)); }

TEST(PosixCommandRunner, LargeOutputOnBothStreamsDoesNotDeadlock) {
  // 2 MiB to each stream, interleaved: far beyond a pipe buffer.
  const auto result =
      sh("i=0; while [ $i -lt 32 ]; do head -c 65536 /dev/zero | tr '\\0' o; "
         "head -c 65536 /dev/zero | tr '\\0' e >&2; i=$((i+1)); done");
  EXPECT_TRUE(result.exitedWith(0));
  EXPECT_EQ(result.out.size(), 32U * 65536U);
  EXPECT_EQ(result.err.size(), 32U * 65536U);
  EXPECT_EQ(result.out.find_first_not_of('o'), std::string::npos);
}

TEST(PosixCommandRunner, StdinIsEmpty) {
  const auto result = sh("cat; echo done");
  EXPECT_EQ(result.out, "done\n");
}

TEST(PosixCommandRunner, TimeoutKillsTheChildAndSaysSo) {
  const auto result = sh("echo started; exec sleep 100", milliseconds(300));
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_EQ(result.out, "started\n");
}

TEST(PosixCommandRunner, TimeoutKillsAChildThatIgnoresSigterm) {
  const auto result = sh("trap '' TERM; echo ready; while :; do sleep 1; done", milliseconds(300));
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGKILL);
}

TEST(PosixCommandRunner, TimeoutAlsoKillsGrandchildrenHoldingThePipes) {
  const auto result = sh("sleep 100 & sleep 100; wait", milliseconds(300));
  EXPECT_TRUE(result.timed_out);
}

TEST(PosixCommandRunner, MissingProgramIsAnError) {
  PosixCommandRunner runner;
  const auto result = runner.run({"/nonexistent/program"}, seconds(5));
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find("/nonexistent/program"), std::string::npos);
}

TEST(PosixCommandRunner, WrapperIsPrepended) {
  PosixCommandRunner runner({"/bin/sh", "-c", "echo \"$0 $1\"", "wrapped"});
  const auto result = runner.run({"arg"}, seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->out, "wrapped arg\n");
}

}  // namespace
}  // namespace transit::peers
