// The systemd watchdog (hub/daemon/watchdog.hpp) against libsystemd's real sd_notify: the test
// plays systemd's part with a datagram socket at NOTIFY_SOCKET and the WATCHDOG_USEC/WATCHDOG_PID
// variables systemd sets for a unit with WatchdogSec=.
#include "hub/daemon/watchdog.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/fakes/temp_dir.hpp"

namespace transit::hub {
namespace {

// A notify socket bound in a temporary directory; the environment points sd_notify at it while
// the object lives.
class NotifySocket {
 public:
  NotifySocket() {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    EXPECT_GE(fd_, 0);
    path_ = (dir_.path() / "notify").string();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
  }
  // How many datagrams saying exactly "WATCHDOG=1" arrived (and drains the socket).
  int watchdogPings() {
    int pings = 0;
    char buffer[256];
    for (;;) {
      const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n < 0) break;
      if (std::string(buffer, static_cast<std::size_t>(n)) == "WATCHDOG=1") ++pings;
    }
    return pings;
  }

 private:
  fakes::TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

TEST(Watchdog, PingsEveryHalfPeriodWhileTheEventLoopRuns) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);  // WatchdogSec=100ms
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  boost::asio::io_context io;
  Watchdog watchdog(io);
  EXPECT_EQ(watchdog.period(), std::chrono::milliseconds(100));
  io.run_for(std::chrono::milliseconds(520));
  // One ping at start, then one every 50 ms: about 11 in 520 ms; at least 8 even on a busy machine.
  EXPECT_GE(systemd.watchdogPings(), 8);
}

TEST(Watchdog, AWedgedEventLoopStopsPinging) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  boost::asio::io_context io;
  Watchdog watchdog(io);
  io.run_for(std::chrono::milliseconds(120));
  EXPECT_GE(systemd.watchdogPings(), 2);
  // Nothing runs the io_context now (a wedged hub): no ping arrives, so systemd would restart it.
  ::usleep(300'000);
  EXPECT_EQ(systemd.watchdogPings(), 0);
}

TEST(Watchdog, StopEndsThePingsAndFreesTheEventLoop) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  boost::asio::io_context io;
  Watchdog watchdog(io);
  (void)systemd.watchdogPings();  // the ping at start
  watchdog.stop();
  io.run();  // returns: no timer is left
  EXPECT_EQ(systemd.watchdogPings(), 0);
}

TEST(Watchdog, DoesNothingWhenSystemdAskedForNone) {
  NotifySocket systemd;  // NOTIFY_SOCKET set, WATCHDOG_USEC not
  boost::asio::io_context io;
  Watchdog watchdog(io);
  EXPECT_EQ(watchdog.period(), std::chrono::microseconds(0));
  io.run();  // returns at once: nothing armed
  EXPECT_EQ(systemd.watchdogPings(), 0);
}

TEST(Watchdog, IgnoresAWatchdogMeantForAnotherProcess) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  boost::asio::io_context io;
  Watchdog watchdog(io);
  EXPECT_EQ(watchdog.period(), std::chrono::microseconds(0));
  EXPECT_EQ(systemd.watchdogPings(), 0);
}

}  // namespace
}  // namespace transit::hub
