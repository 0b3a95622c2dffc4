// The HTTP(S) client of transit-hubctl: one request to the hub's REST API over one connection.
//
// Owns: per call, a private io_context, the connection and (for https) the TLS context; nothing
// outlives a call. Called by the commands (hub/ctl/commands/) on the CLI's only thread.
// sendRequest blocks until the response is read, the exchange failed, or the deadline (connect +
// request) passed; the operations are Asio's asynchronous ones run to completion on the private
// io_context, because only those honour a deadline.
// Pure parts (parsing the server URL, building the request) are separate and tested without a
// socket. No message produced here contains the token.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace transit::ctl {

inline constexpr std::uint64_t kMaxResponseBody = 64ULL * 1024 * 1024;

// "transit-hubctl/<version>".
std::string userAgent();

// Where the API is: http:// or https://, a host (name, IPv4 or [IPv6]), an optional port and an
// optional path prefix. No user info, query or fragment.
struct ServerUrl {
  bool tls = false;
  std::string host;         // for the resolver and the certificate check: "hub.example", "::1"
  std::string port;         // "8080"; the scheme's default when the URL names none
  std::string host_header;  // as sent in Host: "[::1]:8080", "hub.example"
  std::string prefix;       // encoded path prefix without a trailing '/': "", "/prefix"
  std::string display;      // scheme://authority/prefix, for messages
};
std::expected<ServerUrl, std::string> parseServerUrl(std::string_view text);

// `prefix` followed by each segment, percent-encoded: {"v1","spokes","a b"} under "/p" gives
// "/p/v1/spokes/a%20b".
std::string apiTarget(const ServerUrl& server, const std::vector<std::string>& segments);

struct ApiRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::vector<std::string> path;          // segments under the prefix: {"v1", "spokes", name}
  std::optional<std::string> body;        // sent as is, with Content-Type: content_type
  std::optional<std::uint64_t> if_match;  // a generation; sent as If-Match: "<generation>"
  // Query parameters, in order; keys and values are percent-encoded when sent.
  std::vector<std::pair<std::string, std::string>> query;
  std::string content_type = "application/json";  // of `body`; unused without one
  std::string accept = "application/json";        // the Accept header: what the answer may be
};

struct ApiResponse {
  unsigned status = 0;
  std::string reason;
  std::string body;
  std::string content_type;  // the response's Content-Type header as sent; empty when absent
};

struct ClientOptions {
  ServerUrl server;
  std::string token;                   // bearer token; empty sends no Authorization header
  std::optional<std::string> ca_file;  // PEM bundle for https; else the system trust store
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // connect + request
};

struct ClientError {
  enum class Kind {
    kSetup,      // our side cannot start (the CA file does not load): a usage error
    kTransport,  // resolve, connect, TLS, timeout, or a malformed or oversized response
  };
  Kind kind = Kind::kTransport;
  std::string message;
};

boost::beast::http::request<boost::beast::http::string_body> buildHttpRequest(
    const ClientOptions& options, const ApiRequest& request);

std::expected<ApiResponse, ClientError> sendRequest(const ClientOptions& options,
                                                    const ApiRequest& request);

}  // namespace transit::ctl
