// The Beast server on real sockets (loopback, port 0): what a client on the wire sees.
#include "http/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "tests/fakes/log_capture.hpp"
#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;

class ServerTest : public ApiFixture {
 protected:
  void startServer(std::optional<hub::TlsConfig> tls = std::nullopt,
                   http::Server::Limits limits = {}) {
    std::vector<http::Server::Listener> listeners{
        {hub::ListenAddress{"127.0.0.1", 0}, true},
        {hub::ListenAddress{"127.0.0.1", 0}, false},
    };
    auto server = http::Server::create(io_, *api_, listeners, tls, limits);
    ASSERT_TRUE(server.has_value()) << server.error();
    server_ = std::move(*server);
    server_->start();
    open_port_ = server_->endpoints()[0].port();
    closed_port_ = server_->endpoints()[1].port();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override { stopServer(); }

  // Stops the server and joins its threads (before a test's LogCapture goes: the threads log).
  void stopServer() {
    if (server_) server_->stop();
    work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  tcp::socket connect(std::uint16_t port) {
    tcp::socket socket(client_io_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return socket;
  }

  // Reads one response; `ec` says why there was none.
  static bhttp::response<bhttp::string_body> readResponse(tcp::socket& socket,
                                                          beast::flat_buffer& buffer,
                                                          boost::system::error_code& ec) {
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res, ec);
    return res;
  }

  // The sum of the samples of metric `name` (counter or gauge) whose labels include `labels`.
  double metricValue(std::string_view name,
                     const std::vector<std::pair<std::string, std::string>>& labels) {
    double sum = 0;
    for (const auto& family : prometheus_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        const bool match = std::ranges::all_of(labels, [&metric](const auto& wanted) {
          return std::ranges::any_of(metric.label, [&wanted](const auto& label) {
            return label.name == wanted.first && label.value == wanted.second;
          });
        });
        if (match) sum += metric.counter.value + metric.gauge.value;
      }
    }
    return sum;
  }

  // The API's counter of requests refused before they were read, by status.
  double unreadCount(unsigned status) {
    return metricValue("transit_hub_api_requests_total",
                       {{"route", "unread"}, {"code", std::to_string(status)}});
  }

  static bhttp::request<bhttp::string_body> request(bhttp::verb method, std::string target,
                                                    std::string body = "",
                                                    std::string_view token = kAdminToken) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + std::string(token));
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.prepare_payload();
    return req;
  }

  template <typename Stream>
  static bhttp::response<bhttp::string_body> roundTrip(Stream& stream, beast::flat_buffer& buffer,
                                                       bhttp::request<bhttp::string_body> req) {
    bhttp::write(stream, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    return res;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::io_context client_io_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::thread> threads_;
  std::uint16_t open_port_ = 0;
  std::uint16_t closed_port_ = 0;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  startServer();
  auto socket = connect(open_port_);
  beast::flat_buffer buffer;
  auto created = roundTrip(socket, buffer,
                           request(bhttp::verb::post, "/v1/spokes",
                                   spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")));
  EXPECT_EQ(created.result_int(), 201u);
  EXPECT_TRUE(created.keep_alive());
  for (int i = 0; i < 3; ++i) {
    auto res = roundTrip(socket, buffer, request(bhttp::verb::get, "/v1/spokes/prod-a"));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    EXPECT_EQ(res[bhttp::field::server], "transit-hubd");
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startServer();
  auto socket = connect(open_port_);
  std::string wire;
  for (const auto* target : {"/v1/spokes/nope", "/healthz", "/v1/spokes"}) {
    std::ostringstream one;
    one << request(bhttp::verb::get, target);
    wire += one.str();
  }
  asio::write(socket, asio::buffer(wire));
  beast::flat_buffer buffer;
  std::vector<unsigned> statuses;
  for (int i = 0; i < 3; ++i) {
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res);
    statuses.push_back(res.result_int());
  }
  EXPECT_EQ(statuses, (std::vector<unsigned>{404, 200, 200}));
}

TEST_F(ServerTest, BodyOverOneMebibyteIs413AndChangesNothing) {
  startServer();
  auto socket = connect(open_port_);
  beast::flat_buffer buffer;
  std::string big(http::kMaxBodyBytes + 1, ' ');
  auto res = roundTrip(socket, buffer, request(bhttp::verb::post, "/v1/spokes", big));
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_NE(res.body().find("payload_too_large"), std::string::npos);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());

  // Chunked, so the size is only known while reading.
  auto chunked = connect(open_port_);
  std::string head = "POST /v1/spokes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     std::string(kAdminToken) +
                     "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  asio::write(chunked, asio::buffer(head));
  std::string chunk(64 * 1024, ' ');
  boost::system::error_code ec;
  for (int i = 0; i < 17 && !ec; ++i) {
    asio::write(chunked, asio::buffer(fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk)), ec);
  }
  beast::flat_buffer chunked_buffer;
  bhttp::response<bhttp::string_body> chunked_res;
  bhttp::read(chunked, chunked_buffer, chunked_res, ec);
  EXPECT_EQ(chunked_res.result_int(), 413u);
}

TEST_F(ServerTest, AClientThatSendsAnOversizedBodyWithoutWaitingStillReads413) {
  // The client writes the whole body before reading. The server answers after the header and
  // must drain the rest before closing, or the kernel's reset can destroy the answer.
  startServer();
  const std::string big(2 * http::kMaxBodyBytes, 'x');
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto socket = connect(open_port_);
    boost::system::error_code ec;
    bhttp::write(socket, request(bhttp::verb::post, "/v1/spokes", big), ec);
    ASSERT_FALSE(ec) << "attempt " << attempt << ": the server reset the upload: " << ec.message();
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res, ec);
    ASSERT_FALSE(ec) << "attempt " << attempt << ": " << ec.message();
    EXPECT_EQ(res.result_int(), 413u);
  }
}

TEST_F(ServerTest, AnAnonymousRequestIsRefusedOnItsHeaderBeforeItsBodyIsRead) {
  // The client announces almost 1 MiB and sends none of it: the 401 comes at once (the body is
  // never awaited, let alone buffered) and the connection closes behind it.
  startServer();
  for (const std::string_view token : {std::string_view(), std::string_view("not-a-token")}) {
    auto socket = connect(open_port_);
    std::string head =
        "POST /v1/spokes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000\r\n";
    if (!token.empty()) head += "Authorization: Bearer " + std::string(token) + "\r\n";
    head += "\r\n";
    asio::write(socket, asio::buffer(head));
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    auto res = readResponse(socket, buffer, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 401u);
    EXPECT_FALSE(res.keep_alive());
  }
  // A read token on a write: 403, also before the body.
  auto socket = connect(open_port_);
  asio::write(socket,
              asio::buffer("DELETE /v1/spokes/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           std::string(kReadToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  auto res = readResponse(socket, buffer, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 403u);
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
}

TEST_F(ServerTest, ARefusedRequestWithoutABodyKeepsTheConnection) {
  startServer();
  auto socket = connect(open_port_);
  beast::flat_buffer buffer;
  const auto refused = roundTrip(socket, buffer, request(bhttp::verb::get, "/v1/spokes", "", ""));
  EXPECT_EQ(refused.result_int(), 401u);
  // No HSTS over plain HTTP (it would mean nothing there).
  EXPECT_EQ(refused.count(bhttp::field::strict_transport_security), 0u);
  EXPECT_EQ(roundTrip(socket, buffer, request(bhttp::verb::get, "/v1/spokes")).result_int(), 200u);
}

TEST_F(ServerTest, HeadAnswersLikeGetWithoutABodyAndTheConnectionGoesOn) {
  startServer();
  auto socket = connect(open_port_);
  beast::flat_buffer buffer;
  ASSERT_EQ(roundTrip(socket, buffer,
                      request(bhttp::verb::post, "/v1/spokes",
                              spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")))
                .result_int(),
            201u);
  const auto get = roundTrip(socket, buffer, request(bhttp::verb::get, "/v1/spokes/prod-a"));
  ASSERT_EQ(get.result_int(), 200u);
  ASSERT_FALSE(get.body().empty());

  // Pipelined: HEAD, then GET. A HEAD answer with a body would be read as the GET's answer.
  std::ostringstream wire;
  wire << request(bhttp::verb::head, "/v1/spokes/prod-a") << request(bhttp::verb::get, "/healthz");
  asio::write(socket, asio::buffer(wire.str()));
  bhttp::response_parser<bhttp::string_body> head_parser;
  head_parser.skip(true);  // a HEAD answer: its Content-Length describes no body
  bhttp::read(socket, buffer, head_parser);
  const auto& head = head_parser.get();
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(get.body().size()));
  EXPECT_EQ(head[bhttp::field::etag], get[bhttp::field::etag]);
  EXPECT_TRUE(head.body().empty());
  bhttp::response<bhttp::string_body> next;
  bhttp::read(socket, buffer, next);
  EXPECT_EQ(next.result_int(), 200u);
  EXPECT_NE(next.body().find("ok"), std::string::npos) << next.body();

  // HEAD on a path with no GET: 405, and Allow names no HEAD there.
  std::ostringstream post_only;
  post_only << request(bhttp::verb::head, "/v1/spokes/import/aws");
  asio::write(socket, asio::buffer(post_only.str()));
  bhttp::response_parser<bhttp::string_body> refused;
  refused.skip(true);
  bhttp::read(socket, buffer, refused);
  EXPECT_EQ(refused.get().result_int(), 405u);
  EXPECT_EQ(refused.get()[bhttp::field::allow], "POST");
}

TEST_F(ServerTest, ChunkExtensionsAndTrailersAreBounded) {
  startServer();
  const std::string head =
      "POST /v1/spokes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kAdminToken) +
      "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  // `wire` on a new connection is answered 400, saying `why`.
  auto expectRefused = [this](const std::string& wire, std::string_view why) {
    auto socket = connect(open_port_);
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(wire), ec);
    beast::flat_buffer buffer;
    auto res = readResponse(socket, buffer, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 400u);
    EXPECT_NE(res.body().find(why), std::string::npos) << res.body();
  };
  // Chunk extensions: 1 KiB a request; these are 64 chunks of one byte with 100 bytes each.
  std::string extensions = head;
  for (int i = 0; i < 64; ++i) extensions += "1;x=" + std::string(96, 'e') + "\r\n \r\n";
  expectRefused(extensions, "chunk extensions");
  // A trailer (or one chunk line) larger than the 64 KiB read buffer: refused, not buffered.
  std::string trailer = head + "2\r\n{}\r\n0\r\n";
  for (int i = 0; i < 2000; ++i) {
    trailer += fmt::format("X-Trailer-{}: {}\r\n", i, std::string(60, 't'));
  }
  expectRefused(trailer + "\r\n", "trailer");
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
  EXPECT_EQ(unreadCount(400), 2);
}

TEST_F(ServerTest, ASlowHeaderIsCutOffByTheHeaderTimeout) {
  // One byte at a time: the connection is closed once the header timeout has passed since its
  // first byte, however steadily the bytes come.
  startServer(std::nullopt, {.header_timeout = std::chrono::milliseconds(600)});
  auto socket = connect(open_port_);
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 's');
  const auto start = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  for (const char c : header) {
    asio::write(socket, asio::buffer(&c, 1), ec);
    if (ec) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::array<char, 64> sink{};
  if (!ec) socket.read_some(asio::buffer(sink), ec);
  EXPECT_TRUE(ec) << "the slow client was still connected";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Other clients were served meanwhile, and are after.
  auto other = connect(open_port_);
  beast::flat_buffer buffer;
  EXPECT_EQ(roundTrip(other, buffer, request(bhttp::verb::get, "/healthz")).result_int(), 200u);
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitGet503AndTheLimitFreesUpAsTheyClose) {
  startServer(std::nullopt, {.max_connections = 3});
  std::vector<tcp::socket> held;
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect(open_port_));
    // Served, so the server has certainly accepted it.
    EXPECT_EQ(roundTrip(held.back(), buffer, request(bhttp::verb::get, "/healthz")).result_int(),
              200u);
  }
  EXPECT_EQ(metricValue("transit_hub_api_connections", {}), 3);
  auto extra = connect(open_port_);
  boost::system::error_code ec;
  beast::flat_buffer extra_buffer;
  auto refused = readResponse(extra, extra_buffer, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(refused.result_int(), 503u);
  EXPECT_NE(refused.body().find("too_many_connections"), std::string::npos);
  EXPECT_EQ(refused[bhttp::field::retry_after], "1");
  EXPECT_EQ(metricValue("transit_hub_api_connections_refused_total", {{"reason", "limit"}}), 1);

  held.pop_back();  // closes one
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto again = connect(open_port_);
    beast::flat_buffer again_buffer;
    bhttp::write(again, request(bhttp::verb::get, "/healthz"), ec);
    auto res = readResponse(again, again_buffer, ec);
    if (!ec && res.result_int() == 200u) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "a closed connection never made room for a new one";
}

TEST_F(ServerTest, OutOfDescriptorsTheAcceptLoopBacksOffAndServesOnceTheyReturn) {
  fakes::LogCapture log;
  startServer();
  // Client sockets made while descriptors are plenty; connecting them later needs none.
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back(client_io_);
    clients.back().open(tcp::v4());
  }
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Room for two accepted connections, then EMFILE for every accept.
  int open_fds = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++open_fds;
  }
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(open_fds + 2);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  for (auto& client : clients) {
    client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), open_port_));
  }
  // The kernel holds the rest in the backlog; the server must wait, not spin on them.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  // A spinning accept loop burns a whole core here; backing off costs a few ms.
  EXPECT_LT(cpu(after) - cpu(before), 0.3);
  EXPECT_GT(metricValue("transit_hub_api_connections_refused_total", {{"reason", "resources"}}), 0);

  // With descriptors back, every waiting client is served.
  for (auto& client : clients) {
    beast::flat_buffer buffer;
    EXPECT_EQ(roundTrip(client, buffer, request(bhttp::verb::get, "/healthz")).result_int(), 200u);
  }
  clients.clear();
  stopServer();
  const std::string text = log.text();
  std::size_t lines = 0;
  for (std::size_t at = text.find("accept failed"); at != std::string::npos;
       at = text.find("accept failed", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 5u) << text;
}

TEST_F(ServerTest, ExpectContinueIsAnswered) {
  startServer();
  auto socket = connect(open_port_);
  auto req =
      request(bhttp::verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10"));
  req.set(bhttp::field::expect, "100-continue");
  bhttp::request_serializer<bhttp::string_body> serializer(req);
  bhttp::write_header(socket, serializer);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::empty_body> go_on;
  bhttp::read(socket, buffer, go_on);
  EXPECT_EQ(go_on.result(), bhttp::status::continue_);
  bhttp::write(socket, serializer);
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 201u);
}

TEST_F(ServerTest, MalformedRequestsGet400) {
  startServer();
  auto socket = connect(open_port_);
  asio::write(socket, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n")));
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("bad_request"), std::string::npos);
}

TEST_F(ServerTest, OperationalRoutesAreOpenOnlyOnListenersTheConfigNames) {
  startServer();
  beast::flat_buffer buffer;
  auto open = connect(open_port_);
  EXPECT_EQ(roundTrip(open, buffer, request(bhttp::verb::get, "/metrics", "", "")).result_int(),
            200u);
  auto closed = connect(closed_port_);
  beast::flat_buffer buffer2;
  EXPECT_EQ(roundTrip(closed, buffer2, request(bhttp::verb::get, "/metrics", "", "")).result_int(),
            401u);
  EXPECT_EQ(roundTrip(closed, buffer2, request(bhttp::verb::get, "/metrics", "", kReadToken))
                .result_int(),
            200u);
}

TEST_F(ServerTest, OtherAuthorizationSchemesAreRefused) {
  startServer();
  auto socket = connect(open_port_);
  beast::flat_buffer buffer;
  auto req = request(bhttp::verb::get, "/v1/spokes", "", "");
  req.set(bhttp::field::authorization, "Basic " + std::string(kAdminToken));
  EXPECT_EQ(roundTrip(socket, buffer, req).result_int(), 401u);
}

TEST_F(ServerTest, StopClosesIdleConnectionsAtOnce) {
  startServer();
  auto socket = connect(open_port_);
  beast::flat_buffer buffer;
  EXPECT_EQ(roundTrip(socket, buffer, request(bhttp::verb::get, "/healthz")).result_int(), 200u);
  server_->stop();
  // The kept-alive connection waits for a request; stop() ends it (not its 60 s idle timeout).
  bhttp::response<bhttp::string_body> res;
  boost::system::error_code ec;
  bhttp::read(socket, buffer, res, ec);
  EXPECT_TRUE(ec) << "the connection should have been closed";
  std::promise<void> drained;
  server_->whenDrained([&drained] { drained.set_value(); });
  drained.get_future().wait();  // every session has ended
  EXPECT_THROW(connect(open_port_), boost::system::system_error);
}

TEST_F(ServerTest, StopLetsARequestInFlightAnswerWithConnectionClose) {
  // A POST whose write the store holds: the spoke is committed after stop(), and the client must
  // still get its 201 (not a reset, after which a retry would get 409).
  startServer();
  auto socket = connect(open_port_);
  store_.holdWrites();
  bhttp::write(socket, request(bhttp::verb::post, "/v1/spokes",
                               spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")));
  store_.waitUntilHeld(1);
  server_->stop();
  std::promise<void> drained;
  server_->whenDrained([&drained] { drained.set_value(); });
  store_.releaseWrites();

  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  boost::system::error_code ec;
  bhttp::read(socket, buffer, res, ec);
  ASSERT_FALSE(ec) << "the server closed the connection under the request: " << ec.message();
  EXPECT_EQ(res.result_int(), 201u);
  EXPECT_FALSE(res.keep_alive()) << "the answer should say Connection: close";
  EXPECT_EQ(res[bhttp::field::connection], "close");
  drained.get_future().wait();
  const auto stored = store_.load();
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->spokes.size(), 1u);
  EXPECT_EQ(stored->spokes[0].name, "prod-a");
}

TEST_F(ServerTest, ForcedCloseEndsARequestThatOutlivesTheDeadline) {
  // After the shutdown deadline, closeAll() ends even a session whose handler still waits.
  startServer();
  auto socket = connect(open_port_);
  store_.holdWrites();
  bhttp::write(socket, request(bhttp::verb::post, "/v1/spokes",
                               spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")));
  store_.waitUntilHeld(1);
  server_->stop();
  server_->closeAll();
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  boost::system::error_code ec;
  bhttp::read(socket, buffer, res, ec);
  EXPECT_TRUE(ec) << "the connection should have been closed";
  store_.releaseWrites();
  std::promise<void> drained;
  server_->whenDrained([&drained] { drained.set_value(); });
  drained.get_future().wait();
}

TEST_F(ServerTest, ListenFailureNamesTheAddress) {
  startServer();
  std::vector<http::Server::Listener> clash{{hub::ListenAddress{"127.0.0.1", open_port_}, true}};
  auto second = http::Server::create(io_, *api_, clash, std::nullopt);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().find("127.0.0.1:" + std::to_string(open_port_)), std::string::npos);
}

TEST_F(ServerTest, TlsListenerServesHttpsWithTheConfiguredCertificate) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("transit-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = dir / "cert.pem";
  const auto key = dir / "key.pem";
  const std::string command = fmt::format(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout {} -out {} 2>/dev/null",
      key.string(), cert.string());
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a test certificate";
  startServer(hub::TlsConfig{cert, key});

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(cert.string());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream(client_io_, ctx);
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), open_port_));
  stream.handshake(asio::ssl::stream_base::client);
  beast::flat_buffer buffer;
  auto res = roundTrip(stream, buffer, request(bhttp::verb::get, "/v1/hub"));
  EXPECT_EQ(res.result_int(), 200u);
  // HSTS on every answer over TLS, errors included.
  EXPECT_EQ(res[bhttp::field::strict_transport_security], "max-age=63072000");
  auto refused = roundTrip(stream, buffer, request(bhttp::verb::get, "/v1/spokes", "", ""));
  EXPECT_EQ(refused.result_int(), 401u);
  EXPECT_EQ(refused[bhttp::field::strict_transport_security], "max-age=63072000");

  // What a security review asks of the listener, as OpenSSL's own client sees it: TLS 1.0 and
  // 1.1 are refused, so are TLS 1.2 suites without forward secrecy or AEAD; TLS 1.2 with
  // ECDHE-GCM and TLS 1.3 are served.
  auto handshake = [&](const std::string& options) {
    const std::string probe =
        fmt::format("openssl s_client -connect 127.0.0.1:{} {} </dev/null >/dev/null 2>&1",
                    open_port_, options);
    return std::system(probe.c_str()) == 0;
  };
  EXPECT_FALSE(handshake("-tls1 -cipher DEFAULT@SECLEVEL=0"));
  EXPECT_FALSE(handshake("-tls1_1 -cipher DEFAULT@SECLEVEL=0"));
  EXPECT_FALSE(handshake("-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA"));
  EXPECT_FALSE(handshake("-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256"));
  EXPECT_FALSE(handshake("-tls1_2 -cipher AES128-GCM-SHA256"));
  EXPECT_TRUE(handshake("-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"));
  EXPECT_TRUE(handshake("-tls1_3"));

  // Plain HTTP to the TLS listener gets no HTTP answer.
  auto plain = connect(open_port_);
  beast::flat_buffer plain_buffer;
  bhttp::write(plain, request(bhttp::verb::get, "/healthz"));
  bhttp::response<bhttp::string_body> plain_res;
  boost::system::error_code ec;
  bhttp::read(plain, plain_buffer, plain_res, ec);
  EXPECT_TRUE(ec);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace transit::testing
