// Tests of the BIRD renderer. Built twice: as a `unit` test (text against the goldens and the
// policy a user would notice in it) and, with TRANSIT_BIRD_DAEMON, as a `daemon` test that
// parses every golden and a rich rendered spec with `bird -p`, and runs a real BIRD (static
// protocols only, no BGP peers, no kernel protocol) to read back the routes it originates.
// Re-record the goldens with TRANSIT_UPDATE_GOLDEN=1 and review the diff.
#include "routing/bird/bird_render.hpp"
#include "tests/fakes/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#ifdef TRANSIT_BIRD_DAEMON
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#endif

namespace transit::routing {
namespace {

using transit::fakes::TempDir;

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }
Ipv4Prefix net(std::string_view text) { return *Ipv4Prefix::parse(text); }

BgpSessionSpec session(std::string name, std::string spoke, int index, std::string_view local,
                       std::string_view neighbor, std::uint32_t asn,
                       std::vector<Ipv4Prefix> accepted) {
  BgpSessionSpec s;
  s.name = std::move(name);
  s.spoke = std::move(spoke);
  s.index = index;
  s.local_address = ip(local);
  s.neighbor_address = ip(neighbor);
  s.neighbor_as = asn;
  s.accepted = std::move(accepted);
  s.export_segments = {"default"};
  return s;
}

// The lab: two VGW stand-ins with ASN 64512 (two tunnels each) and a site with its own ASN, all
// in the default segment (any-to-any).
[[maybe_unused]] RoutingSpec labSpec() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  spec.sessions = {
      session("th_site_1_1", "site-1", 1, "169.254.30.2", "169.254.30.1", 65010,
              {net("172.16.1.0/24")}),
      session("th_vpc_a_1", "vpc-a", 1, "169.254.10.2", "169.254.10.1", 64512,
              {net("10.1.0.0/16"), net("10.11.0.0/16")}),
      session("th_vpc_a_2", "vpc-a", 2, "169.254.10.6", "169.254.10.5", 64512,
              {net("10.1.0.0/16"), net("10.11.0.0/16")}),
      session("th_vpc_b_1", "vpc-b", 1, "169.254.20.2", "169.254.20.1", 64512,
              {net("10.2.0.0/16")}),
  };
  spec.sessions[3].import_limit = 50;
  return spec;
}

StaticSpokeSpec staticSpoke(std::string name, std::string spoke, std::string segment,
                            std::vector<Ipv4Prefix> cidrs, std::vector<Ipv4Address> next_hops) {
  StaticSpokeSpec s;
  s.name = std::move(name);
  s.spoke = std::move(spoke);
  s.segment = std::move(segment);
  s.cidrs = std::move(cidrs);
  s.next_hops = std::move(next_hops);
  return s;
}

// Three segments: dev and prod each exchange routes with shared, not with each other. Segment
// ids: dev 1, prod 2, shared 3. Spoke ids: dev-a 1, prod-a 2, prod-c 3, shared-1 4.
// prod-a (two tunnels) prefers the other hub (prepend 2, MED 50); shared-1 is sent only the two
// summaries (10/8 covers prod's, 172.16/12 dev's); prod-c is a static spoke over two tunnels.
[[maybe_unused]] RoutingSpec policySpec() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  spec.sessions = {
      session("th_dev_a_1", "dev-a", 1, "169.254.50.2", "169.254.50.1", 64512,
              {net("172.20.0.0/16")}),
      session("th_prod_a_1", "prod-a", 1, "169.254.10.2", "169.254.10.1", 64512,
              {net("10.1.0.0/16")}),
      session("th_prod_a_2", "prod-a", 2, "169.254.10.6", "169.254.10.5", 64512,
              {net("10.1.0.0/16")}),
      session("th_shared_1_1", "shared-1", 1, "169.254.30.2", "169.254.30.1", 65010,
              {net("192.168.1.0/24")}),
  };
  spec.sessions[0].segment = "dev";
  spec.sessions[0].export_segments = {"dev", "shared"};
  for (int i : {1, 2}) {
    spec.sessions[i].segment = "prod";
    spec.sessions[i].export_segments = {"prod", "shared"};
    spec.sessions[i].prepend = 2;
    spec.sessions[i].med = 50;
  }
  spec.sessions[3].segment = "shared";
  spec.sessions[3].export_segments = {"dev", "prod", "shared"};
  spec.sessions[3].export_only = std::vector<Ipv4Prefix>{net("10.0.0.0/8"), net("172.16.0.0/12")};
  spec.sessions[3].export_limit = 2;
  spec.statics = {staticSpoke("th_s_prod_c", "prod-c", "prod",
                              {net("10.3.0.0/16"), net("10.33.0.0/16")},
                              {ip("169.254.40.1"), ip("169.254.40.5")})};
  spec.summaries = {net("10.0.0.0/8"), net("172.16.0.0/12")};
  return spec;
}

BirdOptions labOptions() {
  BirdOptions options;
  options.router_id = ip("10.255.0.1");
  options.include_path = "/etc/bird/transit-hub.conf";
  return options;
}

std::string dataPath(const std::string& name) {
  return std::string(TRANSIT_BIRD_DATA_DIR) + "/" + name;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

[[maybe_unused]] void expectGolden(const std::string& name, const std::string& actual) {
  if (std::getenv("TRANSIT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(dataPath(name)) << actual;
  }
  EXPECT_EQ(actual, readFile(dataPath(name))) << "golden " << name;
}

#ifndef TRANSIT_BIRD_DAEMON

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
  EXPECT_NE(table.find("(65000, 2, N) spoke N:\n#     1 dev-a\n#     2 prod-a\n#     3 prod-c\n"
                       "#     4 shared-1\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("(65000, 3, 0) a summary"), std::string::npos);
}

TEST(BirdRender, ImportTagsEveryRouteWithItsSpokesSegmentAndSpoke) {
  const auto import = filterOf(protocolBlock(render(policySpec()), "bgp", "th_prod_a_2"), "import");
  EXPECT_NE(import.find("bgp_large_community.add((65000, 1, 2));  # segment prod"),
            std::string::npos)
      << import;
  EXPECT_NE(import.find("bgp_large_community.add((65000, 2, 2));  # spoke prod-a"),
            std::string::npos)
      << import;
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
    // Spoke ids: site-1 1, vpc-a 2, vpc-b 3.
    EXPECT_NE(out.find("if (65000, 2, 2) ~ bgp_large_community then reject;"), std::string::npos)
        << out;
  }
  const auto b = filterOf(protocolBlock(text, "bgp", "th_vpc_b_1"), "export");
  EXPECT_NE(b.find("if (65000, 2, 3) ~ bgp_large_community then reject;"), std::string::npos);
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
  EXPECT_NE(import.find("bgp_large_community.add((65000, 2, 3));  # spoke prod-c"),
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

#else  // TRANSIT_BIRD_DAEMON: the real bird binary.

bool haveBird() { return std::filesystem::exists(TRANSIT_BIRD_BINARY); }

// `bird -p -c MAIN` (parse only) on renderMainConfig() with `include` as the include file.
class BirdParse : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  }

  // Returns bird's exit status; its messages are in errors_.
  int parse(const std::string& include) {
    auto options = labOptions();
    options.include_path = (dir_ / "transit-hub.conf").string();
    std::ofstream(options.include_path) << include;
    const auto main = (dir_ / "bird.conf").string();
    std::ofstream(main) << renderMainConfig(options);
    const auto command =
        std::string(TRANSIT_BIRD_BINARY) + " -p -c " + main + " 2>" + (dir_ / "err").string();
    const int status = std::system(command.c_str());
    errors_ = readFile((dir_ / "err").string());
    return status;
  }

  TempDir dir_;
  std::string errors_;
};

TEST_F(BirdParse, LabGoldenParses) {
  EXPECT_EQ(parse(readFile(dataPath("golden_include_lab.conf"))), 0) << errors_;
}

TEST_F(BirdParse, PolicyGoldenParses) {
  EXPECT_EQ(parse(readFile(dataPath("golden_include_policy.conf"))), 0) << errors_;
}

TEST_F(BirdParse, EmptyGoldenParses) {
  EXPECT_EQ(parse(readFile(dataPath("golden_include_empty.conf"))), 0) << errors_;
}

// 3 segments, 4 BGP sessions, a static spoke over 2 tunnels, 2 summaries, prepend 2, MED 50 and
// an export_only receiver, rendered now (not read from a golden).
TEST_F(BirdParse, RenderedPolicyWithEveryFeatureParses) {
  const auto text = renderInclude(policySpec(), labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(parse(*text), 0) << errors_ << "\n" << *text;
}

TEST_F(BirdParse, EdgeCasesParse) {
  auto spec = policySpec();
  spec.sessions[0].export_segments.clear();                  // sent nothing
  spec.sessions[3].export_only = std::vector<Ipv4Prefix>{};  // sent nothing
  spec.sessions[1].prepend = 16;
  spec.statics.push_back(spec.statics[0]);
  spec.statics.back().name = "th_s_prod_d";
  spec.statics.back().spoke = "prod-d";
  spec.statics.back().next_hops.clear();  // no routes
  const auto text = renderInclude(spec, labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(parse(*text), 0) << errors_ << "\n" << *text;
}

TEST_F(BirdParse, MainGoldenDiffersFromTheParsedOneOnlyInTheIncludePath) {
  auto options = labOptions();
  auto golden = readFile(dataPath("golden_main.conf"));
  const auto at = golden.find(options.include_path);
  ASSERT_NE(at, std::string::npos);
  const auto include = (dir_ / "transit-hub.conf").string();
  golden.replace(at, options.include_path.size(), include);
  std::ofstream(include) << "";
  std::ofstream((dir_ / "bird.conf").string()) << golden;
  const auto command = std::string(TRANSIT_BIRD_BINARY) + " -p -c " + (dir_ / "bird.conf").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
}

// A real BIRD in the foreground on a socket in `dir`, with only `protocol device` and the
// include: no kernel protocol (nothing reaches the host's FIB) and no BGP session (no port).
// Killed when the test ends, whatever happened.
class LiveBird {
 public:
  LiveBird(const TempDir& dir, const std::string& include) : socket_((dir / "bird.ctl").string()) {
    const auto include_path = (dir / "transit-hub.conf").string();
    std::ofstream(include_path) << include;
    const auto main = (dir / "bird.conf").string();
    std::ofstream(main) << "log \"" << (dir / "bird.log").string() << "\" all;\n"
                        << "router id 10.255.0.1;\n"
                        << "protocol device {\n  scan time 10;\n}\n"
                        << "include \"" << include_path << "\";\n";
    const int watch = ::inotify_init1(IN_CLOEXEC);
    ::inotify_add_watch(watch, dir.path().c_str(), IN_CREATE);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(TRANSIT_BIRD_BINARY, "bird", "-f", "-c", main.c_str(), "-s", socket_.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Bounded wait for the control socket (an event, not a sleep).
    while (!std::filesystem::exists(socket_)) {
      pollfd fd{watch, POLLIN, 0};
      if (::poll(&fd, 1, 10000) <= 0) break;
      char events[4096];
      (void)!::read(watch, events, sizeof(events));
    }
    ::close(watch);
  }
  ~LiveBird() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  LiveBird(const LiveBird&) = delete;
  LiveBird& operator=(const LiveBird&) = delete;

  // `birdc -s SOCK COMMAND`, stdout and stderr.
  std::string birdc(const std::string& command) const {
    const auto line =
        std::string(TRANSIT_BIRD_BINARY) + "c -s " + socket_ + " " + command + " 2>&1";
    std::string out;
    if (FILE* pipe = ::popen(line.c_str(), "r")) {
      char buffer[4096];
      std::size_t n = 0;
      while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
      ::pclose(pipe);
    }
    return out;
  }

  // `show route all` once every static protocol named in `protocols` is up (BIRD starts them
  // while it serves its socket; a bounded number of polls, never a timed assertion).
  std::string routesOnceUp(const std::vector<std::string>& protocols) const {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto shown = birdc("show protocols");
      bool all_up = true;
      for (const auto& name : protocols) {
        const auto at = shown.find("\n" + name + " ");
        all_up =
            all_up && at != std::string::npos && shown.find(" up ", at) < shown.find('\n', at + 1);
      }
      if (all_up) return birdc("show route all");
      ::poll(nullptr, 0, 25);
    }
    return birdc("show route all");
  }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

// The `show route all` entry of `prefix`: its first line and the indented lines after it.
std::string routeEntry(const std::string& shown, const std::string& prefix) {
  auto at = shown.find("\n" + prefix + " ");
  if (at == std::string::npos) return {};
  ++at;
  auto end = at;
  do {
    end = shown.find('\n', end + 1);
  } while (end != std::string::npos && end + 1 < shown.size() &&
           (shown[end + 1] == '\t' || shown[end + 1] == ' '));
  return shown.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

TEST(BirdLive, SummariesAreUnreachableWithPreference10AndTagged) {
  if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.statics = {staticSpoke("th_s_dev_b", "dev-b", "dev", {net("10.9.0.0/16")}, {})};
  spec.summaries = {net("10.0.0.0/8"), net("172.16.0.0/12")};
  const auto include = renderInclude(spec, labOptions());
  ASSERT_TRUE(include.has_value()) << include.error().message;
  TempDir dir;
  LiveBird bird(dir, *include);
  const auto shown = bird.routesOnceUp({"th_summaries", "th_s_dev_b"});
  for (const auto* prefix : {"10.0.0.0/8", "172.16.0.0/12"}) {
    const auto entry = routeEntry(shown, prefix);
    EXPECT_NE(entry.find("unreachable [th_summaries "), std::string::npos) << shown;
    EXPECT_NE(entry.find("] * (10)"), std::string::npos) << entry;  // best, preference 10
    EXPECT_NE(entry.find("BGP.large_community: (65000, 3, 0)"), std::string::npos) << entry;
  }
  // The static spoke without a usable tunnel runs and originates nothing.
  EXPECT_EQ(routeEntry(shown, "10.9.0.0/16"), "") << shown;
  EXPECT_NE(bird.birdc("show protocols th_s_dev_b").find("th_s_dev_b Static"), std::string::npos);
}

// Two addresses other than ours on a directly connected IPv4 network of this host (BIRD needs a
// static route's gateway to be on one); nothing is sent to them: the test has no kernel protocol.
std::optional<std::vector<Ipv4Address> > connectedNeighbours() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::vector<Ipv4Address> > found;
  for (auto* entry = list; entry != nullptr && !found; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_netmask == nullptr ||
        entry->ifa_addr->sa_family != AF_INET || (entry->ifa_flags & IFF_UP) == 0 ||
        (entry->ifa_flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    sockaddr_in address{};
    sockaddr_in mask{};
    std::memcpy(&address, entry->ifa_addr, sizeof(address));
    std::memcpy(&mask, entry->ifa_netmask, sizeof(mask));
    const Ipv4Address own(ntohl(address.sin_addr.s_addr));
    const int length = __builtin_popcount(ntohl(mask.sin_addr.s_addr));
    if (length < 8 || length > 29) continue;
    const auto network = Ipv4Prefix::containing(own, length);
    std::vector<Ipv4Address> hops;
    for (std::uint32_t offset = 1; hops.size() < 2; ++offset) {
      if (network.host(offset) != own) hops.push_back(network.host(offset));
    }
    found = hops;
  }
  ::freeifaddrs(list);
  return found;
}

TEST(BirdLive, StaticSpokeRoutesCarryTheirSegmentAndSpokeTags) {
  if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  const auto hops = connectedNeighbours();
  if (!hops) GTEST_SKIP() << "no IPv4 interface with a /8../29 network to put next hops on";
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.statics = {staticSpoke("th_s_dev_b", "dev-b", "dev", {net("10.9.0.0/16")}, {}),
                  staticSpoke("th_s_prod_c", "prod-c", "prod",
                              {net("10.3.0.0/16"), net("10.33.0.0/16")}, *hops)};
  const auto include = renderInclude(spec, labOptions());
  ASSERT_TRUE(include.has_value()) << include.error().message;
  TempDir dir;
  LiveBird bird(dir, *include);
  const auto shown = bird.routesOnceUp({"th_s_dev_b", "th_s_prod_c"});
  // Segment ids: dev 1, prod 2; spoke ids: dev-b 1, prod-c 2.
  for (const auto* prefix : {"10.3.0.0/16", "10.33.0.0/16"}) {
    const auto entry = routeEntry(shown, prefix);
    EXPECT_NE(entry.find("unicast [th_s_prod_c "), std::string::npos) << shown;
    EXPECT_NE(entry.find("via " + (*hops)[0].toString()), std::string::npos) << entry;
    EXPECT_NE(entry.find("via " + (*hops)[1].toString()), std::string::npos) << entry;
    EXPECT_NE(entry.find("BGP.large_community: (65000, 1, 2) (65000, 2, 2)"), std::string::npos)
        << entry;
  }
}

// Path selection by preference: for one prefix a static spoke's route (BIRD's static default,
// 200) beats a BGP-learned one (100), which beats the hub's own summary (10).
TEST(BirdLive, AStaticSpokesRouteIsPreferredToASummaryOfTheSamePrefix) {
  if (!haveBird()) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  const auto hops = connectedNeighbours();
  if (!hops) GTEST_SKIP() << "no IPv4 interface with a /8../29 network to put next hops on";
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.statics = {staticSpoke("th_s_prod_c", "prod-c", "prod", {net("10.3.0.0/16")}, *hops)};
  spec.summaries = {net("10.3.0.0/16")};
  const auto include = renderInclude(spec, labOptions());
  ASSERT_TRUE(include.has_value()) << include.error().message;
  TempDir dir;
  LiveBird bird(dir, *include);
  const auto shown = bird.routesOnceUp({"th_summaries", "th_s_prod_c"});
  const auto entry = routeEntry(shown, "10.3.0.0/16");
  EXPECT_NE(entry.find("unicast [th_s_prod_c "), std::string::npos) << shown;
  EXPECT_NE(entry.find("] * (200)"), std::string::npos) << entry;  // selected
  EXPECT_NE(entry.find("unreachable [th_summaries "), std::string::npos) << entry;
  EXPECT_NE(entry.find("] (10)"), std::string::npos) << entry;  // present, not selected
}

#endif

}  // namespace
}  // namespace transit::routing
