#include "routing/bird/bird_client.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

namespace transit::routing {
namespace {

using boost::system::error_code;
namespace asio = boost::asio;

DriverError transient(std::string message) {
  return DriverError{DriverError::Kind::kTransient, std::move(message)};
}

}  // namespace

BirdClient::BirdClient(BirdClientOptions options) : options_(std::move(options)) {}

BirdClient::~BirdClient() { disconnect(); }

void BirdClient::disconnect() {
  if (socket_) {
    error_code ignored;
    socket_->close(ignored);
    socket_.reset();
  }
  reader_.reset();
}

// Runs the io_context until `done` or the deadline. On timeout the socket is cancelled and the
// cancelled handlers are drained so no handler outlives this call. Returns false on timeout.
template <typename Done>
static bool runUntil(asio::io_context& io, asio::local::stream_protocol::socket& socket,
                     std::chrono::steady_clock::time_point deadline, Done done) {
  io.restart();
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || io.stopped()) break;
    io.run_one_for(deadline - now);
  }
  if (done()) return true;
  error_code ignored;
  socket.cancel(ignored);
  io.restart();
  io.run();
  return false;
}

std::expected<void, DriverError> BirdClient::connect() {
  reader_.reset();
  socket_.emplace(io_);
  const auto deadline = Clock::now() + options_.connect_timeout;
  bool done = false;
  error_code result;
  socket_->async_connect(asio::local::stream_protocol::endpoint(options_.socket_path),
                         [&](const error_code& ec) {
                           done = true;
                           result = ec;
                         });
  if (!runUntil(io_, *socket_, deadline, [&] { return done; })) {
    disconnect();
    return std::unexpected(
        transient(fmt::format("connecting to BIRD at {} timed out", options_.socket_path)));
  }
  if (result) {
    disconnect();
    const bool absent = result == asio::error::not_found ||
                        result == boost::system::errc::no_such_file_or_directory ||
                        result == asio::error::connection_refused ||
                        result == asio::error::access_denied;
    return std::unexpected(DriverError{
        absent ? DriverError::Kind::kNeedsDependency : DriverError::Kind::kTransient,
        fmt::format("cannot connect to BIRD at {}: {}", options_.socket_path, result.message())});
  }
  auto greeting = readReply(Clock::now() + options_.connect_timeout);
  if (!greeting) return std::unexpected(greeting.error());
  if (greeting->code != 1) {
    disconnect();
    return std::unexpected(
        transient(fmt::format("unexpected BIRD greeting (code {})", greeting->code)));
  }
  return {};
}

std::expected<BirdReply, DriverError> BirdClient::readReply(Clock::time_point deadline) {
  std::array<char, 4096> chunk{};
  for (;;) {
    BirdReply reply;
    switch (reader_.next(reply)) {
      case BirdReplyReader::Status::kReply:
        return reply;
      case BirdReplyReader::Status::kError: {
        auto message = fmt::format("BIRD protocol error: {}", reader_.error());
        disconnect();
        return std::unexpected(transient(std::move(message)));
      }
      case BirdReplyReader::Status::kNeedMore:
        break;
    }
    bool done = false;
    error_code result;
    std::size_t got = 0;
    socket_->async_read_some(asio::buffer(chunk), [&](const error_code& ec, std::size_t n) {
      done = true;
      result = ec;
      got = n;
    });
    if (!runUntil(io_, *socket_, deadline, [&] { return done; })) {
      disconnect();
      return std::unexpected(transient("BIRD did not answer in time"));
    }
    if (got > 0) reader_.feed(std::string_view(chunk.data(), got));
    if (result) {
      auto message = result == asio::error::eof
                         ? std::string("BIRD closed the control connection")
                         : fmt::format("reading from BIRD failed: {}", result.message());
      disconnect();
      return std::unexpected(transient(std::move(message)));
    }
  }
}

std::expected<BirdReply, DriverError> BirdClient::command(std::string_view line) {
  if (line.empty() || line.size() >= kMaxCommand ||
      line.find_first_of("\r\n") != std::string_view::npos) {
    return std::unexpected(DriverError{DriverError::Kind::kInvalid,
                                       "refused BIRD command: empty, multi-line or too long"});
  }
  if (!socket_) {
    if (auto connected_now = connect(); !connected_now) {
      return std::unexpected(connected_now.error());
    }
  }
  const auto deadline = Clock::now() + options_.command_timeout;
  std::string request(line);
  request += '\n';
  bool done = false;
  error_code result;
  asio::async_write(*socket_, asio::buffer(request), [&](const error_code& ec, std::size_t) {
    done = true;
    result = ec;
  });
  if (!runUntil(io_, *socket_, deadline, [&] { return done; })) {
    disconnect();
    return std::unexpected(transient("writing to BIRD timed out"));
  }
  if (result) {
    disconnect();
    return std::unexpected(transient(fmt::format("writing to BIRD failed: {}", result.message())));
  }
  return readReply(deadline);
}

}  // namespace transit::routing
