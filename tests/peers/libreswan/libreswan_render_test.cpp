#include "peers/libreswan/libreswan_render.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace transit::peers {
namespace {

Ipv4Address ip(std::string_view text) { return Ipv4Address::parse(text).value(); }

TunnelSpec vpcTunnel() {
  TunnelSpec spec;
  spec.name = "th-prod-a-1";
  spec.spoke = "prod-a";
  spec.index = 1;
  spec.local_address = ip("10.0.0.10");
  spec.local_id = ip("203.0.113.5");
  spec.remote_address = ip("198.51.100.10");
  spec.inside_cidr = Ipv4Prefix::parse("169.254.20.0/30").value();
  spec.hub_inside = ip("169.254.20.2");
  spec.psk = "Secret_psk.vpc1";
  spec.interface_id = 101;
  return spec;
}

TunnelSpec siteTunnel() {
  TunnelSpec spec = vpcTunnel();
  spec.name = "th-site-1-2";
  spec.spoke = "site-1";
  spec.index = 2;
  spec.remote_address = ip("192.0.2.77");
  spec.inside_cidr = Ipv4Prefix::parse("169.254.30.4/30").value();
  spec.hub_inside = ip("169.254.30.6");
  spec.psk = "site.Psk_2";
  spec.interface_id = 202;
  return spec;
}

std::string dataPath(const std::string& name) {
  return std::string(TRANSIT_TEST_DATA) + "/libreswan/" + name;
}

// Compares with the golden file; TRANSIT_UPDATE_GOLDEN=1 rewrites it instead.
void expectGolden(const std::string& name, const std::string& actual) {
  const std::string path = dataPath(name);
  if (std::getenv("TRANSIT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::ostringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "golden file " << path;
}

LibreswanOptions xfrm() {
  LibreswanOptions options;
  options.links = TunnelLinks::kXfrm;
  return options;
}

LibreswanOptions external() {
  LibreswanOptions options;
  options.links = TunnelLinks::kExternal;
  return options;
}

TEST(LibreswanRender, VpcTunnelWithXfrmInterfaceMatchesGolden) {
  expectGolden("render_vpc_xfrm.conf", renderConnection(vpcTunnel(), xfrm()));
}

TEST(LibreswanRender, SiteTunnelWithXfrmInterfaceMatchesGolden) {
  expectGolden("render_site_xfrm.conf", renderConnection(siteTunnel(), xfrm()));
}

TEST(LibreswanRender, VpcTunnelWithExternalLinksMatchesGolden) {
  expectGolden("render_vpc_external.conf", renderConnection(vpcTunnel(), external()));
}

TEST(LibreswanRender, SiteTunnelWithExternalLinksMatchesGolden) {
  expectGolden("render_site_external.conf", renderConnection(siteTunnel(), external()));
}

TEST(LibreswanRender, XfrmModeNamesTheInterfaceAndSetsNoMark) {
  const auto text = renderConnection(vpcTunnel(), xfrm());
  EXPECT_NE(text.find("\tipsec-interface=101\n"), std::string::npos);
  EXPECT_EQ(text.find("mark="), std::string::npos);
}

// pluto 4.10 installs a second 0/0 <-> 0/0 connection only when both agree on the next hop and
// allow overlapping policies (seen in the image test: every tunnel but the first failed its Child
// SA with "cannot route -- route already in use", then "cannot install eroute -- it is in use").
TEST(LibreswanRender, XfrmModeTakesTheNextHopOfTheRouteSoEveryTunnelAgrees) {
  const auto text = renderConnection(vpcTunnel(), xfrm());
  EXPECT_NE(text.find("\tleftnexthop=%defaultroute\n"), std::string::npos);
  EXPECT_NE(text.find("\toverlapip=yes\n"), std::string::npos);
  EXPECT_EQ(renderConnection(vpcTunnel(), external()).find("nexthop"), std::string::npos);
}

TEST(LibreswanRender, ExternalModeConfinesThePolicyWithAMarkAndNoInterface) {
  const auto text = renderConnection(vpcTunnel(), external());
  EXPECT_NE(text.find("\tmark=101/0xffffffff\n"), std::string::npos);
  EXPECT_EQ(text.find("ipsec-interface"), std::string::npos);
  EXPECT_EQ(text.find("vti"), std::string::npos);
}

TEST(LibreswanRender, ExternalMarkWithoutInterfaceIdIsStablePerName) {
  TunnelSpec a = vpcTunnel();
  a.interface_id = 0;
  TunnelSpec b = siteTunnel();
  b.interface_id = 0;
  EXPECT_EQ(externalMark(a), externalMark(a));
  EXPECT_NE(externalMark(a), externalMark(b));
  EXPECT_GE(externalMark(a), 0x10000U);
}

TEST(LibreswanRender, TimesAreIntegerSeconds) {
  // pluto 4.10 silently ignores fractional values (pitfall 13).
  const auto text = renderConnection(vpcTunnel(), xfrm());
  EXPECT_NE(text.find("\trekeymargin=270s\n"), std::string::npos);
  EXPECT_NE(text.find("\tikelifetime=28800s\n"), std::string::npos);
  EXPECT_NE(text.find("\tsalifetime=3600s\n"), std::string::npos);
  EXPECT_EQ(text.find("dpdtimeout"), std::string::npos);
}

TEST(LibreswanRender, ConnectionNeverContainsThePsk) {
  EXPECT_EQ(renderConnection(vpcTunnel(), xfrm()).find(vpcTunnel().psk), std::string::npos);
}

TEST(LibreswanRender, SecretsFileMatchesGolden) {
  const std::vector<TunnelSpec> tunnels{vpcTunnel(), siteTunnel()};
  expectGolden("secrets_two.txt", renderSecrets(tunnels));
}

TEST(LibreswanRender, SecretsLineHasLocalIdRemoteAndQuotedKey) {
  const std::vector<TunnelSpec> tunnels{vpcTunnel()};
  EXPECT_NE(renderSecrets(tunnels).find("203.0.113.5 198.51.100.10 : PSK \"Secret_psk.vpc1\"\n"),
            std::string::npos);
}

TEST(LibreswanRender, PskCharsetCheck) {
  EXPECT_TRUE(pskRenderable("abc.DEF_123"));
  EXPECT_FALSE(pskRenderable("has\"quote"));
  EXPECT_FALSE(pskRenderable("has space"));
  EXPECT_FALSE(pskRenderable(""));
}

}  // namespace
}  // namespace transit::peers
