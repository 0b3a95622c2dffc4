#include "hub/ctl/commands.hpp"

#include <CLI/CLI.hpp>
#include <exception>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace transit::ctl {
namespace {

constexpr CommandGroup kSpoke{"spoke", "manage spokes"};

template <typename T>
std::unique_ptr<Command> make() {
  return std::make_unique<T>();
}

// The command table: transit-hubctl's commands, in the order --help lists them.
constexpr CommandEntry kCommands[] = {
    {&kSpoke, "add", "create a spoke (POST /v1/spokes)", &make<SpokeAdd>},
    {&kSpoke, "list", "list spokes (GET /v1/spokes)", &make<SpokeList>},
    {&kSpoke, "show", "show one spoke (GET /v1/spokes/NAME)", &make<SpokeShow>},
    {&kSpoke, "delete", "delete a spoke (DELETE /v1/spokes/NAME)", &make<SpokeDelete>},
    {&kSpoke, "exports", "show what the hub sends a spoke (GET /v1/spokes/NAME/exports)",
     &make<SpokeExports>},
    {&kSpoke, "static-routes",
     "print the routes to enter on AWS for a static spoke (GET /v1/spokes/NAME/static-routes)",
     &make<SpokeStaticRoutes>},
    {&kSpoke, "import-aws",
     "onboard a VPN connection you created in AWS from its configuration document "
     "(POST /v1/spokes/import/aws)",
     &make<SpokeImportAws>},
    {&kSpoke, "config",
     "print or write the configuration of a site spoke's on-prem router, PSKs included "
     "(GET /v1/spokes/NAME/config)",
     &make<SpokeConfig>},
    {nullptr, "routes",
     "list the routes BIRD holds for the spokes, refused ones included (GET /v1/routes)",
     &make<Routes>},
    {nullptr, "conflicts",
     "list routes refused for overlapping another spoke's CIDRs (GET /v1/conflicts)",
     &make<Conflicts>},
    {nullptr, "hub", "show this hub (GET /v1/hub)", &make<Hub>},
    {nullptr, "audit", "list the changes to the spokes, newest first (GET /v1/audit)",
     &make<Audit>},
    {nullptr, "version", "print the client's version", &make<Version>},
};

// The command line: CLI11's app built from the table, the global flags, and one Command per
// row, bound to its subcommand.
class CommandLine {
 public:
  CommandLine() {
    app_.footer(std::string(kFooter));
    app_.require_subcommand(1);
    app_.fallthrough();
    // `--version` as well as the `version` command: what packaging tools and users try first.
    app_.set_version_flag("--version", "transit-hubctl " TRANSIT_HUB_VERSION);
    app_.failure_message([](const CLI::App*, const CLI::Error& error) {
      return "error: " + std::string(error.what()) + "\nRun with --help for more information.\n";
    });
    app_.add_option("--server", flags_.server,
                    "API URL, http:// or https://, may end in a path prefix "
                    "(default: $TRANSIT_HUB_URL, else " +
                        std::string(kDefaultServer) + ")")
        ->type_name("URL");
    app_.add_option("--token-file", flags_.token_file,
                    "file whose first line is the bearer token "
                    "(default: $TRANSIT_HUB_TOKEN)")
        ->type_name("PATH");
    app_.add_flag("--json", flags_.json, "print the API's JSON response instead of tables");
    app_.add_option("--ca-file", flags_.ca_file,
                    "CA bundle (PEM) to verify an https server with "
                    "(default: the system trust store)")
        ->type_name("PATH");
    app_.add_option("--timeout", flags_.timeout_seconds,
                    "seconds for connect + request, up to 3600 (default: 10)")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.001, 3600.0).description(""));

    std::map<const CommandGroup*, CLI::App*> groups;
    for (const CommandEntry& entry : commandTable()) {
      CLI::App* parent = &app_;
      if (entry.group != nullptr) {
        CLI::App*& group = groups[entry.group];
        if (group == nullptr) {
          group = app_.add_subcommand(std::string(entry.group->name),
                                      std::string(entry.group->description));
          group->require_subcommand(1);
          group->fallthrough();
        }
        parent = group;
      }
      CLI::App* app =
          parent->add_subcommand(std::string(entry.name), std::string(entry.description));
      app->fallthrough();
      auto command = entry.make();
      command->setup(*app);
      commands_.emplace_back(app, std::move(command));
    }
  }

  CLI::App& app() { return app_; }
  const GlobalFlags& flags() const { return flags_; }

  // The command the parsed argv names; null before parsing.
  const Command* parsed() const {
    for (const auto& [app, command] : commands_) {
      if (app->parsed()) {
        return command.get();
      }
    }
    return nullptr;
  }

 private:
  GlobalFlags flags_;
  CLI::App app_{"Command-line client of the Transit Hub REST API.", "transit-hubctl"};
  std::vector<std::pair<CLI::App*, std::unique_ptr<Command>>> commands_;
};

}  // namespace

std::span<const CommandEntry> commandTable() { return kCommands; }

int runCtl(int argc, const char* const* argv, const Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err) {
  try {
    CommandLine command_line;
    try {
      command_line.app().parse(argc, argv);
    } catch (const CLI::ParseError& error) {
      const int code = command_line.app().exit(error, out, err);
      return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
    }
    const Command* command = command_line.parsed();
    if (command == nullptr) {
      return usage(err, "no command given");
    }
    return command->run(Session{command_line.flags(), env, in, out, err});
  } catch (const std::exception& error) {
    return fail(err, Failure{ExitCode::kUnreachable, error.what()});
  }
}

}  // namespace transit::ctl
