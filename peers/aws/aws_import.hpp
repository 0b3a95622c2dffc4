// AWS import: a VPN connection created in AWS (its CustomerGatewayConfiguration document, parsed
// by peers/aws_vpn_xml) becomes a vpc spoke draft.
//
// Owns: nothing; pure functions, any thread. Called by the HTTP handlers of
// POST /v1/spokes/import/aws and PUT /v1/spokes/{name}/import/aws; the draft then goes through
// the same validation and registry as POST and PUT /v1/spokes.
//
// What comes from the document: each tunnel's outside address (the VGW's), inside /30 and PSK,
// taken together from the same <ipsec_tunnel> (never zipped by position), the VGW's ASN and
// hold time, the DPD timeout (interval x retries), and the routing mode (BGP, or static for a
// NoBGPVPNConnection). Tunnels are ordered by outside address, so the same connection gives
// the same spoke whatever order the document lists them in. What never comes from it: the
// <ike>/<ipsec> algorithms (AWS's minimum example, not the tunnel's proposals; the spoke keeps
// the hub's strong defaults or the tunnel_options given). The document must be for a hub of the
// pair: its customer gateway address is this hub's public address or the other hub's, and says
// whose tunnels they are (AWS: one customer gateway, one VPN connection per hub); with BGP its
// ASN is the hubs' (the pair shares one ASN).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "peers/aws/aws_vpn_xml.hpp"
#include "peers/model/spoke.hpp"

namespace transit::peers {

// What the request adds to the document (query parameters of the import).
struct AwsImportRequest {
  std::string name;
  std::vector<std::string> cidrs;
  std::optional<std::string> segment;
  std::optional<std::string> preferred_hub;
};

// A hub as AWS knows it: its customer gateway's address.
struct AwsCustomerGateway {
  std::string name;       // the hub's hub.name
  Ipv4Address public_ip;  // the customer gateway address AWS knows the hub by
};

struct AwsImportHub {
  std::string name;                        // this hub
  Ipv4Address public_ip;                   // the customer gateway address AWS knows this hub by
  std::uint32_t asn = 0;                   // the pair's ASN (both hubs have it)
  std::optional<AwsCustomerGateway> peer;  // the pair's other hub; unset for a single hub
};

// The spoke draft, or the problem: `field` is "xml:<element path>" for the document
// ("xml:ipsec_tunnel[2]/customer_gateway/tunnel_outside_address/ip_address") or the query
// parameter's name. No message carries a PSK.
std::expected<SpokeDraft, FieldError> spokeFromAwsVpn(const AwsVpnConnection& vpn,
                                                      const AwsImportRequest& request,
                                                      const AwsImportHub& hub);

// Re-import: the draft that brings `existing` (a vpc spoke) up to date with a new document of
// one of its VPN connections (tunnels replaced or modified in AWS, PSKs rotated, another VGW
// ASN), or adds the other hub's connection (the pair: the second hub's document). The document's
// hub gets the document's tunnels; the other hub's tunnels are kept as they are (inside /30s and
// PSKs included), and then the document must route as they do (BGP or static, the same VGW
// ASN). The document gives what spokeFromAwsVpn takes from it; the request's cidrs, segment and
// preferred_hub replace the spoke's when given (request.name is ignored); everything else the
// spoke has (its limits, hold time when the document has none, tunnel options but the DPD
// timeout) is kept.
std::expected<SpokeDraft, FieldError> spokeUpdateFromAwsVpn(const AwsVpnConnection& vpn,
                                                            const Spoke& existing,
                                                            const AwsImportRequest& request,
                                                            const AwsImportHub& hub);

}  // namespace transit::peers
