#include "routing/base/run_command.hpp"

#include <fmt/format.h>

#include <utility>

#include "routing/base/file_io.hpp"

namespace transit {

namespace {
using Kind = DriverError::Kind;
}  // namespace

std::string firstLine(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::string joinedCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) {
    out += out.empty() ? "" : " ";
    out += word;
  }
  return out;
}

std::expected<CommandResult, DriverError> runCommand(CommandRunner& runner,
                                                     const std::vector<std::string>& argv,
                                                     std::chrono::milliseconds timeout,
                                                     ExitCheck check) {
  auto result = runner.run(argv, timeout);
  if (!result) {
    return std::unexpected(DriverError{Kind::kNeedsDependency,
                                       fmt::format("{}: {}", joinedCommand(argv), result.error())});
  }
  if (result->timed_out) {
    return std::unexpected(
        DriverError{Kind::kTransient, fmt::format("{}: timed out", joinedCommand(argv))});
  }
  if (check == ExitCheck::kRequireZero && !result->exitedWith(0)) {
    return std::unexpected(exitError(argv, *result));
  }
  return std::move(*result);
}

DriverError exitError(const std::vector<std::string>& argv, const CommandResult& result) {
  return DriverError{Kind::kTransient,
                     fmt::format("{}: exit {}, signal {}: {}", joinedCommand(argv),
                                 result.exit_code, result.signal, firstLine(result.err))};
}

std::expected<void, DriverError> writeDriverFile(const std::string& path, std::string_view content,
                                                 mode_t mode) {
  if (auto written = writeAtomically(path, content, WriteOptions{.mode = mode, .make_dirs = true});
      !written) {
    return std::unexpected(DriverError{Kind::kTransient, std::move(written.error())});
  }
  return {};
}

std::expected<void, DriverError> writePrivateFileAtomically(const std::string& path,
                                                            std::string_view content) {
  return writeDriverFile(path, content, 0600);
}

}  // namespace transit
