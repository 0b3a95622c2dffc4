#include "routing/base/run_command.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "tests/fakes/fake_command_runner.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::peers {
namespace {

using testing::FakeCommandRunner;
using testing::reply;
using Kind = DriverError::Kind;
using Argv = std::vector<std::string>;

constexpr std::chrono::milliseconds kTimeout{5000};

const Argv kList{"/x/nft", "-j", "list", "table", "inet", "t"};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned modeOf(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777U;
}

TEST(RunCommand, ProgramThatCannotStartNeedsDependency) {
  FakeCommandRunner runner;
  runner.failToStart({"/x/nft"}, "cannot start /x/nft: No such file or directory");
  const auto result = runCommand(runner, kList, kTimeout);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kNeedsDependency);
  EXPECT_EQ(result.error().message,
            "/x/nft -j list table inet t: cannot start /x/nft: No such file or directory");
}

TEST(RunCommand, TimeoutIsTransientEvenWhenTheCallerChecksTheExit) {
  FakeCommandRunner runner;
  CommandResult slow;
  slow.timed_out = true;
  slow.signal = SIGTERM;
  runner.on({"/x/nft"}, slow);
  const auto result = runCommand(runner, kList, kTimeout, ExitCheck::kReturnAny);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kTransient);
  EXPECT_EQ(result.error().message, "/x/nft -j list table inet t: timed out");
}

TEST(RunCommand, NonZeroExitIsTransientWithTheFirstLineOfStderr) {
  FakeCommandRunner runner;
  runner.on({"/x/nft"}, reply("partial output\n", 1, "Error: Operation not permitted\nline 2\n"));
  const auto result = runCommand(runner, kList, kTimeout);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kTransient);
  EXPECT_EQ(result.error().message,
            "/x/nft -j list table inet t: exit 1, signal 0: Error: Operation not permitted");
}

TEST(RunCommand, SignalIsAnErrorWhenExitZeroIsRequired) {
  FakeCommandRunner runner;
  CommandResult killed;
  killed.signal = SIGKILL;
  runner.on({"/x/nft"}, killed);
  const auto result = runCommand(runner, kList, kTimeout);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kTransient);
  EXPECT_EQ(result.error().message, "/x/nft -j list table inet t: exit -1, signal 9: ");
}

TEST(RunCommand, ReturnAnyHandsANonZeroExitToTheCaller) {
  FakeCommandRunner runner;
  runner.on({"/x/nft"}, reply("", 1, "Error: No such file or directory\nlist table inet t\n"));
  const auto result = runCommand(runner, kList, kTimeout, ExitCheck::kReturnAny);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_EQ(result->err, "Error: No such file or directory\nlist table inet t\n");
  EXPECT_EQ(exitError(kList, *result).message,
            "/x/nft -j list table inet t: exit 1, signal 0: Error: No such file or directory");
}

TEST(RunCommand, SuccessReturnsStdoutAndRunsTheCommandOnce) {
  FakeCommandRunner runner;
  runner.on({"/x/nft"}, reply("{\"nftables\": []}\n"));
  const auto result = runCommand(runner, kList, kTimeout);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->out, "{\"nftables\": []}\n");
  EXPECT_EQ(runner.calls, std::vector<Argv>{kList});
}

TEST(DriverText, FirstLineAndJoinedCommand) {
  EXPECT_EQ(firstLine("one\ntwo\n"), "one");
  EXPECT_EQ(firstLine("no newline"), "no newline");
  EXPECT_EQ(firstLine(""), "");
  EXPECT_EQ(joinedCommand({"ip", "link", "show"}), "ip link show");
  EXPECT_EQ(joinedCommand({}), "");
}

TEST(WriteDriverFile, PrivateFileIsWrittenWithMode0600InANewDirectory) {
  fakes::TempDir dir;
  const auto path = dir / "new/deeper/t.nft";
  ASSERT_TRUE(writePrivateFileAtomically(path.string(), "table inet t {}\n").has_value());
  EXPECT_EQ(slurp(path), "table inet t {}\n");
  EXPECT_EQ(modeOf(path), 0600U);
}

TEST(WriteDriverFile, ModeIsTheOneAskedFor) {
  fakes::TempDir dir;
  const auto path = dir / "t.nft";
  ASSERT_TRUE(writeDriverFile(path.string(), "x\n", 0644).has_value());
  EXPECT_EQ(modeOf(path), 0644U);
}

TEST(WriteDriverFile, UnwritablePlaceIsTransientAndNeverQuotesTheContent) {
  fakes::TempDir dir;
  const auto blocker = dir.write("file", "not a directory");
  const auto written =
      writePrivateFileAtomically((blocker / "secrets").string(), "s3cret-psk-value\n");
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().kind, Kind::kTransient);
  EXPECT_NE(written.error().message.find("secrets"), std::string::npos);
  EXPECT_EQ(written.error().message.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace transit::peers
