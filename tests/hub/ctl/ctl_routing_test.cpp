// transit-hubctl's routing views: `routes`, `conflicts`, `spoke exports` and
// `spoke static-routes`, run through runCtl against tests/fakes/canned_http_server.hpp answering
// canned API replies (shaped like http/handlers/'s) and recording what it was sent.
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <utility>
#include <vector>

#include "hub/ctl/commands.hpp"
#include "hub/ctl/output.hpp"
#include "tests/hub/ctl/ctl_harness.hpp"

namespace transit::ctl {
namespace {

namespace json = boost::json;

// GET /v1/routes: a BGP spoke's two sessions (one best, one alternative with a MED), a route
// its import filter refused, and a static spoke's route over two tunnels.
constexpr std::string_view kRoutes =
    R"({"routes":[)"
    R"({"prefix":"10.1.0.0/16","spoke":"prod-a","tunnel":1,"protocol":"th_prod_a_1",)"
    R"("as_path":[64512],"med":null,"next_hops":["169.254.20.1"],"selected":true,)"
    R"("filtered":false},)"
    R"({"prefix":"10.1.0.0/16","spoke":"prod-a","tunnel":2,"protocol":"th_prod_a_2",)"
    R"("as_path":[64512,64999],"med":50,"next_hops":["169.254.21.1"],"selected":false,)"
    R"("filtered":false},)"
    R"({"prefix":"10.2.99.0/24","spoke":"prod-a","tunnel":1,"protocol":"th_prod_a_1",)"
    R"("as_path":[64512],"med":null,"next_hops":["169.254.20.1"],"selected":false,)"
    R"("filtered":true},)"
    R"({"prefix":"192.168.0.0/24","spoke":"site-b","tunnel":null,"protocol":"th_site_b_static",)"
    R"("as_path":[],"med":null,"next_hops":["169.254.30.2","169.254.31.2"],"selected":true,)"
    R"("filtered":false}]})";

constexpr std::string_view kConflicts =
    R"({"conflicts":[{"prefix":"10.1.99.0/24","announced_by":{"spoke":"prod-b","tunnels":[1,2]},)"
    R"("overlaps":{"spoke":"prod-a","cidr":"10.1.0.0/16"},)"
    R"("resolution":"refused: inside prod-a's declared CIDR 10.1.0.0/16; )"
    R"(prod-a's routes are used"}]})";

constexpr std::string_view kExports =
    R"({"spoke":"prod-a","pending":false,"limit":2,"must_reach":3,"summarized":true,)"
    R"("within_limit":true,"wasted_addresses":512,"prefixes":[)"
    R"({"prefix":"10.2.0.0/22","covers":["10.2.0.0/24","10.2.3.0/24"]},)"
    R"({"prefix":"172.16.1.0/24","covers":["172.16.1.0/24"]}],)"
    R"("warnings":["3 prefixes summarised into 2 to stay within the export limit of 2; )"
    R"(512 addresses covered that no spoke routes"]})";

constexpr std::string_view kStaticRoutes =
    R"({"spoke":"site-b","pending":false,"limit":50,"routes":[)"
    R"({"prefix":"10.1.0.0/16","covers":["10.1.0.0/16"]},)"
    R"({"prefix":"10.2.0.0/16","covers":["10.2.0.0/16"]}],"summarized":false,"warnings":[]})";

constexpr std::string_view kNoSuchSpoke =
    R"({"error":{"code":"not_found","message":"no spoke named nope"}})";

// ---- The in-test API server: tests/hub/ctl/ctl_harness.hpp
// ------------------------------------------

// What a routing command returned and printed, and the request line of each request it sent.
struct RequestLines {
  RunResult result;
  std::vector<std::string> requests;  // "GET /v1/routes?spoke=prod-a" per request
};

// Runs `args` after --server (the server's URL followed by `prefix`) against a server answering
// `status` with `body` once.
RequestLines exchange(unsigned status, std::string_view body, const std::vector<std::string>& args,
                      const std::string& prefix = "") {
  auto ex = runAgainstServer({Canned{status, std::string(body)}}, args, "", prefix);
  RequestLines out{std::move(ex.result), {}};
  for (const auto& request : ex.requests) {
    out.requests.push_back(request.method + " " + request.target);
  }
  return out;
}

// ---- routes ---------------------------------------------------------------------------------

TEST(CtlRoutes, PrintsOneRowPerRouteWithItsState) {
  auto ex = exchange(200, kRoutes, {"routes"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.err, "");
  EXPECT_EQ(
      ex.result.out,
      "PREFIX          SPOKE   TUNNEL  AS-PATH      MED  NEXT-HOPS                  STATE\n"
      "10.1.0.0/16     prod-a  1       64512        -    169.254.20.1               selected\n"
      "10.1.0.0/16     prod-a  2       64512 64999  50   169.254.21.1\n"
      "10.2.99.0/24    prod-a  1       64512        -    169.254.20.1               filtered\n"
      "192.168.0.0/24  site-b  -       -            -    169.254.30.2,169.254.31.2  selected\n");
}

TEST(CtlRoutes, AsksForAllRoutesWithoutAQuery) {
  auto ex = exchange(200, kRoutes, {"routes"});
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/routes"});
}

TEST(CtlRoutes, SendsTheSpokeAndFilteredTrue) {
  auto ex = exchange(200, R"({"routes":[]})", {"routes", "--spoke", "prod-a", "--filtered"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/routes?spoke=prod-a&filtered=true"});
}

TEST(CtlRoutes, AcceptedSendsFilteredFalse) {
  auto ex = exchange(200, R"({"routes":[]})", {"routes", "--accepted"});
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/routes?filtered=false"});
}

TEST(CtlRoutes, PercentEncodesTheSpoke) {
  auto ex = exchange(200, R"({"routes":[]})", {"routes", "--spoke", "a b&c=d?"});
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/routes?spoke=a%20b%26c%3Dd%3F"});
}

TEST(CtlRoutes, KeepsTheServersPathPrefixBeforeTheQuery) {
  auto ex = exchange(200, R"({"routes":[]})", {"routes", "--spoke", "prod-a"}, "/api/");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /api/v1/routes?spoke=prod-a"});
}

TEST(CtlRoutes, FilteredAndAcceptedTogetherIsAUsageError) {
  auto result = run({"--server", "http://127.0.0.1:1", "routes", "--filtered", "--accepted"});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("excludes"), std::string::npos) << result.err;
}

TEST(CtlRoutes, SaysSoWhenThereAreNone) {
  auto ex = exchange(200, R"({"routes":[]})", {"routes"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, "No routes.\n");
}

TEST(CtlRoutes, UnknownSpokeExitsOneWithTheServersMessage) {
  auto ex = exchange(404, kNoSuchSpoke, {"routes", "--spoke", "nope"});
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err, "error: no spoke named nope\n");
  EXPECT_EQ(ex.result.out, "");
}

TEST(CtlRoutes, BadQueryValueShowsTheField) {
  auto ex = exchange(
      422, R"({"error":{"code":"invalid_field","message":"is not a spoke name","field":"spoke"}})",
      {"routes", "--spoke", "Not_A_Name"});
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err, "error: is not a spoke name (field: spoke)\n");
}

TEST(CtlRoutes, JsonPrintsTheServersBodyAsIs) {
  auto ex = exchange(200, kRoutes, {"--json", "routes", "--spoke", "prod-a"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, std::string(kRoutes) + "\n");
}

TEST(CtlRoutes, JsonAfterTheSubcommandWorksToo) {
  auto ex = exchange(200, kRoutes, {"routes", "--filtered", "--json"});
  EXPECT_EQ(ex.result.out, std::string(kRoutes) + "\n");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/routes?filtered=true"});
}

TEST(CtlRoutes, ABodyWithoutRoutesIsNotTheApisExitThree) {
  auto ex = exchange(200, R"({"spokes":[]})", {"routes"});
  EXPECT_EQ(ex.result.code, 3);
  EXPECT_NE(ex.result.err.find("no \"routes\" list"), std::string::npos) << ex.result.err;
}

// ---- conflicts ------------------------------------------------------------------------------

TEST(CtlConflicts, PrintsWhoAnnouncedWhatOverWhichTunnels) {
  auto ex = exchange(200, kConflicts, {"conflicts"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out,
            "PREFIX        ANNOUNCED-BY  TUNNELS  OVERLAPS            RESOLUTION\n"
            "10.1.99.0/24  prod-b        1,2      prod-a 10.1.0.0/16  refused: inside prod-a's "
            "declared CIDR 10.1.0.0/16; prod-a's routes are used\n");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/conflicts"});
}

TEST(CtlConflicts, SaysSoWhenThereAreNone) {
  auto ex = exchange(200, R"({"conflicts":[]})", {"conflicts"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, "No conflicts.\n");
}

TEST(CtlConflicts, JsonPrintsTheServersBodyAsIs) {
  auto ex = exchange(200, kConflicts, {"--json", "conflicts"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, std::string(kConflicts) + "\n");
}

// ---- audit ----------------------------------------------------------------------------------

constexpr std::string_view kAudit =
    R"({"records":[{"id":"7","at":"2026-12-08T01:02:03.456Z","hub":"hub-a","actor":"ops",)"
    R"("request_id":"deploy-42","action":"replace","spoke":"prod-a","generation":2,"revision":9,)"
    R"("changes":[{"field":"cidrs[0]","before":"10.1.0.0/16","after":"10.2.0.0/16"},)"
    R"({"field":"tunnels[0].psk","secret":true}]}],"next":"7",)"
    R"("retention":{"days":365,"max_records":100000}})";

TEST(CtlAudit, PrintsWhoChangedWhatAndHowToGetTheNextPage) {
  auto ex = exchange(200, kAudit, {"audit", "--spoke", "prod-a", "--limit", "1"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out,
            "TIME                      HUB    ACTOR  ACTION   SPOKE   GEN  REQUEST    CHANGED\n"
            "2026-12-08T01:02:03.456Z  hub-a  ops    replace  prod-a  2    deploy-42  "
            "cidrs[0],tunnels[0].psk(secret)\n"
            "More: repeat the command with --cursor 7\n");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/audit?spoke=prod-a&limit=1"});
}

TEST(CtlAudit, SaysSoWhenNothingIsRecordedAndRefusesABadLimit) {
  auto ex = exchange(200, R"({"records":[],"next":null,"retention":{"days":1,"max_records":100}})",
                     {"audit"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, "No changes recorded.\n");
  auto bad = exchange(200, kAudit, {"audit", "--limit", "0"});
  EXPECT_EQ(bad.result.code, 2);
  EXPECT_TRUE(bad.requests.empty());
}

// ---- spoke exports --------------------------------------------------------------------------

TEST(CtlExports, PrintsThePlanWarningsAndWhatEachSummaryCovers) {
  auto ex = exchange(200, kExports, {"spoke", "exports", "prod-a"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.err, "");
  EXPECT_EQ(ex.result.out,
            "spoke: prod-a\n"
            "limit: 2\n"
            "must reach: 3\n"
            "sent: 2\n"
            "summarized: yes\n"
            "within limit: yes\n"
            "wasted addresses: 512\n"
            "pending: no\n"
            "warning: 3 prefixes summarised into 2 to stay within the export limit of 2; "
            "512 addresses covered that no spoke routes\n"
            "\n"
            "PREFIX         COVERS  COVERED PREFIXES\n"
            "10.2.0.0/22    2       10.2.0.0/24, 10.2.3.0/24\n"
            "172.16.1.0/24  1\n");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/spokes/prod-a/exports"});
}

// A summary of `count` /24s under 10.0.0.0/8.
std::string exportsWithOneSummary(std::size_t count) {
  json::array covers;
  for (std::size_t i = 0; i < count; ++i) {
    covers.emplace_back("10.0." + std::to_string(i) + ".0/24");
  }
  json::array prefixes{json::object{{"prefix", "10.0.0.0/8"}, {"covers", std::move(covers)}}};
  return json::serialize(json::object{{"spoke", "prod-a"},
                                      {"pending", false},
                                      {"limit", 1},
                                      {"must_reach", count},
                                      {"summarized", true},
                                      {"within_limit", true},
                                      {"wasted_addresses", 0},
                                      {"prefixes", std::move(prefixes)},
                                      {"warnings", json::array{}}});
}

TEST(CtlExports, ListsEightCoveredPrefixesInFull) {
  auto ex = exchange(200, exportsWithOneSummary(8), {"spoke", "exports", "prod-a"});
  EXPECT_NE(ex.result.out.find("10.0.0.0/8  8       10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, "
                               "10.0.3.0/24, 10.0.4.0/24, 10.0.5.0/24, 10.0.6.0/24, "
                               "10.0.7.0/24\n"),
            std::string::npos)
      << ex.result.out;
  EXPECT_EQ(ex.result.out.find("more"), std::string::npos);
}

TEST(CtlExports, TruncatesTheCoveredPrefixesAfterEight) {
  auto ex = exchange(200, exportsWithOneSummary(11), {"spoke", "exports", "prod-a"});
  EXPECT_NE(ex.result.out.find("10.0.0.0/8  11      10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, "
                               "10.0.3.0/24, 10.0.4.0/24, 10.0.5.0/24, 10.0.6.0/24, "
                               "10.0.7.0/24, ... (3 more)\n"),
            std::string::npos)
      << ex.result.out;
}

TEST(CtlExports, SaysWhenNoPassHasPlannedTheSpoke) {
  auto ex = exchange(200,
                     R"({"spoke":"prod-a","pending":true,"limit":100,"must_reach":0,)"
                     R"("summarized":false,"within_limit":true,"wasted_addresses":0,)"
                     R"("prefixes":[],"warnings":[]})",
                     {"spoke", "exports", "prod-a"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_NE(ex.result.out.find("sent: 0\n"), std::string::npos);
  EXPECT_NE(ex.result.out.find("pending: yes\n"), std::string::npos);
  EXPECT_NE(
      ex.result.out.find("\nNo prefixes yet: no reconciliation pass has planned this spoke.\n"),
      std::string::npos)
      << ex.result.out;
  EXPECT_EQ(ex.result.out.find("PREFIX"), std::string::npos);
}

TEST(CtlExports, UnknownSpokeExitsOneWithTheServersMessage) {
  auto ex = exchange(404, kNoSuchSpoke, {"spoke", "exports", "nope"});
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err, "error: no spoke named nope\n");
  EXPECT_EQ(ex.result.out, "");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/spokes/nope/exports"});
}

TEST(CtlExports, RoutingViewNotAvailableExitsOne) {
  auto ex = exchange(
      503,
      R"({"error":{"code":"unavailable","message":"the routing view is not available yet: )"
      R"(no reconciler reports to this API"}})",
      {"spoke", "exports", "prod-a"});
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err,
            "error: the routing view is not available yet: no reconciler reports to this API\n");
}

TEST(CtlExports, JsonPrintsTheServersBodyAsIs) {
  auto ex = exchange(200, kExports, {"--json", "spoke", "exports", "prod-a"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, std::string(kExports) + "\n");
}

TEST(CtlExports, ControlCharactersInAWarningCannotReachTheTerminal) {
  auto ex = exchange(200,
                     R"({"spoke":"prod-a","pending":false,"limit":2,"must_reach":1,)"
                     R"("summarized":false,"within_limit":true,"wasted_addresses":0,)"
                     R"("prefixes":[],"warnings":["bad\u001b[2Jnews"]})",
                     {"spoke", "exports", "prod-a"});
  EXPECT_NE(ex.result.out.find("warning: bad?[2Jnews\n"), std::string::npos) << ex.result.out;
}

// ---- spoke static-routes --------------------------------------------------------------------

TEST(CtlStaticRoutes, PrintsACommentThenOnePrefixPerLine) {
  auto ex = exchange(200, kStaticRoutes, {"spoke", "static-routes", "site-b"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.err, "");
  EXPECT_EQ(ex.result.out,
            "# 2 routes to enter on the AWS side of site-b's VPN connection (limit 50)\n"
            "10.1.0.0/16\n"
            "10.2.0.0/16\n");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/spokes/site-b/static-routes"});
}

TEST(CtlStaticRoutes, PrintsWarningsAsComments) {
  auto ex = exchange(200,
                     R"({"spoke":"site-b","pending":false,"limit":1,"routes":[)"
                     R"({"prefix":"10.0.0.0/14","covers":["10.1.0.0/16","10.2.0.0/16"]}],)"
                     R"("summarized":true,"warnings":["2 prefixes summarised into 1 to stay )"
                     R"(within the export limit of 1; 131072 addresses covered that no spoke )"
                     R"(routes"]})",
                     {"spoke", "static-routes", "site-b"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out,
            "# 1 route to enter on the AWS side of site-b's VPN connection (limit 1)\n"
            "# warning: 2 prefixes summarised into 1 to stay within the export limit of 1; "
            "131072 addresses covered that no spoke routes\n"
            "10.0.0.0/14\n");
}

TEST(CtlStaticRoutes, SaysWhenNoPassHasPlannedTheSpoke) {
  auto ex =
      exchange(200,
               R"({"spoke":"site-b","pending":true,"limit":50,"routes":[],"summarized":false,)"
               R"("warnings":[]})",
               {"spoke", "static-routes", "site-b"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out,
            "# 0 routes to enter on the AWS side of site-b's VPN connection (limit 50)\n"
            "# pending: no reconciliation pass has planned site-b yet\n");
}

TEST(CtlStaticRoutes, BgpSpokeIsAConflictExitOne) {
  auto ex = exchange(409,
                     R"({"error":{"code":"conflict","message":"prod-a uses BGP: its routes are )"
                     R"(exchanged over BGP; what it is sent is at /v1/spokes/prod-a/exports"}})",
                     {"spoke", "static-routes", "prod-a"});
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err,
            "error: prod-a uses BGP: its routes are exchanged over BGP; what it is sent is at "
            "/v1/spokes/prod-a/exports\n");
  EXPECT_EQ(ex.result.out, "");
}

TEST(CtlStaticRoutes, UnknownSpokeExitsOneWithTheServersMessage) {
  auto ex = exchange(404, kNoSuchSpoke, {"spoke", "static-routes", "nope"});
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err, "error: no spoke named nope\n");
  EXPECT_EQ(ex.requests, std::vector<std::string>{"GET /v1/spokes/nope/static-routes"});
}

TEST(CtlStaticRoutes, JsonPrintsTheServersBodyAsIs) {
  auto ex = exchange(200, kStaticRoutes, {"spoke", "static-routes", "site-b", "--json"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, std::string(kStaticRoutes) + "\n");
}

TEST(CtlStaticRoutes, NeedsAName) {
  EXPECT_EQ(run({"--server", "http://127.0.0.1:1", "spoke", "static-routes"}).code, 2);
}

// ---- help -----------------------------------------------------------------------------------

TEST(CtlRoutingHelp, ListsTheRoutingCommands) {
  auto top = run({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("routes"), std::string::npos);
  EXPECT_NE(top.out.find("conflicts"), std::string::npos);
  auto spoke = run({"spoke", "--help"});
  EXPECT_EQ(spoke.code, 0);
  EXPECT_NE(spoke.out.find("exports"), std::string::npos);
  EXPECT_NE(spoke.out.find("static-routes"), std::string::npos);
}

TEST(CtlRoutingHelp, EachRoutingCommandSaysWhatItShowsAndForWhom) {
  const std::vector<std::vector<std::string>> commands = {{"routes", "--help"},
                                                          {"conflicts", "--help"},
                                                          {"spoke", "exports", "--help"},
                                                          {"spoke", "static-routes", "--help"}};
  for (const auto& command : commands) {
    auto help = run(command);
    EXPECT_EQ(help.code, 0) << command.front();
    EXPECT_NE(help.out.find("For "), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("GET /v1/"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("Exit codes:"), std::string::npos) << help.out;
  }
}

}  // namespace
}  // namespace transit::ctl
