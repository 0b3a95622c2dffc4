#include "hub/daemon/shutdown.hpp"

#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <thread>
#include <vector>

#include "hub/daemon/watchdog.hpp"

namespace transit::hub {

namespace asio = boost::asio;

void serveUntilSignal(asio::io_context& io, http::Server& server, unsigned threads,
                      std::chrono::seconds grace_period) {
  // SIGINT/SIGTERM: stop accepting, close idle connections, let requests in flight write their
  // answers (with Connection: close), then stop the threads once every session has ended (at
  // the latest after grace_period, when whatever is left is closed).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer grace(io);
  Watchdog watchdog(io);  // pings systemd from this io_context while it serves
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received, shutting down", signal);
    sd_notify(0, "STOPPING=1");
    watchdog.stop();
    server.stop();
    grace.expires_after(grace_period);
    grace.async_wait([&](boost::system::error_code timer_ec) {
      if (timer_ec) return;  // cancelled: every session ended in time
      spdlog::warn("requests still running after {} s; closing their connections",
                   grace_period.count());
      server.closeAll();
      io.stop();
    });
    server.whenDrained([&] {
      asio::post(io, [&] {
        grace.cancel();
        io.stop();
      });
    });
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
