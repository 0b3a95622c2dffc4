// DOC: transit-hubctl's entry point and its one table of commands.
//
// Owns: nothing beyond one invocation. runCtl builds the command line (CLI11) from
// commandTable(): the global flags (GlobalFlags) on the top level, then one subcommand per row,
// under its group's subcommand when it has one ("spoke add"), whose positionals and flags the
// row's Command declares and holds. It parses argv, runs the one command named and returns its
// exit code. Called once by main.cpp on the process's only thread; tests call runCtl with their
// own streams and environment. Adding a command is a struct in its group's file under
// hub/ctl/commands/ and one row here. The commands and their pure parts (included below) are
// exposed for tests.
#pragma once

#include <iosfwd>
#include <memory>
#include <span>
#include <string_view>

#include "hub/ctl/command.hpp"
#include "hub/ctl/commands/config.hpp"
#include "hub/ctl/commands/import.hpp"
#include "hub/ctl/commands/routing.hpp"
#include "hub/ctl/commands/spokes.hpp"
#include "hub/ctl/commands/status.hpp"

namespace transit::ctl {

// Commands under one name on the command line ("spoke").
struct CommandGroup {
  std::string_view name;
  std::string_view description;  // the line --help shows for the group
};

// One row of the command table.
struct CommandEntry {
  const CommandGroup* group;     // nullptr for a top-level command
  std::string_view name;         // "add"
  std::string_view description;  // the line --help shows for the command
  std::unique_ptr<Command> (*make)();
};

// Every command, in the order --help lists them.
std::span<const CommandEntry> commandTable();

// Parses `argv`, runs the command, prints to `out` (results) and `err` (errors, warnings);
// returns the exit code (see ExitCode in output.hpp). `in` is read for `--file -` and for
// `spoke import-aws -`. `spoke config --output-dir` writes files.
int runCtl(int argc, const char* const* argv, const Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err);

}  // namespace transit::ctl
