// DOC: `spoke import-aws`: onboards (or, with --update, updates) a vpc spoke from the
// configuration document AWS gives for a VPN connection (tag "spokes" of the API).
//
// Owns: the command's flags, for one invocation. Registered in the command table
// (commands.cpp) and run once on the CLI's only thread. The document holds the PSKs: it is read
// from a file or stdin, sent to the hub byte for byte as application/xml, and never printed nor
// quoted in a message.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "hub/ctl/command.hpp"

namespace transit::ctl {

// The largest AWS VPN configuration document `spoke import-aws` sends; the hub refuses larger.
inline constexpr std::size_t kMaxAwsDocumentSize = 256 * 1024;

// `spoke import-aws FILE|- --name NAME --cidr CIDR... [--segment SEG] [--preferred-hub HUB]`:
// POST /v1/spokes/import/aws; with --update, PUT /v1/spokes/NAME/import/aws (--cidr optional).
// The flags travel as query parameters. Prints the spoke as `spoke add` (or "Updated spoke").
struct SpokeImportAws final : ApiCommand {
  std::string file;  // FILE, "-" for stdin
  std::string name;  // --name: the new spoke, or with --update the one to update
  std::vector<std::string> cidrs;
  bool update = false;
  std::optional<std::string> segment;
  std::optional<std::string> preferred_hub;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

}  // namespace transit::ctl
