// What transit-hubctl prints: exit codes, error messages, tables and "key: value" views.
//
// Owns: nothing; pure functions from an HTTP status and a response body (JSON) to text, callable
// from any thread. Called by the commands (hub/ctl/commands/) on the CLI's only thread; tested
// with golden strings.
// Never prints a PSK: the API does not return one, and a "psk" key found anyway is skipped. The
// one exception is `spoke config`, whose output is the site's configuration with its PSKs, as
// the user asked: its files' contents go to stdout (or files) unchanged; no message quotes them.
// Text from the server is printed with control characters replaced by '?', so a response cannot
// drive the user's terminal (a `spoke config` file's content excepted: it is printed as is).
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transit::ctl {

// The process exit status; documented in the --help footer.
enum class ExitCode : int {
  kOk = 0,           // the request succeeded
  kApiRefused = 1,   // the API answered 4xx (other than 401/403) or 5xx
  kUsage = 2,        // bad flags, missing token, unreadable file, malformed --tunnel
  kUnreachable = 3,  // cannot reach the server, TLS failure, or a response not from the API
  kAuth = 4,         // the API answered 401 or 403
};

// The exit code a response's HTTP status maps to; 1xx/3xx (and nonsense) are not the API's.
ExitCode exitCodeForStatus(unsigned status);

// Why a command failed, as printed: "error: <message>" on stderr and exit `code`.
struct Failure {
  ExitCode code = ExitCode::kUsage;
  std::string message;
};

// The API's error body: {"error":{"code":"...","message":"...","field":"..."}}.
struct ApiError {
  std::string code;
  std::string message;
  std::optional<std::string> field;
};
std::optional<ApiError> parseApiError(std::string_view body);

// "<message>" or "<message> (field: <field>)", without the "error: " prefix.
std::string describeApiError(const ApiError& error);

// What a response means. 2xx: the body as JSON (null when empty). Anything else is a Failure:
// the API's error with its exit code, or exit 3 when the answer is not the API's (not JSON, a
// redirect, an HTML error page of a proxy). `server` names the server in messages.
std::expected<boost::json::value, Failure> interpretResponse(unsigned status,
                                                             std::string_view reason,
                                                             std::string_view body,
                                                             std::string_view server);

// Columns padded to their widest cell, two spaces apart, no trailing spaces; one line per row.
std::string renderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// Renderers of API bodies. An error says what the body lacks (the caller reports it as exit 3).
// `spoke list`: {"spokes":[...]} -> table, or "No spokes." when empty.
std::expected<std::string, std::string> renderSpokeList(const boost::json::value& body);
// `spoke show`: a spoke -> "key: value" lines, a blank line, then the tunnel table.
std::expected<std::string, std::string> renderSpoke(const boost::json::value& body);
// `spoke add`: "Created spoke NAME (generation N)" then the `spoke show` view.
std::expected<std::string, std::string> renderCreated(const boost::json::value& body);
// `Updated spoke NAME (generation N)` then the spoke, as renderSpoke (spoke import-aws --update).
std::expected<std::string, std::string> renderUpdated(const boost::json::value& body);
// `hub`: "key: value" lines.
std::expected<std::string, std::string> renderHub(const boost::json::value& body);

// Routing views (tag "routing" of the API).
// `routes`: {"routes":[...]} -> table (STATE: selected, filtered, or empty for an alternative),
// or "No routes." when empty.
std::expected<std::string, std::string> renderRoutes(const boost::json::value& body);
// `conflicts`: {"conflicts":[...]} -> table, or "No conflicts." when empty.
std::expected<std::string, std::string> renderConflicts(const boost::json::value& body);
// `audit`: {"records":[...],"next"} -> table (TIME, HUB, ACTOR, ACTION, SPOKE, GEN, REQUEST,
// CHANGED), or "No changes recorded." when empty (the command adds the next page's cursor).
std::expected<std::string, std::string> renderAudit(const boost::json::value& body);
// `spoke exports`: an ExportPlan -> "key: value" lines, one "warning: ..." line per warning, a
// blank line, then the prefixes sent (a summary lists what it covers, at most
// kMaxCoveredShown of them).
inline constexpr std::size_t kMaxCoveredShown = 8;
std::expected<std::string, std::string> renderExports(const boost::json::value& body);
// `spoke static-routes`: StaticRoutes -> "# ..." comment lines (count, limit, warnings), then
// one prefix per line, ready to paste or script.
std::expected<std::string, std::string> renderStaticRoutes(const boost::json::value& body);

// `spoke config` (tag "spokes" of the API, GET /v1/spokes/NAME/config).
// One file of a site's device configuration: as the hub sends it for strongswan and libreswan,
// or made by the CLI for aws-xml (NAME.xml, the XML document).
struct ConfigFile {
  std::string path;  // relative to the output directory; passes checkConfigPath
  std::string description;
  bool secret = false;  // it holds a PSK
  std::string content;
};
// Why `path` must not be written under an output directory, or nullopt when it may be: it is
// empty, absolute, has an empty, "." or ".." component, or a control character. Guards against
// a server that would make the CLI write outside the directory.
std::optional<std::string> checkConfigPath(std::string_view path);
// The files of a strongswan/libreswan body ({"files":[{"path","description","secret",
// "content"}]}), in the server's order. An error says what the body lacks or which path is
// refused (also: a path given twice, or one that another uses as a directory); it never quotes
// a file's content.
std::expected<std::vector<ConfigFile>, std::string> parseConfigFiles(
    const boost::json::value& body);
// The mode a file is written with: 0600 when secret, else 0755 for a path ending in ".sh", else
// 0644.
unsigned configFileMode(const ConfigFile& file);
// A mode in octal, as chmod takes it: 0600 -> "0600".
std::string modeText(unsigned mode);
// The files on stdout: for each, "# ==== PATH ====", "# DESCRIPTION" when it has one, then its
// content as is (a newline added when it lacks a final one); a blank line between files.
std::string renderConfigFiles(const std::vector<ConfigFile>& files);
// The answer to an aws-xml request: a 2xx must be application/xml (or text/xml) with a body,
// returned byte for byte; else a Failure as interpretResponse makes (errors are the API's JSON).
std::expected<std::string, Failure> interpretXmlResponse(unsigned status, std::string_view reason,
                                                         std::string_view content_type,
                                                         std::string_view body,
                                                         std::string_view server);

// A cell or value as printed: strings as they are, null and absent as "-", arrays of scalars
// comma-joined, objects as "key=value, ...", control characters replaced by '?'.
std::string displayValue(const boost::json::value* value);

}  // namespace transit::ctl
