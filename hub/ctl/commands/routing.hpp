// DOC: the routing views of transit-hubctl (tag "routing" of the API): `routes`, `conflicts`,
// `spoke exports` and `spoke static-routes`.
//
// Owns: each command's flags, for one invocation. Registered in the command table
// (commands.cpp) and run once on the CLI's only thread. Read-only: each sends one GET and prints
// the answer through output.hpp (renderRoutes, renderConflicts, renderExports,
// renderStaticRoutes), or the API's JSON with --json.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "hub/ctl/command.hpp"

namespace transit::ctl {

// `routes [--spoke NAME] [--filtered | --accepted]`: GET /v1/routes, the routes BIRD holds for
// the spokes, as a table.
struct Routes final : ApiCommand {
  std::optional<std::string> spoke;  // sent as ?spoke=
  bool filtered = false;             // sent as ?filtered=true
  bool accepted = false;             // sent as ?filtered=false
  PageFlags page;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `conflicts`: GET /v1/conflicts, the routes refused for overlapping another spoke's CIDRs.
struct Conflicts final : ApiCommand {
  PageFlags page;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `spoke exports NAME`: GET /v1/spokes/NAME/exports, what the hub sends the spoke.
struct SpokeExports final : ApiCommand {
  std::string name;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `spoke static-routes NAME`: GET /v1/spokes/NAME/static-routes, the prefixes to enter on AWS
// for a static spoke, one per line.
struct SpokeStaticRoutes final : ApiCommand {
  std::string name;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

}  // namespace transit::ctl
