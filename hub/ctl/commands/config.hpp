// DOC: `spoke config`: the configuration of a site spoke's on-prem router (its customer
// gateway), PSKs included, printed or written as files (tag "spokes" of the API).
//
// Owns: the command's flags, for one invocation. Registered in the command table
// (commands.cpp) and run once on the CLI's only thread. Sends GET /v1/spokes/NAME/config and
// prints the files it answers (strongswan, libreswan) or the XML document (aws-xml) on stdout,
// or, with --output-dir, writes each file atomically with the mode its content asks for (0600
// when it holds a PSK) and prints one "wrote PATH (MODE)" line per file. The only command that
// prints a PSK; no message quotes a file's content.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "hub/ctl/command.hpp"

namespace transit::ctl {

// `spoke config NAME --format strongswan|libreswan|aws-xml [--output-dir DIR]`.
struct SpokeConfig final : ApiCommand {
  std::string name;
  std::string format;                     // sent as ?format=
  std::optional<std::string> output_dir;  // write the files under DIR instead of printing them

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

}  // namespace transit::ctl
