// DOC: what every command of transit-hubctl is made of, and the helpers they share.
//
// Owns: nothing beyond one invocation. A command is one object (one struct per command, under
// hub/ctl/commands/, one file per command group) that holds its own flags, bound by CLI11 in
// setup(), and runs once: Command::run on the process's only thread (tests call runCtl with
// their own streams and environment). Most commands are an ApiCommand: one request to the REST
// API (request()), sent by ApiCommand::run through client.hpp, and the answer printed (print())
// through output.hpp. The table of commands and the parsing are in commands.hpp.
// PSKs come only from files (psk-file=, the --file JSON, or the AWS document of
// `spoke import-aws`), never from the command line, and are never printed, except by
// `spoke config`, whose purpose is to print on stdout (or write to files) a site's configuration
// with its PSKs. No message quotes a file's content, and the token never appears in a message.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <expected>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "hub/ctl/client.hpp"
#include "hub/ctl/output.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace transit::ctl {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";
inline constexpr double kDefaultTimeoutSeconds = 10;
// The largest file a command reads (a --file spoke, a psk-file, the token file).
inline constexpr std::size_t kMaxFileSize = 64ULL * 1024 * 1024;

// The end of every --help: the exit codes and the environment.
inline constexpr std::string_view kFooter =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the API refused the request (HTTP 4xx other than 401/403, or 5xx)\n"
    "  2  usage error (bad flags, missing token, unreadable file, malformed --tunnel)\n"
    "  3  cannot reach the server, TLS failure, or a response that is not the API's\n"
    "  4  authentication or authorization refused (HTTP 401/403)\n"
    "\n"
    "Environment:\n"
    "  TRANSIT_HUB_URL    server URL when --server is not given\n"
    "  TRANSIT_HUB_TOKEN  API token when --token-file is not given\n";

// A command's own help footer followed by kFooter.
std::string footerWith(std::string_view own);

// What runCtl takes from the process environment (empty variables count as unset).
struct Environment {
  std::optional<std::string> server_url;  // TRANSIT_HUB_URL
  std::optional<std::string> token;       // TRANSIT_HUB_TOKEN

  static Environment fromProcess();
};

// The flags every command takes, before or after its name.
struct GlobalFlags {
  std::optional<std::string> server;      // --server URL; else TRANSIT_HUB_URL, kDefaultServer
  std::optional<std::string> token_file;  // --token-file PATH; else TRANSIT_HUB_TOKEN
  bool json = false;                      // --json: the API's JSON instead of tables
  std::optional<std::string> ca_file;     // --ca-file PATH; else the system trust store
  std::optional<double> timeout_seconds;  // --timeout SECONDS; else kDefaultTimeoutSeconds
};

// One run of the CLI: its global flags, environment and streams.
struct Session {
  const GlobalFlags& flags;
  const Environment& env;
  std::istream& in;   // read for `--file -` and `spoke import-aws -`
  std::ostream& out;  // results
  std::ostream& err;  // errors and warnings
};

// The hub's answer to an ApiCommand's request.
struct Answer {
  const ApiResponse& response;
  const std::string& server;  // the server as messages name it (ServerUrl::display)
};

// One command: its flags and what it does with them.
class Command {
 public:
  virtual ~Command() = default;

  // Declares the command's positionals and flags on `app`, its subcommand (already named,
  // described and falling through to the global flags), bound to this object's members, and
  // the command's help footer when it has one.
  virtual void setup(CLI::App& app) = 0;

  // Runs the parsed command; returns the exit code (ExitCode in output.hpp).
  virtual int run(const Session& session) const = 0;
};

// A command that sends one request to the API and prints the answer. run(): the server URL and
// the timeout from the global flags, request(), the token, the exchange, then print(). A
// failure on the way is printed as "error: ..." with its exit code.
class ApiCommand : public Command {
 public:
  int run(const Session& session) const final;

  // The request to send (method, path, query, body), or a usage error (exit 2). Built before
  // the token is loaded.
  virtual std::expected<ApiRequest, std::string> request(const Session& session) const = 0;

  // Prints the hub's answer (an error status included); returns the exit code.
  virtual int print(const Answer& answer, const Session& session) const = 0;
};

// What a successful JSON answer becomes in text; an error says what the body lacks.
using Renderer = std::expected<std::string, std::string> (*)(const boost::json::value& body);

// The usual print(): an error status fails as interpretResponse says; with --json the body is
// printed as sent, else as `render` makes it (exit 3 when it cannot).
int printRendered(const Answer& answer, const Session& session, Renderer render);

// A page of a list: --limit N and --cursor ID, sent as ?limit= and ?cursor=.
struct PageFlags {
  std::optional<unsigned> limit;
  std::optional<std::string> cursor;
  void setup(CLI::App& app);  // adds both flags
  void addTo(ApiRequest& request) const;
};

// printRendered for a page of a list: after the text, when the answer has a "next" cursor,
// "More: repeat the command with --cursor ID".
int printPage(const Answer& answer, const Session& session, Renderer render);

// The body as sent, followed by a newline unless it ends with one.
void printRaw(const std::string& body, std::ostream& out);

// Prints "error: MESSAGE" on `err`; returns the failure's exit code.
int fail(std::ostream& err, const Failure& failure);
// A usage error (exit 2).
int usage(std::ostream& err, std::string message);

// `text` without trailing whitespace.
std::string_view trimRight(std::string_view text);

// All of `in` (stdin), at most `limit` bytes; `why` follows the size in the error for a longer
// stream.
std::expected<std::string, std::string> readStream(std::istream& in,
                                                   std::size_t limit = kMaxFileSize,
                                                   std::string_view why = "");

// All of the file at `path`, at most `limit` bytes; `why` follows the size in the error for a
// longer file. An error names the file and the reason, never its content.
std::expected<std::string, std::string> readFileAtMost(const std::string& path, std::size_t limit,
                                                       std::string_view why = "");

// A whole file (at most 64 MiB); an error says which file and why.
std::expected<std::string, std::string> readFile(const std::string& path);

// The bearer token: the first line of `token_file` when given, else `env_token`.
struct Token {
  std::string value;
  std::optional<std::string> warning;  // the token file is readable by group or others
};
std::expected<Token, std::string> loadToken(const std::optional<std::string>& token_file,
                                            const std::optional<std::string>& env_token);

}  // namespace transit::ctl
