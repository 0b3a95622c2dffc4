#include "peers/aws/aws_vpn_xml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include <pugixml.hpp>

#include "peers/model/spoke_validation.hpp"
#include "routing/base/inside_network.hpp"
#include "routing/base/text.hpp"

namespace transit::peers {
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;

template <typename T>
using Result = std::expected<T, XmlProblem>;

// Not kept: the DOCTYPE (refused before parsing anyway), processing instructions, the XML
// declaration and comments. parse_fragment keeps text outside the root so it can be refused.
constexpr unsigned kParseOptions = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol |
                                   pugi::parse_wconv_attribute | pugi::parse_fragment;

constexpr std::uint32_t kMaxUint32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMaxIdSuffix = 32;

std::unexpected<XmlProblem> problem(std::string where, std::string message) {
  return std::unexpected(XmlProblem{std::move(where), std::move(message)});
}

std::string join(std::string_view base, std::string_view name) {
  return base.empty() ? std::string(name) : fmt::format("{}/{}", base, name);
}

bool isXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// XML's white space (space, tab, line feed, carriage return).
std::string_view trim(std::string_view text) { return routing::trim(text, " \t\n\r"); }

bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// XML 1.0's Char production: what a character reference may name.
bool isXmlChar(std::uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// Whether the character reference starting at `at` ("&#...;") is well-formed and names a
// character XML allows. pugixml decodes "&#0;" into a NUL that silently cuts a value short
// ("65000&#0;1" would read as 65000), so such references must never reach it.
bool isValidCharacterReference(std::string_view xml, std::size_t at) {
  std::size_t i = at + 2;
  const bool hex = i < xml.size() && xml[i] == 'x';
  if (hex) ++i;
  const std::size_t digits_start = i;
  std::uint32_t value = 0;
  for (; i < xml.size() && (hex ? isHexDigit(xml[i]) : isDigit(xml[i])); ++i) {
    const char c = xml[i];
    const std::uint32_t digit = isDigit(c) ? static_cast<std::uint32_t>(c - '0')
                                           : static_cast<std::uint32_t>((c | 0x20) - 'a' + 10);
    value = value * (hex ? 16 : 10) + digit;
    if (value > 0x10FFFF) return false;
  }
  return i > digits_start && i < xml.size() && xml[i] == ';' && isXmlChar(value);
}

// Checks on the raw bytes, before pugixml sees them.
std::optional<XmlProblem> checkBytes(std::string_view xml) {
  if (xml.empty()) {
    return XmlProblem{"", "the document is empty"};
  }
  if (xml.size() > kMaxAwsXmlBytes) {
    return XmlProblem{"", fmt::format("the document is {} bytes; the limit is {} bytes", xml.size(),
                                      kMaxAwsXmlBytes)};
  }
  if (xml.starts_with("\xFE\xFF") || xml.starts_with("\xFF\xFE")) {
    return XmlProblem{"", "the document is UTF-16; only UTF-8 is accepted"};
  }
  // "<!" followed by a letter starts a markup declaration (DOCTYPE, ENTITY, ELEMENT, ATTLIST,
  // NOTATION); comments ("<!--") and CDATA ("<![CDATA[") do not match.
  for (std::size_t at = xml.find("<!"); at != std::string_view::npos; at = xml.find("<!", at + 1)) {
    if (at + 2 < xml.size() && isLetter(xml[at + 2])) {
      return XmlProblem{
          "", fmt::format("DTDs and entity declarations are not accepted (declaration at byte {})",
                          at)};
    }
  }
  for (std::size_t i = 0; i < xml.size(); ++i) {
    const auto byte = static_cast<unsigned char>(xml[i]);
    if (byte < 0x20 && !isXmlSpace(xml[i])) {
      return XmlProblem{
          "", fmt::format("not well-formed XML: control character {:#04x} at byte {}", byte, i)};
    }
  }
  for (std::size_t at = xml.find("&#"); at != std::string_view::npos; at = xml.find("&#", at + 1)) {
    if (!isValidCharacterReference(xml, at)) {
      return XmlProblem{
          "", fmt::format("not well-formed XML: invalid character reference at byte {}", at)};
    }
  }
  return std::nullopt;
}

// The only child element `name` of `parent`: an empty node when there is none, a problem when
// there are several (which one would be meant is ambiguous).
Result<pugi::xml_node> optionalChild(pugi::xml_node parent, std::string_view base,
                                     const char* name) {
  pugi::xml_node found;
  int count = 0;
  for (const pugi::xml_node child : parent.children(name)) {
    if (child.type() != pugi::node_element) continue;
    if (count++ == 0) found = child;
  }
  if (count > 1) {
    return problem(join(base, name), fmt::format("appears {} times; expected once", count));
  }
  return found;
}

Result<pugi::xml_node> requiredChild(pugi::xml_node parent, std::string_view base,
                                     const char* name) {
  auto child = optionalChild(parent, base, name);
  if (child && !*child) {
    return problem(join(base, name), "is missing");
  }
  return child;
}

// The text of a leaf element (character data and CDATA, comments dropped), trimmed of XML
// whitespace.
Result<std::string> leafText(pugi::xml_node node, const std::string& path) {
  std::string text;
  for (const pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    } else if (child.type() == pugi::node_element) {
      return problem(path, "must contain only text, not elements");
    }
  }
  return std::string(trim(text));
}

Result<std::optional<std::string>> optionalText(pugi::xml_node parent, std::string_view base,
                                                const char* name) {
  auto child = optionalChild(parent, base, name);
  if (!child) return std::unexpected(child.error());
  if (!*child) return std::optional<std::string>();
  auto text = leafText(*child, join(base, name));
  if (!text) return std::unexpected(text.error());
  return std::optional<std::string>(std::move(*text));
}

Result<std::string> requiredText(pugi::xml_node parent, std::string_view base, const char* name) {
  auto text = optionalText(parent, base, name);
  if (!text) return std::unexpected(text.error());
  if (!*text) return problem(join(base, name), "is missing");
  return std::move(**text);
}

// A decimal integer in [min, max]. Messages never repeat the text.
Result<std::uint32_t> parseInteger(std::string_view text, const std::string& path,
                                   std::uint32_t min, std::uint32_t max) {
  if (text.empty()) {
    return problem(path, "is empty; expected a whole number");
  }
  if (!std::ranges::all_of(text, isDigit)) {
    return problem(path, "must be a whole number written with digits only");
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return problem(path, fmt::format("must be between {} and {}", min, max));
  }
  return static_cast<std::uint32_t>(value);
}

Result<std::optional<std::uint32_t>> optionalInteger(pugi::xml_node parent, std::string_view base,
                                                     const char* name, std::uint32_t min,
                                                     std::uint32_t max) {
  auto text = optionalText(parent, base, name);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<std::uint32_t>();
  auto value = parseInteger(**text, join(base, name), min, max);
  if (!value) return std::unexpected(value.error());
  return std::optional<std::uint32_t>(*value);
}

Result<std::uint32_t> requiredInteger(pugi::xml_node parent, std::string_view base,
                                      const char* name, std::uint32_t min, std::uint32_t max) {
  auto value = optionalInteger(parent, base, name, min, max);
  if (!value) return std::unexpected(value.error());
  if (!*value) return problem(join(base, name), "is missing");
  return **value;
}

Result<Ipv4Address> requiredAddress(pugi::xml_node parent, std::string_view base,
                                    const char* name) {
  auto text = requiredText(parent, base, name);
  if (!text) return std::unexpected(text.error());
  auto address = Ipv4Address::parse(*text);
  if (!address) {
    return problem(join(base, name), "is not an IPv4 address (a.b.c.d)");
  }
  return *address;
}

// An AWS resource id: `prefix` followed by 1-32 lowercase letters and digits.
Result<std::string> checkId(std::string text, std::string_view prefix, const std::string& path) {
  const std::string_view rest =
      std::string_view(text).substr(text.starts_with(prefix) ? prefix.size() : text.size());
  const bool valid =
      text.starts_with(prefix) && !rest.empty() && rest.size() <= kMaxIdSuffix &&
      std::ranges::all_of(rest, [](char c) { return isDigit(c) || (c >= 'a' && c <= 'z'); });
  if (!valid) {
    return problem(path, fmt::format("must be an AWS id: {} followed by lowercase letters and "
                                     "digits",
                                     prefix));
  }
  return text;
}

// <tunnel_inside_address> of one end: a link-local address on an AWS-allowed /30.
Result<void> parseInside(pugi::xml_node inside, const std::string& base, AwsTunnelEnd& end) {
  const std::string ip_path = join(base, "ip_address");
  auto address = requiredAddress(inside, base, "ip_address");
  if (!address) return std::unexpected(address.error());
  auto cidr = requiredInteger(inside, base, "network_cidr", 0, 32);
  if (!cidr) return std::unexpected(cidr.error());
  if (*cidr != kInsideLength) {
    return problem(join(base, "network_cidr"),
                   fmt::format("is {}; AWS tunnel inside networks are /{}", *cidr, kInsideLength));
  }
  const int length = static_cast<int>(*cidr);
  auto mask_text = optionalText(inside, base, "network_mask");
  if (!mask_text) return std::unexpected(mask_text.error());
  if (*mask_text) {
    const auto mask = Ipv4Address::parse(**mask_text);
    const Ipv4Address expected(Ipv4Prefix::maskFor(length));
    if (!mask || *mask != expected) {
      return problem(
          join(base, "network_mask"),
          fmt::format("does not match network_cidr {} (expected {})", length, expected.toString()));
    }
  }
  const auto network = Ipv4Prefix::containing(*address, length);
  if (!kInsidePool.contains(*address)) {
    return problem(ip_path,
                   fmt::format("{} is outside {}, where AWS tunnel inside networks must be",
                               address->toString(), kInsidePool.toString()));
  }
  if (isAwsReservedInside(network)) {
    return problem(ip_path, fmt::format("{} is in {}, which AWS reserves", address->toString(),
                                        network.toString()));
  }
  if (*address == network.network() || *address == network.last()) {
    return problem(ip_path, fmt::format("{} is the {} address of {}", address->toString(),
                                        *address == network.network() ? "network" : "broadcast",
                                        network.toString()));
  }
  end.inside_address = *address;
  end.inside_prefix_length = length;
  return {};
}

// <bgp> of one end. A hold time is 0 (no keepalives) or at least 3 seconds (RFC 4271).
Result<void> parseBgp(pugi::xml_node bgp, const std::string& base, AwsTunnelEnd& end) {
  auto asn = requiredInteger(bgp, base, "asn", 1, kMaxUint32);
  if (!asn) return std::unexpected(asn.error());
  auto hold = requiredInteger(bgp, base, "hold_time", 0, 65535);
  if (!hold) return std::unexpected(hold.error());
  if (*hold == 1 || *hold == 2) {
    return problem(join(base, "hold_time"), "must be 0 or between 3 and 65535 (RFC 4271)");
  }
  end.asn = *asn;
  end.hold_time = *hold;
  return {};
}

// <customer_gateway> or <vpn_gateway>. In a BGP document the inside address and <bgp> are
// required; in a static one they are optional and still checked when present.
Result<AwsTunnelEnd> parseEnd(pugi::xml_node node, const std::string& base, bool bgp_document) {
  AwsTunnelEnd end;
  const std::string outside_base = join(base, "tunnel_outside_address");
  auto outside = requiredChild(node, base, "tunnel_outside_address");
  if (!outside) return std::unexpected(outside.error());
  auto outside_address = requiredAddress(*outside, outside_base, "ip_address");
  if (!outside_address) return std::unexpected(outside_address.error());
  end.outside_address = *outside_address;

  auto inside = optionalChild(node, base, "tunnel_inside_address");
  if (!inside) return std::unexpected(inside.error());
  if (*inside) {
    auto parsed = parseInside(*inside, join(base, "tunnel_inside_address"), end);
    if (!parsed) return std::unexpected(parsed.error());
  } else if (bgp_document) {
    return problem(join(base, "tunnel_inside_address"), "is missing (required with BGP)");
  }

  auto bgp = optionalChild(node, base, "bgp");
  if (!bgp) return std::unexpected(bgp.error());
  if (*bgp) {
    auto parsed = parseBgp(*bgp, join(base, "bgp"), end);
    if (!parsed) return std::unexpected(parsed.error());
  } else if (bgp_document) {
    return problem(join(base, "bgp"), "is missing (required with BGP)");
  }
  return end;
}

// Both inside addresses on one /30: the vpn_gateway on the first usable address, the customer
// gateway on the second, as in every document AWS writes (the hub relies on it).
Result<void> pairInside(AwsTunnel& tunnel, const std::string& base) {
  const auto& cgw = tunnel.customer_gateway.inside_address;
  const auto& vgw = tunnel.vpn_gateway.inside_address;
  if (!cgw && !vgw) return {};
  if (!cgw || !vgw) {
    return problem(
        join(base,
             cgw ? "vpn_gateway/tunnel_inside_address" : "customer_gateway/tunnel_inside_address"),
        fmt::format("is missing while the {} has one", cgw ? "customer_gateway" : "vpn_gateway"));
  }
  const auto network = Ipv4Prefix::containing(*vgw, kInsideLength);
  const std::string cgw_path = join(base, "customer_gateway/tunnel_inside_address/ip_address");
  if (!network.contains(*cgw)) {
    return problem(cgw_path, fmt::format("{} is not in {}, the vpn_gateway's inside network",
                                         cgw->toString(), network.toString()));
  }
  if (*cgw == *vgw) {
    return problem(cgw_path,
                   fmt::format("{} is also the vpn_gateway's inside address", cgw->toString()));
  }
  if (*vgw != network.host(1)) {
    return problem(join(base, "vpn_gateway/tunnel_inside_address/ip_address"),
                   fmt::format("{} is the second usable address of {}; AWS gives the vpn_gateway "
                               "the first ({}) and the customer_gateway the second",
                               vgw->toString(), network.toString(), network.host(1).toString()));
  }
  tunnel.inside_cidr = network;
  return {};
}

Result<AwsTunnel> parseTunnel(pugi::xml_node node, const std::string& base, bool bgp_document) {
  AwsTunnel tunnel;
  for (const auto& [name, end] : {std::pair{"customer_gateway", &tunnel.customer_gateway},
                                  std::pair{"vpn_gateway", &tunnel.vpn_gateway}}) {
    auto child = requiredChild(node, base, name);
    if (!child) return std::unexpected(child.error());
    auto parsed = parseEnd(*child, join(base, name), bgp_document);
    if (!parsed) return std::unexpected(parsed.error());
    *end = std::move(*parsed);
  }
  if (auto paired = pairInside(tunnel, base); !paired) return std::unexpected(paired.error());

  const std::string ike_base = join(base, "ike");
  auto ike = requiredChild(node, base, "ike");
  if (!ike) return std::unexpected(ike.error());
  auto psk = requiredText(*ike, ike_base, "pre_shared_key");
  if (!psk) return std::unexpected(psk.error());
  if (auto wrong = checkPsk(*psk)) {
    return problem(join(ike_base, "pre_shared_key"),
                   fmt::format("is not a valid AWS pre-shared key: it {}", *wrong));
  }
  tunnel.psk = std::move(*psk);

  const std::string ipsec_base = join(base, "ipsec");
  auto ipsec = optionalChild(node, base, "ipsec");
  if (!ipsec) return std::unexpected(ipsec.error());
  if (*ipsec) {
    auto mss = optionalInteger(*ipsec, ipsec_base, "tcp_mss_adjustment", 1, 65535);
    if (!mss) return std::unexpected(mss.error());
    tunnel.tcp_mss = *mss;
    const std::string dpd_base = join(ipsec_base, "dead_peer_detection");
    auto dpd = optionalChild(*ipsec, ipsec_base, "dead_peer_detection");
    if (!dpd) return std::unexpected(dpd.error());
    if (*dpd) {
      auto interval = optionalInteger(*dpd, dpd_base, "interval", 1, kMaxUint32);
      if (!interval) return std::unexpected(interval.error());
      auto retries = optionalInteger(*dpd, dpd_base, "retries", 1, kMaxUint32);
      if (!retries) return std::unexpected(retries.error());
      tunnel.dpd_interval = *interval;
      tunnel.dpd_retries = *retries;
    }
  }
  return tunnel;
}

std::string tunnelPath(std::size_t index) { return fmt::format("ipsec_tunnel[{}]", index + 1); }

// Rules across the two tunnels of one connection.
Result<void> checkTunnelPair(const AwsTunnel& first, const AwsTunnel& second) {
  const std::string base = tunnelPath(1);
  if (second.customer_gateway.outside_address != first.customer_gateway.outside_address) {
    return problem(join(base, "customer_gateway/tunnel_outside_address/ip_address"),
                   fmt::format("{} differs from ipsec_tunnel[1]'s {}; a VPN connection has one "
                               "customer gateway",
                               second.customer_gateway.outside_address.toString(),
                               first.customer_gateway.outside_address.toString()));
  }
  if (second.vpn_gateway.outside_address == first.vpn_gateway.outside_address) {
    return problem(join(base, "vpn_gateway/tunnel_outside_address/ip_address"),
                   fmt::format("{} is also ipsec_tunnel[1]'s vpn_gateway outside address",
                               second.vpn_gateway.outside_address.toString()));
  }
  if (second.inside_cidr && second.inside_cidr == first.inside_cidr) {
    return problem(
        join(base, "vpn_gateway/tunnel_inside_address"),
        fmt::format("{} is also ipsec_tunnel[1]'s inside network", second.inside_cidr->toString()));
  }
  return {};
}

Result<AwsVpnConnection> parseRoot(pugi::xml_node root) {
  AwsVpnConnection connection;

  int id_count = 0;
  for (const pugi::xml_attribute attribute : root.attributes()) {
    if (std::string_view(attribute.name()) == "id") ++id_count;
  }
  if (id_count == 0) return problem("@id", "is missing");
  if (id_count > 1) return problem("@id", fmt::format("appears {} times; expected once", id_count));
  auto id = checkId(std::string(trim(root.attribute("id").value())), "vpn-", "@id");
  if (!id) return std::unexpected(id.error());
  connection.id = std::move(*id);

  auto cgw_id = requiredText(root, "", "customer_gateway_id");
  if (!cgw_id) return std::unexpected(cgw_id.error());
  auto checked_cgw_id = checkId(std::move(*cgw_id), "cgw-", "customer_gateway_id");
  if (!checked_cgw_id) return std::unexpected(checked_cgw_id.error());
  connection.customer_gateway_id = std::move(*checked_cgw_id);

  // A VGW's connection names the VGW; a transit gateway's, the TGW. An empty element is absent.
  auto vgw_id = optionalText(root, "", "vpn_gateway_id");
  if (!vgw_id) return std::unexpected(vgw_id.error());
  auto tgw_id = optionalText(root, "", "transit_gateway_id");
  if (!tgw_id) return std::unexpected(tgw_id.error());
  const bool has_vgw = *vgw_id && !(*vgw_id)->empty();
  const bool has_tgw = *tgw_id && !(*tgw_id)->empty();
  if (has_vgw && has_tgw) {
    return problem("transit_gateway_id", "is present together with vpn_gateway_id; expected one");
  }
  if (!has_vgw && !has_tgw) {
    return problem("vpn_gateway_id", "is missing (and there is no transit_gateway_id)");
  }
  auto gateway_id = has_vgw ? checkId(std::move(**vgw_id), "vgw-", "vpn_gateway_id")
                            : checkId(std::move(**tgw_id), "tgw-", "transit_gateway_id");
  if (!gateway_id) return std::unexpected(gateway_id.error());
  connection.gateway_id = std::move(*gateway_id);

  auto type = requiredText(root, "", "vpn_connection_type");
  if (!type) return std::unexpected(type.error());
  if (*type != "ipsec.1") return problem("vpn_connection_type", "must be ipsec.1");
  connection.type = std::move(*type);

  auto attributes = optionalText(root, "", "vpn_connection_attributes");
  if (!attributes) return std::unexpected(attributes.error());
  if (*attributes) {
    if (**attributes != "NoBGPVPNConnection") {
      return problem("vpn_connection_attributes",
                     "has a value this parser does not know (only NoBGPVPNConnection)");
    }
    connection.bgp = false;
  }

  std::vector<pugi::xml_node> tunnel_nodes;
  for (const pugi::xml_node node : root.children("ipsec_tunnel")) {
    if (node.type() == pugi::node_element) tunnel_nodes.push_back(node);
  }
  if (tunnel_nodes.empty()) {
    return problem("ipsec_tunnel", "is missing; a VPN connection has one or two tunnels");
  }
  if (tunnel_nodes.size() > 2) {
    return problem(tunnelPath(2), fmt::format("is one tunnel too many: a VPN connection has at "
                                              "most two, the document has {}",
                                              tunnel_nodes.size()));
  }
  for (std::size_t i = 0; i < tunnel_nodes.size(); ++i) {
    auto tunnel = parseTunnel(tunnel_nodes[i], tunnelPath(i), connection.bgp);
    if (!tunnel) return std::unexpected(tunnel.error());
    connection.tunnels.push_back(std::move(*tunnel));
  }
  if (connection.tunnels.size() == 2) {
    if (auto pair = checkTunnelPair(connection.tunnels[0], connection.tunnels[1]); !pair) {
      return std::unexpected(pair.error());
    }
  }
  return connection;
}

}  // namespace

std::expected<AwsVpnConnection, XmlProblem> parseAwsVpnConnection(std::string_view xml) {
  if (auto wrong = checkBytes(xml)) {
    return std::unexpected(std::move(*wrong));
  }
  pugi::xml_document document;
  const pugi::xml_parse_result result =
      document.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8);
  if (result.status != pugi::status_ok) {
    return problem(
        "", fmt::format("not well-formed XML: {} at byte {}", result.description(), result.offset));
  }
  pugi::xml_node root;
  int roots = 0;
  for (const pugi::xml_node node : document.children()) {
    if (node.type() == pugi::node_element) {
      if (roots++ == 0) root = node;
    } else if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (!trim(node.value()).empty()) {
        return problem("", "not well-formed XML: text outside the root element");
      }
    }
  }
  if (roots == 0) return problem("", "not well-formed XML: there is no root element");
  if (roots > 1) return problem("", "not well-formed XML: there is more than one root element");
  if (std::string_view(root.name()) != "vpn_connection") {
    return problem("", "the root element must be <vpn_connection>");
  }
  return parseRoot(root);
}

}  // namespace transit::peers
