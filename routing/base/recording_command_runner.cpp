#include "routing/base/recording_command_runner.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace transit {
namespace {

std::string shellWord(std::string_view word) {
  constexpr std::string_view kPlain =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=@%+,";
  if (!word.empty() && word.find_first_not_of(kPlain) == std::string_view::npos) {
    return std::string(word);
  }
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string shellCommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) {
    if (!out.empty()) out += ' ';
    out += shellWord(word);
  }
  return out;
}

CommandResult RecordingCommandRunner::success(std::string out) {
  CommandResult result;
  result.exit_code = 0;
  result.out = std::move(out);
  return result;
}

std::expected<CommandResult, std::string> RecordingCommandRunner::run(
    const std::vector<std::string>& argv, std::chrono::milliseconds /*timeout*/) {
  if (argv.empty()) return std::unexpected(std::string("empty command"));
  commands_.push_back(argv);
  if (commands_.size() > kHistory) commands_.pop_front();
  Answer answer{success(), false};
  for (const auto& answerer : answerers_) {
    if (auto answered = answerer(argv)) {
      answer = std::move(*answered);
      break;
    }
  }
  spdlog::log(answer.query ? spdlog::level::debug : spdlog::level::info, "dry-run: would run: {}",
              shellCommandLine(argv));
  return std::move(answer.result);
}

}  // namespace transit
