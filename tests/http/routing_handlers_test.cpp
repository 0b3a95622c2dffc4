// The routing view of the API: GET /v1/routes, /v1/spokes/{name}/exports,
// /v1/spokes/{name}/static-routes and /v1/conflicts, and the export summary in a spoke's status,
// from a hand-built ReconcileStatus (as the reconciler would publish it), without sockets.
#include <prometheus/text_serializer.h>

#include <sstream>

#include "hub/metrics/reconciler_metrics.hpp"
#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {

using boost::beast::http::verb;
namespace json = boost::json;

Ipv4Prefix pfx(std::string_view text) { return *Ipv4Prefix::parse(text); }
Ipv4Address addr(std::string_view text) { return *Ipv4Address::parse(text); }

// A route as the hub's BIRD reports it: learned over a spoke's protocol ("th_vpc_b_1"), it
// carries the spoke's route tag (createSpokes() makes vpc-a 1, vpc-b 2, site-c 3).
routing::ObservedRoute route(std::string_view prefix, std::string protocol, bool primary,
                             bool filtered = false) {
  routing::ObservedRoute r;
  r.prefix = pfx(prefix);
  r.primary = primary;
  r.filtered = filtered;
  for (const auto& [spoke, tag] : {std::pair{"_vpc_a_", 1U}, {"_vpc_b_", 2U}, {"_site_c_", 3U}}) {
    if (protocol.find(spoke) != std::string::npos) {
      r.large_communities = {{kHubAsn, 1, 1}, {kHubAsn, routing::kSpokeTagKind, tag}};
    }
  }
  r.protocol = std::move(protocol);
  return r;
}

routing::SummaryEntry entry(std::string_view prefix, std::vector<std::string_view> covers) {
  routing::SummaryEntry e{pfx(prefix), {}};
  for (auto c : covers) e.covers.push_back(pfx(c));
  return e;
}

hub::ExportPlan exportPlan(std::string spoke, std::uint32_t limit,
                           std::vector<routing::SummaryEntry> prefixes) {
  hub::ExportPlan plan;
  plan.spoke = std::move(spoke);
  plan.limit = limit;
  for (const auto& e : prefixes) plan.must_reach += e.covers.size();
  plan.prefixes = std::move(prefixes);
  return plan;
}

class RoutingHandlers : public ApiFixture {
 protected:
  // vpc-a (bgp, two tunnels, 10.1.0.0/16), vpc-b (bgp, 10.2.0.0/16), site-c (static,
  // 172.16.1.0/24).
  void createSpokes() {
    for (const auto& body :
         {std::string(R"({"name": "vpc-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": 64512,)"
                      R"( "export_limit": 2, "tunnels": [{"outside_ip": "198.51.100.10"},)"
                      R"( {"outside_ip": "198.51.100.11"}]})"),
          spokeJson("vpc-b", "10.2.0.0/16", "198.51.100.20"),
          std::string(R"({"name": "site-c", "kind": "site", "cidrs": ["172.16.1.0/24"],)"
                      R"( "routing": "static", "tunnels": [{"outside_ip": "198.51.100.30"}]})")}) {
      auto r = call(verb::post, "/v1/spokes", body);
      ASSERT_EQ(r.status, 201u) << r.body;
    }
  }

  // What a pass would publish: vpc-b announces 10.2.0.0/24 and 10.2.3.0/24 and, refused,
  // 10.1.99.0/24 (vpc-a's space); vpc-a is sent 2 summaries for 3 prefixes.
  static hub::ReconcileStatus routingStatus() {
    hub::ReconcileStatus status;
    status.revision = 3;
    status.bird = hub::DaemonStatus{true, "", "bird-1"};
    auto a1 = route("10.1.0.0/16", "th_vpc_a_1", true);
    a1.as_path = {64512};
    a1.next_hops = {addr("169.254.20.1")};
    auto a2 = route("10.1.0.0/16", "th_vpc_a_2", false);
    a2.as_path = {64512};
    a2.next_hops = {addr("169.254.20.5")};
    auto b = route("10.2.0.0/24", "th_vpc_b_1", true);
    b.as_path = {64512, 64999};
    b.med = 50;
    b.next_hops = {addr("169.254.20.9")};
    auto site = route("172.16.1.0/24", "th_site_c_static", true);
    site.next_hops = {addr("169.254.20.13"), addr("169.254.20.17")};
    // Deliberately out of order: the API sorts.
    status.routes = {site,
                     route("192.0.2.0/24", "upstream", true),
                     route("10.2.3.0/24", "th_vpc_b_1", true),
                     b,
                     route("10.1.99.0/24", "th_vpc_b_1", false, true),
                     a2,
                     a1};

    auto a = exportPlan("vpc-a", 2,
                        {entry("10.2.0.0/22", {"10.2.0.0/24", "10.2.3.0/24"}),
                         entry("172.16.1.0/24", {"172.16.1.0/24"})});
    a.summarized = true;
    a.wasted_addresses = 512;
    status.exports.emplace("vpc-a", std::move(a));
    status.exports.emplace("vpc-b", exportPlan("vpc-b", 100,
                                               {entry("10.1.0.0/16", {"10.1.0.0/16"}),
                                                entry("172.16.1.0/24", {"172.16.1.0/24"})}));
    status.exports.emplace("site-c", exportPlan("site-c", 50,
                                                {entry("10.1.0.0/16", {"10.1.0.0/16"}),
                                                 entry("10.2.0.0/24", {"10.2.0.0/24"}),
                                                 entry("10.2.3.0/24", {"10.2.3.0/24"})}));
    return status;
  }

  void goLive() {
    createSpokes();
    publishStatus(routingStatus());
  }

  json::value get(const std::string& target, unsigned expected = 200) {
    auto r = call(verb::get, target, "", kReadToken);
    EXPECT_EQ(r.status, expected) << target << ": " << r.body;
    return json(r);
  }

  // (prefix, protocol) of each route in a GET /v1/routes answer.
  static std::vector<std::string> routeKeys(const json::value& body) {
    std::vector<std::string> keys;
    for (const auto& r : body.at("routes").as_array()) {
      keys.push_back(std::string(r.at("prefix").as_string()) + " " +
                     std::string(r.at("protocol").as_string()));
    }
    return keys;
  }

  static void expectError(const json::value& body, std::string_view code,
                          std::string_view field = {}) {
    EXPECT_EQ(body.at("error").at("code").as_string(), code) << body;
    if (!field.empty()) {
      EXPECT_EQ(body.at("error").at("field").as_string(), field) << body;
    }
  }
};

// GET /v1/routes

TEST_F(RoutingHandlers, RoutesAreSortedByPrefixThenProtocol) {
  goLive();
  EXPECT_EQ(routeKeys(get("/v1/routes")),
            (std::vector<std::string>{"10.1.0.0/16 th_vpc_a_1", "10.1.0.0/16 th_vpc_a_2",
                                      "10.1.99.0/24 th_vpc_b_1", "10.2.0.0/24 th_vpc_b_1",
                                      "10.2.3.0/24 th_vpc_b_1", "172.16.1.0/24 th_site_c_static",
                                      "192.0.2.0/24 upstream"}));
}

TEST_F(RoutingHandlers, ARouteShowsItsSpokeTunnelPathAndSelection) {
  goLive();
  const auto routes = get("/v1/routes").at("routes").as_array();
  EXPECT_EQ(routes.at(0), (json::object{{"prefix", "10.1.0.0/16"},
                                        {"spoke", "vpc-a"},
                                        {"tunnel", 1},
                                        {"protocol", "th_vpc_a_1"},
                                        {"as_path", json::array{64512}},
                                        {"med", nullptr},
                                        {"next_hops", json::array{"169.254.20.1"}},
                                        {"selected", true},
                                        {"filtered", false}}));
  EXPECT_EQ(routes.at(1).at("tunnel"), 2);
  EXPECT_EQ(routes.at(1).at("selected"), false);
  EXPECT_EQ(routes.at(3).at("as_path"), (json::array{64512, 64999}));
  EXPECT_EQ(routes.at(3).at("med"), 50);
}

TEST_F(RoutingHandlers, ARefusedRouteIsListedAsFiltered) {
  goLive();
  const auto refused = get("/v1/routes").at("routes").at(2);
  EXPECT_EQ(refused.at("prefix"), "10.1.99.0/24");
  EXPECT_EQ(refused.at("spoke"), "vpc-b");
  EXPECT_EQ(refused.at("filtered"), true);
  EXPECT_EQ(refused.at("selected"), false);
}

TEST_F(RoutingHandlers, AStaticSpokesRouteHasNoTunnelAndItsNextHops) {
  goLive();
  const auto site = get("/v1/routes").at("routes").at(5);
  EXPECT_EQ(site.at("spoke"), "site-c");
  EXPECT_TRUE(site.at("tunnel").is_null());
  EXPECT_EQ(site.at("next_hops"), (json::array{"169.254.20.13", "169.254.20.17"}));
  EXPECT_EQ(site.at("as_path"), json::array{});
}

TEST_F(RoutingHandlers, ARouteOfAProtocolTheHubDoesNotNameHasNoSpoke) {
  goLive();
  const auto other = get("/v1/routes").at("routes").at(6);
  EXPECT_EQ(other.at("protocol"), "upstream");
  EXPECT_TRUE(other.at("spoke").is_null());
  EXPECT_TRUE(other.at("tunnel").is_null());
}

TEST_F(RoutingHandlers, RoutesFollowTheConfiguredProtocolPrefix) {
  createSpokes();
  session_prefix_ = "hub_";  // the reconciler knows the tunnel by that prefix
  auto status = routingStatus();
  status.routes = {route("10.2.0.0/24", "hub_vpc_b_1", true)};
  publishStatus(std::move(status));
  const auto routes = get("/v1/routes").at("routes");
  EXPECT_EQ(routes.at(0).at("spoke"), "vpc-b");
  EXPECT_EQ(routes.at(0).at("tunnel"), 1);
}

TEST_F(RoutingHandlers, RoutesCanBeFilteredBySpoke) {
  goLive();
  EXPECT_EQ(routeKeys(get("/v1/routes?spoke=vpc-b")),
            (std::vector<std::string>{"10.1.99.0/24 th_vpc_b_1", "10.2.0.0/24 th_vpc_b_1",
                                      "10.2.3.0/24 th_vpc_b_1"}));
}

TEST_F(RoutingHandlers, RoutesCanBeFilteredByWhetherTheyWereRefused) {
  goLive();
  EXPECT_EQ(routeKeys(get("/v1/routes?filtered=true")),
            (std::vector<std::string>{"10.1.99.0/24 th_vpc_b_1"}));
  EXPECT_EQ(get("/v1/routes?filtered=false").at("routes").as_array().size(), 6u);
  EXPECT_EQ(routeKeys(get("/v1/routes?spoke=vpc-b&filtered=false")),
            (std::vector<std::string>{"10.2.0.0/24 th_vpc_b_1", "10.2.3.0/24 th_vpc_b_1"}));
}

TEST_F(RoutingHandlers, BadRouteFiltersAreRefusedNamingTheParameter) {
  goLive();
  expectError(get("/v1/routes?filtered=yes", 422), "invalid_field", "filtered");
  expectError(get("/v1/routes?spoke=Not_A_Name", 422), "invalid_field", "spoke");
  expectError(get("/v1/routes?spoke=vpc-a&spoke=vpc-b", 422), "invalid_field", "spoke");
  expectError(get("/v1/routes?prefix=10.1.0.0/16", 422), "invalid_field", "prefix");
}

TEST_F(RoutingHandlers, FilteringByASpokeThatDoesNotExistIsNotFound) {
  goLive();
  expectError(get("/v1/routes?spoke=vpc-z", 404), "not_found");
}

TEST_F(RoutingHandlers, RoutesAreEmptyWithoutAReconciler) {
  createSpokes();
  EXPECT_EQ(get("/v1/routes"), (json::object{{"routes", json::array{}}, {"next", nullptr}}));
  EXPECT_EQ(get("/v1/routes?spoke=vpc-a"),
            (json::object{{"routes", json::array{}}, {"next", nullptr}}));
}

TEST_F(RoutingHandlers, RoutesAreEmptyBeforeTheFirstPass) {
  createSpokes();
  publishStatus(routingStatus());
  status_.reset();
  EXPECT_EQ(get("/v1/routes"), (json::object{{"routes", json::array{}}, {"next", nullptr}}));
}

// GET /v1/spokes/{name}/exports

TEST_F(RoutingHandlers, ExportsShowTheSummariesAndWhy) {
  goLive();
  EXPECT_EQ(get("/v1/spokes/vpc-a/exports"),
            (json::object{
                {"spoke", "vpc-a"},
                {"pending", false},
                {"limit", 2},
                {"must_reach", 3},
                {"summarized", true},
                {"within_limit", true},
                {"wasted_addresses", 512},
                {"prefixes",
                 json::array{json::object{{"prefix", "10.2.0.0/22"},
                                          {"covers", json::array{"10.2.0.0/24", "10.2.3.0/24"}}},
                             json::object{{"prefix", "172.16.1.0/24"},
                                          {"covers", json::array{"172.16.1.0/24"}}}}},
                {"warnings",
                 json::array{"3 prefixes summarised into 2 to stay within the export limit of 2; "
                             "512 addresses covered that no spoke routes"}},
            }));
}

TEST_F(RoutingHandlers, ExportsWithinTheLimitAreTheRoutesThemselvesWithoutWarnings) {
  goLive();
  const auto body = get("/v1/spokes/vpc-b/exports");
  EXPECT_EQ(body.at("summarized"), false);
  EXPECT_EQ(body.at("limit"), 100);
  EXPECT_EQ(body.at("prefixes").as_array().size(), 2u);
  EXPECT_EQ(body.at("prefixes").at(0),
            (json::object{{"prefix", "10.1.0.0/16"}, {"covers", json::array{"10.1.0.0/16"}}}));
  EXPECT_EQ(body.at("warnings"), json::array{});
}

TEST_F(RoutingHandlers, ExportsBeyondTheLimitSayNoFewerSummariesExist) {
  createSpokes();
  auto status = routingStatus();
  auto& plan = status.exports.at("vpc-a");
  plan.limit = 1;
  plan.within_limit = false;
  publishStatus(std::move(status));
  const auto body = get("/v1/spokes/vpc-a/exports");
  EXPECT_EQ(body.at("within_limit"), false);
  EXPECT_EQ(body.at("warnings"),
            (json::array{"3 prefixes summarised into 2; 512 addresses covered that no spoke routes",
                         "2 prefixes are needed, over the export limit of 1: no fewer cover every "
                         "prefix this spoke must reach without covering a CIDR it must not reach; "
                         "at most 1 are sent"}));
}

TEST_F(RoutingHandlers, ExportsOfASpokeNotPlannedYetArePendingWithItsLimit) {
  createSpokes();
  auto status = routingStatus();
  status.exports.erase("vpc-b");
  publishStatus(std::move(status));
  const auto body = get("/v1/spokes/vpc-b/exports");
  EXPECT_EQ(body.at("pending"), true);
  EXPECT_EQ(body.at("limit"), 100);  // bgp's default
  EXPECT_EQ(body.at("prefixes"), json::array{});
  EXPECT_EQ(body.at("warnings"), json::array{});
}

TEST_F(RoutingHandlers, ExportsOfAnUnknownSpokeAreNotFound) {
  goLive();
  expectError(get("/v1/spokes/vpc-z/exports", 404), "not_found");
}

TEST_F(RoutingHandlers, ExportsBeforeTheReconcilersFirstPassArePending) {
  createSpokes();
  const auto body = get("/v1/spokes/vpc-a/exports");
  EXPECT_EQ(body.at("pending"), true);
  EXPECT_EQ(body.at("prefixes"), json::array{});
  expectError(get("/v1/spokes/vpc-z/exports", 404), "not_found");
}

// GET /v1/spokes/{name}/static-routes

TEST_F(RoutingHandlers, StaticRoutesAreWhatToEnterOnTheAwsSide) {
  goLive();
  EXPECT_EQ(
      get("/v1/spokes/site-c/static-routes"),
      (json::object{
          {"spoke", "site-c"},
          {"pending", false},
          {"limit", 50},
          {"routes",
           json::array{
               json::object{{"prefix", "10.1.0.0/16"}, {"covers", json::array{"10.1.0.0/16"}}},
               json::object{{"prefix", "10.2.0.0/24"}, {"covers", json::array{"10.2.0.0/24"}}},
               json::object{{"prefix", "10.2.3.0/24"}, {"covers", json::array{"10.2.3.0/24"}}}}},
          {"summarized", false},
          {"warnings", json::array{}},
      }));
}

TEST_F(RoutingHandlers, StaticRoutesThatCannotFitTellTheOperatorWhatToDo) {
  createSpokes();
  auto status = routingStatus();
  auto& plan = status.exports.at("site-c");
  plan.limit = 2;
  plan.summarized = true;
  plan.within_limit = false;
  publishStatus(std::move(status));
  const auto warnings = get("/v1/spokes/site-c/static-routes").at("warnings");
  ASSERT_EQ(warnings.as_array().size(), 2u);
  EXPECT_EQ(warnings.at(1),
            "3 routes are needed, over the export limit of 2: no fewer cover every prefix this "
            "spoke must reach without covering a CIDR it must not reach; raise export_limit or "
            "enter them all");
}

TEST_F(RoutingHandlers, StaticRoutesOfABgpSpokeAreAConflict) {
  goLive();
  const auto body = get("/v1/spokes/vpc-a/static-routes", 409);
  expectError(body, "conflict");
  EXPECT_EQ(body.at("error").at("message"),
            "vpc-a uses BGP: its routes are exchanged over BGP; what it is sent is at "
            "/v1/spokes/vpc-a/exports");
}

TEST_F(RoutingHandlers, StaticRoutesOfAnUnknownSpokeAreNotFound) {
  goLive();
  expectError(get("/v1/spokes/site-z/static-routes", 404), "not_found");
}

TEST_F(RoutingHandlers, StaticRoutesBeforeTheReconcilersFirstPassArePending) {
  createSpokes();
  const auto body = get("/v1/spokes/site-c/static-routes");
  EXPECT_EQ(body.at("pending"), true);
  EXPECT_EQ(body.at("routes"), json::array{});
}

TEST_F(RoutingHandlers, RoutesPageInTheirOrderAndAFilterPagesToo) {
  goLive();
  std::vector<std::string> seen;
  std::string target = "/v1/routes?limit=3";
  std::vector<std::size_t> sizes;
  for (int page = 0; page < 5; ++page) {
    const auto body = get(target);
    const auto keys = routeKeys(body);
    sizes.push_back(keys.size());
    seen.insert(seen.end(), keys.begin(), keys.end());
    if (body.at("next").is_null()) break;
    target = "/v1/routes?limit=3&cursor=" + std::string(body.at("next").as_string());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(seen, routeKeys(get("/v1/routes")));
  EXPECT_TRUE(get("/v1/routes").at("next").is_null());
  // Paging applies after the filter.
  const auto first = get("/v1/routes?spoke=vpc-b&limit=2");
  EXPECT_EQ(routeKeys(first),
            (std::vector<std::string>{"10.1.99.0/24 th_vpc_b_1", "10.2.0.0/24 th_vpc_b_1"}));
  const auto rest =
      get("/v1/routes?spoke=vpc-b&limit=2&cursor=" + std::string(first.at("next").as_string()));
  EXPECT_EQ(routeKeys(rest), (std::vector<std::string>{"10.2.3.0/24 th_vpc_b_1"}));
  EXPECT_TRUE(rest.at("next").is_null());
  expectError(get("/v1/routes?limit=0", 422), "invalid_field", "limit");
  expectError(get("/v1/routes?cursor=a%20b", 422), "invalid_field", "cursor");
}

// GET /v1/conflicts

TEST_F(RoutingHandlers, ConflictsNameTheRefusedRouteAndWhoseSpaceItIs) {
  goLive();
  EXPECT_EQ(
      get("/v1/conflicts"),
      (json::object{
          {"conflicts",
           json::array{json::object{
               {"prefix", "10.1.99.0/24"},
               {"announced_by", json::object{{"spoke", "vpc-b"}, {"tunnels", json::array{1}}}},
               {"overlaps", json::object{{"spoke", "vpc-a"}, {"cidr", "10.1.0.0/16"}}},
               {"resolution",
                "refused: inside vpc-a's declared CIDR 10.1.0.0/16; vpc-a's "
                "routes are used"},
           }}},
          {"next", nullptr}}));
}

TEST_F(RoutingHandlers, ConflictsAndTheirMetricAgreeBecauseBothAreWhatThePassPublished) {
  goLive();
  hub::ReconcilerMetrics metrics(prometheus_);
  metrics.record(*status_, true, 0.01);
  // The desired state changes after the pass: vpc-a, whose space was announced, is deleted.
  // Both still show the pass's one conflict until the next pass publishes again.
  ASSERT_EQ(call(verb::delete_, "/v1/spokes/vpc-a").status, 204u);
  EXPECT_EQ(get("/v1/conflicts").at("conflicts").as_array().size(), 1u);
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, prometheus_.Collect());
  EXPECT_NE(text.str().find("transit_hub_route_conflicts 1\n"), std::string::npos) << text.str();
}

TEST_F(RoutingHandlers, ConflictsAreEmptyWithoutAReconciler) {
  createSpokes();
  EXPECT_EQ(get("/v1/conflicts"), (json::object{{"conflicts", json::array{}}, {"next", nullptr}}));
}

// The spoke's status

TEST_F(RoutingHandlers, ASpokesStatusSummarisesWhatItIsSent) {
  goLive();
  EXPECT_EQ(get("/v1/spokes/vpc-a").at("status").at("exports"),
            (json::object{{"limit", 2}, {"summarized", true}, {"sent", 2}}));
  const auto list = get("/v1/spokes").at("spokes").as_array();
  EXPECT_EQ(list.at(0).at("name"), "site-c");
  EXPECT_EQ(list.at(0).at("status").at("exports"),
            (json::object{{"limit", 50}, {"summarized", false}, {"sent", 3}}));
}

TEST_F(RoutingHandlers, ASpokeNotPlannedYetHasNullExportsInItsStatus) {
  createSpokes();
  publishStatus(hub::ReconcileStatus{});
  EXPECT_TRUE(get("/v1/spokes/vpc-a").at("status").at("exports").is_null());
}

// Access

TEST_F(RoutingHandlers, TheRoutingViewNeedsATokenAndIsReadOnly) {
  goLive();
  for (const std::string target : {"/v1/routes", "/v1/conflicts", "/v1/spokes/vpc-a/exports",
                                   "/v1/spokes/site-c/static-routes"}) {
    EXPECT_EQ(call(verb::get, target, "", "").status, 401u) << target;
    EXPECT_EQ(call(verb::get, target, "", kReadToken).status, 200u) << target;
    auto post = call(verb::post, target, "{}");
    EXPECT_EQ(post.status, 405u) << target;
    EXPECT_EQ(header(post, "Allow"), "GET, HEAD") << target;
  }
}

}  // namespace
}  // namespace transit::testing
