// The commands of transit-hubctl: flags (CLI11), request building, and what each command prints.
//
// Owns: nothing beyond one invocation. Called once by ctl_main on the process's only thread;
// tests call runCtl with their own streams and environment. The pure parts (--tunnel parsing,
// the spoke body built from flags or a file, token loading) are exposed for tests; runCtl does
// the I/O through ctl_client and prints through ctl_output.
// PSKs come only from files (psk-file=, the --file JSON, or the AWS document of
// `spoke import-aws`), never from the command line, and are never printed, except by
// `spoke config`, whose purpose is to print on stdout (or write to files) a site's configuration
// with its PSKs. No message quotes a file's content, and the token never appears in a message.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transit::ctl {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

// The largest AWS VPN configuration document `spoke import-aws` sends; the hub refuses larger.
inline constexpr std::size_t kMaxAwsDocumentSize = 256 * 1024;

// What runCtl takes from the process environment (empty variables count as unset).
struct Environment {
  std::optional<std::string> server_url;  // TRANSIT_HUB_URL
  std::optional<std::string> token;       // TRANSIT_HUB_TOKEN

  static Environment fromProcess();
};

// One --tunnel value: OUTSIDE_IP[,inside=CIDR][,psk-file=PATH].
struct TunnelSpec {
  std::string outside_ip;
  std::optional<std::string> inside_cidr;
  std::optional<std::string> psk_file;
};
// An error names the problem, never a value that could be a key.
std::expected<TunnelSpec, std::string> parseTunnelSpec(std::string_view text);

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
};

// The spoke JSON a POST carries. Reads each psk-file (trailing whitespace trimmed). asn only for
// bgp; no "psk" key unless a psk-file was given. An error is a usage error.
std::expected<boost::json::object, std::string> buildSpokeBody(const SpokeAddFlags& flags);

// The spoke JSON of `spoke add --file`: `text` must be a JSON object; when `name` is given it
// must equal the object's "name" (and is filled in when the object has none).
std::expected<boost::json::object, std::string> spokeBodyFromFile(
    std::string_view text, const std::optional<std::string>& name);

// The bearer token: the first line of `token_file` when given, else `env_token`.
struct Token {
  std::string value;
  std::optional<std::string> warning;  // the token file is readable by group or others
};
std::expected<Token, std::string> loadToken(const std::optional<std::string>& token_file,
                                            const std::optional<std::string>& env_token);

// A whole file (at most 64 MiB); an error says which file and why.
std::expected<std::string, std::string> readFile(const std::string& path);

// Parses `argv`, runs the command, prints to `out` (results) and `err` (errors, warnings);
// returns the exit code (see ExitCode in ctl_output.hpp). `in` is read for `--file -` and for
// `spoke import-aws -`. `spoke config --output-dir` writes files.
int runCtl(int argc, const char* const* argv, const Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err);

}  // namespace transit::ctl
