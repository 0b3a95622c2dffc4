// What the API reports about the daemons: the "status" of each spoke and GET /v1/tunnels, from a
// hand-built ReconcileStatus (as the reconciler would publish it), without sockets.
#include <chrono>

#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {

using boost::beast::http::verb;
using namespace std::chrono_literals;

constexpr std::string_view kPsk = "VerySecretKey_123456";

// A bgp vpc with two tunnels.
std::string twoTunnelSpoke(std::string_view name, std::string_view cidr, std::string_view first,
                           std::string_view second) {
  return fmt::format(
      R"({{"name": "{}", "kind": "vpc", "cidrs": ["{}"], "asn": 64512,)"
      R"( "tunnels": [{{"outside_ip": "{}", "psk": "{}"}}, {{"outside_ip": "{}"}}]}})",
      name, cidr, first, kPsk, second);
}

std::string staticSite(std::string_view name, std::string_view cidr, std::string_view outside) {
  return fmt::format(R"({{"name": "{}", "kind": "site", "cidrs": ["{}"], "routing": "static",)"
                     R"( "tunnels": [{{"outside_ip": "{}"}}]}})",
                     name, cidr, outside);
}

hub::ObjectStatus applied() { return hub::ObjectStatus{hub::ObjectState::kApplied, "", 0, {}}; }

// A tunnel pluto runs with the IKE and Child SAs up.
hub::TunnelStatus upTunnel(std::string spoke, int index) {
  hub::TunnelStatus t;
  t.name = fmt::format("th-{}-{}", spoke, index);
  t.spoke = std::move(spoke);
  t.index = index;
  t.object = applied();
  t.observed = peers::ObservedTunnel{t.name,
                                     true,
                                     true,
                                     true,
                                     "STATE_V2_ESTABLISHED_CHILD_SA",
                                     1000u * static_cast<unsigned>(index),
                                     2000,
                                     {}};
  return t;
}

// An established session that received 3 routes and advertised 5.
hub::SessionStatus upSession(std::string spoke, int index) {
  hub::SessionStatus s;
  s.name = fmt::format("th_{}_{}", spoke, index);
  for (auto& c : s.name) c = c == '-' ? '_' : c;
  s.spoke = std::move(spoke);
  s.index = index;
  s.object = applied();
  s.observed = routing::ObservedSession{s.name, "up", "Established", true, "", 3, 1, 5};
  return s;
}

hub::ReconcileStatus liveStatus() {
  hub::ReconcileStatus status;
  status.revision = 1;
  status.initial_sync_done = true;
  status.pluto = hub::DaemonStatus{true, "", "pluto-1"};
  status.bird = hub::DaemonStatus{true, "", "bird-1"};
  return status;
}

void add(hub::ReconcileStatus& status, hub::TunnelStatus tunnel) {
  status.tunnels.insert_or_assign(tunnel.name, std::move(tunnel));
}
void add(hub::ReconcileStatus& status, hub::SessionStatus session) {
  status.sessions.insert_or_assign(session.name, std::move(session));
}

class StatusHandlers : public ApiFixture {
 protected:
  void create(const std::string& body) {
    auto r = call(verb::post, "/v1/spokes", body);
    ASSERT_EQ(r.status, 201u) << r.body;
  }
  boost::json::object spokeStatus(std::string_view name) {
    auto r = call(verb::get, "/v1/spokes/" + std::string(name), "", kReadToken);
    EXPECT_EQ(r.status, 200u) << r.body;
    return json(r).at("status").as_object();
  }
  // prod-a (2 tunnels, bgp) fully up.
  hub::ReconcileStatus prodAUp() {
    auto status = liveStatus();
    for (int i = 1; i <= 2; ++i) {
      add(status, upTunnel("prod-a", i));
      add(status, upSession("prod-a", i));
    }
    return status;
  }
};

TEST_F(StatusHandlers, SpokesBeforeTheReconcilersFirstPassArePending) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  const auto status = spokeStatus("prod-a");
  EXPECT_EQ(status.at("state"), "pending");
  EXPECT_EQ(status.at("tunnels").as_array().size(), 2u);
  EXPECT_EQ(status.at("exports"), nullptr);
  auto list = json(call(verb::get, "/v1/spokes", "", kReadToken));
  EXPECT_EQ(list.at("spokes").at(0).at("status").at("state"), "pending");
}

TEST_F(StatusHandlers, TunnelsBeforeTheReconcilersFirstPassAreAnEmptyList) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  auto r = call(verb::get, "/v1/tunnels", "", kReadToken);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json(r).at("tunnels"), boost::json::array{});
  EXPECT_EQ(json(r).at("initial_sync_done"), false);
}

TEST_F(StatusHandlers, AppliedSpokeShowsEachTunnelAndItsBgpSession) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  publishStatus(prodAUp());
  const auto status = spokeStatus("prod-a");
  EXPECT_EQ(status.at("state"), "applied");
  const auto& tunnels = status.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 2u);
  const auto& first = tunnels[0].as_object();
  EXPECT_EQ(first.at("index"), 1);
  EXPECT_EQ(first.at("name"), "th-prod-a-1");
  EXPECT_EQ(first.at("state"), "applied");
  EXPECT_EQ(first.at("ike_up"), true);
  EXPECT_EQ(first.at("ipsec_up"), true);
  EXPECT_EQ(first.at("in_bytes"), 1000);
  EXPECT_EQ(first.at("out_bytes"), 2000);
  EXPECT_EQ(first.at("daemon_state"), "STATE_V2_ESTABLISHED_CHILD_SA");
  EXPECT_EQ(first.at("last_error"), "");
  EXPECT_EQ(first.at("attempts"), 0);
  EXPECT_TRUE(first.at("next_retry_in_seconds").is_null());
  const auto& bgp = first.at("bgp").as_object();
  EXPECT_EQ(bgp.at("state"), "Established");
  EXPECT_EQ(bgp.at("established"), true);
  EXPECT_EQ(bgp.at("routes_received"), 3);
  EXPECT_EQ(bgp.at("routes_filtered"), 1);
  EXPECT_EQ(bgp.at("routes_advertised"), 5);
  EXPECT_EQ(bgp.at("last_error"), "");
  EXPECT_EQ(tunnels[1].at("index"), 2);
  EXPECT_EQ(tunnels[1].at("name"), "th-prod-a-2");
  EXPECT_EQ(tunnels[1].at("in_bytes"), 2000);
}

TEST_F(StatusHandlers, ListedSpokesCarryTheSameStatus) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  publishStatus(prodAUp());
  auto list = json(call(verb::get, "/v1/spokes", "", kReadToken));
  EXPECT_EQ(list.at("spokes").at(0).at("status"), spokeStatus("prod-a"));
}

TEST_F(StatusHandlers, FailedTunnelShowsErrorAttemptsAndTimeToRetry) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  auto status = prodAUp();
  auto& failed = status.tunnels.at("th-prod-a-2");
  failed.object = hub::ObjectStatus{hub::ObjectState::kError, "ipsec addconn exited with 1", 3,
                                    clock_.monotonicNow() + 8s};
  failed.observed = {};
  publishStatus(std::move(status));

  auto got = spokeStatus("prod-a");
  EXPECT_EQ(got.at("state"), "error");
  const auto& tunnel = got.at("tunnels").at(1).as_object();
  EXPECT_EQ(tunnel.at("state"), "error");
  EXPECT_EQ(tunnel.at("last_error"), "ipsec addconn exited with 1");
  EXPECT_EQ(tunnel.at("attempts"), 3);
  EXPECT_EQ(tunnel.at("next_retry_in_seconds"), 8);
  EXPECT_EQ(tunnel.at("ike_up"), false);
  EXPECT_EQ(got.at("tunnels").at(0).at("state"), "applied");

  clock_.advance(2500ms);  // rounds up: 5.5 s left is "6"
  EXPECT_EQ(spokeStatus("prod-a").at("tunnels").at(1).at("next_retry_in_seconds"), 6);
  clock_.advance(30s);  // overdue: never negative
  EXPECT_EQ(spokeStatus("prod-a").at("tunnels").at(1).at("next_retry_in_seconds"), 0);
}

TEST_F(StatusHandlers, FailedBgpConfigurationMakesTheSpokeAnError) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  auto status = prodAUp();
  for (auto& [name, session] : status.sessions) {
    session.object = hub::ObjectStatus{hub::ObjectState::kError, "configure check failed", 1,
                                       clock_.monotonicNow() + 1s};
    session.observed = {};
  }
  publishStatus(std::move(status));
  auto got = spokeStatus("prod-a");
  EXPECT_EQ(got.at("state"), "error");
  const auto& tunnel = got.at("tunnels").at(0).as_object();
  EXPECT_EQ(tunnel.at("state"), "applied");  // the tunnel itself is fine
  EXPECT_EQ(tunnel.at("bgp").at("established"), false);
  EXPECT_EQ(tunnel.at("bgp").at("last_error"), "configure check failed");
}

TEST_F(StatusHandlers, BgpErrorFromBirdWinsOverTheObjectsError) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  auto status = prodAUp();
  auto& session = status.sessions.at("th_prod_a_1");
  session.observed.established = false;
  session.observed.bgp_state = "Idle";
  session.observed.last_error = "Route limit exceeded";
  publishStatus(std::move(status));
  auto got = spokeStatus("prod-a");
  EXPECT_EQ(got.at("state"), "applied");  // BIRD runs what the hub wants; the peer misbehaves
  EXPECT_EQ(got.at("tunnels").at(0).at("bgp").at("state"), "Idle");
  EXPECT_EQ(got.at("tunnels").at(0).at("bgp").at("last_error"), "Route limit exceeded");
}

TEST_F(StatusHandlers, SpokeIsPendingWhileATunnelIsNotInTheStatusYet) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  auto status = liveStatus();
  add(status, upTunnel("prod-a", 1));
  add(status, upSession("prod-a", 1));
  publishStatus(std::move(status));
  auto got = spokeStatus("prod-a");
  EXPECT_EQ(got.at("state"), "pending");
  const auto& missing = got.at("tunnels").at(1).as_object();
  EXPECT_EQ(missing.at("index"), 2);
  EXPECT_TRUE(missing.at("name").is_null());
  EXPECT_EQ(missing.at("state"), "pending");
  EXPECT_EQ(missing.at("ike_up"), false);
  EXPECT_EQ(missing.at("bgp").at("established"), false);
}

TEST_F(StatusHandlers, SpokeIsPendingBeforeTheFirstPass) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  publishStatus(liveStatus());
  status_.reset();  // the reconciler has published nothing yet
  auto got = spokeStatus("prod-a");
  EXPECT_EQ(got.at("state"), "pending");
  EXPECT_EQ(got.at("tunnels").as_array().size(), 2u);
  auto tunnels = json(call(verb::get, "/v1/tunnels", "", kReadToken));
  EXPECT_TRUE(tunnels.at("tunnels").as_array().empty());
  EXPECT_EQ(tunnels.at("initial_sync_done"), false);
}

TEST_F(StatusHandlers, PendingTunnelOfAnUnreachableDaemonIsPending) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  auto status = prodAUp();
  status.tunnels.at("th-prod-a-1").object =
      hub::ObjectStatus{hub::ObjectState::kPending, "pluto is not reachable: no socket", 0, {}};
  publishStatus(std::move(status));
  auto got = spokeStatus("prod-a");
  EXPECT_EQ(got.at("state"), "pending");
  EXPECT_EQ(got.at("tunnels").at(0).at("last_error"), "pluto is not reachable: no socket");
  EXPECT_TRUE(got.at("tunnels").at(0).at("next_retry_in_seconds").is_null());
}

TEST_F(StatusHandlers, StaticSpokeHasNoBgp) {
  create(staticSite("site-1", "172.16.1.0/24", "198.51.100.30"));
  auto status = liveStatus();
  add(status, upTunnel("site-1", 1));
  publishStatus(std::move(status));
  auto got = spokeStatus("site-1");
  EXPECT_EQ(got.at("state"), "applied");  // no session is expected, so none is missing
  EXPECT_TRUE(got.at("tunnels").at(0).at("bgp").is_null());
}

TEST_F(StatusHandlers, TunnelsListsEveryTunnelSortedByNameWithDaemonHealth) {
  create(twoTunnelSpoke("prod-b", "10.2.0.0/16", "198.51.100.20", "198.51.100.21"));
  create(staticSite("site-1", "172.16.1.0/24", "198.51.100.30"));
  auto status = liveStatus();
  status.bird = hub::DaemonStatus{false, "connect: no such file", "bird-1"};
  add(status, upTunnel("site-1", 1));
  add(status, upTunnel("prod-b", 2));
  add(status, upTunnel("prod-b", 1));
  add(status, upSession("prod-b", 1));
  add(status, upSession("prod-b", 2));
  publishStatus(std::move(status));

  auto r = call(verb::get, "/v1/tunnels", "", kReadToken);
  ASSERT_EQ(r.status, 200u) << r.body;
  const auto body = json(r).as_object();
  const auto& tunnels = body.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 3u);
  EXPECT_EQ(tunnels[0].at("name"), "th-prod-b-1");
  EXPECT_EQ(tunnels[1].at("name"), "th-prod-b-2");
  EXPECT_EQ(tunnels[2].at("name"), "th-site-1-1");
  EXPECT_EQ(tunnels[1].at("spoke"), "prod-b");
  EXPECT_EQ(tunnels[1].at("index"), 2);
  EXPECT_EQ(tunnels[1].at("state"), "applied");
  EXPECT_EQ(tunnels[1].at("in_bytes"), 2000);
  EXPECT_EQ(tunnels[1].at("bgp").at("routes_received"), 3);
  EXPECT_TRUE(tunnels[2].at("bgp").is_null());
  EXPECT_EQ(body.at("pluto"), (boost::json::object{{"up", true}, {"error", ""}}));
  EXPECT_EQ(body.at("bird"),
            (boost::json::object{{"up", false}, {"error", "connect: no such file"}}));
  EXPECT_EQ(body.at("initial_sync_done"), true);
}

TEST_F(StatusHandlers, TunnelsNeedAToken) {
  publishStatus(liveStatus());
  auto none = call(verb::get, "/v1/tunnels", "", "");
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(header(none, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(call(verb::get, "/v1/tunnels", "", "not-a-token").status, 401u);
  EXPECT_EQ(call(verb::get, "/v1/tunnels", "", kReadToken).status, 200u);
  EXPECT_EQ(call(verb::get, "/v1/tunnels", "", kAdminToken).status, 200u);
  auto post = call(verb::post, "/v1/tunnels", "{}");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
}

TEST_F(StatusHandlers, NoStatusResponseContainsAPreSharedKey) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  publishStatus(prodAUp());
  for (const auto& target : {"/v1/spokes", "/v1/spokes/prod-a", "/v1/tunnels"}) {
    auto got = call(verb::get, target);
    ASSERT_EQ(got.status, 200u) << target;
    EXPECT_EQ(got.body.find(kPsk), std::string::npos) << target;
    EXPECT_EQ(got.body.find("\"psk\""), std::string::npos) << target;
  }
}

TEST_F(StatusHandlers, GetThenPutOfASpokeWithStatusStillWorks) {
  create(twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  publishStatus(prodAUp());
  auto got = call(verb::get, "/v1/spokes/prod-a");
  ASSERT_TRUE(json(got).as_object().contains("status"));
  auto back = call(verb::put, "/v1/spokes/prod-a", got.body, kAdminToken, true, "\"1\"");
  ASSERT_EQ(back.status, 200u) << back.body;
  EXPECT_EQ(json(back).at("generation"), 1);  // the same spoke: nothing changed
  EXPECT_EQ(json(back).at("status").at("state"), "applied");
  // The stored PSK survived the round trip (the body carried none).
  const auto stored = registry_->snapshot()->spokes.at("prod-a");
  EXPECT_EQ(stored->tunnels.at(0).psk, kPsk);
}

TEST_F(StatusHandlers, CreateAnswersWithTheSpokePendingUntilReconciled) {
  publishStatus(liveStatus());
  auto r = call(verb::post, "/v1/spokes",
                twoTunnelSpoke("prod-a", "10.1.0.0/16", "198.51.100.10", "198.51.100.11"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(json(r).at("status").at("state"), "pending");
}

}  // namespace
}  // namespace transit::testing
