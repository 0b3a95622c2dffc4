// The BIRD renderer's part for the HA pair: the iBGP session with the other hub, BFD, and the
// sessions of sites that ask for BFD. bird_render_tool_test.cpp parses the same spec with
// `bird -p`; bird_pair_tool_test.cpp runs it on two real BIRDs.
#include "tests/routing/bird/bird_render_fixtures.hpp"

namespace transit::routing {
namespace {

std::string render(const RoutingSpec& spec) {
  auto text = renderInclude(spec, labOptions());
  EXPECT_TRUE(text.has_value()) << text.error().message;
  return text.value_or("");
}

// The text of `protocol KIND NAME { ... }` up to its closing line.
std::string block(const std::string& text, const std::string& head) {
  const auto at = text.find(head + " {\n");
  if (at == std::string::npos) return {};
  return text.substr(at, text.find("\n}\n", at) + 2 - at);
}

std::string refusal(const RoutingSpec& spec) {
  auto text = renderInclude(spec, labOptions());
  EXPECT_FALSE(text.has_value());
  return text ? "" : text.error().message;
}

TEST(BirdRenderPair, ThePairIsIbgpOverTheLinkWithNextHopSelfAndBfd) {
  const auto pair = block(render(pairSpec()), "protocol bgp th_pair");
  ASSERT_NE(pair, "");
  EXPECT_NE(pair.find("  local 169.254.253.253 as 65000;\n"), std::string::npos) << pair;
  EXPECT_NE(pair.find("  neighbor 169.254.253.254 as 65000;"), std::string::npos) << pair;
  EXPECT_NE(pair.find("  direct;"), std::string::npos) << pair;
  EXPECT_NE(pair.find("    next hop self;"), std::string::npos) << pair;
  EXPECT_NE(pair.find("    gateway direct;"), std::string::npos) << pair;
  EXPECT_NE(pair.find("  bfd on;"), std::string::npos) << pair;
  EXPECT_NE(pair.find("  hold time 9;\n  keepalive time 3;\n"), std::string::npos) << pair;
}

TEST(BirdRenderPair, ImportTakesOnlyRoutesOfKnownSpokesAndNeverTheOtherHubsSummaries) {
  const auto pair = block(render(pairSpec()), "protocol bgp th_pair");
  EXPECT_NE(pair.find("if ! (bgp_large_community ~ [(65000, 2, *)]) then reject;"),
            std::string::npos)
      << pair;
  EXPECT_NE(pair.find("if (65000, 3, 0) ~ bgp_large_community then reject;"), std::string::npos);
  EXPECT_NE(pair.find("else: reject;"), std::string::npos) << pair;
}

TEST(BirdRenderPair, ImportReplacesTheSegmentTagWithThisHubsIdForTheSpokesSegment) {
  // default 1 (tags 1-4), dev 2 (tag 5): one case on the spoke tag, ranges for runs.
  const auto pair = block(render(pairSpec()), "protocol bgp th_pair");
  EXPECT_NE(pair.find("bgp_large_community.delete([(65000, 1, *)]);"), std::string::npos) << pair;
  EXPECT_NE(pair.find("case filter(bgp_large_community, [(65000, 2, *)]).min.data2 {"),
            std::string::npos)
      << pair;
  EXPECT_NE(pair.find("1..4: bgp_large_community.add((65000, 1, 1));  # segment default"),
            std::string::npos)
      << pair;
  EXPECT_NE(pair.find("5: bgp_large_community.add((65000, 1, 2));  # segment dev"),
            std::string::npos)
      << pair;
}

TEST(BirdRenderPair, ASegmentOnlyASpokeOfTheOtherHubHasStillGetsANumber) {
  const auto text = render(pairSpec());
  EXPECT_NE(text.find("#     2 dev\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#     5 dev-d\n"), std::string::npos) << text;
}

TEST(BirdRenderPair, TagsThatAreNotConsecutiveAreListed) {
  auto spec = pairSpec();
  spec.peer_hub->spokes.emplace(9, PeerHubSpec::Spoke{"vpc-i", "default"});
  spec.peer_hub->spokes.emplace(11, PeerHubSpec::Spoke{"vpc-k", "default"});
  spec.peer_hub->spokes.emplace(12, PeerHubSpec::Spoke{"vpc-l", "default"});
  const auto pair = block(render(spec), "protocol bgp th_pair");
  EXPECT_NE(pair.find("1..4, 9, 11..12: bgp_large_community.add((65000, 1, 1));"),
            std::string::npos)
      << pair;
}

TEST(BirdRenderPair, WithNoSpokeInTheRegistryEverythingFromTheOtherHubIsRefused) {
  auto spec = pairSpec();
  spec.peer_hub->spokes.clear();
  const auto pair = block(render(spec), "protocol bgp th_pair");
  EXPECT_EQ(pair.find("case "), std::string::npos) << pair;
  EXPECT_NE(pair.find("reject;  # no spoke in the registry"), std::string::npos) << pair;
}

TEST(BirdRenderPair, TheOtherHubsCopyOfARouteRanksBelowThisHubsOwnSessions) {
  const auto pair = block(render(pairSpec()), "protocol bgp th_pair");
  EXPECT_NE(pair.find("bgp_local_pref = 50;"), std::string::npos) << pair;
}

TEST(BirdRenderPair, ExportSendsOnlySpokeRoutesNeverSummariesNorWhatCameFromTheOtherHub) {
  const auto pair = block(render(pairSpec()), "protocol bgp th_pair");
  const auto out = pair.substr(pair.find("export filter {"));
  EXPECT_NE(out.find("if proto = \"th_pair\" then reject;"), std::string::npos) << out;
  EXPECT_NE(out.find("if (65000, 3, 0) ~ bgp_large_community then reject;"), std::string::npos);
  EXPECT_NE(out.find("if ! (bgp_large_community ~ [(65000, 2, *)]) then reject;"),
            std::string::npos);
  // The tags go along: the other hub reads the spoke tag.
  EXPECT_EQ(out.find("bgp_large_community.delete"), std::string::npos) << out;
}

TEST(BirdRenderPair, BfdRunsOnTheLinkWithTheConfiguredTimersAndOnSitesThatAskForIt) {
  auto spec = pairSpec();
  spec.peer_hub->bfd_interval_ms = 250;
  spec.peer_hub->bfd_multiplier = 4;
  const auto text = render(spec);
  const auto bfd = block(text, "protocol bfd th_bfd");
  EXPECT_NE(bfd.find("  interface \"th-pair\" {  # the link to hub hub-b\n"
                     "    min rx interval 250 ms;\n"
                     "    min tx interval 250 ms;\n"
                     "    multiplier 4;\n"),
            std::string::npos)
      << bfd;
  // The link's pattern comes before the catch-all for sites' tunnels (BIRD takes the first).
  EXPECT_LT(bfd.find("\"th-pair\""), bfd.find("\"*\"")) << bfd;
  EXPECT_NE(block(text, "protocol bgp th_site_1_1").find("  bfd on;"), std::string::npos);
  EXPECT_EQ(block(text, "protocol bgp th_vpc_a_1").find("bfd"), std::string::npos);
}

TEST(BirdRenderPair, ASiteWithBfdOnASingleHubGetsTheBfdProtocolWithoutALink) {
  auto spec = labSpec();
  spec.sessions[0].bfd = true;
  const auto bfd = block(render(spec), "protocol bfd th_bfd");
  ASSERT_NE(bfd, "");
  EXPECT_EQ(bfd.find("th-pair"), std::string::npos) << bfd;
}

TEST(BirdRenderPair, NoPairAndNoBfdMeansNoBfdProtocolAndNoIbgp) {
  const auto text = render(labSpec());
  EXPECT_EQ(text.find("protocol bfd"), std::string::npos);
  EXPECT_EQ(text.find("bfd on"), std::string::npos);
  EXPECT_EQ(text.find("th_pair"), std::string::npos);
}

TEST(BirdRenderPair, TheOtherHubsSpokesNameTheirRoutesByTag) {
  const auto ids = spokeTagIds(pairSpec());
  EXPECT_EQ(ids.at(5), "dev-d");  // no session or static here
  EXPECT_EQ(ids.at(1), "vpc-a");
}

TEST(BirdRenderPair, BadPairValuesAreRefusedWithTheReason) {
  auto spec = pairSpec();
  spec.peer_hub->interface = "th-pair\" ; x";
  EXPECT_NE(refusal(spec).find("link device"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->neighbor_address = spec.peer_hub->local_address;
  EXPECT_NE(refusal(spec).find("must differ"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->keepalive = 4;  // more than hold / 3
  EXPECT_NE(refusal(spec).find("keepalive"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->bfd_multiplier = 1;
  EXPECT_NE(refusal(spec).find("BFD"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->name = "th_bfd";
  EXPECT_NE(refusal(spec).find("reserved for the hub's BFD protocol"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->name = "th_vpc_a_1";
  EXPECT_NE(refusal(spec).find("duplicate protocol name"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->spokes.at(1).name = "vpc-z";  // tag 1 is vpc-a's here
  EXPECT_NE(refusal(spec).find("route tag 1"), std::string::npos);
  spec = pairSpec();
  spec.peer_hub->spokes.at(5).segment = "Dev";
  EXPECT_NE(refusal(spec).find("segment 'Dev'"), std::string::npos);
}

}  // namespace
}  // namespace transit::routing
