// DOC: what the CLI is talking to: `hub` (GET /v1/hub, tag "status" of the API) and `version`
// (the client's own version, no request).
//
// Owns: nothing beyond one invocation. Registered in the command table (commands.cpp) and run
// once on the CLI's only thread.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "hub/ctl/command.hpp"

namespace transit::ctl {

// `hub`: GET /v1/hub, this hub's name, ASN, addresses and state as "key: value" lines.
struct Hub final : ApiCommand {
  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `audit [--spoke NAME] [--limit N] [--cursor ID]`: GET /v1/audit, the changes to the spokes,
// newest first, as a table; the last line gives the command for the next page.
struct Audit final : ApiCommand {
  std::optional<std::string> spoke;  // sent as ?spoke=
  PageFlags page;                    // ?limit=, ?cursor=

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `version`: prints "transit-hubctl VERSION"; needs no server nor token.
struct Version final : Command {
  void setup(CLI::App& app) override;
  int run(const Session& session) const override;
};

}  // namespace transit::ctl
