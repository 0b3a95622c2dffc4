#include "peers/aws/aws_vpn_xml.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace transit::peers {
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;

std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(TRANSIT_AWS_DATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Ipv4Address ip(std::string_view text) { return Ipv4Address::parse(text).value(); }
Ipv4Prefix prefix(std::string_view text) { return Ipv4Prefix::parse(text).value(); }

// Every fixture PSK contains both markers; no problem message may contain either.
bool mentionsPsk(std::string_view message) {
  return message.find("LabOnly") != std::string_view::npos ||
         message.find("k3y") != std::string_view::npos;
}

// `text` with the first `from` at or after `start` replaced by `to`.
std::string replaceOnce(std::string text, std::string_view from, std::string_view to,
                        std::size_t start = 0) {
  const auto at = text.find(from, start);
  EXPECT_NE(at, std::string::npos) << "fixture lacks " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The same, inside the second <ipsec_tunnel>.
std::string replaceInTunnel2(std::string text, std::string_view from, std::string_view to) {
  const auto start = text.find("</ipsec_tunnel>");
  return replaceOnce(std::move(text), from, to, start);
}

// `text` without the first <name>...</name> at or after `start`.
std::string eraseElement(std::string text, const std::string& name, std::size_t start) {
  const auto from = text.find("<" + name + ">", start);
  const auto close = "</" + name + ">";
  const auto to = text.find(close, from);
  EXPECT_NE(to, std::string::npos) << "fixture lacks " << name;
  if (to != std::string::npos) text.erase(from, to + close.size() - from);
  return text;
}

XmlProblem problemOf(std::string_view xml) {
  auto parsed = parseAwsVpnConnection(xml);
  EXPECT_FALSE(parsed.has_value()) << "parsed a document that should be refused";
  if (parsed) return XmlProblem{"<parsed>", ""};
  EXPECT_FALSE(parsed.error().message.empty());
  EXPECT_FALSE(mentionsPsk(parsed.error().message)) << parsed.error().message;
  return parsed.error();
}

AwsVpnConnection parsed(std::string_view xml) {
  auto result = parseAwsVpnConnection(xml);
  EXPECT_TRUE(result.has_value()) << (result
                                          ? ""
                                          : result.error().where + ": " + result.error().message);
  return result.value_or(AwsVpnConnection{});
}

void expectEnd(const AwsTunnelEnd& end, std::string_view outside,
               std::optional<std::string_view> inside, std::optional<std::uint32_t> asn,
               std::optional<std::uint32_t> hold_time) {
  EXPECT_EQ(end.outside_address.toString(), outside);
  ASSERT_EQ(end.inside_address.has_value(), inside.has_value());
  if (inside) {
    EXPECT_EQ(end.inside_address->toString(), *inside);
    EXPECT_EQ(end.inside_prefix_length, 30);
  } else {
    EXPECT_FALSE(end.inside_prefix_length.has_value());
  }
  EXPECT_EQ(end.asn, asn);
  EXPECT_EQ(end.hold_time, hold_time);
}

void expectBgpTunnel1(const AwsTunnel& tunnel) {
  expectEnd(tunnel.customer_gateway, "203.0.113.10", "169.254.80.146", 65000U, 30U);
  expectEnd(tunnel.vpn_gateway, "198.51.100.11", "169.254.80.145", 64512U, 30U);
  EXPECT_EQ(tunnel.inside_cidr, prefix("169.254.80.144/30"));
  EXPECT_EQ(tunnel.psk, "LabOnly.tunnel_one.k3yA");
  EXPECT_EQ(tunnel.dpd_interval, 10U);
  EXPECT_EQ(tunnel.dpd_retries, 3U);
  EXPECT_EQ(tunnel.tcp_mss, 1379U);
}

void expectBgpTunnel2(const AwsTunnel& tunnel) {
  expectEnd(tunnel.customer_gateway, "203.0.113.10", "169.254.172.86", 65000U, 30U);
  expectEnd(tunnel.vpn_gateway, "198.51.100.22", "169.254.172.85", 64512U, 30U);
  EXPECT_EQ(tunnel.inside_cidr, prefix("169.254.172.84/30"));
  EXPECT_EQ(tunnel.psk, "LabOnly.tunnel_two.k3yB");
  EXPECT_EQ(tunnel.dpd_interval, 10U);
  EXPECT_EQ(tunnel.dpd_retries, 3U);
  EXPECT_EQ(tunnel.tcp_mss, 1379U);
}

// --- Good documents ----------------------------------------------------------------------

TEST(AwsVpnXml, BgpDocumentYieldsEveryField) {
  const auto connection = parsed(readFixture("aws-bgp.xml"));
  EXPECT_EQ(connection.id, "vpn-0a1b2c3d4e5f60718");
  EXPECT_EQ(connection.customer_gateway_id, "cgw-0123456789abcdef0");
  EXPECT_EQ(connection.gateway_id, "vgw-0fedcba9876543210");
  EXPECT_EQ(connection.type, "ipsec.1");
  EXPECT_TRUE(connection.bgp);
  ASSERT_EQ(connection.tunnels.size(), 2U);
  expectBgpTunnel1(connection.tunnels[0]);
  expectBgpTunnel2(connection.tunnels[1]);
}

TEST(AwsVpnXml, ReversedDocumentYieldsTheSameTunnelsInReverseOrder) {
  const auto forward = parsed(readFixture("aws-bgp.xml"));
  const auto reversed = parsed(readFixture("aws-bgp-reversed.xml"));
  ASSERT_EQ(reversed.tunnels.size(), 2U);
  expectBgpTunnel2(reversed.tunnels[0]);
  expectBgpTunnel1(reversed.tunnels[1]);
  ASSERT_EQ(forward.tunnels.size(), 2U);
  EXPECT_EQ(reversed.tunnels[0], forward.tunnels[1]);
  EXPECT_EQ(reversed.tunnels[1], forward.tunnels[0]);
  auto unreversed = reversed;
  std::swap(unreversed.tunnels[0], unreversed.tunnels[1]);
  EXPECT_EQ(unreversed, forward);
}

TEST(AwsVpnXml, StaticDocumentHasOutsideAddressesOnly) {
  const auto connection = parsed(readFixture("aws-static.xml"));
  EXPECT_EQ(connection.id, "vpn-0b2c3d4e5f6071829");
  EXPECT_EQ(connection.customer_gateway_id, "cgw-0123456789abcdef0");
  EXPECT_EQ(connection.gateway_id, "vgw-0fedcba9876543210");
  EXPECT_EQ(connection.type, "ipsec.1");
  EXPECT_FALSE(connection.bgp);
  ASSERT_EQ(connection.tunnels.size(), 2U);
  const std::array<std::string, 2> vgw = {"198.51.100.33", "198.51.100.44"};
  const std::array<std::string, 2> psk = {"LabOnly.static_one.k3yC", "LabOnly.static_two.k3yD"};
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const auto& tunnel = connection.tunnels[i];
    expectEnd(tunnel.customer_gateway, "203.0.113.10", std::nullopt, std::nullopt, std::nullopt);
    expectEnd(tunnel.vpn_gateway, vgw[i], std::nullopt, std::nullopt, std::nullopt);
    EXPECT_FALSE(tunnel.inside_cidr.has_value());
    EXPECT_EQ(tunnel.psk, psk[i]);
    EXPECT_FALSE(tunnel.dpd_interval.has_value());
    EXPECT_FALSE(tunnel.dpd_retries.has_value());
    EXPECT_EQ(tunnel.tcp_mss, 1387U);
  }
}

TEST(AwsVpnXml, StaticDocumentWithInsideAddressesFillsTheInsideCidr) {
  std::string xml = readFixture("aws-static.xml");
  xml = replaceOnce(xml, "</tunnel_outside_address>\n    </customer_gateway>",
                    "</tunnel_outside_address>\n<tunnel_inside_address><ip_address>169.254.9.2"
                    "</ip_address><network_cidr>30</network_cidr></tunnel_inside_address>"
                    "</customer_gateway>");
  xml = replaceOnce(xml, "</tunnel_outside_address>\n    </vpn_gateway>",
                    "</tunnel_outside_address>\n<tunnel_inside_address><ip_address>169.254.9.1"
                    "</ip_address><network_cidr>30</network_cidr></tunnel_inside_address>"
                    "</vpn_gateway>");
  const auto connection = parsed(xml);
  ASSERT_EQ(connection.tunnels.size(), 2U);
  EXPECT_EQ(connection.tunnels[0].inside_cidr, prefix("169.254.9.0/30"));
  EXPECT_EQ(connection.tunnels[0].customer_gateway.inside_address, ip("169.254.9.2"));
  EXPECT_FALSE(connection.tunnels[1].inside_cidr.has_value());
}

TEST(AwsVpnXml, StaticDocumentWithABadInsideAddressIsRefused) {
  const std::string xml = replaceOnce(
      readFixture("aws-static.xml"), "</tunnel_outside_address>\n    </vpn_gateway>",
      "</tunnel_outside_address><tunnel_inside_address><ip_address>169.254.1.1</ip_address>"
      "<network_cidr>30</network_cidr></tunnel_inside_address></vpn_gateway>");
  EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/vpn_gateway/tunnel_inside_address/ip_address");
}

TEST(AwsVpnXml, StaticDocumentWithAnInsideAddressOnOneEndOnlyIsRefused) {
  const std::string xml = replaceOnce(
      readFixture("aws-static.xml"), "</tunnel_outside_address>\n    </vpn_gateway>",
      "</tunnel_outside_address><tunnel_inside_address><ip_address>169.254.9.1</ip_address>"
      "<network_cidr>30</network_cidr></tunnel_inside_address></vpn_gateway>");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[1]/customer_gateway/tunnel_inside_address");
  EXPECT_NE(problem.message.find("missing"), std::string::npos) << problem.message;
}

TEST(AwsVpnXml, SingleTunnelDocumentIsAccepted) {
  const std::string full = readFixture("aws-bgp.xml");
  const auto second = full.find("  <ipsec_tunnel>", full.find("</ipsec_tunnel>"));
  const auto end = full.find("</vpn_connection>");
  std::string xml = full.substr(0, second) + full.substr(end);
  const auto connection = parsed(xml);
  ASSERT_EQ(connection.tunnels.size(), 1U);
  expectBgpTunnel1(connection.tunnels[0]);
}

TEST(AwsVpnXml, TransitGatewayIdIsTheGatewayId) {
  const std::string xml = replaceOnce(
      readFixture("aws-bgp.xml"), "<vpn_gateway_id>vgw-0fedcba9876543210</vpn_gateway_id>",
      "<transit_gateway_id>tgw-0aaaabbbbccccdddd</transit_gateway_id>");
  EXPECT_EQ(parsed(xml).gateway_id, "tgw-0aaaabbbbccccdddd");
}

TEST(AwsVpnXml, UnknownElementsAndTheirDuplicatesAreIgnored) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "</vpn_connection>",
                    "<transit_vpc_config><account_id>1</account_id></transit_vpc_config>"
                    "<transit_vpc_config/></vpn_connection>");
  xml = replaceOnce(xml, "<lifetime>28800</lifetime>",
                    "<lifetime>28800</lifetime><lifetime>900</lifetime><new_field>x</new_field>");
  xml = replaceOnce(xml, "<ipsec_tunnel>", "<ipsec_tunnel index=\"1\">");
  EXPECT_EQ(parsed(xml), parsed(readFixture("aws-bgp.xml")));
}

TEST(AwsVpnXml, ProcessingInstructionsAndCommentsAreIgnored) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "<vpn_connection ",
                    "<?xml-stylesheet href=\"x.xsl\"?>\n<!-- c -->\n"
                    "<vpn_connection ");
  xml = replaceOnce(xml, "<asn>65000</asn>", "<asn>65<!-- split -->000<?aws note?></asn>");
  xml = replaceOnce(xml, "</vpn_connection>", "</vpn_connection>\n<?trailing pi?>\n<!-- end -->");
  EXPECT_EQ(parsed(xml), parsed(readFixture("aws-bgp.xml")));
}

TEST(AwsVpnXml, WhitespaceAroundValuesAndCdataAreAccepted) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "<hold_time>30</hold_time>", "<hold_time>\n  30 \t</hold_time>");
  xml = replaceOnce(xml, "<ip_address>203.0.113.10</ip_address>",
                    "<ip_address> 203.0.113.10\n</ip_address>");
  xml = replaceOnce(xml, "<pre_shared_key>LabOnly.tunnel_one.k3yA</pre_shared_key>",
                    "<pre_shared_key><![CDATA[LabOnly.tunnel_one.k3yA]]></pre_shared_key>");
  EXPECT_EQ(parsed(xml), parsed(readFixture("aws-bgp.xml")));
}

TEST(AwsVpnXml, HoldTimeZeroAndLargestAsnAreAccepted) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "<hold_time>30</hold_time>", "<hold_time>0</hold_time>");
  xml = replaceOnce(xml, "<asn>65000</asn>", "<asn>4294967295</asn>");
  const auto connection = parsed(xml);
  ASSERT_EQ(connection.tunnels.size(), 2U);
  EXPECT_EQ(connection.tunnels[0].customer_gateway.hold_time, 0U);
  EXPECT_EQ(connection.tunnels[0].customer_gateway.asn, 4294967295U);
}

TEST(AwsVpnXml, DocumentExactlyAtTheSizeLimitIsAccepted) {
  std::string xml = readFixture("aws-bgp.xml");
  const std::string open = "<!--", close = "-->";
  xml += open + std::string(kMaxAwsXmlBytes - xml.size() - open.size() - close.size(), 'x') + close;
  ASSERT_EQ(xml.size(), kMaxAwsXmlBytes);
  EXPECT_EQ(parsed(xml).tunnels.size(), 2U);
}

TEST(AwsVpnXml, Utf8ByteOrderMarkIsAccepted) {
  EXPECT_EQ(parsed("\xEF\xBB\xBF" + readFixture("aws-bgp.xml")),
            parsed(readFixture("aws-bgp.xml")));
}

// --- Bad fixtures ----------------------------------------------------------------------------

struct BadFixture {
  std::string file;
  std::string where;
  std::string message_part;  // a substring the message must contain
};

class AwsVpnXmlBadFixture : public testing::TestWithParam<BadFixture> {};

TEST_P(AwsVpnXmlBadFixture, IsRefusedNamingTheElement) {
  const auto problem = problemOf(readFixture(GetParam().file));
  EXPECT_EQ(problem.where, GetParam().where) << problem.message;
  EXPECT_NE(problem.message.find(GetParam().message_part), std::string::npos) << problem.message;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, AwsVpnXmlBadFixture,
    testing::Values(
        BadFixture{"aws-bad-billion-laughs.xml", "",
                   "DTDs and entity declarations are not accepted"},
        BadFixture{"aws-bad-external-entity.xml", "",
                   "DTDs and entity declarations are not accepted"},
        BadFixture{"aws-bad-not-well-formed.xml", "",
                   "not well-formed XML: Start-end tags mismatch at byte "},
        BadFixture{"aws-bad-wrong-root.xml", "", "root element must be <vpn_connection>"},
        BadFixture{"aws-bad-missing-psk.xml", "ipsec_tunnel[2]/ike/pre_shared_key", "missing"},
        BadFixture{"aws-bad-psk.xml", "ipsec_tunnel[1]/ike/pre_shared_key",
                   "not a valid AWS pre-shared key"},
        BadFixture{"aws-bad-asn.xml", "ipsec_tunnel[2]/vpn_gateway/bgp/asn", "digits only"},
        BadFixture{"aws-bad-cidr-29.xml",
                   "ipsec_tunnel[1]/customer_gateway/tunnel_inside_address/network_cidr", "is 29"},
        BadFixture{"aws-bad-inside-split.xml",
                   "ipsec_tunnel[1]/customer_gateway/tunnel_inside_address/ip_address",
                   "169.254.80.150 is not in 169.254.80.144/30"},
        BadFixture{"aws-bad-reserved-inside.xml",
                   "ipsec_tunnel[2]/customer_gateway/tunnel_inside_address/ip_address",
                   "169.254.1.0/30, which AWS reserves"},
        BadFixture{"aws-bad-three-tunnels.xml", "ipsec_tunnel[3]", "at most two"},
        BadFixture{"aws-bad-duplicate.xml", "ipsec_tunnel[2]/ike/pre_shared_key",
                   "appears 2 times"}),
    [](const testing::TestParamInfo<BadFixture>& fixture) {
      const std::string& file = fixture.param.file;
      std::string name = file.substr(8, file.size() - 8 - 4);  // "aws-bad-" and ".xml"
      std::ranges::replace(name, '-', '_');
      return name;
    });

// --- Document-level refusals -----------------------------------------------------------------

TEST(AwsVpnXml, EmptyDocumentIsRefused) {
  const auto problem = problemOf("");
  EXPECT_EQ(problem.where, "");
  EXPECT_EQ(problem.message, "the document is empty");
}

TEST(AwsVpnXml, WhitespaceOnlyDocumentHasNoRootElement) {
  EXPECT_EQ(problemOf("  \n").message, "not well-formed XML: there is no root element");
}

TEST(AwsVpnXml, OversizeDocumentIsRefusedBeforeParsing) {
  // Malformed beyond the limit: the size, not the syntax, must be what is reported.
  std::string xml = readFixture("aws-bgp.xml");
  xml += "<!--" + std::string(kMaxAwsXmlBytes, 'x');
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "");
  EXPECT_NE(problem.message.find("the limit is 262144 bytes"), std::string::npos)
      << problem.message;
}

TEST(AwsVpnXml, DoctypeWithoutEntitiesIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "<vpn_connection ",
                                      "<!DOCTYPE vpn_connection>\n<vpn_connection ");
  EXPECT_NE(problemOf(xml).message.find("DTDs and entity declarations are not accepted"),
            std::string::npos);
}

TEST(AwsVpnXml, LowercaseDeclarationInsideTheRootIsRefused) {
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), "<ipsec_tunnel>", "<!entity x 'y'><ipsec_tunnel>");
  EXPECT_NE(problemOf(xml).message.find("DTDs and entity declarations are not accepted"),
            std::string::npos);
}

TEST(AwsVpnXml, ControlCharacterIsRefused) {
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), "ipsec.1", std::string("ipsec.1\0", 8));
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "");
  EXPECT_NE(problem.message.find("control character 0x00 at byte "), std::string::npos)
      << problem.message;
}

TEST(AwsVpnXml, CharacterReferenceToNulIsRefused) {
  // pugixml would decode it into a NUL that cuts the value short: the ASN would read as 65000.
  for (const std::string bad :
       {"&#0;", "&#x0;", "&#1;", "&#xD800;", "&#99999999999;", "&#;", "&#x;", "&#65"}) {
    SCOPED_TRACE(bad);
    const std::string xml =
        replaceOnce(readFixture("aws-bgp.xml"), "<asn>65000</asn>", "<asn>65000" + bad + "1</asn>");
    const auto problem = problemOf(xml);
    EXPECT_EQ(problem.where, "");
    EXPECT_NE(problem.message.find("invalid character reference at byte "), std::string::npos)
        << problem.message;
  }
}

TEST(AwsVpnXml, CharacterReferencesToAllowedCharactersAreDecoded) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "LabOnly.tunnel_one.k3yA", "LabOnly.tunnel_one.k3y&#65;");
  xml = replaceOnce(xml, "<asn>65000</asn>", "<asn>&#x36;5000&#9;</asn>");
  EXPECT_EQ(parsed(xml), parsed(readFixture("aws-bgp.xml")));
}

TEST(AwsVpnXml, Utf16DocumentIsRefused) {
  const std::string xml("\xFF\xFE<\0v\0p\0n\0_\0", 12);
  EXPECT_EQ(problemOf(xml).message, "the document is UTF-16; only UTF-8 is accepted");
}

TEST(AwsVpnXml, TextOutsideTheRootIsRefused) {
  EXPECT_EQ(problemOf(readFixture("aws-bgp.xml") + "trailing").message,
            "not well-formed XML: text outside the root element");
}

TEST(AwsVpnXml, SecondRootElementIsRefused) {
  EXPECT_EQ(problemOf(readFixture("aws-bgp.xml") + "<vpn_connection/>").message,
            "not well-formed XML: there is more than one root element");
}

TEST(AwsVpnXml, MalformedXmlReportsTheByteOffset) {
  const auto problem = problemOf("<vpn_connection id=\"vpn-1\"><a x=1/></vpn_connection>");
  EXPECT_EQ(problem.where, "");
  EXPECT_EQ(problem.message, "not well-formed XML: Error parsing element attribute at byte 32");
}

// --- Root-level elements ---------------------------------------------------------------------

TEST(AwsVpnXml, MissingIdIsRefused) {
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), " id=\"vpn-0a1b2c3d4e5f60718\"", "");
  EXPECT_EQ(problemOf(xml).where, "@id");
}

TEST(AwsVpnXml, DuplicateIdAttributeIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), " id=\"vpn-0a1b2c3d4e5f60718\"",
                                      " id=\"vpn-0a1b2c3d4e5f60718\" id=\"vpn-0000000000000000f\"");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "@id");
  EXPECT_NE(problem.message.find("appears 2 times"), std::string::npos);
}

TEST(AwsVpnXml, MalformedIdIsRefused) {
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), "cgw-0123456789abcdef0", "vgw-0123456789abcdef0");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "customer_gateway_id");
  EXPECT_NE(problem.message.find("cgw-"), std::string::npos);
}

TEST(AwsVpnXml, BothGatewayIdsAreRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "</vpn_gateway_id>",
                                      "</vpn_gateway_id><transit_gateway_id>tgw-1"
                                      "</transit_gateway_id>");
  EXPECT_EQ(problemOf(xml).where, "transit_gateway_id");
}

TEST(AwsVpnXml, MissingGatewayIdIsRefused) {
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"),
                  "<vpn_gateway_id>vgw-0fedcba9876543210</vpn_gateway_id>", "<vpn_gateway_id/>");
  EXPECT_EQ(problemOf(xml).where, "vpn_gateway_id");
}

TEST(AwsVpnXml, OtherConnectionTypeIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "ipsec.1", "ipsec.2");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "vpn_connection_type");
  EXPECT_EQ(problem.message, "must be ipsec.1");
}

TEST(AwsVpnXml, UnknownConnectionAttributeIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "</vpn_connection_type>",
                                      "</vpn_connection_type><vpn_connection_attributes>Other"
                                      "</vpn_connection_attributes>");
  EXPECT_EQ(problemOf(xml).where, "vpn_connection_attributes");
}

TEST(AwsVpnXml, DocumentWithoutTunnelsIsRefused) {
  const std::string full = readFixture("aws-bgp.xml");
  const std::string xml =
      full.substr(0, full.find("  <ipsec_tunnel>")) + full.substr(full.find("</vpn_connection>"));
  EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel");
}

// --- One tunnel's elements -------------------------------------------------------------------

TEST(AwsVpnXml, BgpDocumentWithoutInsideAddressIsRefused) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = eraseElement(xml, "tunnel_inside_address", xml.find("<vpn_gateway>"));
  EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/vpn_gateway/tunnel_inside_address");
}

TEST(AwsVpnXml, BgpDocumentWithoutBgpElementIsRefused) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = eraseElement(xml, "bgp", xml.find("<vpn_gateway>", xml.find("</ipsec_tunnel>")));
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[2]/vpn_gateway/bgp");
  EXPECT_EQ(problem.message, "is missing (required with BGP)");
}

TEST(AwsVpnXml, DuplicateContainerElementIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "</vpn_gateway>",
                                      "<bgp><asn>1</asn><hold_time>9</hold_time></bgp>"
                                      "</vpn_gateway>");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[1]/vpn_gateway/bgp");
  EXPECT_EQ(problem.message, "appears 2 times; expected once");
}

TEST(AwsVpnXml, ElementInsideALeafIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "<asn>65000</asn>",
                                      "<asn><value>65000</value></asn>");
  EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/customer_gateway/bgp/asn");
}

TEST(AwsVpnXml, NonIpv4OutsideAddressIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "198.51.100.11", "2001:db8::1");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[1]/vpn_gateway/tunnel_outside_address/ip_address");
  EXPECT_EQ(problem.message, "is not an IPv4 address (a.b.c.d)");
}

TEST(AwsVpnXml, EmptyOutsideAddressIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"),
                                      "<ip_address>198.51.100.11</ip_address>", "<ip_address/>");
  EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/vpn_gateway/tunnel_outside_address/ip_address");
}

TEST(AwsVpnXml, IntegerWithJunkIsRefused) {
  for (const std::string bad : {"30s", "", "+30", "-30", "3 0", "0x1e"}) {
    SCOPED_TRACE(bad);
    const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "<interval>10</interval>",
                                        "<interval>" + bad + "</interval>");
    EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/ipsec/dead_peer_detection/interval");
  }
}

TEST(AwsVpnXml, ZeroDpdRetriesAreRefused) {
  const std::string xml =
      replaceInTunnel2(readFixture("aws-bgp.xml"), "<retries>3</retries>", "<retries>0</retries>");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[2]/ipsec/dead_peer_detection/retries");
  EXPECT_EQ(problem.message, "must be between 1 and 4294967295");
}

TEST(AwsVpnXml, AsnOutOfRangeIsRefused) {
  for (const std::string bad : {"0", "4294967296", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    const std::string xml =
        replaceOnce(readFixture("aws-bgp.xml"), "<asn>64512</asn>", "<asn>" + bad + "</asn>");
    const auto problem = problemOf(xml);
    EXPECT_EQ(problem.where, "ipsec_tunnel[1]/vpn_gateway/bgp/asn");
    EXPECT_EQ(problem.message, "must be between 1 and 4294967295");
  }
}

TEST(AwsVpnXml, HoldTimeOutOfRangeIsRefused) {
  for (const std::string bad : {"1", "2", "65536"}) {
    SCOPED_TRACE(bad);
    const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "<hold_time>30</hold_time>",
                                        "<hold_time>" + bad + "</hold_time>");
    EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/customer_gateway/bgp/hold_time");
  }
}

TEST(AwsVpnXml, MaskNotMatchingTheCidrIsRefused) {
  const std::string xml =
      replaceInTunnel2(readFixture("aws-bgp.xml"), "255.255.255.252", "255.255.255.0");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[2]/customer_gateway/tunnel_inside_address/network_mask");
  EXPECT_EQ(problem.message, "does not match network_cidr 30 (expected 255.255.255.252)");
}

TEST(AwsVpnXml, NetworkAndBroadcastInsideAddressesAreRefused) {
  for (const std::string bad : {"169.254.80.144", "169.254.80.147"}) {
    SCOPED_TRACE(bad);
    const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "169.254.80.146", bad);
    const auto problem = problemOf(xml);
    EXPECT_EQ(problem.where, "ipsec_tunnel[1]/customer_gateway/tunnel_inside_address/ip_address");
    EXPECT_NE(problem.message.find(bad + " is the"), std::string::npos) << problem.message;
  }
}

TEST(AwsVpnXml, InsideAddressOutsideLinkLocalIsRefused) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "169.254.80.146", "10.0.0.2");
  xml = replaceOnce(xml, "169.254.80.145", "10.0.0.1");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[1]/customer_gateway/tunnel_inside_address/ip_address");
  EXPECT_EQ(problem.message,
            "10.0.0.2 is outside 169.254.0.0/16, where AWS tunnel inside networks must be");
}

TEST(AwsVpnXml, SwappedInsideAddressesAreRefused) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceOnce(xml, "169.254.80.146", "169.254.80.X");
  xml = replaceOnce(xml, "169.254.80.145", "169.254.80.146");
  xml = replaceOnce(xml, "169.254.80.X", "169.254.80.145");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[1]/vpn_gateway/tunnel_inside_address/ip_address");
  EXPECT_NE(problem.message.find("AWS gives the vpn_gateway the first (169.254.80.145)"),
            std::string::npos)
      << problem.message;
}

TEST(AwsVpnXml, SameInsideAddressOnBothEndsIsRefused) {
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), "169.254.80.146", "169.254.80.145");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[1]/customer_gateway/tunnel_inside_address/ip_address");
  EXPECT_EQ(problem.message, "169.254.80.145 is also the vpn_gateway's inside address");
}

// --- Across the two tunnels ------------------------------------------------------------------

TEST(AwsVpnXml, SameVpnGatewayOutsideAddressOnBothTunnelsIsRefused) {
  const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "198.51.100.22", "198.51.100.11");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[2]/vpn_gateway/tunnel_outside_address/ip_address");
  EXPECT_EQ(problem.message, "198.51.100.11 is also ipsec_tunnel[1]'s vpn_gateway outside address");
}

TEST(AwsVpnXml, DifferentCustomerGatewaysAreRefused) {
  const std::string xml =
      replaceInTunnel2(readFixture("aws-bgp.xml"), "203.0.113.10", "203.0.113.99");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[2]/customer_gateway/tunnel_outside_address/ip_address");
  EXPECT_NE(problem.message.find("203.0.113.99 differs from ipsec_tunnel[1]'s 203.0.113.10"),
            std::string::npos);
}

TEST(AwsVpnXml, SameInsideCidrOnBothTunnelsIsRefused) {
  std::string xml = readFixture("aws-bgp.xml");
  xml = replaceInTunnel2(xml, "169.254.172.86", "169.254.80.146");
  xml = replaceInTunnel2(xml, "169.254.172.85", "169.254.80.145");
  const auto problem = problemOf(xml);
  EXPECT_EQ(problem.where, "ipsec_tunnel[2]/vpn_gateway/tunnel_inside_address");
  EXPECT_EQ(problem.message, "169.254.80.144/30 is also ipsec_tunnel[1]'s inside network");
}

// --- PSKs ------------------------------------------------------------------------------------

TEST(AwsVpnXml, PsksBreakingAwsRulesAreRefusedWithoutEchoingThem) {
  const std::vector<std::string> bad_psks = {
      "0LabOnlyk3y", "LabOk3y", "LabOnly k3y.too",
      "LabOnly/k3y+=", "LabOnly.k3y." + std::string(60, 'a')};
  for (const std::string& bad : bad_psks) {
    SCOPED_TRACE(bad.size());
    const std::string xml = replaceOnce(readFixture("aws-bgp.xml"), "LabOnly.tunnel_one.k3yA", bad);
    const auto problem = problemOf(xml);  // also checks that the message does not mention it
    EXPECT_EQ(problem.where, "ipsec_tunnel[1]/ike/pre_shared_key");
    EXPECT_EQ(problem.message.find(bad), std::string::npos);
  }
}

TEST(AwsVpnXml, PskInAnotherElementIsNotEchoed) {
  // A document with values in the wrong places must not leak them through other messages.
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), "198.51.100.11", "LabOnly.tunnel_one.k3yA");
  EXPECT_EQ(problemOf(xml).where, "ipsec_tunnel[1]/vpn_gateway/tunnel_outside_address/ip_address");
}

TEST(AwsVpnXml, NoFixtureProblemMentionsAPsk) {
  for (const char* file :
       {"aws-bad-billion-laughs.xml", "aws-bad-external-entity.xml", "aws-bad-not-well-formed.xml",
        "aws-bad-wrong-root.xml", "aws-bad-missing-psk.xml", "aws-bad-psk.xml", "aws-bad-asn.xml",
        "aws-bad-cidr-29.xml", "aws-bad-inside-split.xml", "aws-bad-reserved-inside.xml",
        "aws-bad-three-tunnels.xml", "aws-bad-duplicate.xml"}) {
    SCOPED_TRACE(file);
    const auto result = parseAwsVpnConnection(readFixture(file));
    ASSERT_FALSE(result.has_value());
    EXPECT_FALSE(mentionsPsk(result.error().message)) << result.error().message;
    EXPECT_FALSE(mentionsPsk(result.error().where)) << result.error().where;
  }
}

// --- Robustness ------------------------------------------------------------------------------

void expectNoLeak(const std::expected<AwsVpnConnection, XmlProblem>& result) {
  if (!result) {
    EXPECT_FALSE(result.error().message.empty());
    EXPECT_FALSE(mentionsPsk(result.error().message)) << result.error().message;
  }
}

TEST(AwsVpnXml, EveryTruncationIsAValueOrAProblem) {
  const std::string xml = readFixture("aws-bgp.xml");
  for (std::size_t length = 0; length <= xml.size(); ++length) {
    const auto result = parseAwsVpnConnection(std::string_view(xml).substr(0, length));
    expectNoLeak(result);
    // Only the whole document (with or without its final newline) is complete.
    EXPECT_EQ(result.has_value(), length + 1 >= xml.size()) << length;
  }
}

TEST(AwsVpnXml, FlippedBytesNeverCrash) {
  const std::string xml = readFixture("aws-bgp.xml");
  const std::string replacements = std::string("<>&/\"'=!?x9 .", 13) + std::string(1, '\0');
  for (std::size_t at = 0; at < xml.size(); at += 7) {
    for (const char c : replacements) {
      std::string flipped = xml;
      flipped[at] = c;
      expectNoLeak(parseAwsVpnConnection(flipped));
    }
  }
}

TEST(AwsVpnXml, DeeplyNestedUnknownElementsAreIgnored) {
  constexpr int kDepth = 20000;  // 20000 * len("<x></x>") = 140 KB, under the limit
  std::string nested;
  for (int i = 0; i < kDepth; ++i) nested += "<x>";
  for (int i = 0; i < kDepth; ++i) nested += "</x>";
  const std::string xml =
      replaceOnce(readFixture("aws-bgp.xml"), "</vpn_connection>", nested + "</vpn_connection>");
  EXPECT_EQ(parsed(xml), parsed(readFixture("aws-bgp.xml")));
}

}  // namespace
}  // namespace transit::peers
