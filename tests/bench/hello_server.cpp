// A bare Boost.Beast HTTP/1.1 server: the reference that tests/bench/run measures the hub
// against ("hub GET >= half the bare Beast rate").
//
// Owns: one io_context, its acceptor and every connection. Started by tests/bench/run with the
// same thread count as transit-hubd; `--threads` threads run the io_context and each connection
// runs as a coroutine on its own strand, as the hub's sessions do. It does what any honest
// server must: parses every request in full (headers and body, under a 1 MiB body limit), keeps
// connections alive, resets an idle timeout per request, and answers 200 with a small JSON body.
// It skips only what is the hub's own work: auth, routing, handlers and JSON encoding.
//
// Usage: bench_hello_server --listen 127.0.0.1:0 --threads 2
// Prints "listening on ADDRESS:PORT" on stdout once it accepts connections; stops on SIGINT or
// SIGTERM.
// GCC 12 at -O2 and above reports false "potential null pointer dereference" warnings inside
// Asio's scheduler and libstdc++'s shared_ptr after inlining; they are silenced for these
// headers only, so this file's own code is still checked.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#pragma GCC diagnostic pop

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace transit::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint64_t kBodyLimit = 1024 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::string_view kBody = R"({"status":"ok","server":"bench-hello"})";
constexpr unsigned kMaxThreads = 64;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Options {
  asio::ip::address address;
  std::uint16_t port = 0;
  unsigned threads = 2;
};

void usage() {
  std::fputs("usage: bench_hello_server --listen ADDRESS:PORT [--threads N]\n", stderr);
}

std::optional<unsigned> parseNumber(std::string_view text, unsigned max) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<Options> parseOptions(int argc, char** argv) {
  Options options;
  bool have_listen = false;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i + 1 >= args.size()) {
      return std::nullopt;
    }
    const std::string_view value = args[++i];
    if (args[i - 1] == "--listen") {
      const auto colon = value.rfind(':');
      if (colon == std::string_view::npos) {
        return std::nullopt;
      }
      boost::system::error_code ec;
      options.address = asio::ip::make_address(std::string(value.substr(0, colon)), ec);
      const auto port = parseNumber(value.substr(colon + 1), 65535);
      if (ec || !port) {
        return std::nullopt;
      }
      options.port = static_cast<std::uint16_t>(*port);
      have_listen = true;
    } else if (args[i - 1] == "--threads") {
      const auto threads = parseNumber(value, kMaxThreads);
      if (!threads || *threads == 0) {
        return std::nullopt;
      }
      options.threads = *threads;
    } else {
      return std::nullopt;
    }
  }
  if (!have_listen) {
    return std::nullopt;
  }
  return options;
}

// One connection: read a request, answer it, until the client closes, errs or idles out.
asio::awaitable<void> serveConnection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    stream.expires_after(kIdleTimeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (read_error) {
      break;  // end of stream, timeout or a malformed request: close the connection
    }
    const auto& request = parser.get();
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(request.keep_alive());
    response.body() = kBody;
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(stream, response, kNoThrow);
    if (write_error || !response.keep_alive()) {
      break;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> acceptConnections(tcp::acceptor& acceptor, asio::io_context& context) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(asio::make_strand(context), kNoThrow);
    if (error == asio::error::operation_aborted || !acceptor.is_open()) {
      co_return;
    }
    if (error) {
      continue;  // e.g. out of file descriptors: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true), error);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serveConnection(std::move(socket)), asio::detached);
  }
}

int run(const Options& options) {
  asio::io_context context(static_cast<int>(options.threads));
  tcp::acceptor acceptor(context);
  const tcp::endpoint endpoint(options.address, options.port);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "bench_hello_server: cannot listen: %s\n", ec.message().c_str());
    return 1;
  }
  const auto bound = acceptor.local_endpoint();
  std::printf("listening on %s:%u\n", bound.address().to_string().c_str(),
              static_cast<unsigned>(bound.port()));
  std::fflush(stdout);

  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { context.stop(); });
  asio::co_spawn(context, acceptConnections(acceptor, context), asio::detached);

  std::vector<std::thread> workers;
  workers.reserve(options.threads - 1);
  for (unsigned i = 1; i < options.threads; ++i) {
    workers.emplace_back([&context] { context.run(); });
  }
  context.run();
  for (auto& worker : workers) {
    worker.join();
  }
  return 0;
}

}  // namespace
}  // namespace transit::bench

int main(int argc, char** argv) {
  const auto options = transit::bench::parseOptions(argc, argv);
  if (!options) {
    transit::bench::usage();
    return 2;
  }
  try {
    return transit::bench::run(*options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_hello_server: %s\n", e.what());
    return 1;
  }
}
