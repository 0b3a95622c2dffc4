// FakeCommandRunner: a CommandRunner that replays scripted replies and records every argv.
//
// Used by the libreswan driver tests (test thread only). Replies are chosen by the first rule
// whose every needle occurs among the argv words; without a match the command "succeeds" with
// no output. Transcript helpers read the `$ command` / output / `[exit code N]` captures in
// tests/data/libreswan/.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "routing/base/command_runner.hpp"

namespace transit::peers::testing {

class FakeCommandRunner final : public CommandRunner {
 public:
  struct Rule {
    std::vector<std::string> needles;
    std::expected<CommandResult, std::string> reply;
    int uses_left = -1;  // -1: forever
  };

  // Replies to every command containing all needles (as whole argv words).
  void on(std::vector<std::string> needles, CommandResult reply, int times = -1) {
    rules_.push_back(Rule{std::move(needles), std::move(reply), times});
  }
  void failToStart(std::vector<std::string> needles, std::string why) {
    rules_.push_back(Rule{std::move(needles), std::unexpected(std::move(why)), -1});
  }

  std::expected<CommandResult, std::string> run(const std::vector<std::string>& argv,
                                                std::chrono::milliseconds /*timeout*/) override {
    calls.push_back(argv);
    for (auto& rule : rules_) {
      if (rule.uses_left == 0 || !matches(rule.needles, argv)) {
        continue;
      }
      if (rule.uses_left > 0) {
        --rule.uses_left;
      }
      return rule.reply;
    }
    CommandResult ok;
    ok.exit_code = 0;
    return ok;
  }

  // How many recorded calls contain all needles.
  int count(const std::vector<std::string>& needles) const {
    int n = 0;
    for (const auto& argv : calls) {
      n += matches(needles, argv) ? 1 : 0;
    }
    return n;
  }

  std::vector<std::vector<std::string>> calls;

 private:
  static bool matches(const std::vector<std::string>& needles,
                      const std::vector<std::string>& argv) {
    for (const auto& needle : needles) {
      bool found = false;
      for (const auto& word : argv) {
        found = found || word == needle;
      }
      if (!found) {
        return false;
      }
    }
    return true;
  }

  std::vector<Rule> rules_;
};

inline CommandResult reply(std::string out, int exit_code = 0, std::string err = {}) {
  CommandResult result;
  result.out = std::move(out);
  result.err = std::move(err);
  result.exit_code = exit_code;
  return result;
}

// One `$ command` block of a transcript: the command line, its output and exit code.
struct TranscriptBlock {
  std::string command;
  std::string output;
  int exit_code = 0;
};

inline std::vector<TranscriptBlock> readTranscript(const std::string& path) {
  std::ifstream in(path);
  std::vector<TranscriptBlock> blocks;
  std::string line;
  bool open = false;
  while (std::getline(in, line)) {
    if (line.starts_with("$ ")) {
      blocks.push_back(TranscriptBlock{line.substr(2), {}, 0});
      open = true;
    } else if (line.starts_with("[exit code ")) {
      if (open) {
        blocks.back().exit_code = std::stoi(line.substr(11));
      }
      open = false;
    } else if (open) {
      blocks.back().output += line + "\n";
    }
  }
  return blocks;
}

// The output of the n-th (0-based) block whose command contains `needle`, with every
// `"from"` connection name replaced by `"to"`.
inline TranscriptBlock transcriptBlock(const std::string& path, const std::string& needle,
                                       int n = 0, const std::string& from = {},
                                       const std::string& to = {}) {
  for (auto& block : readTranscript(path)) {
    if (block.command.find(needle) == std::string::npos || n-- > 0) {
      continue;
    }
    if (!from.empty()) {
      const std::string quoted_from = "\"" + from + "\"";
      const std::string quoted_to = "\"" + to + "\"";
      for (std::size_t pos = 0; (pos = block.output.find(quoted_from, pos)) != std::string::npos;
           pos += quoted_to.size()) {
        block.output.replace(pos, quoted_from.size(), quoted_to);
      }
    }
    return block;
  }
  return {};
}

}  // namespace transit::peers::testing
