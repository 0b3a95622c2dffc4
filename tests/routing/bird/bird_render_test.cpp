// Tests of the BIRD renderer (unit): text against the goldens and the policy a user would notice
// in it. The real bird binary checks the same output in bird_render_tool_test.cpp.
// Re-record the goldens with TRANSIT_UPDATE_GOLDEN=1 and review the diff.
#include "tests/routing/bird/bird_render_fixtures.hpp"

namespace transit::routing {
namespace {

// The text of `protocol KIND NAME { ... }` (up to its closing brace at column 0).
std::string protocolBlock(const std::string& text, std::string_view kind, std::string_view name) {
  const auto header = "protocol " + std::string(kind) + " " + std::string(name) + " {";
  const auto begin = text.find(header);
  if (begin == std::string::npos) return {};
  const auto end = text.find("\n}\n", begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end + 3 - begin);
}

// The body of the `import filter` or `export filter` inside a session's block.
std::string filterOf(const std::string& block, std::string_view which) {
  const auto begin = block.find(std::string(which) + " filter {");
  if (begin == std::string::npos) return {};
  const auto end = block.find("\n    };\n", begin);
  return block.substr(begin, end - begin);
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string render(const RoutingSpec& spec) {
  auto text = renderInclude(spec, labOptions());
  EXPECT_TRUE(text.has_value()) << text.error().message;
  return text.value_or("");
}

void expectInvalid(const RoutingSpec& spec, std::string_view why) {
  const auto text = renderInclude(spec, labOptions());
  ASSERT_FALSE(text.has_value()) << why;
  EXPECT_EQ(text.error().kind, DriverError::Kind::kInvalid) << why;
}

// --- Goldens -----------------------------------------------------------------------------------

TEST(BirdRender, LabIncludeMatchesGolden) {
  expectGolden("golden_include_lab.conf", render(labSpec()));
}

TEST(BirdRender, PolicyIncludeMatchesGolden) {
  expectGolden("golden_include_policy.conf", render(policySpec()));
}

TEST(BirdRender, EmptySpecIncludeMatchesGolden) {
  RoutingSpec spec;
  spec.local_as = 65000;
  expectGolden("golden_include_empty.conf", render(spec));
}

TEST(BirdRender, MainConfigMatchesGolden) {
  expectGolden("golden_main.conf", renderMainConfig(labOptions()));
}

// --- 1. Tags -----------------------------------------------------------------------------------

TEST(BirdRender, TheTopOfTheFileMapsTagNumbersToSegmentsAndSpokes) {
  const auto text = render(policySpec());
  const auto table = text.substr(0, text.find("protocol "));
  EXPECT_NE(table.find("(65000, 1, N) segment N:\n#     1 dev\n#     2 prod\n#     3 shared\n"),
            std::string::npos)
      << table;
  // Spokes by their route tags, in tag order.
  EXPECT_NE(table.find("(65000, 2, N) spoke with route tag N:\n#     2 prod-c\n#     4 dev-a\n"
                       "#     7 shared-1\n#     9 prod-a\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("(65000, 3, 0) a summary"), std::string::npos);
}

TEST(BirdRender, ImportTagsEveryRouteWithItsSpokesSegmentAndRouteTag) {
  const auto import = filterOf(protocolBlock(render(policySpec()), "bgp", "th_prod_a_2"), "import");
  EXPECT_NE(import.find("bgp_large_community.add((65000, 1, 2));  # segment prod"),
            std::string::npos)
      << import;
  EXPECT_NE(import.find("bgp_large_community.add((65000, 2, 9));  # spoke prod-a"),
            std::string::npos)
      << import;
}

// A refused route is kept (import keep filtered) with what the filter did before refusing it:
// tagging first is what lets the hub name the spoke of a refused route (a conflict).
TEST(BirdRender, ImportTagsBeforeItRefusesAnything) {
  for (const auto* name : {"th_dev_a_1", "th_prod_a_1", "th_shared_1_1"}) {
    const auto import = filterOf(protocolBlock(render(policySpec()), "bgp", name), "import");
    const auto tag = import.find("bgp_large_community.add((65000, 2, ");
    ASSERT_NE(tag, std::string::npos) << import;
    const auto first_reject = import.find("reject;");
    ASSERT_NE(first_reject, std::string::npos) << import;
    EXPECT_LT(tag, first_reject) << import;
    EXPECT_LT(import.find("bgp_large_community.add((65000, 1, "), first_reject) << import;
  }
}

TEST(BirdRender, ASpokeWithoutARouteTagOrTwoSpokesWithOneAreRefused) {
  BirdOptions options = labOptions();
  auto untagged = labSpec();
  untagged.sessions[3].spoke_tag = 0;
  auto result = renderInclude(untagged, options);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DriverError::Kind::kInvalid);
  EXPECT_NE(result.error().message.find("spoke vpc-b has no route tag"), std::string::npos)
      << result.error().message;

  auto shared = labSpec();
  shared.sessions[3].spoke_tag = 3;  // site-1's
  result = renderInclude(shared, options);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("route tag 3 is both spoke site-1's and vpc-b's"),
            std::string::npos)
      << result.error().message;

  auto split = labSpec();
  split.sessions[2].spoke_tag = 5;  // vpc-a's second session
  result = renderInclude(split, options);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("spoke vpc-a has route tags 1 and 5"), std::string::npos)
      << result.error().message;
}

TEST(BirdRender, ImportRemovesTagsASpokeForgedBeforeTagging) {
  const auto import = filterOf(protocolBlock(render(policySpec()), "bgp", "th_dev_a_1"), "import");
  const auto strip = import.find("bgp_large_community.delete([(65000, *, *)]);");
  ASSERT_NE(strip, std::string::npos) << import;
  EXPECT_LT(strip, import.find("bgp_large_community.add("));
}

TEST(BirdRender, ASegmentNoRouteUsesStillGetsANumber) {
  auto spec = policySpec();
  spec.sessions[0].export_segments.push_back("audit");  // no spoke is in "audit"
  const auto text = render(spec);
  EXPECT_NE(text.find("#     1 audit\n#     2 dev\n"), std::string::npos);
  const auto dev = filterOf(protocolBlock(text, "bgp", "th_dev_a_1"), "export");
  EXPECT_NE(dev.find("[ (65000, 1, 1), (65000, 1, 2), (65000, 1, 4) ]"), std::string::npos) << dev;
}

// --- 2. Import -----------------------------------------------------------------------------------

TEST(BirdRender, ImportAcceptsOnlyTheSpokesPrefixesDownToHostRoutes) {
  const auto text = render(labSpec());
  EXPECT_NE(text.find("net ~ [ 10.1.0.0/16{16,32}, 10.11.0.0/16{16,32} ]"), std::string::npos);
  EXPECT_NE(text.find("net ~ [ 10.2.0.0/16{16,32} ]"), std::string::npos);
}

TEST(BirdRender, RefusedRoutesAreKeptForReporting) {
  const auto text = render(labSpec());
  EXPECT_EQ(count(text, "import keep filtered on;"), labSpec().sessions.size());
}

TEST(BirdRender, ImportLimitComesFromTheSpec) {
  const auto text = render(labSpec());
  EXPECT_NE(protocolBlock(text, "bgp", "th_vpc_b_1").find("import limit 50 action restart;"),
            std::string::npos);
  EXPECT_NE(protocolBlock(text, "bgp", "th_vpc_a_1").find("import limit 1000 action restart;"),
            std::string::npos);
}

// --- 3. Export -----------------------------------------------------------------------------------

TEST(BirdRender, AProdReceiverIsSentProdAndSharedButNotDev) {
  const auto text = render(policySpec());
  for (const auto* name : {"th_prod_a_1", "th_prod_a_2"}) {
    const auto out = filterOf(protocolBlock(text, "bgp", name), "export");
    EXPECT_NE(
        out.find("if ! (bgp_large_community ~ [ (65000, 1, 2), (65000, 1, 3) ]) then reject;"),
        std::string::npos)
        << out;
    EXPECT_EQ(out.find("(65000, 1, 1)"), std::string::npos) << out;  // dev
  }
}

TEST(BirdRender, ExportNeverSendsASpokeItsOwnRoutesOverEitherTunnel) {
  const auto text = render(labSpec());
  for (const auto* name : {"th_vpc_a_1", "th_vpc_a_2"}) {
    const auto out = filterOf(protocolBlock(text, "bgp", name), "export");
    // Route tags: vpc-a 1, vpc-b 2, site-1 3.
    EXPECT_NE(out.find("if (65000, 2, 1) ~ bgp_large_community then reject;"), std::string::npos)
        << out;
  }
  const auto b = filterOf(protocolBlock(text, "bgp", "th_vpc_b_1"), "export");
  EXPECT_NE(b.find("if (65000, 2, 2) ~ bgp_large_community then reject;"), std::string::npos);
}

TEST(BirdRender, SegmentReceiversAreNeverSentTheSummaries) {
  const auto out = filterOf(protocolBlock(render(policySpec()), "bgp", "th_dev_a_1"), "export");
  EXPECT_NE(out.find("if (65000, 3, 0) ~ bgp_large_community then reject;"), std::string::npos)
      << out;
}

TEST(BirdRender, AnExportOnlyReceiverIsSentExactlyItsSummaries) {
  const auto out = filterOf(protocolBlock(render(policySpec()), "bgp", "th_shared_1_1"), "export");
  EXPECT_NE(out.find("if ! (net ~ [ 10.0.0.0/8, 172.16.0.0/12 ]) then reject;"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("bgp_large_community ~ ["), std::string::npos) << out;  // not by segment
}

TEST(BirdRender, NoExportSegmentMeansTheSpokeIsSentNothing) {
  auto spec = labSpec();
  spec.sessions[0].export_segments.clear();
  const auto out = filterOf(protocolBlock(render(spec), "bgp", "th_site_1_1"), "export");
  EXPECT_NE(out.find("reject;"), std::string::npos);
  EXPECT_EQ(out.find("accept"), out.rfind("accept"));
  EXPECT_LT(out.find("reject;"), out.find("accept;"));
}

TEST(BirdRender, ExportDeletesTheReceiversAsn) {
  const auto text = render(labSpec());
  EXPECT_NE(text.find("bgp_path.delete(64512);"), std::string::npos);
  EXPECT_NE(text.find("bgp_path.delete(65010);"), std::string::npos);
}

TEST(BirdRender, PrependAndMedGoOnlyToTheSessionsThatAskForThem) {
  const auto text = render(policySpec());
  const auto prod = filterOf(protocolBlock(text, "bgp", "th_prod_a_1"), "export");
  EXPECT_EQ(count(prod, "bgp_path.prepend(65000);"), 2u) << prod;
  EXPECT_NE(prod.find("bgp_med = 50;"), std::string::npos);
  EXPECT_LT(prod.find("bgp_path.delete(64512);"), prod.find("bgp_path.prepend(65000);"));
  const auto dev = filterOf(protocolBlock(text, "bgp", "th_dev_a_1"), "export");
  EXPECT_EQ(count(dev, "bgp_path.prepend"), 0u);
  EXPECT_EQ(count(dev, "bgp_med"), 0u);
}

TEST(BirdRender, ExportedRoutesLeaveWithoutOurTags) {
  const auto text = render(policySpec());
  for (const auto* name : {"th_dev_a_1", "th_shared_1_1"}) {
    const auto out = filterOf(protocolBlock(text, "bgp", name), "export");
    const auto strip = out.find("bgp_large_community.delete([(65000, *, *)]);");
    EXPECT_NE(strip, std::string::npos) << out;
    EXPECT_LT(strip, out.find("accept;"));
  }
}

TEST(BirdRender, ExportLimitHoldsRoutesBackAndKeepsTheSession) {
  const auto text = render(policySpec());
  EXPECT_NE(protocolBlock(text, "bgp", "th_shared_1_1").find("export limit 2 action block;"),
            std::string::npos);
  EXPECT_NE(protocolBlock(text, "bgp", "th_dev_a_1").find("export limit 100 action block;"),
            std::string::npos);
}

TEST(BirdRender, EverySessionComparesMedAcrossNeighbourAses) {
  const auto text = render(policySpec());
  EXPECT_EQ(count(text, "\n  med metric on;\n"), policySpec().sessions.size());
}

TEST(BirdRender, SessionsKeepTheirTimersAndFastConnect) {
  const auto block = protocolBlock(render(labSpec()), "bgp", "th_vpc_a_1");
  for (const auto* line :
       {"local 169.254.10.2 as 65000;", "neighbor 169.254.10.1 as 64512;", "hold time 30;",
        "keepalive time 10;", "connect delay time 0;", "connect retry time 5;"}) {
    EXPECT_NE(block.find(line), std::string::npos) << line;
  }
}

// --- 4. Static spokes
// ------------------------------------------------------------------------------

TEST(BirdRender, AStaticSpokeRoutesEachCidrOverAllItsTunnels) {
  const auto block = protocolBlock(render(policySpec()), "static", "th_s_prod_c");
  EXPECT_NE(block.find("  route 10.3.0.0/16 via 169.254.40.1 via 169.254.40.5;\n"),
            std::string::npos)
      << block;
  EXPECT_NE(block.find("  route 10.33.0.0/16 via 169.254.40.1 via 169.254.40.5;\n"),
            std::string::npos);
}

TEST(BirdRender, StaticSpokeRoutesCarryTheirSegmentAndSpokeTags) {
  const auto import =
      filterOf(protocolBlock(render(policySpec()), "static", "th_s_prod_c"), "import");
  EXPECT_NE(import.find("bgp_large_community.add((65000, 1, 2));  # segment prod"),
            std::string::npos)
      << import;
  EXPECT_NE(import.find("bgp_large_community.add((65000, 2, 2));  # spoke prod-c"),
            std::string::npos);
}

TEST(BirdRender, AStaticSpokeWithOneTunnelHasOneNextHop) {
  auto spec = policySpec();
  spec.statics[0].next_hops.pop_back();
  const auto block = protocolBlock(render(spec), "static", "th_s_prod_c");
  EXPECT_NE(block.find("  route 10.3.0.0/16 via 169.254.40.1;\n"), std::string::npos) << block;
}

TEST(BirdRender, AStaticSpokeWithNoUsableTunnelHasNoRoutesButExists) {
  auto spec = policySpec();
  spec.statics[0].next_hops.clear();
  const auto block = protocolBlock(render(spec), "static", "th_s_prod_c");
  ASSERT_FALSE(block.empty());
  EXPECT_EQ(block.find("route "), std::string::npos) << block;
  EXPECT_NE(block.find("# No usable tunnel"), std::string::npos);
}

TEST(BirdRender, StaticSpokeNamesAreCheckedLikeSessionNames) {
  for (const std::string bad : {"s_prod_c", "th_s_prod-c", "th_S", "th_summaries"}) {
    auto spec = policySpec();
    spec.statics[0].name = bad;
    expectInvalid(spec, bad);
  }
  auto spec = policySpec();
  spec.statics[0].name = spec.sessions[1].name;
  expectInvalid(spec, "a static spoke named like a session");
}

// --- 5. Summaries
// ----------------------------------------------------------------------------------

TEST(BirdRender, SummariesAreUnreachableBelowEveryLearnedRouteAndTagged) {
  const auto block = protocolBlock(render(policySpec()), "static", "th_summaries");
  EXPECT_NE(block.find("    preference 10;\n"), std::string::npos) << block;
  EXPECT_NE(block.find("bgp_large_community.add((65000, 3, 0));"), std::string::npos);
  EXPECT_NE(block.find("  route 10.0.0.0/8 unreachable;\n  route 172.16.0.0/12 unreachable;\n"),
            std::string::npos);
}

TEST(BirdRender, NoSummariesNoSummaryProtocol) {
  EXPECT_EQ(render(labSpec()).find("th_summaries"), std::string::npos);
}

// --- 6. Main configuration
// ------------------------------------------------------------------------

TEST(BirdRender, KernelGetsBgpAndStaticRoutesNeverDeviceRoutes) {
  const auto main = renderMainConfig(labOptions());
  EXPECT_NE(main.find("    export where source ~ [ RTS_BGP, RTS_STATIC ];\n"), std::string::npos);
  EXPECT_NE(main.find("merge paths yes limit 8;"), std::string::npos);
  EXPECT_EQ(main.find("RTS_DEVICE"), std::string::npos);
}

// --- 7. Validation
// ----------------------------------------------------------------------------------

TEST(BirdRender, NamesOutsideTheAlphabetAreRefused) {
  for (const std::string bad : {"th_Prod", "th_prod-a_1", "th_a;b", "th_a\"", "th_a b"}) {
    auto spec = labSpec();
    spec.sessions[0].name = bad;
    expectInvalid(spec, bad);
  }
}

TEST(BirdRender, NamesWithoutTheHubPrefixAreRefused) {
  auto spec = labSpec();
  spec.sessions[0].name = "spoke1a";
  expectInvalid(spec, "no prefix");
}

TEST(BirdRender, DuplicateNamesAreRefused) {
  auto spec = labSpec();
  spec.sessions[1].name = spec.sessions[0].name;
  expectInvalid(spec, "duplicate");
}

TEST(BirdRender, SessionWithoutAcceptedPrefixesIsRefused) {
  auto spec = labSpec();
  spec.sessions[0].accepted.clear();
  expectInvalid(spec, "no accepted");
}

TEST(BirdRender, ZeroAsnIsRefused) {
  auto spec = labSpec();
  spec.local_as = 0;
  expectInvalid(spec, "local ASN 0");
  spec = labSpec();
  spec.sessions[2].neighbor_as = 0;
  expectInvalid(spec, "neighbor ASN 0");
}

TEST(BirdRender, ZeroLimitsAreRefused) {
  auto spec = policySpec();
  spec.sessions[0].export_limit = 0;
  expectInvalid(spec, "export limit 0");
  spec = policySpec();
  spec.sessions[0].import_limit = 0;
  expectInvalid(spec, "import limit 0");
}

TEST(BirdRender, PrependIsAtMostSixteen) {
  auto spec = policySpec();
  spec.sessions[1].prepend = 16;
  EXPECT_EQ(count(render(spec), "bgp_path.prepend(65000);"), 16u + 2u);
  spec.sessions[1].prepend = 17;
  expectInvalid(spec, "prepend 17");
}

TEST(BirdRender, SegmentNamesOutsideTheAlphabetAreRefused) {
  for (const std::string& bad :
       std::vector<std::string>{"", "Prod", "prod_a", "prod a", "a\nb", std::string(33, 'a')}) {
    auto spec = policySpec();
    spec.sessions[0].segment = bad;
    expectInvalid(spec, "segment '" + bad + "'");
    spec = policySpec();
    spec.sessions[0].export_segments.push_back(bad);
    expectInvalid(spec, "export segment '" + bad + "'");
    spec = policySpec();
    spec.statics[0].segment = bad;
    expectInvalid(spec, "static segment '" + bad + "'");
  }
  auto spec = policySpec();
  spec.sessions[0].segment = std::string(32, 'a');
  EXPECT_TRUE(renderInclude(spec, labOptions()).has_value());
}

TEST(BirdRender, SpokeNamesThatCouldBreakOutOfACommentAreRefused) {
  auto spec = policySpec();
  spec.sessions[0].spoke = "dev-a\nprotocol";
  expectInvalid(spec, "newline in a spoke name");
}

TEST(BirdRender, SummariesMustBeSortedAndUnique) {
  auto spec = policySpec();
  std::swap(spec.summaries[0], spec.summaries[1]);
  expectInvalid(spec, "unsorted");
  spec = policySpec();
  spec.summaries.push_back(spec.summaries.back());
  expectInvalid(spec, "duplicate");
}

TEST(BirdRender, ExportOnlyMayNameOnlyTheHubsSummaries) {
  auto spec = policySpec();
  spec.sessions[3].export_only->push_back(net("192.168.0.0/16"));
  expectInvalid(spec, "export_only outside the summaries");
}

}  // namespace
}  // namespace transit::routing
