#include "hub/store/etcd/etcd_client.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace transit::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxAnswer = 64 * 1024 * 1024;
constexpr std::string_view kAuthenticatePath = "/v3/auth/authenticate";
// gRPC metadata etcd's gateway passes on: with "true", a member that has no leader answers
// "etcdserver: no leader" at once (etcd's interceptors check it for every call).
constexpr std::string_view kRequireLeader = "Grpc-Metadata-hasleader";

struct Endpoint {
  std::string url;   // "https://10.0.1.5:2379", as messages name it
  std::string host;  // "10.0.1.5", "etcd-a.internal" (an IPv6 address without brackets)
  std::uint16_t port = 0;
  std::string host_header;  // "10.0.1.5:2379"
  bool tls = false;
  bool host_is_ip = false;
};

std::string duration(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{} s", d.count() / 1000)
                               : fmt::format("{} ms", d.count());
}

EtcdError invalid(std::string message) {
  return EtcdError{EtcdErrorKind::kInvalid, std::move(message)};
}

EtcdError unavailable(const Endpoint& endpoint, std::string_view what) {
  return EtcdError{EtcdErrorKind::kUnavailable, fmt::format("etcd {}: {}", endpoint.url, what)};
}

std::expected<Endpoint, std::string> parseEndpoint(std::string_view text) {
  constexpr std::string_view kForm = "expected http[s]://HOST:PORT";
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::unexpected(fmt::format("not a URL ({})", kForm));
  const boost::urls::url url = *parsed;
  Endpoint out;
  if (url.scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
  } else if (url.scheme_id() != boost::urls::scheme::http) {
    return std::unexpected(fmt::format("the scheme must be http or https ({})", kForm));
  }
  if (url.has_userinfo()) {
    return std::unexpected("credentials in the URL are not allowed (set user and password)");
  }
  if (url.has_query() || url.has_fragment() || (!url.path().empty() && url.path() != "/")) {
    return std::unexpected(fmt::format("a path, query or fragment is not allowed ({})", kForm));
  }
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      out.host_is_ip = true;
      break;
    case boost::urls::host_type::name:
      break;
    default:
      return std::unexpected(fmt::format("no usable host ({})", kForm));
  }
  out.host = url.host_address();
  if (out.host.empty()) return std::unexpected(fmt::format("no host ({})", kForm));
  const std::string_view port = url.port();
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (!url.has_port() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      number == 0 || number > 65535) {
    return std::unexpected("the URL must name a port from 1 to 65535 (etcd's is usually 2379)");
  }
  out.port = static_cast<std::uint16_t>(number);
  out.host_header = url.encoded_host_and_port();
  out.url = fmt::format("{}://{}", out.tls ? "https" : "http", out.host_header);
  return out;
}

// The one completion handler of every operation this file runs to completion. Beast's composed
// operations are instantiated once per (stream, message, handler) type: a handler type per call
// site made this file the slowest of the build; one named type shares them.
struct Completion {
  ErrorCode* result;
  void operator()(ErrorCode ec) const { *result = ec; }
  void operator()(ErrorCode ec, std::size_t /*bytes*/) const { *result = ec; }
  void operator()(ErrorCode ec, const tcp::endpoint& /*connected*/) const { *result = ec; }
};

// Starts one asynchronous operation with `start(Completion)` and runs the io_context until it
// completes; returns the operation's error code.
// Once `cancelled` is set the io_context never runs again (a cancelled run may have left
// handlers behind that refer to a caller's gone locals): the operation is not started.
template <class Start>
ErrorCode runToCompletion(asio::io_context& ioc, const std::atomic<bool>& cancelled,
                          Start&& start) {
  if (cancelled) return asio::error::operation_aborted;
  ErrorCode result = asio::error::would_block;
  std::forward<Start>(start)(Completion{&result});
  ioc.restart();
  ioc.run();
  return result;
}

// The printable start of a body that is not one of etcd's error objects ("404 page not found").
std::string snippet(std::string_view body) {
  std::string out;
  for (const char c : body.substr(0, 120)) {
    out += c >= 0x20 && c < 0x7f ? c : ' ';
  }
  if (body.size() > 120) out += "...";
  return out.empty() ? "(empty body)" : out;
}

// Whether a write that etcd answered with `error` (5xx) may still be applied: its proposal was
// made and nobody knows whether it commits ("request timed out", 500 "context deadline
// exceeded", "server stopped"). "no leader", "leader changed" and the like refuse before
// proposing.
bool mayHaveApplied(const EtcdError& error) {
  const std::string_view message = error.etcd_message;
  return error.http_status == 500 || message.find("timed out") != std::string_view::npos ||
         message.find("deadline exceeded") != std::string_view::npos ||
         message.find("stopped") != std::string_view::npos;
}

void replaceAll(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (std::size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + 3)) {
    text.replace(at, secret.size(), "***");
  }
}

// One connection to one endpoint, kept alive between requests.
struct Connection {
  std::size_t endpoint = 0;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? secure->next_layer() : *plain; }

  // Whether the server closed it (or it failed) while it was idle; such a connection is replaced
  // before a request is sent on it. Unread bytes on a plain connection mean it is out of step.
  bool closedByPeer() {
    if (!lowest().socket().is_open()) return true;
    pollfd p{lowest().socket().native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    const bool hung_up = (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
    return hung_up || (!secure && (p.revents & POLLIN) != 0);
  }
};

struct Answer {
  unsigned status = 0;
  std::string body;
};

}  // namespace

bool etcdPathIsRead(std::string_view path) {
  return path == "/v3/kv/range" || path == "/v3/maintenance/status" || path == kAuthenticatePath;
}

struct EtcdClient::State {
  asio::io_context ioc;  // first: destroyed last, after every stream that uses it
  std::optional<ssl::context> tls;
  std::vector<Endpoint> endpoints;
  std::string user;
  std::string password;
  bool has_client_certificate = false;
  std::chrono::milliseconds timeout{};
  std::chrono::milliseconds connect_timeout{};
  std::size_t current = 0;  // the endpoint that answered last
  std::string token;        // empty: not authenticated (yet)
  std::unique_ptr<Connection> connection;
  std::atomic<bool> cancelled{false};

  // Any thread: a run in progress stops at once, and none starts again.
  void cancel() {
    cancelled = true;
    asio::post(ioc, [this] { ioc.stop(); });
  }

  std::string redact(std::string text) const {
    replaceAll(text, password);
    replaceAll(text, token);
    return text;
  }

  std::expected<std::vector<tcp::endpoint>, EtcdError> resolve(const Endpoint& endpoint,
                                                               Clock::time_point deadline) {
    ErrorCode ec;
    const auto address = asio::ip::make_address(endpoint.host, ec);
    if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, endpoint.port)};
    tcp::resolver resolver(ioc);
    asio::steady_timer timer(ioc);
    bool timed_out = false;
    ErrorCode result = asio::error::would_block;
    std::vector<tcp::endpoint> found;
    timer.expires_at(deadline);
    timer.async_wait([&](ErrorCode timer_ec) {
      if (!timer_ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                           [&](ErrorCode resolve_ec, const tcp::resolver::results_type& results) {
                             result = resolve_ec;
                             for (const auto& entry : results) found.push_back(entry.endpoint());
                             timer.cancel();
                           });
    if (cancelled) return std::unexpected(unavailable(endpoint, "cancelled"));
    ioc.restart();
    ioc.run();
    if (timed_out) {
      return std::unexpected(
          unavailable(endpoint, fmt::format("cannot resolve {}: no answer within {}", endpoint.host,
                                            duration(connect_timeout))));
    }
    if (result || found.empty()) {
      return std::unexpected(unavailable(
          endpoint, fmt::format("cannot resolve {}: {}", endpoint.host,
                                result ? result.message() : std::string("no address"))));
    }
    return found;
  }

  // A new connection to endpoint `index`, connected and (for https) through the TLS handshake
  // within `connect_timeout`.
  std::expected<void, EtcdError> connect(std::size_t index, Clock::time_point deadline) {
    connection.reset();
    const Endpoint& endpoint = endpoints[index];
    const auto connect_deadline = std::min(deadline, Clock::now() + connect_timeout);
    auto targets = resolve(endpoint, connect_deadline);
    if (!targets) return std::unexpected(targets.error());
    auto fresh = std::make_unique<Connection>();
    fresh->endpoint = index;
    if (endpoint.tls) {
      fresh->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, *tls);
    } else {
      fresh->plain = std::make_unique<beast::tcp_stream>(ioc);
    }
    beast::tcp_stream& stream = fresh->lowest();
    stream.expires_at(connect_deadline);
    ErrorCode ec = runToCompletion(
        ioc, cancelled, [&](auto handler) { stream.async_connect(*targets, std::move(handler)); });
    if (ec) {
      return std::unexpected(unavailable(
          endpoint, ec == beast::error::timeout ? fmt::format("cannot connect: no answer within {}",
                                                              duration(connect_timeout))
                                                : fmt::format("cannot connect: {}", ec.message())));
    }
    if (endpoint.tls) {
      if (auto shaken = handshake(*fresh->secure, endpoint); !shaken) {
        return std::unexpected(shaken.error());
      }
    }
    connection = std::move(fresh);
    return {};
  }

  std::expected<void, EtcdError> handshake(beast::ssl_stream<beast::tcp_stream>& stream,
                                           const Endpoint& endpoint) {
    SSL* ssl = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int named =
        endpoint.host_is_ip
            ? X509_VERIFY_PARAM_set1_ip_asc(param, endpoint.host.c_str())
            : X509_VERIFY_PARAM_set1_host(param, endpoint.host.c_str(), endpoint.host.size());
    if (named != 1) {
      return std::unexpected(unavailable(endpoint, "cannot set the name to verify"));
    }
    if (!endpoint.host_is_ip) {  // SNI carries host names only, never an IP literal (RFC 6066)
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(endpoint.host.c_str()));
    }
    const ErrorCode ec = runToCompletion(ioc, cancelled, [&](auto handler) {
      stream.async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (!ec) return {};
    std::string reason = ec == beast::error::timeout
                             ? fmt::format("no answer within {}", duration(connect_timeout))
                             : ec.message();
    if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
      reason = fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(verify));
    }
    return std::unexpected(unavailable(
        endpoint, fmt::format("TLS handshake failed: {}{}", reason, certificateHint(reason))));
  }

  std::string_view certificateHint(std::string_view reason) const {
    const bool refused_us = reason.find("certificate required") != std::string_view::npos ||
                            reason.find("bad certificate") != std::string_view::npos ||
                            reason.find("handshake failure") != std::string_view::npos;
    return refused_us && !has_client_certificate
               ? " (etcd may require a client certificate: set cert_file and key_file)"
               : "";
  }

  // Sends one request on the open connection and reads the answer. The error's outcome_unknown
  // says whether the request may have reached etcd.
  std::expected<Answer, EtcdError> exchange(std::string_view path, const std::string& body,
                                            bool with_token, Clock::time_point deadline) {
    const Endpoint& endpoint = endpoints[connection->endpoint];
    http::request<http::string_body> request{http::verb::post, path, 11};
    request.set(http::field::host, endpoint.host_header);
    request.set(http::field::user_agent, "transit-hubd/" TRANSIT_HUB_VERSION);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, "application/json");
    // A member without a leader refuses at once ("etcdserver: no leader", 503) instead of
    // holding the request until its own timeout (7 s by default): the request moves on to the
    // next endpoint, and a write it refused so was never proposed.
    request.set(kRequireLeader, "true");
    if (with_token && !token.empty()) request.set(http::field::authorization, token);
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();

    connection->lowest().expires_at(deadline);
    ErrorCode ec = runToCompletion(ioc, cancelled, [&](auto handler) {
      if (connection->secure) {
        http::async_write(*connection->secure, request, std::move(handler));
      } else {
        http::async_write(*connection->plain, request, std::move(handler));
      }
    });
    if (ec) {
      connection.reset();
      return std::unexpected(unavailable(
          endpoint, fmt::format("cannot send {}: {}", path,
                                ec == beast::error::timeout ? "timed out" : ec.message())));
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswer);
    ec = runToCompletion(ioc, cancelled, [&](auto handler) {
      if (connection->secure) {
        http::async_read(*connection->secure, connection->buffer, parser, std::move(handler));
      } else {
        http::async_read(*connection->plain, connection->buffer, parser, std::move(handler));
      }
    });
    if (ec) {
      connection.reset();
      const std::string what =
          ec == beast::error::timeout
              ? fmt::format("no answer to {} within {}", path, duration(timeout))
              : fmt::format("cannot read the answer to {}: {}{}", path, ec.message(),
                            certificateHint(ec.message()));
      EtcdError error = unavailable(endpoint, what);
      error.outcome_unknown = true;
      return std::unexpected(std::move(error));
    }
    auto& message = parser.get();
    Answer answer{message.result_int(), std::move(message.body())};
    if (!message.keep_alive()) connection.reset();
    return answer;
  }

  // One request on endpoint `index`: on the kept connection if it is still open, else on a new
  // one. A read whose kept connection died under it is sent once more on a new connection.
  std::expected<Answer, EtcdError> attempt(std::size_t index, std::string_view path,
                                           const std::string& body, bool read, bool with_token) {
    const auto deadline = Clock::now() + timeout;
    const bool reuse = connection && connection->endpoint == index && !connection->closedByPeer();
    if (!reuse) {
      if (auto connected = connect(index, deadline); !connected) {
        return std::unexpected(connected.error());
      }
    }
    auto answer = exchange(path, body, with_token, deadline);
    if (!answer && reuse && read) {
      if (auto connected = connect(index, deadline); !connected) {
        return std::unexpected(connected.error());
      }
      answer = exchange(path, body, with_token, deadline);
    }
    return answer;
  }

  EtcdError httpError(const Endpoint& endpoint, std::string_view path, const Answer& answer) {
    EtcdError error;
    error.http_status = answer.status;
    std::string detail;
    if (auto parsed = etcd::parseErrorBody(answer.body)) {
      error.grpc_code = parsed->code;
      error.etcd_message = parsed->message;
      detail = parsed->message;
    } else {
      detail = snippet(answer.body);
    }
    const bool transient = answer.status >= 500 || answer.status == 429;
    error.kind = transient ? EtcdErrorKind::kUnavailable : EtcdErrorKind::kInvalid;
    error.message =
        fmt::format("etcd {} {} {}: {} (HTTP {})", endpoint.url,
                    transient ? "could not serve" : "refused", path, detail, answer.status);
    if (detail.find("user name is empty") != std::string::npos) {
      error.message += " (etcd has authentication enabled: set a user and password)";
    }
    return error;
  }

  // `path` on the endpoints in turn, from the one that answered last (the header's rules).
  std::expected<json::value, EtcdError> send(std::string_view path, const std::string& body,
                                             bool with_token) {
    const bool read = etcdPathIsRead(path);
    const std::size_t n = endpoints.size();
    std::vector<std::string> failures;
    EtcdError last;
    for (std::size_t k = 0; k < n; ++k) {
      if (cancelled) return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, "cancelled"});
      const std::size_t index = (current + k) % n;
      const Endpoint& endpoint = endpoints[index];
      auto answer = attempt(index, path, body, read, with_token);
      if (!answer) {
        if (answer.error().outcome_unknown && !read) return std::unexpected(answer.error());
        last = std::move(answer.error());
        last.outcome_unknown = false;
        failures.push_back(last.message);
        continue;
      }
      if (answer->status == 200) {
        if (k > 0) {  // degraded: an endpoint that answered before could not serve
          std::string skipped;
          for (const auto& failure : failures) skipped += (skipped.empty() ? "" : "; ") + failure;
          spdlog::warn("etcd: {} answered {} after: {}", endpoint.url, path, redact(skipped));
        }
        current = index;
        ErrorCode ec;
        json::value parsed = json::parse(answer->body, ec);
        if (ec) {
          return std::unexpected(
              EtcdError{EtcdErrorKind::kCorrupt,
                        fmt::format("etcd {} answered {} with something that is not JSON ({})",
                                    endpoint.url, path, ec.message())});
        }
        return parsed;
      }
      EtcdError error = httpError(endpoint, path, *answer);
      if (error.kind != EtcdErrorKind::kUnavailable) {
        current = index;  // it answered: the request itself is wrong
        return std::unexpected(std::move(error));
      }
      if (!read && mayHaveApplied(error)) {
        error.outcome_unknown = true;
        return std::unexpected(std::move(error));
      }
      failures.push_back(error.message);
      last = std::move(error);
    }
    if (n > 1) {
      std::string all;
      for (const auto& failure : failures) all += (all.empty() ? "" : "; ") + failure;
      last.message = fmt::format("no etcd endpoint could serve {}: {}", path, all);
    }
    return std::unexpected(std::move(last));
  }

  std::expected<void, EtcdError> authenticate() {
    token.clear();
    const std::string body = json::serialize(etcd::authenticateRequest(user, password));
    auto answer = send(kAuthenticatePath, body, /*with_token=*/false);
    if (answer) {
      auto issued = etcd::parseAuthenticateResponse(*answer);
      if (issued) {
        token = std::move(*issued);
        return {};
      }
      answer = std::unexpected(issued.error());
    }
    EtcdError error = std::move(answer.error());
    error.message = fmt::format("authentication as user '{}' failed: {}", user, error.message);
    return std::unexpected(std::move(error));
  }

  std::expected<json::value, EtcdError> post(std::string_view path, const json::value& body) {
    const std::string text = json::serialize(body);
    const bool authenticated = !user.empty() && path != kAuthenticatePath;
    if (authenticated && token.empty()) {
      if (auto done = authenticate(); !done) return std::unexpected(done.error());
    }
    auto answer = send(path, text, authenticated);
    // 401: the token expired or etcd forgot it (a restart); an old auth revision: etcd's users
    // or roles changed since it was issued. Either way the request was refused: send it again.
    if (!answer && authenticated &&
        (answer.error().http_status == 401 ||
         answer.error().etcd_message.find("revision of auth store is old") != std::string::npos)) {
      spdlog::info("etcd: authenticating again as user '{}' ({})", user,
                   redact(answer.error().etcd_message));
      if (auto done = authenticate(); !done) return std::unexpected(done.error());
      answer = send(path, text, authenticated);
    }
    return answer;
  }
};

std::expected<std::unique_ptr<EtcdClient>, EtcdError> EtcdClient::create(
    const EtcdClientOptions& options) {
  auto state = std::make_unique<State>();
  if (options.endpoints.empty()) return std::unexpected(invalid("no etcd endpoint given"));
  for (const auto& text : options.endpoints) {
    auto endpoint = parseEndpoint(text);
    if (!endpoint) {
      // A URL with user info may hold a password: it is not repeated.
      const std::string shown = text.find('@') == std::string::npos
                                    ? fmt::format("etcd endpoint '{}'", text)
                                    : std::string("an etcd endpoint");
      return std::unexpected(invalid(fmt::format("{}: {}", shown, endpoint.error())));
    }
    state->endpoints.push_back(std::move(*endpoint));
  }
  const bool tls = state->endpoints.front().tls;
  for (const auto& endpoint : state->endpoints) {
    if (endpoint.tls != tls) {
      return std::unexpected(invalid("the etcd endpoints mix http:// and https://"));
    }
  }
  const EtcdTlsOptions& files = options.tls;
  if (!tls && (!files.ca_file.empty() || !files.cert_file.empty() || !files.key_file.empty())) {
    return std::unexpected(
        invalid("TLS files are set but the etcd endpoints are http:// (use https://)"));
  }
  if (files.cert_file.empty() != files.key_file.empty()) {
    return std::unexpected(invalid("a client certificate needs both cert_file and key_file"));
  }
  if (options.user.empty() && !options.password.empty()) {
    return std::unexpected(invalid("an etcd password is set without a user"));
  }
  if (options.timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return std::unexpected(invalid("the etcd timeouts must be positive"));
  }
  if (tls) {
    try {
      ssl::context& context = state->tls.emplace(ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
      ErrorCode ec;
      if (files.ca_file.empty()) {
        context.set_default_verify_paths(ec);
      } else {
        context.load_verify_file(files.ca_file, ec);
      }
      if (ec) {
        return std::unexpected(invalid(
            fmt::format("cannot load the etcd CA file {}: {}",
                        files.ca_file.empty() ? "(the system's)" : files.ca_file, ec.message())));
      }
      if (!files.cert_file.empty()) {
        context.use_certificate_chain_file(files.cert_file, ec);
        if (ec) {
          return std::unexpected(invalid(fmt::format(
              "cannot load the etcd client certificate {}: {}", files.cert_file, ec.message())));
        }
        context.use_private_key_file(files.key_file, ssl::context::pem, ec);
        if (ec || SSL_CTX_check_private_key(context.native_handle()) != 1) {
          return std::unexpected(
              invalid(fmt::format("cannot load the etcd client key {}: {}", files.key_file,
                                  ec ? ec.message() : "it does not match the certificate")));
        }
        state->has_client_certificate = true;
      }
      context.set_verify_mode(ssl::verify_peer);
    } catch (const boost::system::system_error& error) {
      return std::unexpected(invalid(fmt::format("cannot set up TLS: {}", error.what())));
    }
  }
  state->user = options.user;
  state->password = options.password;
  state->timeout = options.timeout;
  state->connect_timeout = options.connect_timeout;
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(state)));
}

EtcdClient::EtcdClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

EtcdClient::~EtcdClient() = default;

std::expected<json::value, EtcdError> EtcdClient::post(std::string_view path,
                                                       const json::value& body) {
  std::expected<json::value, EtcdError> answer;
  try {
    answer = state_->post(path, body);
  } catch (const boost::system::system_error& error) {
    state_->connection.reset();
    answer =
        std::unexpected(EtcdError{EtcdErrorKind::kUnavailable,
                                  fmt::format("etcd request {} failed: {}", path, error.what())});
    answer.error().outcome_unknown = !etcdPathIsRead(path);
  }
  if (!answer) {
    answer.error().message = state_->redact(std::move(answer.error().message));
    answer.error().etcd_message = state_->redact(std::move(answer.error().etcd_message));
  }
  return answer;
}

std::string EtcdClient::endpoints() const {
  std::string out;
  for (const auto& endpoint : state_->endpoints) {
    out += (out.empty() ? "" : ",") + endpoint.url;
  }
  return out;
}

std::size_t EtcdClient::currentEndpoint() const { return state_->current; }

void EtcdClient::cancel() { state_->cancel(); }

// ---- EtcdStream

struct EtcdStream::Impl {
  std::unique_ptr<EtcdClient> client;  // its State: the io_context, endpoints, token, connection
  std::optional<http::response_parser<http::buffer_body>> parser;
  std::array<char, 16 * 1024> chunk{};
  bool reading = false;  // an async_read_some is pending
  bool read_done = false;
  ErrorCode read_ec;

  EtcdClient::State& state() { return *client->state_; }

  void close() {
    EtcdClient::State& s = state();
    // A read left pending (read() returned kQuiet) refers to the connection's buffer and the
    // parser: it is aborted and run to its end before they go. Once cancelled the io_context
    // never runs again, and its handlers are destroyed with it, never called.
    if (reading && s.connection && !s.cancelled) {
      ErrorCode ignored;
      s.connection->lowest().socket().close(ignored);
      s.ioc.restart();
      s.ioc.run();
    }
    s.connection.reset();
    parser.reset();
    reading = false;
    read_done = false;
  }

  template <class Operation>
  ErrorCode onStream(Operation&& operation) {
    EtcdClient::State& s = state();
    return runToCompletion(s.ioc, s.cancelled, [&](auto handler) {
      if (s.connection->secure) {
        operation(*s.connection->secure, std::move(handler));
      } else {
        operation(*s.connection->plain, std::move(handler));
      }
    });
  }

  std::expected<void, EtcdError> openOn(
      std::size_t index, std::string_view path, const std::string& body,
      std::span<const std::pair<std::string, std::string>> headers) {
    EtcdClient::State& s = state();
    const Endpoint& endpoint = s.endpoints[index];
    const auto deadline = Clock::now() + s.timeout;
    if (auto connected = s.connect(index, deadline); !connected) {
      return std::unexpected(connected.error());
    }
    http::request<http::string_body> request{http::verb::post, path, 11};
    request.set(http::field::host, endpoint.host_header);
    request.set(http::field::user_agent, "transit-hubd/" TRANSIT_HUB_VERSION);
    request.set(http::field::content_type, "application/json");
    if (!s.token.empty()) request.set(http::field::authorization, s.token);
    for (const auto& [name, value] : headers) request.set(name, value);
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    s.connection->lowest().expires_at(deadline);
    ErrorCode ec = onStream([&](auto& stream, auto handler) {
      http::async_write(stream, request, std::move(handler));
    });
    if (ec) {
      s.connection.reset();
      return std::unexpected(unavailable(
          endpoint, fmt::format("cannot send {}: {}", path,
                                ec == beast::error::timeout ? "timed out" : ec.message())));
    }
    parser.emplace();
    parser->body_limit(boost::none);
    ec = onStream([&](auto& stream, auto handler) {
      http::async_read_header(stream, s.connection->buffer, *parser, std::move(handler));
    });
    if (ec) {
      close();
      return std::unexpected(unavailable(
          endpoint, fmt::format("no answer to {}: {}", path,
                                ec == beast::error::timeout ? "timed out" : ec.message())));
    }
    const unsigned status = parser->get().result_int();
    if (status != 200) {
      close();
      if (status == 401) s.token.clear();  // authenticate again on the next open()
      EtcdError error{status >= 500 ? EtcdErrorKind::kUnavailable : EtcdErrorKind::kInvalid,
                      fmt::format("etcd {} refused {} (HTTP {})", endpoint.url, path, status)};
      error.http_status = status;
      return std::unexpected(std::move(error));
    }
    s.connection->lowest().expires_never();
    s.current = index;
    return {};
  }

  std::expected<void, EtcdError> open(
      std::string_view path, const std::string& body,
      std::span<const std::pair<std::string, std::string>> headers) {
    EtcdClient::State& s = state();
    close();
    if (!s.user.empty() && s.token.empty()) {
      if (auto done = s.authenticate(); !done) return std::unexpected(done.error());
    }
    const std::size_t n = s.endpoints.size();
    std::string failures;
    EtcdError last;
    for (std::size_t k = 0; k < n; ++k) {
      if (s.cancelled) return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, "cancelled"});
      const std::size_t index = (s.current + k) % n;
      auto opened = openOn(index, path, body, headers);
      if (opened) return {};
      last = std::move(opened.error());
      failures += (failures.empty() ? "" : "; ") + last.message;
      if (last.kind != EtcdErrorKind::kUnavailable) break;
    }
    if (n > 1) last.message = fmt::format("no etcd endpoint opened {}: {}", path, failures);
    return std::unexpected(std::move(last));
  }

  std::expected<EtcdStream::Read, EtcdError> read(std::string& out,
                                                  std::chrono::milliseconds wait) {
    EtcdClient::State& s = state();
    if (s.cancelled) return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, "cancelled"});
    if (!parser || !s.connection) {
      return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, "no stream is open"});
    }
    const std::string url = s.endpoints[s.connection->endpoint].url;
    if (parser->is_done()) return EtcdStream::Read::kEnded;
    if (!reading) {
      parser->get().body().data = chunk.data();
      parser->get().body().size = chunk.size();
      reading = true;
      read_done = false;
      auto done = [this](ErrorCode ec, std::size_t) {
        read_done = true;
        read_ec = ec;
      };
      if (s.connection->secure) {
        http::async_read_some(*s.connection->secure, s.connection->buffer, *parser, done);
      } else {
        http::async_read_some(*s.connection->plain, s.connection->buffer, *parser, done);
      }
    }
    s.ioc.restart();
    s.ioc.run_for(wait);
    if (s.cancelled) return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, "cancelled"});
    if (!read_done) return EtcdStream::Read::kQuiet;
    reading = false;
    const std::size_t got = chunk.size() - parser->get().body().size;
    out.append(chunk.data(), got);
    ErrorCode ec = read_ec;
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      close();
      return EtcdStream::Read::kEnded;
    }
    if (ec) {
      close();
      return std::unexpected(
          EtcdError{EtcdErrorKind::kUnavailable,
                    fmt::format("etcd {}: the stream broke: {}", url, ec.message())});
    }
    return EtcdStream::Read::kData;
  }
};

std::expected<std::unique_ptr<EtcdStream>, EtcdError> EtcdStream::create(
    const EtcdClientOptions& options) {
  auto client = EtcdClient::create(options);
  if (!client) return std::unexpected(client.error());
  auto impl = std::make_unique<Impl>();
  impl->client = std::move(*client);
  return std::unique_ptr<EtcdStream>(new EtcdStream(std::move(impl)));
}

EtcdStream::EtcdStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdStream::~EtcdStream() { impl_->close(); }

std::expected<void, EtcdError> EtcdStream::open(
    std::string_view path, const boost::json::value& body,
    std::span<const std::pair<std::string, std::string>> headers) {
  try {
    auto opened = impl_->open(path, json::serialize(body), headers);
    if (!opened) opened.error().message = impl_->state().redact(opened.error().message);
    return opened;
  } catch (const boost::system::system_error& error) {
    impl_->close();
    return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable,
                                     fmt::format("etcd {} failed: {}", path, error.what())});
  }
}

std::expected<EtcdStream::Read, EtcdError> EtcdStream::read(std::string& out,
                                                            std::chrono::milliseconds wait) {
  try {
    return impl_->read(out, wait);
  } catch (const boost::system::system_error& error) {
    impl_->close();
    return std::unexpected(EtcdError{EtcdErrorKind::kUnavailable,
                                     fmt::format("etcd stream failed: {}", error.what())});
  }
}

void EtcdStream::close() { impl_->close(); }

std::string EtcdStream::endpoint() const {
  const EtcdClient::State& s = *impl_->client->state_;
  return s.endpoints[s.connection ? s.connection->endpoint : s.current].url;
}

void EtcdStream::cancel() { impl_->state().cancel(); }

}  // namespace transit::hub
