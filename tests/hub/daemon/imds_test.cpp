// The instance metadata client (hub/daemon/imds.hpp) against canned HTTP answers: the token PUT,
// then the GET carrying it; 404 ends at once; 5xx and refused connections are retried with
// backoff within the budget (a manual clock); a new token after a 401; a silent endpoint times
// out within the bound (real time); TRANSIT_HUB_IMDS_ENDPOINT.
#include "hub/daemon/imds.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/canned_http_server.hpp"
#include "tests/fakes/manual_clock.hpp"

namespace transit::hub {
namespace {

using fakes::CannedHttpServer;
using fakes::CannedResponse;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "AQAEAKtokenValue-0123456789";

CannedResponse text(unsigned status, std::string body) {
  return CannedResponse{status, std::move(body), std::string("text/plain")};
}

// A client of `port` on 127.0.0.1 whose sleeps advance `clock` and are recorded.
class ImdsTest : public ::testing::Test {
 protected:
  ImdsClient client(const std::string& port) {
    ImdsOptions options;
    options.host = "127.0.0.1";
    options.port = static_cast<std::uint16_t>(std::stoi(port));
    options.request_timeout = milliseconds(1000);
    return ImdsClient(options, clock_, [this](milliseconds pause) {
      sleeps_.push_back(pause);
      clock_.advance(pause);
    });
  }

  fakes::ManualClock clock_;
  std::vector<milliseconds> sleeps_;
};

// A port on 127.0.0.1 that nothing listens on.
std::string closedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address_v4("127.0.0.1"), 0});
  return std::to_string(acceptor.local_endpoint().port());
}

TEST_F(ImdsTest, PutsForATokenThenGetsWithIt) {
  CannedHttpServer server({text(200, kToken), text(200, "203.0.113.7\n"), text(200, "10.0.1.7")});
  auto imds = client(server.port());
  auto public_ip = imds.get("public-ipv4");
  ASSERT_TRUE(public_ip.has_value()) << public_ip.error().message;
  EXPECT_EQ(*public_ip, "203.0.113.7");
  auto local_ip = imds.get("local-ipv4");  // the same token
  ASSERT_TRUE(local_ip.has_value()) << local_ip.error().message;
  EXPECT_EQ(*local_ip, "10.0.1.7");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/latest/api/token");
  EXPECT_EQ(requests[0].field("X-aws-ec2-metadata-token-ttl-seconds"), "300");
  EXPECT_EQ(requests[0].field("X-aws-ec2-metadata-token"), "");
  EXPECT_EQ(requests[0].field("Content-Length"), "0");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/latest/meta-data/public-ipv4");
  EXPECT_EQ(requests[1].field("X-aws-ec2-metadata-token"), kToken);
  EXPECT_EQ(requests[2].target, "/latest/meta-data/local-ipv4");
  EXPECT_EQ(requests[2].field("X-aws-ec2-metadata-token"), kToken);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ImdsTest, NotFoundEndsAtOnceAndNamesTheRequest) {
  CannedHttpServer server({text(200, kToken), text(404, "")});
  auto imds = client(server.port());
  auto value = imds.get("public-ipv4");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().status, 404U);
  EXPECT_EQ(value.error().message, "instance metadata: GET /latest/meta-data/public-ipv4: 404");
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(server.requests().size(), 2U);
}

TEST_F(ImdsTest, ARefusedTokenEndsAtOnceWithoutTheToken) {
  CannedHttpServer server({text(403, "")});
  auto imds = client(server.port());
  auto value = imds.get("local-ipv4");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().status, 403U);
  EXPECT_EQ(value.error().message, "instance metadata: PUT /latest/api/token: 403");
}

TEST_F(ImdsTest, AnEmptyTokenIsAnError) {
  CannedHttpServer server({text(200, "\n")});
  auto imds = client(server.port());
  auto value = imds.get("local-ipv4");
  ASSERT_FALSE(value.has_value());
  EXPECT_THAT(value.error().message, HasSubstr("the answer holds no token"));
}

TEST_F(ImdsTest, RetriesAServerErrorAfterABackoff) {
  CannedHttpServer server({text(503, ""), text(200, kToken), text(500, ""), text(200, "10.0.1.7")});
  auto imds = client(server.port());
  auto value = imds.get("local-ipv4");
  ASSERT_TRUE(value.has_value()) << value.error().message;
  EXPECT_EQ(*value, "10.0.1.7");
  // Each request starts its backoff afresh.
  EXPECT_THAT(sleeps_, ElementsAre(milliseconds(500), milliseconds(500)));
}

TEST_F(ImdsTest, FetchesANewTokenOnceAfterA401) {
  CannedHttpServer server(
      {text(200, "token-one"), text(401, ""), text(200, "token-two"), text(200, "10.0.1.7")});
  auto imds = client(server.port());
  auto value = imds.get("local-ipv4");
  ASSERT_TRUE(value.has_value()) << value.error().message;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[1].field("X-aws-ec2-metadata-token"), "token-one");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[3].field("X-aws-ec2-metadata-token"), "token-two");
}

TEST_F(ImdsTest, ASecond401IsTheAnswer) {
  CannedHttpServer server(
      {text(200, "token-one"), text(401, ""), text(200, "token-two"), text(401, "")});
  auto imds = client(server.port());
  auto value = imds.get("local-ipv4");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().message, "instance metadata: GET /latest/meta-data/local-ipv4: 401");
  EXPECT_THAT(value.error().message, Not(HasSubstr("token-")));
}

TEST_F(ImdsTest, RefusedConnectionsBackOffOverTheBudgetThenFail) {
  const auto port = closedPort();
  auto imds = client(port);
  auto value = imds.get("public-ipv4");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().status, 0U);
  EXPECT_THAT(
      value.error().message,
      HasSubstr("instance metadata: PUT /latest/api/token: cannot connect to 127.0.0.1:" + port));
  EXPECT_THAT(value.error().message, HasSubstr("(11 attempts over 30 s)"));
  EXPECT_THAT(sleeps_, ElementsAre(milliseconds(500), milliseconds(1000), milliseconds(2000),
                                   milliseconds(4000), milliseconds(4000), milliseconds(4000),
                                   milliseconds(4000), milliseconds(4000), milliseconds(4000),
                                   milliseconds(2500)));
  const auto slept = std::accumulate(sleeps_.begin(), sleeps_.end(), milliseconds(0));
  EXPECT_EQ(slept, milliseconds(30000));
}

TEST_F(ImdsTest, TheBudgetIsSharedByEveryRequest) {
  const auto port = closedPort();
  auto imds = client(port);
  ASSERT_FALSE(imds.get("public-ipv4").has_value());
  sleeps_.clear();
  auto again = imds.get("local-ipv4");  // one attempt: the budget is spent
  ASSERT_FALSE(again.has_value());
  EXPECT_THAT(again.error().message, HasSubstr("(1 attempt over 30 s)"));
  EXPECT_TRUE(sleeps_.empty());
}

// Real time: an endpoint that takes the request and never answers.
TEST(ImdsTimeout, ASilentEndpointTimesOutWithinTheBound) {
  CannedResponse silent;
  silent.silent = true;
  CannedHttpServer server({silent, silent, silent});
  ImdsOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(std::stoi(server.port()));
  options.request_timeout = milliseconds(300);
  options.retry_budget = milliseconds(1000);
  SystemClock clock;
  ImdsClient imds(options, clock, [](milliseconds pause) { std::this_thread::sleep_for(pause); });
  const auto start = std::chrono::steady_clock::now();
  auto value = imds.get("public-ipv4");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(value.has_value());
  EXPECT_THAT(value.error().message,
              HasSubstr("instance metadata: PUT /latest/api/token: no answer from 127.0.0.1:" +
                        server.port() + " within 300 ms"));
  EXPECT_GE(took, milliseconds(1000));
  EXPECT_LT(took, milliseconds(2500));  // the budget and one request's timeout, with room
}

TEST(ImdsEnvironment, TheEndpointIsOverriddenOnlyByTheTestVariable) {
  ::unsetenv("TRANSIT_HUB_IMDS_ENDPOINT");
  auto defaults = imdsOptionsFromEnvironment();
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->host, "169.254.169.254");
  EXPECT_EQ(defaults->port, 80);
  EXPECT_EQ(defaults->request_timeout, milliseconds(2000));
  EXPECT_EQ(defaults->retry_budget, milliseconds(30000));

  ::setenv("TRANSIT_HUB_IMDS_ENDPOINT", "127.0.0.1:18080", 1);
  auto overridden = imdsOptionsFromEnvironment();
  ASSERT_TRUE(overridden.has_value());
  EXPECT_EQ(overridden->host, "127.0.0.1");
  EXPECT_EQ(overridden->port, 18080);

  for (const char* bad : {"127.0.0.1", "localhost:80", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", ":80", "127.0.0.1:8x"}) {
    ::setenv("TRANSIT_HUB_IMDS_ENDPOINT", bad, 1);
    auto refused = imdsOptionsFromEnvironment();
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_EQ(refused.error(), "TRANSIT_HUB_IMDS_ENDPOINT must be IPV4:PORT");
  }
  ::unsetenv("TRANSIT_HUB_IMDS_ENDPOINT");
}

}  // namespace
}  // namespace transit::hub
