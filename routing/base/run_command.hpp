// Driver utilities: the small pieces every command-running driver shares. Running a program
// through a CommandRunner and classifying the outcome as a DriverError, naming a command in a
// message, and writing the files a driver owns atomically.
//
// Owns nothing; free functions. Called by IpJson, LibreswanDriver (peers/) and
// NftForwardingFilter (routing/nft) on the reconciler's thread; runCommand blocks as long as the
// command runs. Messages name the command and quote the first line of its stderr, never a file's
// content: a caller whose command line or stderr can hold a secret must scrub the message itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "routing/base/command_runner.hpp"
#include "routing/base/driver_error.hpp"

namespace transit {

// `text` up to (not including) its first newline; all of it when it has none.
std::string firstLine(std::string_view text);

// argv joined with single spaces, as a command line reads in a message (no quoting).
std::string joinedCommand(const std::vector<std::string>& argv);

// What runCommand does with a command that ran to its end without exiting 0.
enum class ExitCheck {
  kRequireZero,  // it is an error: exitError(argv, result)
  kReturnAny,    // it is returned; the caller recognises the failures it expects
};

// Runs argv with `timeout` and classifies what went wrong, every message starting with
// "<joinedCommand(argv)>: ":
//   the program could not be started -> kNeedsDependency, "<cmd>: <the runner's reason>";
//   it timed out                     -> kTransient,       "<cmd>: timed out";
//   with kRequireZero, any exit but 0 (or a signal) -> exitError(argv, result).
// Otherwise the CommandResult (exit code, signal, stdout, stderr).
std::expected<CommandResult, DriverError> runCommand(CommandRunner& runner,
                                                     const std::vector<std::string>& argv,
                                                     std::chrono::milliseconds timeout,
                                                     ExitCheck check = ExitCheck::kRequireZero);

// The error for a command that finished without exiting 0: kTransient,
// "<cmd>: exit <code>, signal <signal>: <first line of its stderr>".
DriverError exitError(const std::vector<std::string>& argv, const CommandResult& result);

// writeAtomically (routing/base/file_io.hpp) with `mode`, creating missing directories 0700
// (makePrivateDirs). A failure (a directory or the file cannot be made, written or synced) is
// kTransient with file_io's message: it names the path, never the content.
std::expected<void, DriverError> writeDriverFile(const std::string& path, std::string_view content,
                                                 mode_t mode);

// writeDriverFile with mode 0600: for files only root may read (keys, scripts run as root).
std::expected<void, DriverError> writePrivateFileAtomically(const std::string& path,
                                                            std::string_view content);

}  // namespace transit
