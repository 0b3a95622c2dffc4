#include "hub/daemon/watchdog.hpp"

#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <cstdint>

namespace transit::hub {

Watchdog::Watchdog(boost::asio::io_context& io) : timer_(io) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    period_ = std::chrono::microseconds(usec);
    spdlog::info("systemd watchdog: pinging every {} ms (period {} ms)", usec / 2000, usec / 1000);
    sd_notify(0, "WATCHDOG=1");
    arm();
  }
}

void Watchdog::arm() {
  timer_.expires_after(period_ / 2);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // stopped
    sd_notify(0, "WATCHDOG=1");
    arm();
  });
}

void Watchdog::stop() { timer_.cancel(); }

}  // namespace transit::hub
