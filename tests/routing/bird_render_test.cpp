// Golden tests of the BIRD renderer. Built twice: as a `unit` test (text against the goldens)
// and, with TRANSIT_BIRD_DAEMON, as a `daemon` test that parses every golden with `bird -p`.
// Re-record the goldens with TRANSIT_UPDATE_GOLDEN=1 and review the diff.
#include "routing/bird_render.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace transit::routing {
namespace {

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
  return s;
}

// The lab: two VGW stand-ins with ASN 64512 (two tunnels each) and a site with its own ASN.
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

TEST(BirdRender, LabIncludeMatchesGolden) {
  const auto text = renderInclude(labSpec(), labOptions());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  expectGolden("golden_include_lab.conf", *text);
}

TEST(BirdRender, EmptySpecIncludeMatchesGolden) {
  RoutingSpec spec;
  spec.local_as = 65000;
  const auto text = renderInclude(spec, labOptions());
  ASSERT_TRUE(text.has_value());
  expectGolden("golden_include_empty.conf", *text);
}

TEST(BirdRender, MainConfigMatchesGolden) {
  expectGolden("golden_main.conf", renderMainConfig(labOptions()));
}

TEST(BirdRender, ImportAcceptsOnlyTheSpokesPrefixesDownToHostRoutes) {
  const auto text = *renderInclude(labSpec(), labOptions());
  EXPECT_NE(text.find("net ~ [ 10.1.0.0/16{16,32}, 10.11.0.0/16{16,32} ]"), std::string::npos);
  EXPECT_NE(text.find("net ~ [ 10.2.0.0/16{16,32} ]"), std::string::npos);
}

TEST(BirdRender, ExportNeverSendsASpokeItsOwnRoutesOverEitherTunnel) {
  const auto text = *renderInclude(labSpec(), labOptions());
  const auto a1 = text.find("protocol bgp th_vpc_a_1");
  const auto a2 = text.find("protocol bgp th_vpc_a_2");
  const auto own = "if proto = \"th_vpc_a_1\" || proto = \"th_vpc_a_2\" then reject;";
  EXPECT_NE(text.find(own, a1), std::string::npos);
  EXPECT_LT(text.find(own, a1), a2);
  EXPECT_NE(text.find(own, a2), std::string::npos);
}

TEST(BirdRender, ExportDeletesTheReceiversAsn) {
  const auto text = *renderInclude(labSpec(), labOptions());
  EXPECT_NE(text.find("bgp_path.delete(64512);"), std::string::npos);
  EXPECT_NE(text.find("bgp_path.delete(65010);"), std::string::npos);
}

TEST(BirdRender, ImportLimitComesFromTheSpec) {
  const auto text = *renderInclude(labSpec(), labOptions());
  EXPECT_NE(text.find("import limit 50 action restart;"), std::string::npos);
  EXPECT_NE(text.find("import limit 100 action restart;"), std::string::npos);
}

TEST(BirdRender, NamesOutsideTheAlphabetAreRefused) {
  for (const std::string bad : {"th_Prod", "th_prod-a_1", "th_a;b", "th_a\"", "th_a b"}) {
    auto spec = labSpec();
    spec.sessions[0].name = bad;
    const auto text = renderInclude(spec, labOptions());
    ASSERT_FALSE(text.has_value()) << bad;
    EXPECT_EQ(text.error().kind, DriverError::Kind::kInvalid);
  }
}

TEST(BirdRender, NamesWithoutTheHubPrefixAreRefused) {
  auto spec = labSpec();
  spec.sessions[0].name = "spoke1a";
  EXPECT_FALSE(renderInclude(spec, labOptions()).has_value());
}

TEST(BirdRender, DuplicateNamesAreRefused) {
  auto spec = labSpec();
  spec.sessions[1].name = spec.sessions[0].name;
  EXPECT_FALSE(renderInclude(spec, labOptions()).has_value());
}

TEST(BirdRender, SessionWithoutAcceptedPrefixesIsRefused) {
  auto spec = labSpec();
  spec.sessions[0].accepted.clear();
  EXPECT_FALSE(renderInclude(spec, labOptions()).has_value());
}

TEST(BirdRender, ZeroAsnIsRefused) {
  auto spec = labSpec();
  spec.local_as = 0;
  EXPECT_FALSE(renderInclude(spec, labOptions()).has_value());
  spec = labSpec();
  spec.sessions[2].neighbor_as = 0;
  EXPECT_FALSE(renderInclude(spec, labOptions()).has_value());
}

#else  // TRANSIT_BIRD_DAEMON: parse the goldens with the real bird binary.

class BirdParse : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bird_parse_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `bird -p -c main` with the golden include at a temporary path; returns bird's exit code.
  int parse(const std::string& include_golden) {
    auto options = labOptions();
    options.include_path = (dir_ / "transit-hub.conf").string();
    std::filesystem::copy_file(dataPath(include_golden), options.include_path);
    const auto main = (dir_ / "bird.conf").string();
    std::ofstream(main) << renderMainConfig(options);
    const auto command = std::string(TRANSIT_BIRD_BINARY) + " -p -c " + main + " 2>" +
                         (dir_ / "err").string();
    const int status = std::system(command.c_str());
    errors_ = readFile((dir_ / "err").string());
    return status;
  }

  std::filesystem::path dir_;
  std::string errors_;
};

TEST_F(BirdParse, LabGoldenParses) { EXPECT_EQ(parse("golden_include_lab.conf"), 0) << errors_; }

TEST_F(BirdParse, EmptyGoldenParses) {
  EXPECT_EQ(parse("golden_include_empty.conf"), 0) << errors_;
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
  const auto command =
      std::string(TRANSIT_BIRD_BINARY) + " -p -c " + (dir_ / "bird.conf").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
}

#endif

}  // namespace
}  // namespace transit::routing
