// Site configuration renderers: goldens for each format (a BGP site with default and with
// non-default tunnel options, a static site), the strongSwan algorithm names, where PSKs may
// appear, `sh -n` on the links script and the project's own AWS XML parser. The real libreswan,
// BIRD and FRR parsers check them in site_config_tool_test.cpp.
// Re-record the goldens with TRANSIT_UPDATE_GOLDEN=1 and review the diff.
#include "peers/export/site_config.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "peers/aws/aws_vpn_xml.hpp"
#include "peers/libreswan/libreswan_render.hpp"
#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/peers/export/site_config_fixtures.hpp"

namespace transit::peers {
namespace {

using fakes::TempDir;
using transit::Ipv4Address;
using transit::Ipv4Prefix;
using namespace site_fixtures;

// All files of a configuration in one text: path, secret flag, description, content.
std::string dump(const SiteConfig& config) {
  std::string out;
  for (const auto& file : config.files) {
    out += fmt::format("==== {}{}\n==== {}\n", file.path, file.secret ? " (secret)" : "",
                       file.description);
    out += file.content;
    out += "\n";
  }
  return out;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Compares with the golden file; TRANSIT_UPDATE_GOLDEN=1 rewrites it instead.
void expectGolden(const std::string& name, const std::string& actual) {
  const std::filesystem::path dir = std::string(TRANSIT_TEST_DATA) + "/site_config";
  const auto path = dir / name;
  if (std::getenv("TRANSIT_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(dir);
    std::ofstream(path, std::ios::binary) << actual;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << "missing golden file " << path;
  EXPECT_EQ(actual, readFile(path)) << "golden file " << path;
}

std::vector<std::string> paths(const SiteConfig& config) {
  std::vector<std::string> out;
  for (const auto& file : config.files) out.push_back(file.path);
  return out;
}

constexpr std::array kFormats{SiteConfigFormat::kStrongswan, SiteConfigFormat::kLibreswan,
                              SiteConfigFormat::kAwsXml};

// ---- Format names ----

TEST(SiteConfigFormat, NamesRoundTrip) {
  for (const auto format : kFormats) {
    EXPECT_EQ(parseSiteConfigFormat(toString(format)), format);
  }
  EXPECT_EQ(toString(SiteConfigFormat::kAwsXml), "aws-xml");
  EXPECT_EQ(parseSiteConfigFormat("strongSwan"), std::nullopt);
  EXPECT_EQ(parseSiteConfigFormat("xml"), std::nullopt);
  EXPECT_EQ(parseSiteConfigFormat(""), std::nullopt);
}

// ---- Goldens ----

TEST(SiteConfigGolden, BgpSiteWithDefaultOptions) {
  expectGolden("bgp-strongswan.txt",
               dump(renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan)));
  expectGolden("bgp-libreswan.txt",
               dump(renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kLibreswan)));
  expectGolden("bgp-aws.txt", dump(renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kAwsXml)));
}

TEST(SiteConfigGolden, BgpSiteWithIkev1AndNonDefaultOptions) {
  expectGolden("custom-strongswan.txt",
               dump(renderSiteConfig(customSite(), hub(), SiteConfigFormat::kStrongswan)));
  expectGolden("custom-libreswan.txt",
               dump(renderSiteConfig(customSite(), hub(), SiteConfigFormat::kLibreswan)));
  expectGolden("custom-aws.txt",
               dump(renderSiteConfig(customSite(), hub(), SiteConfigFormat::kAwsXml)));
}

TEST(SiteConfigGolden, StaticSite) {
  expectGolden("static-strongswan.txt",
               dump(renderSiteConfig(staticSite(), hub(), SiteConfigFormat::kStrongswan)));
  expectGolden("static-libreswan.txt",
               dump(renderSiteConfig(staticSite(), hub(), SiteConfigFormat::kLibreswan)));
  expectGolden("static-aws.txt",
               dump(renderSiteConfig(staticSite(), hub(), SiteConfigFormat::kAwsXml)));
}

// ---- Files ----

TEST(SiteConfig, EachFormatWritesItsFiles) {
  using Paths = std::vector<std::string>;
  EXPECT_EQ(paths(renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan)),
            (Paths{"swanctl/conf.d/transit-hub-site-1.conf", "transit-hub-site-1-links.sh",
                   "bird/transit-hub-site-1.conf", "frr/transit-hub-site-1.conf"}));
  EXPECT_EQ(paths(renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kLibreswan)),
            (Paths{"ipsec.d/transit-hub-site-1.conf", "ipsec.d/transit-hub-site-1.secrets",
                   "transit-hub-site-1-links.sh", "bird/transit-hub-site-1.conf",
                   "frr/transit-hub-site-1.conf"}));
  EXPECT_EQ(paths(renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kAwsXml)),
            (Paths{"transit-hub-site-1.xml"}));
}

TEST(SiteConfig, AStaticSiteGetsNoBgpFiles) {
  using Paths = std::vector<std::string>;
  EXPECT_EQ(paths(renderSiteConfig(staticSite(), hub(), SiteConfigFormat::kStrongswan)),
            (Paths{"swanctl/conf.d/transit-hub-site-1.conf", "transit-hub-site-1-links.sh"}));
  EXPECT_EQ(paths(renderSiteConfig(staticSite(), hub(), SiteConfigFormat::kLibreswan)),
            (Paths{"ipsec.d/transit-hub-site-1.conf", "ipsec.d/transit-hub-site-1.secrets",
                   "transit-hub-site-1-links.sh"}));
}

TEST(SiteConfig, AStaticSitesLinksScriptSaysWhereTheRoutesAre) {
  const auto config = renderSiteConfig(staticSite(), hub(), SiteConfigFormat::kStrongswan);
  const auto* links = find(config, "-links.sh");
  ASSERT_NE(links, nullptr);
  EXPECT_NE(links->content.find("GET /v1/spokes/site-1/static-routes"), std::string::npos);
  EXPECT_NE(links->content.find("ip route replace PREFIX dev xfrm-hub1 metric 100"),
            std::string::npos);
}

TEST(SiteConfig, EveryFileStartsWithACommentNamingHubSpokeAndGenerator) {
  for (const auto& spoke : {bgpSite(), staticSite()}) {
    for (const auto format : kFormats) {
      for (const auto& file : renderSiteConfig(spoke, hub(), format).files) {
        std::string_view text = file.content;
        if (text.starts_with("#!/bin/sh\n")) text.remove_prefix(10);
        if (text.starts_with("<?xml")) text.remove_prefix(text.find('\n') + 1);
        const auto first_line = std::string(text.substr(0, text.find('\n')));
        EXPECT_TRUE(first_line.starts_with("#") || first_line.starts_with("!") ||
                    first_line.starts_with("<!--"))
            << file.path << ": " << first_line;
        for (const auto* word : {"\"hub-a\"", "\"site-1\"", "generated by transit-hubd"}) {
          EXPECT_NE(first_line.find(word), std::string::npos) << file.path << ": " << first_line;
        }
        EXPECT_FALSE(file.description.empty()) << file.path;
        EXPECT_EQ(file.description.find('\n'), std::string::npos) << file.path;
      }
    }
  }
}

TEST(SiteConfig, PresharedKeysAppearOnlyInFilesMarkedSecret) {
  for (const auto& spoke : {bgpSite(), customSite(), staticSite()}) {
    for (const auto format : kFormats) {
      int secret_files = 0;
      for (const auto& file : renderSiteConfig(spoke, hub(), format).files) {
        const bool has1 = file.content.find(kPsk1) != std::string::npos;
        const bool has2 = file.content.find(kPsk2) != std::string::npos;
        EXPECT_EQ(has1, file.secret) << file.path;
        EXPECT_EQ(has2, file.secret) << file.path;
        EXPECT_EQ(file.description.find(kPsk1), std::string::npos) << file.path;
        secret_files += file.secret ? 1 : 0;
      }
      EXPECT_EQ(secret_files, 1) << toString(format);
    }
  }
}

// ---- Addresses and BGP ----

TEST(SiteConfig, TheSiteTakesTheSecondInsideAddressAndTheHubTheFirst) {
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan);
  const auto& links = find(config, "-links.sh")->content;
  EXPECT_NE(links.find("link xfrm-hub1 1 169.254.30.2/30\n"), std::string::npos) << links;
  EXPECT_NE(links.find("link xfrm-hub2 2 169.254.30.6/30\n"), std::string::npos) << links;
  const auto& bird = find(config, "bird/transit-hub-site-1.conf")->content;
  EXPECT_NE(bird.find("local 169.254.30.2 as 65010;\n\tneighbor 169.254.30.1 as 65000;"),
            std::string::npos)
      << bird;
  EXPECT_NE(bird.find("local 169.254.30.6 as 65010;\n\tneighbor 169.254.30.5 as 65000;"),
            std::string::npos)
      << bird;
  const auto& frr = find(config, "frr/transit-hub-site-1.conf")->content;
  EXPECT_NE(frr.find("router bgp 65010\n neighbor 169.254.30.1 remote-as 65000\n"),
            std::string::npos)
      << frr;
  EXPECT_NE(frr.find(" neighbor 169.254.30.5 remote-as 65000\n"), std::string::npos) << frr;
}

// pluto 4.10 reuses an ipsecN it did not make, but probes for XFRM interfaces by making ipsec1 at
// its first such connection and gives them up when ipsec1 exists (seen in the image test): the
// site's devices start at ipsec11.
TEST(SiteConfig, LibreswanLinksUseTheDevicesPlutoReusesNeverIpsec1) {
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kLibreswan);
  const auto& links = find(config, "-links.sh")->content;
  EXPECT_NE(links.find("link ipsec11 11 169.254.30.2/30\n"), std::string::npos) << links;
  EXPECT_NE(links.find("link ipsec12 12 169.254.30.6/30\n"), std::string::npos) << links;
  EXPECT_EQ(links.find("ipsec1 "), std::string::npos) << links;
  const auto& conf = find(config, ".conf")->content;
  EXPECT_EQ(valueOf(conf, "ipsec-interface", conf.find("conn hub-a-t1")), "11");
  EXPECT_EQ(valueOf(conf, "ipsec-interface", conf.find("conn hub-a-t2")), "12");
}

// Two 0/0 <-> 0/0 tunnels (one to each hub of a pair, or two to one hub): pluto 4.10 installs the
// second only when both agree on the next hop and allow overlapping policies.
TEST(SiteConfig, LibreswanTunnelsShareTheNextHopAndMayOverlap) {
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kLibreswan);
  const auto& conf = find(config, ".conf")->content;
  for (const char* conn : {"conn hub-a-t1", "conn hub-a-t2"}) {
    EXPECT_EQ(valueOf(conf, "leftnexthop", conf.find(conn)), "%defaultroute") << conn;
    EXPECT_EQ(valueOf(conf, "overlapip", conf.find(conn)), "yes") << conn;
  }
}

TEST(SiteConfig, HoldTimeAndKeepaliveFollowTheSpoke) {
  const auto defaults = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan);
  EXPECT_EQ(valueOf(find(defaults, "bird/transit-hub-site-1.conf")->content, "hold time"), "30;");
  EXPECT_EQ(valueOf(find(defaults, "bird/transit-hub-site-1.conf")->content, "keepalive time"),
            "10;");
  EXPECT_NE(find(defaults, "frr/transit-hub-site-1.conf")->content.find("timers 10 30\n"),
            std::string::npos);
  const auto custom = renderSiteConfig(customSite(), hub(), SiteConfigFormat::kStrongswan);
  EXPECT_EQ(valueOf(find(custom, "bird/transit-hub-site-1.conf")->content, "hold time"), "90;");
  EXPECT_NE(find(custom, "frr/transit-hub-site-1.conf")->content.find("timers 30 90\n"),
            std::string::npos);
}

TEST(SiteConfig, BgpAnnouncesOnlyTheDeclaredNetworks) {
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kLibreswan);
  const auto& bird = find(config, "bird/transit-hub-site-1.conf")->content;
  EXPECT_EQ(valueOf(bird, "export"), "where net ~ [ 10.20.0.0/16, 10.21.0.0/24 ];");
  EXPECT_NE(bird.find("route 10.20.0.0/16 blackhole;"), std::string::npos);
  const auto& frr = find(config, "frr/transit-hub-site-1.conf")->content;
  EXPECT_NE(frr.find("ip prefix-list transit-hub-hub-a-out seq 5 permit 10.20.0.0/16\n"
                     "ip prefix-list transit-hub-hub-a-out seq 10 permit 10.21.0.0/24\n"),
            std::string::npos)
      << frr;
  EXPECT_NE(frr.find("  neighbor 169.254.30.1 prefix-list transit-hub-hub-a-out out\n"),
            std::string::npos);
  EXPECT_NE(frr.find("  network 10.21.0.0/24\n"), std::string::npos);
}

// ---- strongSwan ----

TEST(SiteConfigStrongswan, EveryDhGroupHasItsStrongswanName) {
  const std::vector<std::pair<int, std::string>> groups{
      {5, "modp1536"},  {14, "modp2048"}, {15, "modp3072"}, {16, "modp4096"}, {17, "modp6144"},
      {18, "modp8192"}, {19, "ecp256"},   {20, "ecp384"},   {21, "ecp521"}};
  for (const auto& [group, name] : groups) {
    TunnelOptions options;
    options.phase1 = {{Encryption::kAes256}, {Integrity::kSha2_256}, {group}, 28800};
    options.phase2 = {{Encryption::kAes256}, {Integrity::kSha2_256}, {group}, 3600};
    EXPECT_EQ(strongswanIkeProposals(options), "aes256-sha256-" + name) << group;
    EXPECT_EQ(strongswanEspProposals(options), "aes256-sha256-" + name) << group;
  }
}

TEST(SiteConfigStrongswan, EveryCipherAndIntegrityHasItsStrongswanName) {
  TunnelOptions options;
  options.phase1 = {
      {Encryption::kAes128, Encryption::kAes256},
      {Integrity::kSha1, Integrity::kSha2_256, Integrity::kSha2_384, Integrity::kSha2_512},
      {14},
      28800};
  options.phase2 = options.phase1;
  EXPECT_EQ(strongswanIkeProposals(options),
            "aes128-sha1-sha256-sha384-sha512-modp2048,aes256-sha1-sha256-sha384-sha512-modp2048");
  EXPECT_EQ(strongswanEspProposals(options),
            "aes128-sha1-sha256-sha384-sha512-modp2048,aes256-sha1-sha256-sha384-sha512-modp2048");
}

TEST(SiteConfigStrongswan, AeadUsesPrfsInIkeAndNoIntegrityInEsp) {
  TunnelOptions options;  // defaults: AES256-GCM-16 then AES256, SHA2-256, DH 20/19/14
  options.phase1.encryption = {Encryption::kAes128Gcm16, Encryption::kAes256Gcm16};
  options.phase1.integrity = {Integrity::kSha2_256, Integrity::kSha2_384};
  options.phase2.encryption = {Encryption::kAes128Gcm16, Encryption::kAes256};
  EXPECT_EQ(strongswanIkeProposals(options),
            "aes128gcm16-prfsha256-prfsha384-ecp384-ecp256-modp2048,"
            "aes256gcm16-prfsha256-prfsha384-ecp384-ecp256-modp2048");
  EXPECT_EQ(strongswanEspProposals(options), "aes128gcm16-ecp384,aes256-sha256-ecp384");
}

TEST(SiteConfigStrongswan, DefaultOptionsMatchTheHubsProposals) {
  const TunnelOptions options;
  EXPECT_EQ(libreswanIke(options),
            "aes_gcm256-sha2_256;dh20+dh19+dh14,aes256-sha2_256;dh20+dh19+dh14");
  EXPECT_EQ(strongswanIkeProposals(options),
            "aes256gcm16-prfsha256-ecp384-ecp256-modp2048,aes256-sha256-ecp384-ecp256-modp2048");
  EXPECT_EQ(libreswanEsp(options), "aes_gcm256;dh20,aes256-sha2_256;dh20");
  EXPECT_EQ(strongswanEspProposals(options), "aes256gcm16-ecp384,aes256-sha256-ecp384");
}

TEST(SiteConfigStrongswan, Ikev1HasOneAlgorithmPerKindPerProposalAndAModpPfsGroup) {
  TunnelOptions options;
  options.ike_versions = {IkeVersion::kIkev1};
  options.phase1 = {{Encryption::kAes256, Encryption::kAes128},
                    {Integrity::kSha2_512, Integrity::kSha1},
                    {16, 14},
                    28800};
  options.phase2 = {{Encryption::kAes256Gcm16, Encryption::kAes256},
                    {Integrity::kSha2_512, Integrity::kSha1},
                    {19, 16},
                    3600};
  EXPECT_EQ(strongswanIkeProposals(options),
            "aes256-sha512-modp4096,aes256-sha512-modp2048,aes256-sha1-modp4096,"
            "aes256-sha1-modp2048,aes128-sha512-modp4096,aes128-sha512-modp2048,"
            "aes128-sha1-modp4096,aes128-sha1-modp2048");
  EXPECT_EQ(strongswanEspProposals(options),
            "aes256gcm16-modp4096,aes256-sha512-modp4096,aes256-sha1-modp4096");
}

TEST(SiteConfigStrongswan, ConnectionsCarryVersionLifetimesInterfacesAndActions) {
  const auto custom = renderSiteConfig(customSite(), hub(), SiteConfigFormat::kStrongswan);
  const auto& text = find(custom, ".conf")->content;
  const auto t2 = text.find("  hub-a-t2 {");
  ASSERT_NE(t2, std::string::npos) << text;
  EXPECT_EQ(valueOf(text, "version", t2), "1");
  EXPECT_EQ(valueOf(text, "local_addrs", t2), "198.51.100.21");
  EXPECT_EQ(valueOf(text, "remote_addrs", t2), "203.0.113.5");
  EXPECT_EQ(valueOf(text, "rekey_time", t2), "14220s");  // 14400 - 180
  EXPECT_EQ(valueOf(text, "rand_time", t2), "90s");      // 50 % of 180
  EXPECT_EQ(valueOf(text, "over_time", t2), "180s");
  EXPECT_EQ(valueOf(text, "dpd_timeout", t2), "60s");
  EXPECT_EQ(valueOf(text, "life_time", t2), "1800s");
  EXPECT_EQ(valueOf(text, "replay_window", t2), "512");
  EXPECT_EQ(valueOf(text, "if_id_in", t2), "2");
  EXPECT_EQ(valueOf(text, "if_id_out", t2), "2");
  EXPECT_EQ(valueOf(text, "dpd_action", t2), "restart");
  EXPECT_EQ(valueOf(text, "start_action", t2), "start");
  EXPECT_EQ(valueOf(text, "close_action", t2), "start");  // the hub waits (startup_action add)

  const auto defaults = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan);
  const auto& plain = find(defaults, ".conf")->content;
  EXPECT_EQ(valueOf(plain, "version"), "2");
  EXPECT_EQ(valueOf(plain, "dpd_timeout"), "");   // IKEv2 times out by retransmission
  EXPECT_EQ(valueOf(plain, "close_action"), "");  // the hub initiates itself
  EXPECT_EQ(valueOf(plain, "rekey_time"), "28530s");
}

TEST(SiteConfigStrongswan, SecretsPairTheSitesAddressWithTheHubs) {
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan);
  const auto& text = find(config, ".conf")->content;
  const auto secret2 = text.find("ike-hub-a-t2 {");
  ASSERT_NE(secret2, std::string::npos);
  EXPECT_EQ(valueOf(text, "id-1", secret2), "198.51.100.21");
  EXPECT_EQ(valueOf(text, "id-2", secret2), "203.0.113.5");
  EXPECT_EQ(valueOf(text, "secret", secret2), fmt::format("\"{}\"", kPsk2));
}

// ---- libreswan ----

TEST(SiteConfigLibreswan, ProposesExactlyTheHubsStrings) {
  for (const auto& spoke : {bgpSite(), customSite()}) {
    const auto config = renderSiteConfig(spoke, hub(), SiteConfigFormat::kLibreswan);
    const auto& conf = find(config, ".conf")->content;
    EXPECT_EQ(valueOf(conf, "ike"), libreswanIke(spoke.tunnel_options));
    EXPECT_EQ(valueOf(conf, "esp"), libreswanEsp(spoke.tunnel_options));
    EXPECT_EQ(valueOf(conf, "ikev2"), spoke.tunnel_options.ikev2() ? "yes" : "no");
    EXPECT_EQ(valueOf(conf, "left"), "198.51.100.20");
    EXPECT_EQ(valueOf(conf, "right"), "203.0.113.5");
    EXPECT_EQ(valueOf(conf, "dpdaction"), "restart");
  }
}

TEST(SiteConfigLibreswan, SecretsReadBackWithTheHubsParser) {
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kLibreswan);
  const auto secrets = parseSecrets(find(config, ".secrets")->content);
  ASSERT_EQ(secrets.size(), 2u);
  EXPECT_EQ(secrets[0].name, "hub-a-t1");
  EXPECT_EQ(secrets[0].local_id, ip("198.51.100.20"));
  EXPECT_EQ(secrets[0].remote, ip("203.0.113.5"));
  EXPECT_EQ(secrets[0].psk, kPsk1);
  EXPECT_EQ(secrets[1].local_id, ip("198.51.100.21"));
  EXPECT_EQ(secrets[1].psk, kPsk2);
}

// ---- Links script, BIRD, FRR with the real tools ----

TEST(SiteConfigTools, TheLinksScriptIsValidShAndCreatesMissingLinks) {
  TempDir dir;
  const auto config = renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kStrongswan);
  const auto script = dir.write("links.sh", find(config, "-links.sh")->content);
  const auto syntax = run("sh -n " + script.string());
  ASSERT_EQ(syntax.status, 0) << syntax.output;
  // A stand-in `ip` that logs its arguments and reports every link as missing.
  using std::filesystem::perms;
  dir.write("bin/ip", "#!/bin/sh\necho \"$*\" >> \"$IP_LOG\"\n[ \"$1 $2\" != \"link show\" ]\n",
            perms::owner_all);
  const auto log = dir / "ip.log";
  const auto result = run(fmt::format("PATH={}:$PATH IP_LOG={} UNDERLAY=ens5 sh {}",
                                      (dir / "bin").string(), log.string(), script.string()));
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(readFile(log),
            "link show dev xfrm-hub1\n"
            "link add xfrm-hub1 type xfrm dev ens5 if_id 1\n"
            "addr replace 169.254.30.2/30 dev xfrm-hub1\n"
            "link set dev xfrm-hub1 mtu 1399 up\n"
            "link show dev xfrm-hub2\n"
            "link add xfrm-hub2 type xfrm dev ens5 if_id 2\n"
            "addr replace 169.254.30.6/30 dev xfrm-hub2\n"
            "link set dev xfrm-hub2 mtu 1399 up\n");
}

// ---- AWS XML ----

// The document with only its `keep`-th (1-based) <ipsec_tunnel>: the project's parser insists
// that a connection's tunnels share one customer gateway address and use two vpn gateway
// addresses (AWS's shape); a site's two tunnels do the opposite, so each is parsed on its own.
std::string onlyTunnel(std::string xml, int keep) {
  const std::string open = "<ipsec_tunnel>";
  const std::string close = "</ipsec_tunnel>";
  const auto first = xml.find(open);
  const auto first_end = xml.find(close, first) + close.size();
  const auto second = xml.find(open, first_end);
  const auto second_end = xml.find(close, second) + close.size();
  const auto [from, to] = keep == 1 ? std::pair{second, second_end} : std::pair{first, first_end};
  xml.erase(from, to - from);
  return xml;
}

TEST(SiteConfigAwsXml, AOneTunnelSiteParsesBackWithTheSiteAsCustomerGateway) {
  const auto spoke =
      site(R"(, "routing": "bgp", "asn": 65010, "bgp_hold_time_seconds": 45)", false);
  const auto config = renderSiteConfig(spoke, hub(), SiteConfigFormat::kAwsXml);
  ASSERT_EQ(config.files.size(), 1u);
  EXPECT_TRUE(config.files[0].secret);
  const auto parsed = parseAwsVpnConnection(config.files[0].content);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().where << ": " << parsed.error().message;
  EXPECT_EQ(parsed->id, "vpn-site1");
  EXPECT_EQ(parsed->customer_gateway_id, "cgw-site1");
  EXPECT_EQ(parsed->gateway_id, "vgw-huba");
  EXPECT_TRUE(parsed->bgp);
  ASSERT_EQ(parsed->tunnels.size(), 1u);
  const auto& tunnel = parsed->tunnels[0];
  EXPECT_EQ(tunnel.customer_gateway.outside_address, ip("198.51.100.20"));
  EXPECT_EQ(tunnel.customer_gateway.inside_address, ip("169.254.30.2"));
  EXPECT_EQ(tunnel.customer_gateway.asn, 65010u);
  EXPECT_EQ(tunnel.customer_gateway.hold_time, 45u);
  EXPECT_EQ(tunnel.vpn_gateway.outside_address, ip("203.0.113.5"));
  EXPECT_EQ(tunnel.vpn_gateway.inside_address, ip("169.254.30.1"));
  EXPECT_EQ(tunnel.vpn_gateway.asn, 65000u);
  EXPECT_EQ(tunnel.inside_cidr, Ipv4Prefix::parse("169.254.30.0/30").value());
  EXPECT_EQ(tunnel.psk, kPsk1);
  EXPECT_EQ(tunnel.dpd_interval, 10u);
  EXPECT_EQ(tunnel.dpd_retries, 3u);
  EXPECT_EQ(tunnel.tcp_mss, 1379u);
}

TEST(SiteConfigAwsXml, EachTunnelOfATwoTunnelSiteParsesBack) {
  const auto xml =
      renderSiteConfig(customSite(), hub(), SiteConfigFormat::kAwsXml).files.at(0).content;
  const std::array<std::pair<const char*, std::string_view>, 2> expected{
      {{"198.51.100.20", kPsk1}, {"198.51.100.21", kPsk2}}};
  for (int keep = 1; keep <= 2; ++keep) {
    const auto parsed = parseAwsVpnConnection(onlyTunnel(xml, keep));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().where << ": " << parsed.error().message;
    ASSERT_EQ(parsed->tunnels.size(), 1u);
    const auto& tunnel = parsed->tunnels[0];
    const auto& [outside, psk] = expected[keep - 1];
    EXPECT_EQ(tunnel.customer_gateway.outside_address, ip(outside));
    EXPECT_EQ(tunnel.customer_gateway.inside_address,
              ip(keep == 1 ? "169.254.30.2" : "169.254.30.6"));
    EXPECT_EQ(tunnel.customer_gateway.asn, 65123u);
    EXPECT_EQ(tunnel.customer_gateway.hold_time, 90u);
    EXPECT_EQ(tunnel.vpn_gateway.outside_address, ip("203.0.113.5"));
    EXPECT_EQ(tunnel.vpn_gateway.inside_address, ip(keep == 1 ? "169.254.30.1" : "169.254.30.5"));
    EXPECT_EQ(tunnel.vpn_gateway.asn, 65000u);
    EXPECT_EQ(tunnel.psk, psk);
    EXPECT_EQ(tunnel.dpd_retries, 6u);  // DPD timeout 60 s at 10 s intervals
  }
}

TEST(SiteConfigAwsXml, AStaticSiteParsesBackWithoutBgp) {
  const auto spoke = site(R"(, "routing": "static")", false);
  const auto parsed = parseAwsVpnConnection(
      renderSiteConfig(spoke, hub(), SiteConfigFormat::kAwsXml).files[0].content);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().where << ": " << parsed.error().message;
  EXPECT_FALSE(parsed->bgp);
  ASSERT_EQ(parsed->tunnels.size(), 1u);
  EXPECT_EQ(parsed->tunnels[0].customer_gateway.asn, std::nullopt);
  EXPECT_EQ(parsed->tunnels[0].customer_gateway.inside_address, ip("169.254.30.2"));
  EXPECT_EQ(parsed->tunnels[0].psk, kPsk1);
}

TEST(SiteConfigAwsXml, IkeAndIpsecCarryTheFirstProposalInAwsNames) {
  const auto defaults =
      renderSiteConfig(bgpSite(), hub(), SiteConfigFormat::kAwsXml).files[0].content;
  EXPECT_NE(
      defaults.find("<ike>\n      <authentication_protocol>sha2-256</authentication_protocol>\n"
                    "      <encryption_protocol>aes-256-gcm-16</encryption_protocol>\n"
                    "      <lifetime>28800</lifetime>\n"
                    "      <perfect_forward_secrecy>group20</perfect_forward_secrecy>\n"),
      std::string::npos)
      << defaults;
  // GCM in phase 2: no separate integrity.
  EXPECT_NE(defaults.find("<protocol>esp</protocol>\n      <encryption_protocol>aes-256-gcm-16"),
            std::string::npos)
      << defaults;
  const auto custom =
      renderSiteConfig(customSite(), hub(), SiteConfigFormat::kAwsXml).files[0].content;
  EXPECT_NE(custom.find("<authentication_protocol>sha2-512</authentication_protocol>\n"
                        "      <encryption_protocol>aes-256-cbc</encryption_protocol>\n"
                        "      <lifetime>14400</lifetime>\n"
                        "      <perfect_forward_secrecy>group16</perfect_forward_secrecy>\n"),
            std::string::npos)
      << custom;
  EXPECT_NE(custom.find("<lifetime>1800</lifetime>\n"
                        "      <perfect_forward_secrecy>group16</perfect_forward_secrecy>"),
            std::string::npos)
      << custom;
}

// ---- the pair: a site connects to both hubs ---------------------------------------------------

// Four tunnels, each to its hub's public address, numbered 1-4 for the site (interfaces, if_ids)
// and named after their hub and their index on it.
TEST(SiteConfigPair, StrongswanConnectsEveryTunnelToItsHub) {
  const auto config = renderSiteConfig(pairSite(), pairHubs(), SiteConfigFormat::kStrongswan);
  const auto& swanctl = find(config, ".conf")->content;
  EXPECT_NE(swanctl.find("to transit hubs \"hub-a\" (203.0.113.5) and \"hub-b\" (203.0.113.6)"),
            std::string::npos);
  for (const auto& [conn, remote, if_id] : {std::tuple{"hub-a-t1", "203.0.113.5", 1},
                                            {"hub-a-t2", "203.0.113.5", 2},
                                            {"hub-b-t1", "203.0.113.6", 3},
                                            {"hub-b-t2", "203.0.113.6", 4}}) {
    SCOPED_TRACE(conn);
    const auto at = swanctl.find(fmt::format("  {} {{\n", conn));
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(valueOf(swanctl, "remote_addrs", at), remote);
    EXPECT_EQ(valueOf(swanctl, "if_id_in", at), std::to_string(if_id));
    const auto secret = swanctl.find(fmt::format("  ike-{} {{\n", conn));
    ASSERT_NE(secret, std::string::npos);
    EXPECT_EQ(valueOf(swanctl, "id-2", secret), remote);
  }
  EXPECT_NE(swanctl.find(std::string(kPskB2)), std::string::npos);
  const auto& links = find(config, "-links.sh")->content;
  EXPECT_NE(links.find("link xfrm-hub4 4 169.254.31.6/30"), std::string::npos) << links;
  EXPECT_NE(links.find("(hub-b tunnel 2)"), std::string::npos) << links;
}

TEST(SiteConfigPair, BgpSessionsGoToEachHubOverItsTunnels) {
  const auto config = renderSiteConfig(pairSite(), pairHubs(), SiteConfigFormat::kLibreswan);
  const auto& bird = find(config, "bird/transit-hub-site-1.conf")->content;
  for (const auto* protocol : {"protocol bgp hub_a_t1 {", "protocol bgp hub_a_t2 {",
                               "protocol bgp hub_b_t1 {", "protocol bgp hub_b_t2 {"}) {
    EXPECT_NE(bird.find(protocol), std::string::npos) << protocol;
  }
  EXPECT_NE(bird.find("neighbor 169.254.31.5 as 65000;"), std::string::npos) << bird;
  const auto& conf = find(config, "ipsec.d/transit-hub-site-1.conf")->content;
  EXPECT_NE(conf.find("conn hub-b-t2\n"), std::string::npos);
  EXPECT_NE(conf.find("\tright=203.0.113.6\n"), std::string::npos);
  EXPECT_NE(conf.find("\tipsec-interface=14\n"), std::string::npos);  // the fourth: ipsec14
  const auto& secrets = find(config, ".secrets")->content;
  EXPECT_NE(secrets.find(fmt::format("198.51.100.21 203.0.113.6 : PSK \"{}\"", kPskB2)),
            std::string::npos);
}

// AWS makes one VPN connection per customer gateway: one document per hub, each holding that
// hub's two tunnels with that hub as the VPN gateway (each tunnel parses back on its own: the
// fixture's site uses two addresses, and a document has one customer gateway).
TEST(SiteConfigPair, AwsXmlIsOneDocumentPerHub) {
  const auto config = renderSiteConfig(pairSite(), pairHubs(), SiteConfigFormat::kAwsXml);
  ASSERT_EQ(config.files.size(), 2u);
  for (const auto& [file, hub_ip, psks] :
       {std::tuple{0, "203.0.113.5", std::array{kPsk1, kPsk2}},
        std::tuple{1, "203.0.113.6", std::array{kPskB1, kPskB2}}}) {
    const auto& document = config.files[static_cast<std::size_t>(file)];
    EXPECT_EQ(document.path,
              file == 0 ? "transit-hub-site-1-hub-a.xml" : "transit-hub-site-1-hub-b.xml");
    EXPECT_TRUE(document.secret);
    for (int keep = 1; keep <= 2; ++keep) {
      const auto parsed = parseAwsVpnConnection(onlyTunnel(document.content, keep));
      ASSERT_TRUE(parsed.has_value()) << parsed.error().where << ": " << parsed.error().message;
      ASSERT_EQ(parsed->tunnels.size(), 1u);
      EXPECT_EQ(parsed->tunnels[0].vpn_gateway.outside_address, ip(hub_ip));
      EXPECT_EQ(parsed->tunnels[0].psk, psks[static_cast<std::size_t>(keep - 1)]);
    }
  }
}

// A single hub's configuration is what it always was, whichever overload renders it.
TEST(SiteConfigPair, ASingleHubsConfigurationIsUnchanged) {
  const std::vector<SiteConfigHub> one{hub()};
  for (const auto format :
       {SiteConfigFormat::kStrongswan, SiteConfigFormat::kLibreswan, SiteConfigFormat::kAwsXml}) {
    const auto a = renderSiteConfig(bgpSite(), hub(), format);
    const auto b = renderSiteConfig(bgpSite(), one, format);
    ASSERT_EQ(a.files.size(), b.files.size());
    for (std::size_t i = 0; i < a.files.size(); ++i) {
      EXPECT_EQ(a.files[i].path, b.files[i].path);
      EXPECT_EQ(a.files[i].content, b.files[i].content);
    }
  }
}

}  // namespace
}  // namespace transit::peers
