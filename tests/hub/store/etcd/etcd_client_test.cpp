// EtcdClient (hub/store/etcd/etcd_client.hpp) against canned HTTP servers that answer as etcd's
// gateway did in shared/reference/ha-pair.md §3: what a request carries, failover on a closed
// port or a 503, no second send of a write whose outcome is unknown, re-authentication on 401,
// the classification of errors, timeouts, and options refused before any connection.
#include "hub/store/etcd/etcd_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tests/fakes/canned_http_server.hpp"
#include "tests/hub/store/etcd/real_etcd.hpp"

namespace transit::hub {
namespace {

namespace json = boost::json;
using fakes::CannedHttpServer;
using fakes::CannedResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRange = "/v3/kv/range";
constexpr const char* kTxn = "/v3/kv/txn";
const std::string kHeader = R"({"header":{"revision":"4","raft_term":"2"}})";
const std::string kNoLeader =
    R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})";
const std::string kTimedOut =
    R"({"error":"etcdserver: request timed out","message":"etcdserver: request timed out",)"
    R"("code":14})";
constexpr const char* kPassword = "HubPassw0rd-Sekr3t";

std::unique_ptr<EtcdClient> client(std::vector<std::string> endpoints, std::string user = {},
                                   std::string password = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  EtcdClientOptions options;
  options.endpoints = std::move(endpoints);
  options.user = std::move(user);
  options.password = std::move(password);
  options.timeout = timeout;
  options.connect_timeout = std::chrono::milliseconds(500);
  auto created = EtcdClient::create(options);
  EXPECT_TRUE(created.has_value()) << created.error().message;
  return created ? std::move(*created) : nullptr;
}

std::string closedEndpoint() { return "http://127.0.0.1:" + std::to_string(etcd_test::freePort()); }

TEST(EtcdClient, PostsJsonToThePathAndReturnsTheAnswer) {
  CannedHttpServer server({{200, kHeader}});
  auto etcd = client({server.url()});
  const auto answer = etcd->post(kRange, json::object{{"key", "YQ=="}});
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(*answer, json::parse(kHeader));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, kRange);
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].host, "127.0.0.1:" + server.port());
  EXPECT_EQ(requests[0].authorization, "");
  EXPECT_EQ(requests[0].require_leader, "true");  // a member without a leader refuses at once
  EXPECT_EQ(json::parse(requests[0].body), json::parse(R"({"key":"YQ=="})"));
}

TEST(EtcdClient, MovesOnFromAClosedPortAndRemembersTheEndpointThatAnswered) {
  CannedHttpServer server({{200, kHeader}, {200, kHeader}});
  const std::string closed = closedEndpoint();
  auto etcd = client({closed, server.url()});
  ASSERT_TRUE(etcd->post(kTxn, json::object{}).has_value());
  EXPECT_EQ(etcd->currentEndpoint(), 1U);
  ASSERT_TRUE(etcd->post(kTxn, json::object{}).has_value());
  EXPECT_EQ(server.requests().size(), 2U);
  EXPECT_EQ(etcd->endpoints(), closed + "," + server.url());
}

TEST(EtcdClient, MovesOnFromAMemberWithoutALeader) {
  CannedHttpServer lost({{503, kNoLeader}});
  CannedHttpServer fine({{200, kHeader}});
  auto etcd = client({lost.url(), fine.url()});
  const auto answer = etcd->post(kTxn, json::object{});
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(lost.requests().size(), 1U);
  EXPECT_EQ(fine.requests().size(), 1U);
  EXPECT_EQ(etcd->currentEndpoint(), 1U);
}

TEST(EtcdClient, AWriteThatTimedOutIsNotSentAgain) {
  CannedHttpServer slow({{503, kTimedOut}});
  CannedHttpServer fine({{200, kHeader}});
  auto etcd = client({slow.url(), fine.url()});
  const auto answer = etcd->post(kTxn, json::object{});
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, EtcdErrorKind::kUnavailable);
  EXPECT_TRUE(answer.error().outcome_unknown);
  EXPECT_EQ(answer.error().http_status, 503U);
  EXPECT_THAT(answer.error().message, HasSubstr(slow.url()));
  EXPECT_THAT(answer.error().message, HasSubstr("etcdserver: request timed out"));
  EXPECT_TRUE(fine.requests().empty());
}

TEST(EtcdClient, AReadThatTimedOutMovesOn) {
  CannedHttpServer slow({{503, kTimedOut}});
  CannedHttpServer fine({{200, kHeader}});
  auto etcd = client({slow.url(), fine.url()});
  EXPECT_TRUE(etcd->post(kRange, json::object{}).has_value());
}

TEST(EtcdClient, EveryEndpointDownNamesEach) {
  CannedHttpServer lost({{503, kNoLeader}});
  const std::string closed = closedEndpoint();
  auto etcd = client({lost.url(), closed});
  const auto answer = etcd->post(kRange, json::object{});
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, EtcdErrorKind::kUnavailable);
  EXPECT_FALSE(answer.error().outcome_unknown);
  EXPECT_THAT(answer.error().message, HasSubstr("no etcd endpoint could serve /v3/kv/range"));
  EXPECT_THAT(answer.error().message, HasSubstr(lost.url() + " could not serve"));
  EXPECT_THAT(answer.error().message, HasSubstr(closed + ": cannot connect"));
}

TEST(EtcdClient, ARefusalIsInvalidAndNotRetriedElsewhere) {
  CannedHttpServer refusing(
      {{400, R"({"error":"etcdserver: duplicate key given in txn request","message":"etcdserver: )"
             R"(duplicate key given in txn request","code":3})"}});
  CannedHttpServer other({{200, kHeader}});
  auto etcd = client({refusing.url(), other.url()});
  const auto answer = etcd->post(kTxn, json::object{});
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, EtcdErrorKind::kInvalid);
  EXPECT_EQ(answer.error().grpc_code, 3);
  EXPECT_EQ(answer.error().message,
            "etcd " + refusing.url() +
                " refused /v3/kv/txn: etcdserver: duplicate key given in txn request (HTTP 400)");
  EXPECT_TRUE(other.requests().empty());
}

TEST(EtcdClient, AnAnswerThatIsNotJsonIsCorrupt) {
  CannedHttpServer server({{200, "<html>proxy</html>", "text/html"}, {404, "404 page not found"}});
  auto etcd = client({server.url()});
  const auto garbage = etcd->post(kRange, json::object{});
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().kind, EtcdErrorKind::kCorrupt);
  EXPECT_THAT(garbage.error().message, HasSubstr("not JSON"));
  const auto missing = etcd->post("/v3alpha/kv/range", json::object{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, EtcdErrorKind::kInvalid);
  EXPECT_THAT(missing.error().message, HasSubstr("404 page not found (HTTP 404)"));
}

TEST(EtcdClient, AuthenticatesFirstAndSendsTheToken) {
  CannedHttpServer server({{200, R"({"header":{},"token":"tok.1"})"}, {200, kHeader}});
  auto etcd = client({server.url()}, "hub-a", kPassword);
  ASSERT_TRUE(etcd->post(kRange, json::object{}).has_value());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].target, "/v3/auth/authenticate");
  EXPECT_EQ(json::parse(requests[0].body),
            json::parse(R"({"name":"hub-a","password":"HubPassw0rd-Sekr3t"})"));
  EXPECT_EQ(requests[0].authorization, "");
  EXPECT_EQ(requests[1].authorization, "tok.1");
}

TEST(EtcdClient, A401AuthenticatesAgainOnce) {
  const std::string invalid =
      R"({"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token",)"
      R"("code":16})";
  CannedHttpServer server({{200, R"({"header":{},"token":"tok.1"})"},
                           {401, invalid},
                           {200, R"({"header":{},"token":"tok.2"})"},
                           {200, kHeader},
                           {401, invalid},
                           {200, R"({"header":{},"token":"tok.3"})"},
                           {401, invalid}});
  auto etcd = client({server.url()}, "hub-a", kPassword);
  ASSERT_TRUE(etcd->post(kTxn, json::object{}).has_value());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[3].authorization, "tok.2");
  // A second 401 right after a new token is an answer, not a loop.
  const auto refused = etcd->post(kTxn, json::object{});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().http_status, 401U);
  EXPECT_THAT(refused.error().message, Not(HasSubstr("tok.3")));
  EXPECT_EQ(server.requests().size(), 7U);
}

TEST(EtcdClient, AWrongPasswordNamesTheUserNeverThePassword) {
  CannedHttpServer server(
      {{400,
        R"({"error":"etcdserver: authentication failed, invalid user ID or password",)"
        R"("message":"etcdserver: authentication failed, invalid user ID or password","code":3})"}});
  auto etcd = client({server.url()}, "hub-a", kPassword);
  const auto answer = etcd->post(kRange, json::object{});
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, EtcdErrorKind::kInvalid);
  EXPECT_THAT(answer.error().message, HasSubstr("authentication as user 'hub-a' failed"));
  EXPECT_THAT(answer.error().message, HasSubstr("invalid user ID or password"));
  EXPECT_THAT(answer.error().message, Not(HasSubstr("Sekr3t")));
}

TEST(EtcdClient, AnEchoedPasswordOrTokenIsBlankedOut) {
  CannedHttpServer server({{200, R"({"header":{},"token":"tok.secret.1"})"},
                           {502, "bad gateway: HubPassw0rd-Sekr3t tok.secret.1"}});
  auto etcd = client({server.url()}, "hub-a", kPassword);
  const auto answer = etcd->post(kRange, json::object{});
  ASSERT_FALSE(answer.has_value());
  EXPECT_THAT(answer.error().message, HasSubstr("bad gateway: *** ***"));
}

TEST(EtcdClient, NoAnswerWithinTheTimeout) {
  CannedResponse silent;
  silent.silent = true;
  CannedHttpServer server({silent, silent});
  auto etcd = client({server.url()}, "", "", std::chrono::milliseconds(200));
  const auto read = etcd->post(kRange, json::object{});
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().kind, EtcdErrorKind::kUnavailable);
  EXPECT_THAT(read.error().message, HasSubstr("no answer to /v3/kv/range within 200 ms"));
  const auto write = etcd->post(kTxn, json::object{});
  ASSERT_FALSE(write.has_value());
  EXPECT_TRUE(write.error().outcome_unknown);
}

TEST(EtcdClient, RefusesBadOptionsBeforeConnecting) {
  struct Case {
    std::vector<std::string> endpoints;
    EtcdTlsOptions tls;
    std::string user;
    std::string password;
    std::string expected;
  };
  const std::vector<Case> cases{
      {{}, {}, "", "", "no etcd endpoint given"},
      {{"127.0.0.1:2379"}, {}, "", "", "expected http[s]://HOST:PORT"},
      {{"ftp://127.0.0.1:2379"}, {}, "", "", "the scheme must be http or https"},
      {{"http://127.0.0.1"}, {}, "", "", "must name a port"},
      {{"http://127.0.0.1:0"}, {}, "", "", "must name a port"},
      {{"http://127.0.0.1:2379/v3"}, {}, "", "", "a path, query or fragment is not allowed"},
      {{"http://hub:Sekr3t@127.0.0.1:2379"}, {}, "", "", "credentials in the URL"},
      {{"http://a:1", "https://b:2"}, {}, "", "", "mix http:// and https://"},
      {{"http://a:1"}, {"ca.pem", "", ""}, "", "", "use https://"},
      {{"https://a:1"}, {"", "c.pem", ""}, "", "", "needs both cert_file and key_file"},
      {{"https://a:1"}, {"/nonexistent/ca.pem", "", ""}, "", "", "cannot load the etcd CA file"},
      {{"http://a:1"}, {}, "", "Sekr3t", "password is set without a user"},
  };
  for (const Case& c : cases) {
    EtcdClientOptions options;
    options.endpoints = c.endpoints;
    options.tls = c.tls;
    options.user = c.user;
    options.password = c.password;
    const auto created = EtcdClient::create(options);
    ASSERT_FALSE(created.has_value()) << c.expected;
    EXPECT_EQ(created.error().kind, EtcdErrorKind::kInvalid);
    EXPECT_THAT(created.error().message, HasSubstr(c.expected));
    EXPECT_THAT(created.error().message, Not(HasSubstr("Sekr3t")));
  }
}

}  // namespace
}  // namespace transit::hub
