// Tool tests (label `tool`): the real tools accept the site configurations the hub renders:
// libreswan's addconn and algparse, BIRD's parser and FRR's vtysh. ami/dev.sh installs every one
// of them and fails on a skip.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/fakes/temp_dir.hpp"
#include "tests/peers/export/site_config_fixtures.hpp"

namespace transit::peers {
namespace {

using fakes::TempDir;
using namespace site_fixtures;

constexpr const char* kAddconn = "/usr/libexec/ipsec/addconn";
constexpr const char* kAlgparse = "/usr/libexec/ipsec/algparse";

TEST(SiteConfigLibreswan, AddconnAcceptsTheConfiguration) {
  if (!std::filesystem::exists(kAddconn)) GTEST_SKIP() << kAddconn << " is not installed";
  for (const auto& spoke : {bgpSite(), customSite(), staticSite()}) {
    TempDir dir;
    const auto config = renderSiteConfig(spoke, hub(), SiteConfigFormat::kLibreswan);
    const auto conf = dir.write("site.conf", find(config, ".conf")->content);
    const auto main = dir.write("ipsec.conf", "config setup\n\ninclude " + conf.string() + "\n");
    const auto result = run(std::string(kAddconn) + " --checkconfig --config " + main.string());
    EXPECT_EQ(result.status, 0) << result.output;
  }
}

// A site of the pair: four connections, two to each hub.
TEST(SiteConfigLibreswan, AddconnAcceptsThePairsConfiguration) {
  if (!std::filesystem::exists(kAddconn)) GTEST_SKIP() << kAddconn << " is not installed";
  for (const auto& spoke : {pairSite(), pairSite(staticSite())}) {
    TempDir dir;
    const auto config = renderSiteConfig(spoke, pairHubs(), SiteConfigFormat::kLibreswan);
    const auto conf = dir.write("site.conf", find(config, ".conf")->content);
    const auto main = dir.write("ipsec.conf", "config setup\n\ninclude " + conf.string() + "\n");
    const auto result = run(std::string(kAddconn) + " --checkconfig --config " + main.string());
    EXPECT_EQ(result.status, 0) << result.output;
  }
}

TEST(SiteConfigLibreswan, AlgparseAcceptsTheProposals) {
  if (!std::filesystem::exists(kAlgparse)) GTEST_SKIP() << kAlgparse << " is not installed";
  for (const auto& spoke : {bgpSite(), customSite()}) {
    const auto config = renderSiteConfig(spoke, hub(), SiteConfigFormat::kLibreswan);
    const auto& conf = find(config, ".conf")->content;
    const std::string version = spoke.tunnel_options.ikev2() ? "-v2" : "-v1";
    const auto ike = run(fmt::format("{} {} 'ike={}'", kAlgparse, version, valueOf(conf, "ike")));
    const auto esp =
        run(fmt::format("{} {} -pfs 'esp={}'", kAlgparse, version, valueOf(conf, "esp")));
    EXPECT_EQ(ike.output.find("ERROR"), std::string::npos) << ike.output;
    EXPECT_EQ(esp.output.find("ERROR"), std::string::npos) << esp.output;
  }
}

constexpr const char* kBird = "/usr/sbin/bird";
constexpr const char* kVtysh = "/usr/bin/vtysh";

TEST(SiteConfigTools, BirdParsesTheBgpFile) {
  if (!std::filesystem::exists(kBird)) GTEST_SKIP() << kBird << " is not installed";
  for (const auto& [spoke, hubs] :
       {std::pair{bgpSite(), std::vector{hub()}}, std::pair{customSite(), std::vector{hub()}},
        std::pair{pairSite(), pairHubs()}}) {
    TempDir dir;
    const auto config = renderSiteConfig(spoke, hubs, SiteConfigFormat::kStrongswan);
    const auto include =
        dir.write("site.conf", find(config, "bird/transit-hub-site-1.conf")->content);
    const auto main =
        dir.write("bird.conf", "router id 192.0.2.1;\nprotocol device {}\ninclude \"" +
                                   include.string() + "\";\n");
    const auto result = run(std::string(kBird) + " -p -c " + main.string());
    EXPECT_EQ(result.status, 0) << result.output;
  }
}

TEST(SiteConfigTools, VtyshAcceptsTheFrrFile) {
  if (!std::filesystem::exists(kVtysh)) GTEST_SKIP() << kVtysh << " is not installed";
  for (const auto& [spoke, hubs] :
       {std::pair{bgpSite(), std::vector{hub()}}, std::pair{customSite(), std::vector{hub()}},
        std::pair{pairSite(), pairHubs()}}) {
    TempDir dir;
    const auto config = renderSiteConfig(spoke, hubs, SiteConfigFormat::kLibreswan);
    const auto file = dir.write("frr.conf", find(config, "frr/transit-hub-site-1.conf")->content);
    const auto result = run(fmt::format("{} --config_dir {} --dryrun -f {}", kVtysh,
                                        dir.path().string(), file.string()));
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output.find("Unknown command"), std::string::npos) << result.output;
  }
}

}  // namespace
}  // namespace transit::peers
