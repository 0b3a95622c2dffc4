// DOC: the `spoke` commands that manage spokes: `spoke add`, `spoke list`, `spoke show` and
// `spoke delete` (tag "spokes" of the API), and the pure parts of `spoke add`.
//
// Owns: each command's flags, for one invocation. Registered in the command table
// (commands.cpp) and run once on the CLI's only thread. The pure parts (--tunnel parsing, the
// spoke body built from flags or a file) are exposed for tests. A PSK is read from a psk-file or
// the --file JSON, sent to the hub, and never printed.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/ctl/command.hpp"

namespace transit::ctl {

// One --tunnel value as the user typed it: OUTSIDE_IP[,inside=CIDR][,psk-file=PATH] (the help
// calls it SPEC). Not peers::TunnelSpec, the hub's planned connection.
struct TunnelFlag {
  std::optional<std::string> hub;  // hub=NAME; unset: the hub that receives the request
  std::string outside_ip;
  std::optional<std::string> inside_cidr;
  std::optional<std::string> psk_file;
};
// Parses a --tunnel SPEC. An error names the problem, never a value that could be a key.
std::expected<TunnelFlag, std::string> parseTunnelSpec(std::string_view text);

// The flags of `spoke add NAME ...` (the form without --file).
struct SpokeAddFlags {
  std::string name;
  std::string kind;
  std::vector<std::string> cidrs;
  std::optional<std::string> routing;  // bgp when absent
  std::optional<std::int64_t> asn;
  std::optional<std::string> preferred_hub;
  std::optional<std::string> segment;
  std::vector<std::string> tunnels;  // raw --tunnel values
  bool bfd = false;                  // --bfd: BFD on the sessions (sites with bgp)
};

// The spoke JSON a POST carries. Reads each psk-file (trailing whitespace trimmed). asn only for
// bgp; no "psk" key unless a psk-file was given. An error is a usage error.
std::expected<boost::json::object, std::string> buildSpokeBody(const SpokeAddFlags& flags);

// The spoke JSON of `spoke add --file`: `text` must be a JSON object; when `name` is given it
// must equal the object's "name" (and is filled in when the object has none).
std::expected<boost::json::object, std::string> spokeBodyFromFile(
    std::string_view text, const std::optional<std::string>& name);

// `spoke add [NAME] --kind KIND --cidr CIDR... [--routing MODE] [--asn N] [--preferred-hub HUB]
// [--segment SEG] [--bfd] --tunnel SPEC...`, or `spoke add [NAME] --file FILE|-`: POST /v1/spokes.
// Prints "Created spoke NAME (generation N)" and the spoke.
struct SpokeAdd final : ApiCommand {
  std::optional<std::string> name;  // NAME; with --file it must equal the file's name
  std::optional<std::string> kind;
  std::vector<std::string> cidrs;
  std::optional<std::string> routing;
  std::optional<std::int64_t> asn;
  std::optional<std::string> preferred_hub;
  std::optional<std::string> segment;
  std::vector<std::string> tunnels;  // raw --tunnel values
  bool bfd = false;
  std::optional<std::string> file;  // --file: a path, or "-" for stdin

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;

  // The flags of the form without --file.
  SpokeAddFlags flags() const;
};

// `spoke list`: GET /v1/spokes, printed as a table.
struct SpokeList final : ApiCommand {
  PageFlags page;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `spoke show NAME`: GET /v1/spokes/NAME, printed as "key: value" lines and the tunnels.
struct SpokeShow final : ApiCommand {
  std::string name;

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

// `spoke delete NAME [--if-match GENERATION]`: DELETE /v1/spokes/NAME. Prints "Deleted spoke
// NAME", nothing with --json.
struct SpokeDelete final : ApiCommand {
  std::string name;
  std::optional<std::uint64_t> if_match;  // sent as If-Match

  void setup(CLI::App& app) override;
  std::expected<ApiRequest, std::string> request(const Session& session) const override;
  int print(const Answer& answer, const Session& session) const override;
};

}  // namespace transit::ctl
