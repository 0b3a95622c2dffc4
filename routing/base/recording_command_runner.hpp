// RecordingCommandRunner: the dry-run transport for command-running drivers. It runs nothing: it
// logs each command line a live driver asks for and answers with a canned success, so the live
// driver's own logic (what changed, what to run, in which order) is what dry-run exercises.
//
// Owns the answerers added to it and a bounded history of the commands asked for. Called by the
// drivers on the reconciler's thread (no locking). Each command is logged as
// "dry-run: would run: CMD" (CMD shell-quoted, so it can be pasted): at info when it would change
// something, at debug for read-only queries (an answerer says which). The drivers never put a
// secret on argv (libreswan's PSKs travel in the secrets file only), so a logged line holds none.
// Commands no answerer knows exit 0 with no output and count as changes.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "routing/base/command_runner.hpp"

namespace transit {

// argv as a shell command line: plain words as they are, others in single quotes.
std::string shellCommandLine(const std::vector<std::string>& argv);

class RecordingCommandRunner final : public CommandRunner {
 public:
  struct Answer {
    CommandResult result;  // what the program "printed" and how it "exited"
    bool query = false;    // read-only (status, list): logged at debug instead of info
  };
  // Answers the commands it knows; nullopt: not one of its commands.
  using Answerer = std::function<std::optional<Answer>(const std::vector<std::string>& argv)>;

  static constexpr std::size_t kHistory = 1024;  // commands kept for commands()

  // Consulted in the order added; the first that answers wins.
  void addAnswerer(Answerer answerer) { answerers_.push_back(std::move(answerer)); }

  std::expected<CommandResult, std::string> run(const std::vector<std::string>& argv,
                                                std::chrono::milliseconds timeout) override;

  // The last kHistory commands asked for, oldest first (for tests and diagnostics).
  const std::deque<std::vector<std::string>>& commands() const { return commands_; }

  // exit 0, `out` on stdout: the usual canned answer.
  static CommandResult success(std::string out = {});

 private:
  std::vector<Answerer> answerers_;
  std::deque<std::vector<std::string>> commands_;
};

}  // namespace transit
