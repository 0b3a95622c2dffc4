// Server: the Beast HTTP/1.1 server in front of Api. Only I/O lives here.
//
// Owns: the acceptors and the live connections. Runs on the io_context it is given (the daemon
// runs that on api.threads threads); each connection is one coroutine on its own strand. A
// session reads one request at a time (pipelined requests wait their turn), caps the header at
// 16 KiB (431), the body at 1 MiB (413), chunk lines and trailers at 64 KiB, answers "Expect:
// 100-continue", lets the API refuse a request on its header before reading its body, answers
// HEAD without a body, and times out idle or slow peers (60 s idle, 10 s for a header, 30 s for
// a body). Connections beyond Limits::max_connections get a 503 and are closed; an accept that
// fails for want of descriptors is retried after 100 ms, not at once.
//
// Shutdown (stop()): the acceptors close and the server drains. A session waiting for a request
// (or in its TLS handshake) is closed at once; a session with a request in hand reads it, runs
// its handler to the end, writes the response with "Connection: close", then ends. So a write
// the store committed is always answered. whenDrained() tells when the last session has ended;
// closeAll() ends whatever is left (the daemon calls it at its shutdown deadline).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <chrono>
#include <expected>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/api.hpp"
#include "hub/config/config.hpp"
#include "routing/base/log_limiter.hpp"

namespace transit::http {

// The request as the API sees it, without its body (read later, if the API admits it).
Request headOf(const boost::beast::http::request_header<>& header);

inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

struct ServerLimits {
  // Open connections, all listeners together; one more is answered 503 and closed.
  std::size_t max_connections = 4096;
  // For a request's first byte (a new connection's, or the next on a kept-alive one).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // For the rest of a request's header, from its first byte on.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
};

class Server {
 public:
  struct Listener {
    hub::ListenAddress address;
    bool operational_open = true;  // /healthz, /readyz, /metrics without a token
  };
  using Limits = ServerLimits;

  // Binds every listener (port 0 picks a free port). Fails with a message naming the address.
  static std::expected<std::unique_ptr<Server>, std::string> create(
      boost::asio::io_context& io, Api& api, const std::vector<Listener>& listeners,
      const std::optional<hub::TlsConfig>& tls, Limits limits = {});
  ~Server();

  void start();
  // Stops accepting and starts draining (see above). Idempotent; any thread.
  void stop();
  // Calls `done` once, on an HTTP thread or this one, when stop() has been called and every
  // session has ended; at once when that is already so.
  void whenDrained(std::function<void()> done);
  // Closes every connection still open, busy or not (after the shutdown deadline).
  void closeAll();
  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;

  // A live connection, as the server tracks it for stop().
  class Connection {
   public:
    virtual ~Connection() = default;
    // Closes the connection if it waits for a request; a busy one ends after its response.
    virtual void drain() = 0;
    virtual void close() = 0;
  };

  // The sessions' shared view of the server's lifetime: whether it drains, how many sessions
  // live, who waits for none. Shared with the sessions so it outlives the Server if need be.
  class Sessions;

 private:
  struct Bound {
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer backoff;  // the wait after an accept failed for want of resources
    bool operational_open;
    std::string name;  // "address:port", for log lines
  };
  Server(boost::asio::io_context& io, Api& api, Limits limits);

  void accept(Bound& bound);
  void refuseConnection(boost::asio::ip::tcp::socket socket, std::string peer);
  template <typename SessionPtr>
  void spawn(SessionPtr session);
  void track(const std::shared_ptr<Connection>& connection);

  boost::asio::io_context& io_;
  Api& api_;
  Limits limits_;
  routing::LogLimiter accept_log_{5, std::chrono::seconds(60)};
  std::optional<boost::asio::ssl::context> tls_;
  std::list<Bound> bound_;
  std::shared_ptr<Sessions> sessions_;
};

}  // namespace transit::http
