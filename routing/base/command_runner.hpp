// CommandRunner: runs an external program (argv, no shell) and captures what it printed.
//
// Owns nothing but the child it starts and waits for. Called by LibreswanDriver on the
// reconciler's thread; a call blocks until the child exits or the timeout kills it. The
// interface lets tests replay recorded transcripts (tests/fakes/fake_command_runner.hpp).
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <vector>

namespace transit {

struct CommandResult {
  int exit_code = -1;      // the exit status when the child exited normally, else -1
  int signal = 0;          // the signal that ended the child, else 0
  bool timed_out = false;  // the child outlived the timeout and was killed
  std::string out;         // everything it wrote to stdout
  std::string err;         // everything it wrote to stderr

  bool exitedWith(int code) const { return signal == 0 && !timed_out && exit_code == code; }
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv[0] (looked up in PATH when it has no slash) with argv. The error is for failures
  // to start the program at all (not found, no fork); a non-zero exit is a CommandResult.
  virtual std::expected<CommandResult, std::string> run(const std::vector<std::string>& argv,
                                                        std::chrono::milliseconds timeout) = 0;
};

// posix_spawn with stdin on /dev/null, stdout and stderr on pipes that are drained together
// (no deadlock on large output). The child runs in its own process group; on timeout the group
// gets SIGTERM, then SIGKILL after a grace period. `wrapper` is prepended to every argv (e.g.
// {"ip", "netns", "exec", "ns1"} to run commands inside a network namespace).
class PosixCommandRunner final : public CommandRunner {
 public:
  explicit PosixCommandRunner(std::vector<std::string> wrapper = {},
                              std::chrono::milliseconds kill_grace = std::chrono::seconds(2))
      : wrapper_(std::move(wrapper)), kill_grace_(kill_grace) {}

  std::expected<CommandResult, std::string> run(const std::vector<std::string>& argv,
                                                std::chrono::milliseconds timeout) override;

 private:
  std::vector<std::string> wrapper_;
  std::chrono::milliseconds kill_grace_;
};

}  // namespace transit
