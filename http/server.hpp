// Server: the Beast HTTP/1.1 server in front of Api. Only I/O lives here.
//
// Owns: the acceptors and the live connections. Runs on the io_context it is given (the daemon
// runs that on api.threads threads); each connection is one coroutine on its own strand. A
// session reads one request at a time (pipelined requests wait their turn), caps the body at
// 1 MiB (413), answers "Expect: 100-continue", and times out idle or slow peers.
//
// stop() closes the acceptors and every connection; requests being handled finish first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <expected>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/api.hpp"
#include "hub/config/config.hpp"

namespace transit::http {

inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

class Server {
 public:
  struct Listener {
    hub::ListenAddress address;
    bool operational_open = true;  // /healthz, /readyz, /metrics without a token
  };

  // Binds every listener (port 0 picks a free port). Fails with a message naming the address.
  static std::expected<std::unique_ptr<Server>, std::string> create(
      boost::asio::io_context& io, Api& api, const std::vector<Listener>& listeners,
      const std::optional<hub::TlsConfig>& tls);
  ~Server();

  void start();
  void stop();
  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;
  // Connections still open (after stop(): those finishing a request).
  std::size_t liveConnections();

  // A live connection, as the server tracks it for stop().
  class Connection {
   public:
    virtual ~Connection() = default;
    virtual void close() = 0;
  };

 private:
  struct Bound {
    boost::asio::ip::tcp::acceptor acceptor;
    bool operational_open;
  };
  Server(boost::asio::io_context& io, Api& api);

  void accept(Bound& bound);
  template <typename SessionPtr>
  void spawn(SessionPtr session);
  void track(const std::shared_ptr<Connection>& connection);

  boost::asio::io_context& io_;
  Api& api_;
  std::optional<boost::asio::ssl::context> tls_;
  std::list<Bound> bound_;
  std::mutex connections_mutex_;
  std::list<std::weak_ptr<Connection>> connections_;
  bool stopped_ = false;
};

}  // namespace transit::http
