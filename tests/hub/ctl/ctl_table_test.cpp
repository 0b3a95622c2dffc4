// transit-hubctl's command table (hub/ctl/commands.hpp): every row is a command the user can
// reach, with its own --help, listed by its group's --help.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hub/ctl/commands.hpp"
#include "tests/hub/ctl/ctl_harness.hpp"

namespace transit::ctl {
namespace {

// The words naming a row's command: {"spoke", "add"} or {"hub"}.
std::vector<std::string> words(const CommandEntry& entry) {
  std::vector<std::string> out;
  if (entry.group != nullptr) {
    out.emplace_back(entry.group->name);
  }
  out.emplace_back(entry.name);
  return out;
}

TEST(CommandTable, EveryCommandHasItsOwnHelp) {
  ASSERT_FALSE(commandTable().empty());
  for (const CommandEntry& entry : commandTable()) {
    auto args = words(entry);
    std::string usage = "Usage: transit-hubctl";
    for (const auto& word : args) {
      usage += " " + word;
    }
    args.emplace_back("--help");
    auto result = run(args, Environment{});
    EXPECT_EQ(result.code, 0) << usage;
    EXPECT_EQ(result.out.rfind(std::string(entry.description) + "\n" + usage + " [OPTIONS]", 0), 0U)
        << result.out;
  }
}

TEST(CommandTable, EachGroupsHelpListsItsCommands) {
  const auto top = run({"--help"}, Environment{});
  for (const CommandEntry& entry : commandTable()) {
    const auto& help = entry.group == nullptr
                           ? top
                           : run({std::string(entry.group->name), "--help"}, Environment{});
    EXPECT_NE(help.out.find("  " + std::string(entry.name) + " "), std::string::npos) << entry.name;
    EXPECT_NE(help.out.find(std::string(entry.description)), std::string::npos) << entry.name;
    if (entry.group != nullptr) {
      EXPECT_NE(top.out.find("  " + std::string(entry.group->name) + " "), std::string::npos);
    }
  }
}

TEST(CommandTable, NamesAreUniqueWithinAGroup) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const CommandEntry& entry : commandTable()) {
    const std::string group = entry.group == nullptr ? "" : std::string(entry.group->name);
    EXPECT_TRUE(seen.emplace(group, std::string(entry.name)).second) << group << " " << entry.name;
  }
}

}  // namespace
}  // namespace transit::ctl
