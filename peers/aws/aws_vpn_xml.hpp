// A pure parser for the XML document AWS returns for a Site-to-Site VPN connection
// (`CustomerGatewayConfiguration` of DescribeVpnConnections, or the console's "Generic" download).
//
// Owns nothing; one pure function, callable from any thread. The input comes from outside (a
// client pastes or uploads it): every failure is a value naming the element at fault, never a
// crash, and no message ever contains a pre-shared key or any other text of the document that
// did not parse (only values that parsed, such as addresses, are quoted).
//
// Hardening: documents over kMaxAwsXmlBytes, UTF-16, DTDs and entity declarations (anywhere, even
// in a comment), control characters, character references to characters XML forbids ("&#0;")
// and anything else that is not well-formed XML are refused before a field is read. Processing
// instructions (other than the XML declaration) and comments are ignored, as are elements and
// attributes the parser does not read (AWS adds fields over time); an element the parser reads
// that appears twice is refused as ambiguous.
//
// The <ike>/<ipsec> algorithm elements are AWS's minimum example, not the tunnel's proposals; they
// are deliberately not parsed. Tunnels are returned in document order, which means nothing: a
// caller matches tunnels by content (inside CIDR, PSK), never by position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/base/prefix.hpp"

namespace transit::peers {

// <customer_gateway> or <vpn_gateway> of one <ipsec_tunnel>.
struct AwsTunnelEnd {
  Ipv4Address outside_address;                // <tunnel_outside_address><ip_address>
  std::optional<Ipv4Address> inside_address;  // absent in static (NoBGP) documents
  std::optional<int> inside_prefix_length;    // <network_cidr>: 30 when present
  std::optional<std::uint32_t> asn;           // <bgp><asn>
  std::optional<std::uint32_t> hold_time;     // <bgp><hold_time>

  bool operator==(const AwsTunnelEnd&) const = default;
};

struct AwsTunnel {
  AwsTunnelEnd customer_gateway;
  AwsTunnelEnd vpn_gateway;
  // The /30 both inside addresses are in (vpn_gateway first usable, customer_gateway second).
  std::optional<Ipv4Prefix> inside_cidr;
  std::string psk;                            // <ike><pre_shared_key>, AWS's rules checked
  std::optional<std::uint32_t> dpd_interval;  // <ipsec><dead_peer_detection><interval>
  std::optional<std::uint32_t> dpd_retries;   // <ipsec><dead_peer_detection><retries>
  std::optional<std::uint32_t> tcp_mss;       // <ipsec><tcp_mss_adjustment>

  bool operator==(const AwsTunnel&) const = default;
};

struct AwsVpnConnection {
  std::string id;                   // vpn_connection@id, e.g. vpn-0123456789abcdef0
  std::string customer_gateway_id;  // <customer_gateway_id>
  std::string gateway_id;           // <vpn_gateway_id>, or <transit_gateway_id> instead
  std::string type;                 // <vpn_connection_type>: always ipsec.1
  bool bgp = true;                  // false for <vpn_connection_attributes>NoBGPVPNConnection
  std::vector<AwsTunnel> tunnels;   // 1 or 2, in document order

  bool operator==(const AwsVpnConnection&) const = default;
};

// What is wrong and where. `where` is an element path relative to the root element, with
// 1-based tunnel indices: "ipsec_tunnel[2]/vpn_gateway/tunnel_inside_address/ip_address";
// "@id" is the root's id attribute; "" is the document as a whole (size, DTD, well-formedness,
// root element).
struct XmlProblem {
  std::string where;
  std::string message;
};

inline constexpr std::size_t kMaxAwsXmlBytes = 256 * 1024;

std::expected<AwsVpnConnection, XmlProblem> parseAwsVpnConnection(std::string_view xml);

}  // namespace transit::peers
