// What transit-hubctl prints: exit codes, error messages, tables and "key: value" views.
//
// Owns: nothing; pure functions from an HTTP status and a response body (JSON) to text, callable
// from any thread. Called by ctl_commands on the CLI's only thread; tested with golden strings.
// Never prints a PSK: the API does not return one, and a "psk" key found anyway is skipped.
// Text from the server is printed with control characters replaced by '?', so a response cannot
// drive the user's terminal.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transit::hub::ctl {

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
// `hub`: "key: value" lines.
std::expected<std::string, std::string> renderHub(const boost::json::value& body);

// Routing views (tag "routing" of the API).
// `routes`: {"routes":[...]} -> table (STATE: selected, filtered, or empty for an alternative),
// or "No routes." when empty.
std::expected<std::string, std::string> renderRoutes(const boost::json::value& body);
// `conflicts`: {"conflicts":[...]} -> table, or "No conflicts." when empty.
std::expected<std::string, std::string> renderConflicts(const boost::json::value& body);
// `spoke exports`: an ExportPlan -> "key: value" lines, one "warning: ..." line per warning, a
// blank line, then the prefixes sent (a summary lists what it covers, at most
// kMaxCoveredShown of them).
inline constexpr std::size_t kMaxCoveredShown = 8;
std::expected<std::string, std::string> renderExports(const boost::json::value& body);
// `spoke static-routes`: StaticRoutes -> "# ..." comment lines (count, limit, warnings), then
// one prefix per line, ready to paste or script.
std::expected<std::string, std::string> renderStaticRoutes(const boost::json::value& body);

// A cell or value as printed: strings as they are, null and absent as "-", arrays of scalars
// comma-joined, objects as "key=value, ...", control characters replaced by '?'.
std::string displayValue(const boost::json::value* value);

}  // namespace transit::hub::ctl
