// The systemd watchdog. When the unit sets WatchdogSec=, systemd gives the hub WATCHDOG_USEC
// (and WATCHDOG_PID) and restarts it when no "WATCHDOG=1" arrives within that time. The pings
// come from a timer on the hub's io_context, every half period: a hub whose event loop is
// wedged (every API thread stuck) stops pinging, and systemd restarts it.
//
// Owns its timer. Made by serveUntilSignal (shutdown.hpp) on the main thread before the
// io_context runs; the timer's handler runs on whichever API thread is free.
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace transit::hub {

class Watchdog {
 public:
  // Starts pinging when systemd asked for it (sd_watchdog_enabled); otherwise does nothing.
  explicit Watchdog(boost::asio::io_context& io);
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // The watchdog period systemd asked for; zero when it asked for none.
  std::chrono::microseconds period() const { return period_; }
  // No more pings (at shutdown, so the timer does not keep the io_context busy).
  void stop();

 private:
  void arm();

  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_{0};
};

}  // namespace transit::hub
