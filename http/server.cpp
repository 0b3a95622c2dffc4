#include "http/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <sstream>

#include "http/codec/responses.hpp"

namespace transit::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// The idle and header timeouts are the server's Limits.
constexpr auto kReadTimeout = 30s;  // for the whole body, from the end of the header on
constexpr auto kWriteTimeout = 30s;
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kLingerTimeout = 2s;  // to drain a refused request's body
constexpr std::size_t kLingerBytes = 64 * 1024 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
// The connection's read buffer holds what the parser has not consumed: a header, one chunk's
// size line, the trailer. Its cap bounds those (Beast's limits count header and body bytes,
// not chunk lines or trailers), and so a connection's memory.
constexpr std::size_t kMaxBufferBytes = 64 * 1024;
// Chunk extensions carry nothing this API reads: a request's total is capped.
constexpr std::size_t kMaxChunkExtensionBytes = 1024;
constexpr unsigned kHttp11 = 11;  // the version to answer a request whose header is unreadable
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// The TLS 1.2 suites the API accepts (TLS 1.3's are all AEAD and forward-secret).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Sent on every answer over TLS: browsers (the dashboard's) use HTTPS only, for two years.
constexpr std::string_view kHsts = "max-age=63072000";

// After an accept fails for want of descriptors or memory, the next try waits this long (at
// once it would spin: the pending connection stays in the backlog and fails again).
constexpr auto kAcceptBackoff = 100ms;

bool isHead(bhttp::verb method) { return method == bhttp::verb::head; }

// `head`: the answer to a HEAD request: the GET's status and headers (its Content-Length too),
// no body.
bhttp::response<bhttp::string_body> toBeast(Response&& r, unsigned version, bool keep_alive,
                                            bool head) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(r.status), version};
  out.set(bhttp::field::server, "transit-hubd");
  if (!r.content_type.empty()) {
    out.set(bhttp::field::content_type, r.content_type);
  }
  for (auto& [name, value] : r.headers) {
    out.insert(name, value);
  }
  out.keep_alive(keep_alive);
  if (head) {
    out.content_length(r.body.size());
  } else {
    out.body() = std::move(r.body);
    out.prepare_payload();
  }
  return out;
}

std::string methodLabel(bhttp::verb method) {
  return method == bhttp::verb::unknown ? "unknown" : std::string(bhttp::to_string(method));
}

// An accept error that will repeat at once if retried at once.
bool isResourceShortage(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

Request headOf(const bhttp::request_header<>& in) {
  Request r;
  r.method = in.method();
  r.target = std::string(in.target());
  r.authorization = std::string(in[bhttp::field::authorization]);
  r.content_type = std::string(in[bhttp::field::content_type]);
  r.if_match = std::string(in[bhttp::field::if_match]);
  r.request_id = std::string(in["X-Request-Id"]);
  return r;
}

class Server::Sessions {
 public:
  bool draining() const { return draining_.load(); }

  void add(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mutex_);
    connections_.remove_if([](const std::weak_ptr<Connection>& c) { return c.expired(); });
    connections_.push_back(connection);
    ++live_;
  }

  // Sessions whose coroutine has not finished (connections open or closing).
  std::size_t live() {
    std::lock_guard lock(mutex_);
    return live_;
  }

  // A session's coroutine has finished.
  void ended() {
    std::vector<std::function<void()>> done;
    {
      std::lock_guard lock(mutex_);
      --live_;
      if (draining_ && live_ == 0) done.swap(waiters_);
    }
    for (auto& callback : done) callback();
  }

  // Sets the draining state; false when it was set already.
  bool startDraining() {
    std::vector<std::function<void()>> done;
    {
      std::lock_guard lock(mutex_);
      if (draining_.exchange(true)) return false;
      if (live_ == 0) done.swap(waiters_);
    }
    for (auto& callback : done) callback();
    return true;
  }

  void whenDrained(std::function<void()> callback) {
    {
      std::lock_guard lock(mutex_);
      if (!draining_ || live_ > 0) {
        waiters_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  std::list<std::shared_ptr<Connection>> connections() {
    std::lock_guard lock(mutex_);
    std::list<std::shared_ptr<Connection>> out;
    for (const auto& weak : connections_) {
      if (auto connection = weak.lock()) out.push_back(std::move(connection));
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::atomic<bool> draining_{false};
  std::size_t live_ = 0;  // sessions whose coroutine has not finished
  std::list<std::weak_ptr<Connection>> connections_;
  std::vector<std::function<void()>> waiters_;
};

namespace {

tcp::socket& lowestSocket(beast::tcp_stream& s) { return s.socket(); }
tcp::socket& lowestSocket(beast::ssl_stream<beast::tcp_stream>& s) {
  return beast::get_lowest_layer(s).socket();
}

// One connection: owns the stream; the coroutine in run() keeps it alive.
template <typename Stream>
class Session final : public Server::Connection,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(Api& api, std::shared_ptr<Server::Sessions> sessions, const Server::Limits& limits,
          bool operational_open, std::string peer, Args&&... args)
      : api_(api),
        sessions_(std::move(sessions)),
        limits_(limits),
        operational_open_(operational_open),
        peer_(std::move(peer)),
        stream_(std::forward<Args>(args)...) {}

  // Runs on the session's strand, between two steps of run(): `busy_` is stable there.
  void drain() override {
    asio::dispatch(executor(), [self = this->shared_from_this()] {
      if (!self->busy_) self->closeSocket();
    });
  }

  void close() override {
    asio::dispatch(executor(), [self = this->shared_from_this()] { self->closeSocket(); });
  }

  auto executor() { return lowestSocket(stream_).get_executor(); }

  asio::awaitable<void> run() {
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
      if (ec) {
        spdlog::debug("TLS handshake failed: {}", ec.message());
        co_return;
      }
    }
    beast::flat_buffer buffer(kMaxBufferBytes);
    // The server's draining state is checked at the top of each exchange: a session that has
    // answered its last request ends instead of waiting for another.
    while (!sessions_->draining()) {
      bool keep_alive = false;
      if (!co_await serveOne(buffer, keep_alive) || !keep_alive) {
        break;
      }
    }
    boost::system::error_code ignored;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
      co_await stream_.async_shutdown(tuple_awaitable);
    }
  }

 private:
  void closeSocket() {
    boost::system::error_code ignored;
    lowestSocket(stream_).shutdown(tcp::socket::shutdown_both, ignored);
    lowestSocket(stream_).close(ignored);
  }

  // Reads one request and writes its response. False when the connection must end. While it
  // waits for a request the session is idle (drain() closes it); once the header is in hand it
  // is busy: it runs the handler and answers, even when the server drains meanwhile.
  // Timeouts: the idle timeout for a request's first byte, then the header timeout for the rest
  // of its header (a client sending a byte a second holds a connection 10 s, not 60), and
  // kReadTimeout for the body. The API decides on the header alone whether the caller may go on; a
  // refused request's body is never read into memory.
  asio::awaitable<bool> serveOne(beast::flat_buffer& buffer, bool& keep_alive) {
    std::size_t chunk_extension_bytes = 0;
    auto on_chunk_header = [&chunk_extension_bytes](std::uint64_t, std::string_view extensions,
                                                    boost::system::error_code& ec) {
      chunk_extension_bytes += extensions.size();
      if (chunk_extension_bytes > kMaxChunkExtensionBytes) {
        ec = bhttp::error::bad_chunk_extension;
      }
    };
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    parser.on_chunk_header(on_chunk_header);

    busy_ = false;
    if (buffer.size() == 0) {
      beast::get_lowest_layer(stream_).expires_after(limits_.idle_timeout);
      auto [ec, n] =
          co_await stream_.async_read_some(buffer.prepare(kMaxHeaderBytes), tuple_awaitable);
      if (ec) co_return false;  // idle timeout, closed, drained: no request was started
      buffer.commit(n);
    }
    beast::get_lowest_layer(stream_).expires_after(limits_.header_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer, parser, tuple_awaitable);
    if (ec) {
      co_return co_await refuse(ec, kHttp11, methodLabel(parser.get().method()));
    }
    if (!lowestSocket(stream_).is_open()) {
      co_return false;  // drained while the header's completion was queued: nothing was run
    }
    busy_ = true;
    auto& header = parser.get();
    const unsigned version = header.version();
    keep_alive = header.keep_alive();
    const bool head = isHead(header.method());

    Request request = headOf(header);
    Api::Exchange exchange = api_.begin(request, operational_open_);
    if (exchange.refused()) {
      // A body the caller may not send is not read: answered with "Connection: close" and a
      // lingering close when one is on its way.
      const bool body_pending = !parser.is_done();
      keep_alive = keep_alive && !body_pending;
      Response response = co_await api_.complete(std::move(exchange), std::move(request));
      if (sessions_->draining()) keep_alive = false;
      if (!co_await write(toBeast(std::move(response), version, keep_alive, head))) {
        co_return false;
      }
      if (body_pending) co_await linger();
      co_return keep_alive;
    }
    if (auto length = parser.content_length(); length && *length > kMaxBodyBytes) {
      co_return co_await refuse(bhttp::error::body_limit, version, methodLabel(header.method()));
    }
    if (beast::iequals(header[bhttp::field::expect], "100-continue") && !parser.is_done()) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, version};
      beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
      auto [wec, wn] = co_await bhttp::async_write(stream_, go_on, tuple_awaitable);
      if (wec) co_return false;
    }
    beast::get_lowest_layer(stream_).expires_after(kReadTimeout);
    std::tie(ec, n) = co_await bhttp::async_read(stream_, buffer, parser, tuple_awaitable);
    if (ec) {
      co_return co_await refuse(ec, version, methodLabel(header.method()));
    }
    request.body = std::move(parser.get().body());
    keep_alive = parser.get().keep_alive();
    // The handler may wait for the store; the connection's timer must not cut it off meanwhile.
    beast::get_lowest_layer(stream_).expires_never();
    Response response = co_await api_.complete(std::move(exchange), std::move(request));
    if (sessions_->draining()) {
      keep_alive = false;  // answered with "Connection: close"; run() ends after the write
    }
    co_return co_await write(toBeast(std::move(response), version, keep_alive, head));
  }

  asio::awaitable<bool> write(bhttp::response<bhttp::string_body> message) {
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      message.set(bhttp::field::strict_transport_security, kHsts);
    }
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, message, tuple_awaitable);
    co_return !ec;
  }

  // Answers a request that cannot be read (too large, malformed) and ends the connection. A
  // timeout or a closed connection gets no answer (Beast has closed the socket).
  asio::awaitable<bool> refuse(boost::system::error_code ec, unsigned version, std::string method) {
    std::optional<Response> answer;
    std::string_view reason;
    if (ec == bhttp::error::body_limit) {
      answer = errorResponse(413, "payload_too_large", "the body is larger than 1 MiB");
      reason = "body over 1 MiB";
    } else if (ec == bhttp::error::header_limit) {
      answer = errorResponse(431, "header_too_large", "the request header is larger than 16 KiB");
      reason = "header over 16 KiB";
    } else if (ec == bhttp::error::buffer_overflow) {
      answer = errorResponse(400, "bad_request",
                             "a chunk size line or the trailer is larger than 64 KiB");
      reason = "chunk line or trailer over 64 KiB";
    } else if (ec == bhttp::error::bad_chunk_extension) {
      answer =
          errorResponse(400, "bad_request", "chunk extensions are limited to 1 KiB per request");
      reason = "chunk extensions";
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      answer = errorResponse(400, "bad_request", "malformed HTTP request: " + ec.message());
      reason = "malformed";
    }
    if (answer) {
      api_.refusedUnread(method, answer->status, reason, peer_);
      if (co_await write(toBeast(std::move(*answer), version, false, false))) {
        co_await linger();
      }
    }
    co_return false;
  }

  // Lingering close: the client may still be sending the body we refused. Closing a socket with
  // unread data makes the kernel answer with a reset, which can destroy our response before the
  // client reads it. So stop sending, then read and discard what still comes, within limits.
  asio::awaitable<void> linger() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      boost::system::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
    std::array<char, 16 * 1024> sink{};
    std::size_t drained = 0;
    while (drained < kLingerBytes) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), tuple_awaitable);
      if (ec) break;
      drained += n;
    }
  }

  Api& api_;
  std::shared_ptr<Server::Sessions> sessions_;
  const Server::Limits limits_;
  bool operational_open_;
  std::string peer_;  // "address:port", for log lines
  Stream stream_;
  bool busy_ = false;  // a request is in hand (on the strand only)
};

}  // namespace

Server::Server(asio::io_context& io, Api& api, Limits limits)
    : io_(io), api_(api), limits_(limits), sessions_(std::make_shared<Sessions>()) {}

Server::~Server() { stop(); }

std::expected<std::unique_ptr<Server>, std::string> Server::create(
    asio::io_context& io, Api& api, const std::vector<Listener>& listeners,
    const std::optional<hub::TlsConfig>& tls, Limits limits) {
  std::unique_ptr<Server> server(new Server(io, api, limits));
  if (tls) {
    server->tls_.emplace(asio::ssl::context::tls_server);
    auto& ctx = *server->tls_;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    // TLS 1.2 and 1.3 only; for 1.2, forward-secret AEAD suites only (Mozilla's "intermediate"
    // profile without DHE): no CBC, no SHA-1 MACs, no RSA key exchange. No renegotiation.
    SSL_CTX* native = ctx.native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
      return std::unexpected(std::string("api.tls: OpenSSL refused the TLS policy"));
    }
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(tls->cert_file.string(), ec);
    if (ec) {
      return std::unexpected("api.tls.cert: " + tls->cert_file.string() + ": " + ec.message());
    }
    ctx.use_private_key_file(tls->key_file.string(), asio::ssl::context::pem, ec);
    if (ec) {
      return std::unexpected("api.tls.key: " + tls->key_file.string() + ": " + ec.message());
    }
  }
  for (const auto& listener : listeners) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(listener.address.host, ec);
    if (ec) {
      return std::unexpected("api.listen " + listener.address.toString() + ": bad address");
    }
    tcp::endpoint endpoint(address, listener.address.port);
    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return std::unexpected("cannot listen on " + listener.address.toString() + ": " +
                             ec.message());
    }
    server->bound_.push_back(Bound{std::move(acceptor), asio::steady_timer(io),
                                   listener.operational_open, listener.address.toString()});
  }
  return server;
}

void Server::start() {
  for (auto& bound : bound_) {
    accept(bound);
  }
}

void Server::accept(Bound& bound) {
  bound.acceptor.async_accept(asio::make_strand(io_), [this, &bound](boost::system::error_code ec,
                                                                     tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !bound.acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: the pending connection stays in the backlog and
      // would fail again at once, so wait before the next try (logged at most a few times
      // a minute; transit_hub_api_connections_refused_total counts every one).
      const bool shortage = isResourceShortage(ec);
      api_.metrics().connectionRefused(shortage ? "resources" : "accept_error");
      if (const auto held_back = accept_log_.admit(std::chrono::steady_clock::now())) {
        spdlog::warn(
            "accept failed on {}: {}{}", bound.name, ec.message(),
            *held_back > 0 ? fmt::format(" ({} more failures not logged)", *held_back) : "");
      }
      if (!shortage) {
        accept(bound);
        return;
      }
      bound.backoff.expires_after(kAcceptBackoff);
      bound.backoff.async_wait([this, &bound](boost::system::error_code timer_ec) {
        if (!timer_ec && bound.acceptor.is_open()) accept(bound);
      });
      return;
    }
    std::string peer = "unknown";
    if (const auto remote = socket.remote_endpoint(ec); !ec) {
      peer = fmt::format("{}:{}", remote.address().to_string(), remote.port());
    }
    if (sessions_->live() >= limits_.max_connections) {
      refuseConnection(std::move(socket), std::move(peer));
      accept(bound);
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (tls_) {
      spawn(std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          api_, sessions_, limits_, bound.operational_open, std::move(peer), std::move(socket),
          *tls_));
    } else {
      spawn(std::make_shared<Session<beast::tcp_stream>>(
          api_, sessions_, limits_, bound.operational_open, std::move(peer), std::move(socket)));
    }
    accept(bound);
  });
}

// Beyond max_connections: a plain-HTTP client reads a 503 that says why (a TLS one cannot, and
// is closed); the socket is closed either way. The write is best effort and never waits: a
// client that does not read it loses nothing it was promised.
void Server::refuseConnection(tcp::socket socket, std::string peer) {
  api_.metrics().connectionRefused("limit");
  api_.refusedUnread("unknown", 503, "connection limit reached", peer);
  boost::system::error_code ec;
  if (!tls_) {
    static const std::string kRefusal = [] {
      Response r = errorResponse(503, "too_many_connections",
                                 "the hub has reached its connection limit; try again later");
      r.headers.emplace_back("Retry-After", "1");
      std::ostringstream wire;
      wire << toBeast(std::move(r), kHttp11, false, false);
      return wire.str();
    }();
    socket.non_blocking(true, ec);
    if (!ec) socket.write_some(asio::buffer(kRefusal), ec);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

template <typename SessionPtr>
void Server::spawn(SessionPtr session) {
  track(session);
  auto executor = session->executor();
  api_.metrics().connectionOpened();
  asio::co_spawn(
      executor,
      [session = std::move(session)]() -> asio::awaitable<void> { co_await session->run(); },
      [sessions = sessions_, &metrics = api_.metrics()](const std::exception_ptr& failure) {
        metrics.connectionClosed();
        sessions->ended();
        if (!failure) return;
        try {
          std::rethrow_exception(failure);
        } catch (const std::exception& e) {
          spdlog::error("HTTP session ended by an exception: {}", e.what());
        }
      });
}

void Server::track(const std::shared_ptr<Connection>& connection) { sessions_->add(connection); }

void Server::stop() {
  if (!sessions_->startDraining()) return;
  for (auto& bound : bound_) {
    boost::system::error_code ignored;
    bound.acceptor.close(ignored);
    bound.backoff.cancel();
  }
  for (const auto& connection : sessions_->connections()) connection->drain();
}

void Server::whenDrained(std::function<void()> done) { sessions_->whenDrained(std::move(done)); }

void Server::closeAll() {
  for (const auto& connection : sessions_->connections()) connection->close();
}

std::vector<tcp::endpoint> Server::endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& bound : bound_) {
    boost::system::error_code ec;
    out.push_back(bound.acceptor.local_endpoint(ec));
  }
  return out;
}

}  // namespace transit::http
