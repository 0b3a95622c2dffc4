// parseShowRouteAll() on replies recorded from a real BIRD 2.0.12 (tests/data/bird/routes-*.txt,
// see routes-lab.txt) and on synthetic replies for what the lab cannot produce on demand.
#include "routing/bird/bird_routes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "routing/bird/bird_render.hpp"
#include "tests/fakes/fake_bird_server.hpp"

namespace transit::routing {
namespace {

const std::string kMainQuery = "show route all where proto ~ \"th_*\"";
const std::string kFilteredQuery = "show route filtered all where proto ~ \"th_*\"";

std::string dataFile(const std::string& name) {
  return std::string(TRANSIT_BIRD_DATA_DIR) + "/" + name;
}

BirdReply frame(const std::string& bytes) {
  BirdReplyReader reader;
  reader.feed(bytes);
  BirdReply reply;
  EXPECT_EQ(reader.next(reply), BirdReplyReader::Status::kReply);
  return reply;
}

// The reply to `command` in a recorded transcript, framed.
BirdReply replyFor(const std::string& file, const std::string& command) {
  const auto transcript = fakes::loadTranscript(dataFile(file));
  for (const auto& exchange : transcript.exchanges) {
    if (exchange.command == command) return frame(exchange.reply);
  }
  ADD_FAILURE() << "no '" << command << "' in " << file;
  return {};
}

BirdRoutes parsed(const BirdReply& reply, bool filtered = false) {
  auto routes = parseShowRouteAll(reply, filtered);
  EXPECT_TRUE(routes.has_value()) << routes.error();
  return routes ? std::move(*routes) : BirdRoutes{};
}

Ipv4Prefix prefix(std::string_view text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

// The route of `protocol` for `text`; fails the test when there is not exactly one.
ObservedRoute routeOf(const BirdRoutes& routes, std::string_view text, std::string_view protocol) {
  std::vector<ObservedRoute> found;
  for (const auto& route : routes.routes) {
    if (route.prefix == prefix(text) && route.protocol == protocol) found.push_back(route);
  }
  EXPECT_EQ(found.size(), 1u) << text << " " << protocol;
  return found.empty() ? ObservedRoute{} : found.front();
}

TEST(BirdRoutes, BgpRouteHasEveryField) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  ObservedRoute expected;
  expected.prefix = prefix("10.1.1.0/24");
  expected.protocol = "th_vpc_a_1";
  expected.primary = true;
  expected.as_path = {64512, 64998, 64999};
  expected.med = 50;
  expected.next_hops = {ip("169.254.30.2")};
  expected.large_communities = {{64512, 1, 2}};
  EXPECT_EQ(routeOf(routes, "10.1.1.0/24", "th_vpc_a_1"), expected);
}

TEST(BirdRoutes, LargeCommunitiesAreReadFromTheRecordedReply) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  EXPECT_EQ(routeOf(routes, "10.1.0.0/16", "th_vpc_a_1").large_communities,
            (std::vector<LargeCommunity>{{64512, 1, 2}}));
  EXPECT_TRUE(routeOf(routes, "10.1.0.0/16", "th_vpc_a_2").large_communities.empty());
  // Filtered routes keep what they arrived with.
  const auto refused = parsed(replyFor("routes-hub.txt", kFilteredQuery), true);
  EXPECT_EQ(routeOf(refused, "10.99.0.0/16", "th_vpc_a_1").large_communities,
            (std::vector<LargeCommunity>{{64512, 1, 2}}));
}

// The hub's own tags, as its import filter stamps them (the recorded lab runs a hand-written
// hub configuration without them; the line's format is the one recorded above).
TEST(BirdRoutes, TheHubsSegmentAndSpokeTagsAreRead) {
  const auto reply = frame(
      "1007-Table master4:\n"
      " 10.2.0.0/16          unicast [th_ibgp_hub_b 2026-11-26 09:30:05] * (100) [i]\n"
      " \tvia 10.0.1.20 on ens5\n"
      "1008-\tType: BGP univ\n"
      "1012-\tBGP.origin: IGP\n"
      " \tBGP.as_path: \n"
      " \tBGP.large_community: (64512, 1, 2) (65000, 1, 1) (65000, 2, 3)\n"
      "0000 \n");
  const auto routes = parsed(reply);
  ASSERT_EQ(routes.routes.size(), 1u);
  EXPECT_EQ(routes.routes[0].large_communities,
            (std::vector<LargeCommunity>{{64512, 1, 2}, {65000, 1, 1}, {65000, 2, 3}}));
}

TEST(BirdRoutes, AMalformedLargeCommunitySkipsTheRoute) {
  for (const std::string bad : {"(65000, 2)", "(65000, 2, x)", "65000, 2, 3", "(65000, 2, 3",
                                "(65000, 2, 3, 4)", "(65000, 2, 4294967296)"}) {
    const auto reply = frame(
        "1007-Table master4:\n"
        " 10.2.0.0/16          unicast [th_a 2026-11-26 09:30:05] * (100) [i]\n"
        "1012-\tBGP.large_community: " +
        bad +
        "\n"
        "0000 \n");
    const auto routes = parsed(reply);
    EXPECT_EQ(routes.skipped, 1u) << bad;
    EXPECT_TRUE(routes.routes.empty()) << bad;
  }
}

TEST(BirdRoutes, FurtherRouteOfAPrefixIsNotPrimary) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  const auto backup = routeOf(routes, "10.1.1.0/24", "th_vpc_a_2");
  EXPECT_FALSE(backup.primary);
  EXPECT_EQ(backup.as_path, (std::vector<std::uint32_t>{64512, 64512, 64512}));
  EXPECT_EQ(backup.med, 200u);
  EXPECT_EQ(backup.next_hops, std::vector<Ipv4Address>{ip("169.254.30.6")});
}

TEST(BirdRoutes, EveryRouteOfTheReplyInBirdsOrder) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  EXPECT_EQ(routes.skipped, 0u);
  ASSERT_EQ(routes.routes.size(), 15u);
  EXPECT_EQ(routes.routes.front().prefix, prefix("10.65.0.0/16"));  // first, after the heading
  EXPECT_EQ(routes.routes.back().prefix, prefix("10.64.0.0/16"));
  // 10.1.0.0/16: the BGP route, the hub's summary and the backup, under one printed prefix.
  EXPECT_TRUE(routeOf(routes, "10.1.0.0/16", "th_vpc_a_1").primary);
  EXPECT_FALSE(routeOf(routes, "10.1.0.0/16", "th_summaries").primary);
  EXPECT_FALSE(routeOf(routes, "10.1.0.0/16", "th_vpc_a_2").primary);
}

TEST(BirdRoutes, MultipathStaticHasEveryNextHop) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  const auto ecmp = routeOf(routes, "10.60.0.0/16", "th_s_site1");
  EXPECT_TRUE(ecmp.primary);
  EXPECT_EQ(ecmp.next_hops, (std::vector<Ipv4Address>{ip("169.254.30.2"), ip("169.254.30.6")}));
  EXPECT_TRUE(ecmp.as_path.empty());
  EXPECT_FALSE(ecmp.med.has_value());
}

TEST(BirdRoutes, WeightedNextHopsKeepTheirGateways) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  EXPECT_EQ(routeOf(routes, "10.63.0.0/16", "th_s_site1").next_hops,
            (std::vector<Ipv4Address>{ip("169.254.30.2"), ip("169.254.30.6")}));
}

TEST(BirdRoutes, UnreachableBlackholeAndProhibitHaveNoNextHop) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  for (const auto* text : {"10.64.0.0/16", "10.61.0.0/16", "10.65.0.0/16"}) {
    const auto route = routeOf(routes, text, "th_s_site2");
    EXPECT_TRUE(route.primary) << text;
    EXPECT_TRUE(route.next_hops.empty()) << text;
  }
}

TEST(BirdRoutes, DeviceRouteHasNoGateway) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  EXPECT_TRUE(routeOf(routes, "10.66.0.0/16", "th_s_site1").next_hops.empty());
}

TEST(BirdRoutes, IbgpRouteHasAnEmptyAsPath) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  const auto route = routeOf(routes, "10.2.0.0/16", "th_vpc_i_1");
  EXPECT_TRUE(route.as_path.empty());
  EXPECT_FALSE(route.med.has_value());
  EXPECT_EQ(route.next_hops, std::vector<Ipv4Address>{ip("169.254.30.10")});
}

TEST(BirdRoutes, AsSetKeepsItsAsnsWithoutBrackets) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  const auto route = routeOf(routes, "10.2.0.0/22", "th_vpc_f_1");  // "64700 {65101 65102 65103}"
  EXPECT_EQ(route.as_path, (std::vector<std::uint32_t>{64700, 65101, 65102, 65103}));
  EXPECT_EQ(route.med, 0u);
}

TEST(BirdRoutes, FilteredRoutesAreMarkedAndNeverPrimary) {
  const auto routes = parsed(replyFor("routes-hub.txt", kFilteredQuery), true);
  ASSERT_EQ(routes.routes.size(), 2u);
  for (const auto& route : routes.routes) {
    EXPECT_EQ(route.prefix, prefix("10.99.0.0/16"));
    EXPECT_TRUE(route.filtered);
    EXPECT_FALSE(route.primary) << route.protocol;  // BIRD prints "*" on the first one
  }
  const auto a1 = routeOf(routes, "10.99.0.0/16", "th_vpc_a_1");
  EXPECT_EQ(a1.as_path, std::vector<std::uint32_t>{64512});
  EXPECT_EQ(a1.med, 50u);
}

TEST(BirdRoutes, RoutesOfTheMainQueryAreNotFiltered) {
  const auto routes = parsed(replyFor("routes-hub.txt", kMainQuery));
  EXPECT_TRUE(std::none_of(routes.routes.begin(), routes.routes.end(),
                           [](const ObservedRoute& route) { return route.filtered; }));
}

TEST(BirdRoutes, NoMatchingRouteIsAnEmptyList) {
  const auto routes =
      parsed(replyFor("routes-hub.txt", "show route all where proto ~ \"nomatch*\""));
  EXPECT_TRUE(routes.routes.empty());
  EXPECT_EQ(routes.skipped, 0u);
}

TEST(BirdRoutes, ParseErrorReplyFails) {
  const auto routes =
      parseShowRouteAll(replyFor("routes-hub.txt", "show route all protocol \"th_*\""), false);
  ASSERT_FALSE(routes.has_value());
  EXPECT_NE(routes.error().find("9001"), std::string::npos);
}

TEST(BirdRoutes, Ipv6RoutesAreSkippedAndCounted) {
  const auto routes = parsed(replyFor("routes-table.txt", "show route all"));
  EXPECT_EQ(routes.skipped, 1u);  // 2001:db8::/32 in "Table master6:"
  EXPECT_EQ(routes.routes.size(), 16u);
  EXPECT_EQ(routeOf(routes, "192.0.2.0/24", "other_static").next_hops.size(), 0u);
}

TEST(BirdRoutes, OneTokenTimeFormatIsRead) {
  // "[s_static 09:30:01.281]": the default timeformat.
  const auto routes = parsed(replyFor("routes-spoke.txt", "show route all"));
  ASSERT_EQ(routes.routes.size(), 4u);
  for (const auto& route : routes.routes) {
    EXPECT_EQ(route.protocol, "s_static");
    EXPECT_TRUE(route.primary);
  }
}

TEST(BirdRoutes, UnparsableEntriesAreSkippedAndCounted) {
  const auto reply = frame(
      "1007-Table master4:\n"
      " 10.1.0.0/16          unicast [th_a 2026-11-26 09:30:05] * (100) [AS64512i]\n"
      " \tvia 169.254.30.2 on h1\n"
      "1012-\tBGP.as_path: 64512\n"
      "1007-10.1.0.0/33          unicast [th_b 2026-11-26 09:30:05] * (100)\n"  // bad prefix
      " \tvia 169.254.30.6 on h2\n"
      "1007-10.2.0.0/16          unicast th_c 2026-11-26 09:30:05 * (100)\n"  // no [proto]
      "1007-10.3.0.0/16          unicast [th_d 2026-11-26 09:30:05] * (100)\n"
      " \tvia fe80::1 on h3\n"  // bad gateway
      "1007-10.4.0.0/16          unicast [th_e 2026-11-26 09:30:05] * (100)\n"
      " \tvia 169.254.30.2 on h1\n"
      "1012-\tBGP.as_path: 64512 AS64513\n"  // bad AS path
      " \tBGP.med: 12x\n"
      "1007-10.5.0.0/16          unicast [th_f 2026-11-26 09:30:05] * (100)\n"
      " \tvia 169.254.30.2 on h1\n"
      "1012-\tBGP.med: -1\n"  // bad MED
      "1007-10.6.0.0/16          unreachable [th_g 2026-11-26 09:30:05] * (200)\n"
      "0000 \n");
  const auto routes = parsed(reply);
  EXPECT_EQ(routes.skipped, 5u);
  ASSERT_EQ(routes.routes.size(), 2u);
  EXPECT_EQ(routes.routes[0].protocol, "th_a");
  EXPECT_EQ(routes.routes[0].as_path, std::vector<std::uint32_t>{64512});
  EXPECT_EQ(routes.routes[1].protocol, "th_g");
  EXPECT_TRUE(routes.routes[1].as_path.empty());  // nothing of a skipped entry leaks into it
  EXPECT_TRUE(routes.routes[1].next_hops.empty());
}

TEST(BirdRoutes, StrayLinesAndLineOverflowsAreCountedNotFatal) {
  const auto reply = frame(
      "1007-\tvia 169.254.30.2 on h1\n"  // a next hop before any route
      "1007-Table master4:\n"
      " 10.1.0.0/16          unicast [th_a 2026-11-26 09:30:05] * (100) [AS64512i]\n"
      " \tvia 169.254.30.2 on h1\n"
      "1012-\tBGP.as_path: 64512\n"
      "8000-<line overflow>\n"  // BIRD's CLI line limit hit by a long attribute
      "1007-10.2.0.0/16          unicast [th_a 2026-11-26 09:30:05] * (100) [AS64512i]\n"
      " \tvia 169.254.30.2 on h1\n"
      "0000 \n");
  const auto routes = parsed(reply);
  EXPECT_EQ(routes.skipped, 2u);
  EXPECT_EQ(routes.routes.size(), 2u);
}

TEST(BirdRoutes, StoppedDumpFails) {
  const auto reply = frame(
      "1007-Table master4:\n"
      " 10.1.0.0/16          unicast [th_a 2026-11-26 09:30:05] * (100) [AS64512i]\n"
      "8004 Stopped due to reconfiguration\n");
  EXPECT_FALSE(parseShowRouteAll(reply, false).has_value());
}

TEST(BirdRoutes, SelectedRouteWithAKernelSyncErrorIsPrimary) {
  const auto reply = frame(
      "1007-Table master4:\n"
      " 10.1.0.0/16          unicast [th_a 2026-11-26 09:30:05] ! (100) [AS64512i]\n"
      " \tvia 169.254.30.2 on h1\n"
      "0000 \n");
  const auto routes = parsed(reply);
  ASSERT_EQ(routes.routes.size(), 1u);
  EXPECT_TRUE(routes.routes[0].primary);
}

TEST(BirdRoutes, TruncatedAsPathKeepsItsBeginning) {
  const auto reply = frame(
      "1007-10.1.0.0/16          unicast [th_a 2026-11-26 09:30:05] * (100) [AS64512i]\n"
      " \tvia 169.254.30.2 on h1\n"
      "1012-\tBGP.as_path: 64512 64513 ...\n"
      "0000 \n");
  const auto routes = parsed(reply);
  ASSERT_EQ(routes.routes.size(), 1u);
  EXPECT_EQ(routes.routes[0].as_path, (std::vector<std::uint32_t>{64512, 64513}));
}

// What a hub with 100,000 routes answers: every route a BGP route with two next hops (the
// reply is framed the way BirdClient frames it). No timing assertion; see the report.
TEST(BirdRoutes, HundredThousandRoutes) {
  constexpr int kRoutes = 100000;
  const auto net = [](int i) {
    return fmt::format("{}.{}.{}.0/24", 10 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
  };
  std::string bytes = "1007-Table master4:\n";
  bytes.reserve(std::size_t{kRoutes} * 330);
  for (int i = 0; i < kRoutes; ++i) {
    const auto proto = fmt::format("th_vpc_{}_1", i % 50);
    bytes += fmt::format(
        "{}{:<20} unicast [{} 2026-11-26 09:30:05] * (100) [AS{}i]\n"
        " \tvia 169.254.{}.1 on th-x{} weight 1\n \tvia 169.254.{}.5 on th-y{} weight 1\n"
        "1008-\tType: BGP univ\n1012-\tBGP.origin: IGP\n \tBGP.as_path: 65000 {}\n"
        " \tBGP.next_hop: 169.254.{}.1\n \tBGP.med: {}\n \tBGP.local_pref: 100\n"
        " \tBGP.large_community: (64512, 1, 2)\n",
        i == 0 ? " " : "1007-", net(i), proto, 64512 + i % 50, i % 50, i % 50, i % 50, i % 50,
        64512 + i % 50, i % 50, i % 7);
  }
  bytes += "0000 \n";
  const auto routes = parsed(frame(bytes));
  EXPECT_EQ(routes.skipped, 0u);
  ASSERT_EQ(routes.routes.size(), std::size_t{kRoutes});
  const auto& last = routes.routes.back();
  EXPECT_EQ(last.prefix, prefix(net(kRoutes - 1)));
  EXPECT_EQ(last.protocol, fmt::format("th_vpc_{}_1", (kRoutes - 1) % 50));
  EXPECT_EQ(last.next_hops.size(), 2u);
  EXPECT_EQ(last.as_path.size(), 2u);
  EXPECT_EQ(last.med, std::uint32_t((kRoutes - 1) % 7));
}

// The spoke tags the hub reads routes by (spokeTagIds) are the ones the rendered file stamps:
// each spoke's route tag.
TEST(BirdRoutes, SpokeTagIdsAreTheOnesTheRenderedFileStamps) {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  for (const auto& [name, spoke, tag] :
       {std::tuple{"th_vpc_b_1", "vpc-b", 5U}, {"th_vpc_a_1", "vpc-a", 2U}}) {
    BgpSessionSpec session;
    session.name = name;
    session.spoke = spoke;
    session.spoke_tag = tag;
    session.local_address = ip("169.254.10.2");
    session.neighbor_address = ip("169.254.10.1");
    session.neighbor_as = 64512;
    session.accepted = {prefix("10.0.0.0/8")};
    session.export_segments = {"default"};
    spec.sessions.push_back(session);
  }
  StaticSpokeSpec site;
  site.name = "th_site_c_static";
  site.spoke = "site-c";
  site.spoke_tag = 9;
  site.cidrs = {prefix("172.16.1.0/24")};
  spec.statics.push_back(site);
  BirdOptions options;
  options.router_id = spec.router_id;
  options.include_path = "/etc/bird/transit-hub.conf";
  const auto text = renderInclude(spec, options);
  ASSERT_TRUE(text.has_value()) << text.error().message;
  const auto ids = spokeTagIds(spec);
  EXPECT_EQ(ids, (std::map<std::uint32_t, std::string>{{2, "vpc-a"}, {5, "vpc-b"}, {9, "site-c"}}));
  for (const auto& [id, spoke] : ids) {
    EXPECT_NE(text->find(fmt::format("bgp_large_community.add((65000, {}, {}));  # spoke {}\n",
                                     kSpokeTagKind, id, spoke)),
              std::string::npos)
        << id << " " << spoke;
  }
}

}  // namespace
}  // namespace transit::routing
