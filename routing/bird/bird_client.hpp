// BirdClient: a synchronous client for BIRD's control socket (one command at a time); the live
// BirdChannel.
//
// Owns: one unix stream connection to BIRD and its framing state. Called only from the
// reconciler's thread (through BirdDriver); every call blocks for at most its timeout. Async
// Boost.Asio operations on a private io_context run with run_for() so timeouts are enforced.
// A dropped or timed-out connection is closed; the next command reconnects.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "routing/base/driver_error.hpp"
#include "routing/bird/bird_channel.hpp"
#include "routing/bird/bird_reply.hpp"

namespace transit::routing {

struct BirdClientOptions {
  std::string socket_path = "/run/bird/bird.ctl";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{10000};
};

class BirdClient final : public BirdChannel {
 public:
  // BIRD drops the connection on 1 KiB of unread input; we refuse long commands earlier.
  static constexpr std::size_t kMaxCommand = 1000;

  explicit BirdClient(BirdClientOptions options);
  ~BirdClient() override;
  BirdClient(const BirdClient&) = delete;
  BirdClient& operator=(const BirdClient&) = delete;

  // Sends one command line and returns BIRD's complete reply, whatever its final code (the
  // caller decides what a code means). Errors: kInvalid for a command we refuse to send,
  // kNeedsDependency when the socket is missing or refuses connections, kTransient for
  // timeouts, dropped connections and protocol errors.
  std::expected<BirdReply, DriverError> command(std::string_view line) override;

  bool connected() const { return socket_.has_value(); }

 private:
  using Clock = std::chrono::steady_clock;

  std::expected<void, DriverError> connect();
  std::expected<BirdReply, DriverError> readReply(Clock::time_point deadline);
  void disconnect();

  BirdClientOptions options_;
  boost::asio::io_context io_;
  std::optional<boost::asio::local::stream_protocol::socket> socket_;
  BirdReplyReader reader_;
};

}  // namespace transit::routing
