#include "hub/ctl/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <utility>

namespace transit::ctl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr std::string_view kUrlForm = "expected http[s]://HOST[:PORT][/PREFIX]";

std::string seconds(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + " s";
  }
  return std::to_string(ms) + " ms";
}

// Starts one asynchronous operation with `start(handler)` and runs the io_context until it
// completes; returns the operation's error code.
template <class Start>
ErrorCode runToCompletion(asio::io_context& ioc, Start&& start) {
  ErrorCode result = asio::error::would_block;
  std::forward<Start>(start)([&result](ErrorCode ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

ClientError transportError(std::string message) {
  return ClientError{ClientError::Kind::kTransport, std::move(message)};
}

// Resolves the server's host within the deadline.
std::expected<tcp::resolver::results_type, ClientError> resolve(
    asio::io_context& ioc, const ClientOptions& options,
    std::chrono::steady_clock::time_point deadline) {
  tcp::resolver resolver(ioc);
  asio::steady_timer timer(ioc);
  bool timed_out = false;
  ErrorCode result = asio::error::would_block;
  tcp::resolver::results_type endpoints;
  timer.expires_at(deadline);
  timer.async_wait([&](ErrorCode ec) {
    if (!ec) {
      timed_out = true;
      resolver.cancel();
    }
  });
  resolver.async_resolve(options.server.host, options.server.port,
                         [&](ErrorCode ec, tcp::resolver::results_type found) {
                           result = ec;
                           endpoints = std::move(found);
                           timer.cancel();
                         });
  ioc.run();
  if (timed_out) {
    return std::unexpected(transportError("cannot resolve " + options.server.host +
                                          ": timed out after " + seconds(options.timeout)));
  }
  if (result) {
    return std::unexpected(
        transportError("cannot resolve " + options.server.host + ": " + result.message()));
  }
  return endpoints;
}

// Writes the request and reads the response on a connected (and, for https, handshaken)
// stream; the deadline set on the stream's lowest layer covers both.
template <class Stream>
std::expected<ApiResponse, ClientError> exchange(asio::io_context& ioc, Stream& stream,
                                                 const ClientOptions& options,
                                                 http::request<http::string_body>& request) {
  const std::string& server = options.server.display;
  ErrorCode ec = runToCompletion(
      ioc, [&](auto handler) { http::async_write(stream, request, std::move(handler)); });
  if (ec == beast::error::timeout) {
    return std::unexpected(transportError("no answer from " + server + " within " +
                                          seconds(options.timeout) + " (--timeout)"));
  }
  if (ec) {
    return std::unexpected(
        transportError("cannot send the request to " + server + ": " + ec.message()));
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  ec = runToCompletion(
      ioc, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
  if (ec == beast::error::timeout) {
    return std::unexpected(transportError("no answer from " + server + " within " +
                                          seconds(options.timeout) + " (--timeout)"));
  }
  if (ec == http::error::body_limit) {
    return std::unexpected(
        transportError("the response from " + server + " is larger than 64 MiB"));
  }
  if (ec) {
    return std::unexpected(
        transportError("cannot read the response from " + server + ": " + ec.message()));
  }
  auto& message = parser.get();
  ErrorCode ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream).close();
  std::string content_type(message[http::field::content_type]);
  return ApiResponse{message.result_int(), std::string(message.reason()), std::move(message.body()),
                     std::move(content_type)};
}

std::expected<void, ClientError> connect(asio::io_context& ioc, beast::tcp_stream& stream,
                                         const ClientOptions& options,
                                         const tcp::resolver::results_type& endpoints) {
  const ErrorCode ec = runToCompletion(
      ioc, [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
  if (ec == beast::error::timeout) {
    return std::unexpected(transportError("cannot connect to " + options.server.display +
                                          ": timed out after " + seconds(options.timeout)));
  }
  if (ec) {
    return std::unexpected(
        transportError("cannot connect to " + options.server.display + ": " + ec.message()));
  }
  return {};
}

std::expected<ApiResponse, ClientError> sendOverTls(asio::io_context& ioc,
                                                    const ClientOptions& options,
                                                    const tcp::resolver::results_type& endpoints,
                                                    std::chrono::steady_clock::time_point deadline,
                                                    http::request<http::string_body>& request) {
  ssl::context context(ssl::context::tls_client);
  ErrorCode ec;
  if (options.ca_file) {
    context.load_verify_file(*options.ca_file, ec);
    if (ec) {
      return std::unexpected(
          ClientError{ClientError::Kind::kSetup,
                      "cannot load --ca-file " + *options.ca_file + ": " + ec.message()});
    }
  } else {
    context.set_default_verify_paths(ec);
    if (ec) {
      return std::unexpected(
          transportError("cannot load the system's trusted certificates: " + ec.message()));
    }
  }
  context.set_verify_mode(ssl::verify_peer);

  beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
  const std::string& host = options.server.host;
  stream.set_verify_callback(ssl::host_name_verification(host));
  ErrorCode address_ec;
  asio::ip::make_address(host, address_ec);
  if (address_ec) {  // SNI carries host names only, never an IP literal (RFC 6066)
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }

  beast::get_lowest_layer(stream).expires_at(deadline);
  if (auto connected = connect(ioc, beast::get_lowest_layer(stream), options, endpoints);
      !connected) {
    return std::unexpected(connected.error());
  }
  ec = runToCompletion(ioc, [&](auto handler) {
    stream.async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) {
    std::string reason =
        ec == beast::error::timeout ? "timed out after " + seconds(options.timeout) : ec.message();
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
      reason = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    }
    return std::unexpected(
        transportError("TLS handshake with " + options.server.display + " failed: " + reason));
  }
  return exchange(ioc, stream, options, request);
}

}  // namespace

std::string userAgent() { return std::string("transit-hubctl/") + TRANSIT_HUB_VERSION; }

std::expected<ServerUrl, std::string> parseServerUrl(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    return std::unexpected("not a URL (" + std::string(kUrlForm) + ")");
  }
  boost::urls::url url = *parsed;
  ServerUrl out;
  if (url.scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
  } else if (url.scheme_id() != boost::urls::scheme::http) {
    return std::unexpected("the scheme must be http or https (" + std::string(kUrlForm) + ")");
  }
  if (url.has_userinfo()) {
    return std::unexpected("user info in the URL is not allowed (use --token-file)");
  }
  if (url.has_query() || url.has_fragment()) {
    return std::unexpected("a query or fragment is not allowed (" + std::string(kUrlForm) + ")");
  }
  switch (url.host_type()) {
    case boost::urls::host_type::name:
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      break;
    default:
      return std::unexpected("the URL names no usable host (" + std::string(kUrlForm) + ")");
  }
  out.host = url.host_address();
  if (out.host.empty()) {
    return std::unexpected("the URL names no host (" + std::string(kUrlForm) + ")");
  }
  if (url.has_port()) {
    const std::string_view port = url.port();
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number == 0 ||
        number > 65535) {
      return std::unexpected("the port must be a number from 1 to 65535");
    }
    out.port = std::to_string(number);
  } else {
    out.port = out.tls ? "443" : "80";
  }
  out.host_header = url.encoded_host_and_port();
  url.normalize_path();
  out.prefix = url.encoded_path();
  while (!out.prefix.empty() && out.prefix.back() == '/') {
    out.prefix.pop_back();
  }
  out.display = std::string(out.tls ? "https://" : "http://") + out.host_header + out.prefix;
  return out;
}

std::string apiTarget(const ServerUrl& server, const std::vector<std::string>& segments) {
  std::string target = server.prefix;
  for (const auto& segment : segments) {
    target += '/';
    target += boost::urls::encode(segment, boost::urls::pchars);
  }
  return target.empty() ? "/" : target;
}

http::request<http::string_body> buildHttpRequest(const ClientOptions& options,
                                                  const ApiRequest& request) {
  std::string target = apiTarget(options.server, request.path);
  char separator = '?';
  for (const auto& [key, value] : request.query) {
    target += separator;
    target += boost::urls::encode(key, boost::urls::unreserved_chars);
    target += '=';
    target += boost::urls::encode(value, boost::urls::unreserved_chars);
    separator = '&';
  }
  http::request<http::string_body> out{request.method, target, 11};
  out.set(http::field::host, options.server.host_header);
  out.set(http::field::user_agent, userAgent());
  out.set(http::field::accept, request.accept);
  if (!options.token.empty()) {
    out.set(http::field::authorization, "Bearer " + options.token);
  }
  if (request.if_match) {
    out.set(http::field::if_match, "\"" + std::to_string(*request.if_match) + "\"");
  }
  if (request.body) {
    out.set(http::field::content_type, request.content_type);
    out.body() = *request.body;
  }
  out.keep_alive(false);
  out.prepare_payload();
  return out;
}

std::expected<ApiResponse, ClientError> sendRequest(const ClientOptions& options,
                                                    const ApiRequest& request) {
  try {
    auto http_request = buildHttpRequest(options, request);
    asio::io_context ioc;
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    auto endpoints = resolve(ioc, options, deadline);
    if (!endpoints) {
      return std::unexpected(endpoints.error());
    }
    if (options.server.tls) {
      return sendOverTls(ioc, options, *endpoints, deadline, http_request);
    }
    beast::tcp_stream stream(ioc);
    stream.expires_at(deadline);
    if (auto connected = connect(ioc, stream, options, *endpoints); !connected) {
      return std::unexpected(connected.error());
    }
    return exchange(ioc, stream, options, http_request);
  } catch (const boost::system::system_error& error) {
    return std::unexpected(transportError("request to " + options.server.display +
                                          " failed: " + error.code().message()));
  }
}

}  // namespace transit::ctl
