#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

#include "http/codec/responses.hpp"

namespace transit::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kReadTimeout = 30s;  // to receive a whole request, once it has started
constexpr auto kIdleTimeout = 60s;  // between requests on a kept-alive connection
constexpr auto kWriteTimeout = 30s;
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kLingerTimeout = 2s;  // to drain a refused request's body
constexpr std::size_t kLingerBytes = 64 * 1024 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr unsigned kHttp11 = 11;  // the version to answer a request whose header is unreadable
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

bhttp::response<bhttp::string_body> toBeast(Response&& r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(r.status), version};
  out.set(bhttp::field::server, "transit-hubd");
  if (!r.content_type.empty()) {
    out.set(bhttp::field::content_type, r.content_type);
  }
  for (auto& [name, value] : r.headers) {
    out.insert(name, value);
  }
  out.body() = std::move(r.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

Request fromBeast(bhttp::request<bhttp::string_body>&& in) {
  Request r;
  r.method = in.method();
  r.target = std::string(in.target());
  r.authorization = std::string(in[bhttp::field::authorization]);
  r.content_type = std::string(in[bhttp::field::content_type]);
  r.if_match = std::string(in[bhttp::field::if_match]);
  r.body = std::move(in.body());
  return r;
}

}  // namespace

class Server::Sessions {
 public:
  bool draining() const { return draining_.load(); }

  void add(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mutex_);
    connections_.remove_if([](const std::weak_ptr<Connection>& c) { return c.expired(); });
    connections_.push_back(connection);
    ++live_;
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
  Session(Api& api, std::shared_ptr<Server::Sessions> sessions, bool operational_open,
          Args&&... args)
      : api_(api),
        sessions_(std::move(sessions)),
        operational_open_(operational_open),
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
    beast::flat_buffer buffer;
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
  // waits for a request header the session is idle (drain() closes it); from the header on it is
  // busy: it runs the handler and answers, even when the server drains meanwhile.
  asio::awaitable<bool> serveOne(beast::flat_buffer& buffer, bool& keep_alive) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);

    beast::get_lowest_layer(stream_).expires_after(buffer.size() > 0 ? kReadTimeout : kIdleTimeout);
    busy_ = false;
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer, parser, tuple_awaitable);
    if (ec) {
      co_return co_await refuse(ec, kHttp11);
    }
    if (!lowestSocket(stream_).is_open()) {
      co_return false;  // drained while the header's completion was queued: nothing was run
    }
    busy_ = true;
    auto& header = parser.get();
    if (auto length = parser.content_length(); length && *length > kMaxBodyBytes) {
      co_return co_await refuse(bhttp::error::body_limit, header.version());
    }
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, header.version()};
      auto [wec, wn] = co_await bhttp::async_write(stream_, go_on, tuple_awaitable);
      if (wec) co_return false;
    }
    beast::get_lowest_layer(stream_).expires_after(kReadTimeout);
    std::tie(ec, n) = co_await bhttp::async_read(stream_, buffer, parser, tuple_awaitable);
    if (ec) {
      co_return co_await refuse(ec, header.version());
    }
    auto request = parser.release();
    const unsigned version = request.version();
    keep_alive = request.keep_alive();
    // The handler may wait for the store; the connection's timer must not cut it off meanwhile.
    beast::get_lowest_layer(stream_).expires_never();
    Response response = co_await api_.handle(fromBeast(std::move(request)), operational_open_);
    if (sessions_->draining()) {
      keep_alive = false;  // answered with "Connection: close"; run() ends after the write
    }
    auto message = toBeast(std::move(response), version, keep_alive);
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    auto [wec, wn] = co_await bhttp::async_write(stream_, message, tuple_awaitable);
    co_return !wec;
  }

  // Answers a request that cannot be read (too large, malformed) and ends the connection.
  asio::awaitable<bool> refuse(boost::system::error_code ec, unsigned version) {
    std::optional<Response> answer;
    if (ec == bhttp::error::body_limit) {
      answer = errorResponse(413, "payload_too_large", "the body is larger than 1 MiB");
    } else if (ec == bhttp::error::header_limit) {
      answer = errorResponse(431, "header_too_large", "the request header is larger than 16 KiB");
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      answer = errorResponse(400, "bad_request", "malformed HTTP request: " + ec.message());
    }
    if (answer) {
      auto message = toBeast(std::move(*answer), version, false);
      beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
      auto [wec, wn] = co_await bhttp::async_write(stream_, message, tuple_awaitable);
      if (!wec) {
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
  bool operational_open_;
  Stream stream_;
  bool busy_ = false;  // a request is in hand (on the strand only)
};

}  // namespace

Server::Server(asio::io_context& io, Api& api)
    : io_(io), api_(api), sessions_(std::make_shared<Sessions>()) {}

Server::~Server() { stop(); }

std::expected<std::unique_ptr<Server>, std::string> Server::create(
    asio::io_context& io, Api& api, const std::vector<Listener>& listeners,
    const std::optional<hub::TlsConfig>& tls) {
  std::unique_ptr<Server> server(new Server(io, api));
  if (tls) {
    server->tls_.emplace(asio::ssl::context::tls_server);
    auto& ctx = *server->tls_;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
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
    server->bound_.push_back(Bound{std::move(acceptor), listener.operational_open});
  }
  return server;
}

void Server::start() {
  for (auto& bound : bound_) {
    accept(bound);
  }
}

void Server::accept(Bound& bound) {
  bound.acceptor.async_accept(
      asio::make_strand(io_), [this, &bound](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
          if (ec != asio::error::operation_aborted) {
            spdlog::warn("accept failed: {}", ec.message());
            if (bound.acceptor.is_open()) accept(bound);
          }
          return;
        }
        socket.set_option(tcp::no_delay(true), ec);
        if (tls_) {
          spawn(std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              api_, sessions_, bound.operational_open, std::move(socket), *tls_));
        } else {
          spawn(std::make_shared<Session<beast::tcp_stream>>(
              api_, sessions_, bound.operational_open, std::move(socket)));
        }
        accept(bound);
      });
}

template <typename SessionPtr>
void Server::spawn(SessionPtr session) {
  track(session);
  auto executor = session->executor();
  asio::co_spawn(
      executor,
      [session = std::move(session)]() -> asio::awaitable<void> { co_await session->run(); },
      [sessions = sessions_](const std::exception_ptr& failure) {
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
