#include "hub/daemon/shutdown.hpp"

#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <functional>
#include <thread>
#include <vector>

namespace transit::hub {

namespace asio = boost::asio;

void serveUntilSignal(asio::io_context& io, http::Server& server, unsigned threads,
                      std::chrono::seconds grace_period) {
  // SIGINT/SIGTERM: stop accepting, close connections, let requests in flight finish, then stop
  // the threads (at the latest after grace_period).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer grace(io);
  std::chrono::steady_clock::time_point grace_deadline;
  std::function<void()> wait_for_connections = [&] {
    grace.expires_after(std::chrono::milliseconds(50));
    grace.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      if (server.liveConnections() == 0 || std::chrono::steady_clock::now() >= grace_deadline) {
        io.stop();
        return;
      }
      wait_for_connections();
    });
  };
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received, shutting down", signal);
    sd_notify(0, "STOPPING=1");
    server.stop();
    grace_deadline = std::chrono::steady_clock::now() + grace_period;
    wait_for_connections();
  });
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) {
    pool.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : pool) {
    t.join();
  }
}

}  // namespace transit::hub
