// Validation of spokes against the hub's rules and AWS's (PSKs, inside CIDRs, ASNs).
//
// Owns: nothing; pure functions, callable from any thread. The HTTP layer, the CLI's import
// paths and the configuration loader all share these rules, so a value the hub accepts has
// exactly one meaning and can be rendered into daemon configuration without escaping.
//
// Per tunnel: its hub is this hub or the pair's other hub, at most two tunnels per hub, and at
// least one in all. Outside addresses are unique per hub (a site with one public address
// connects to both hubs from it); inside /30s are unique across the spoke.
//
// Rules that need other spokes (a CIDR overlapping another spoke's, an inside /30 already taken)
// are the hub's, which holds all spokes; they are not checked here.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/spoke.hpp"
#include "routing/base/prefix.hpp"

namespace transit::peers {

// What validation needs to know about the hub itself (and the pair's other hub).
struct ValidationContext {
  std::uint32_t hub_asn = 0;
  // Every address of both hubs (public and local); a spoke's outside address may be none.
  std::vector<Ipv4Address> hub_addresses;
  // This hub: a tunnel that names no hub is its. Empty: every tunnel must name its hub.
  std::string hub_name{};
  // The pair's other hub; unset for a single hub.
  std::optional<std::string> peer_hub{};
  // Accept any well-formed hub name (stored records: the pair may have been reconfigured since
  // they were written); otherwise a tunnel's hub must be hub_name or peer_hub.
  bool any_hub = false;
};

// A tunnel after validation: inside /30 and PSK may still be absent for the hub to fill in.
struct TunnelRequest {
  std::string hub;  // always set: the one named, or the context's hub_name
  Ipv4Address outside_ip;
  std::optional<Ipv4Prefix> inside_cidr;
  std::optional<std::string> psk;
};

// A validated spoke: `spoke` has every field but tunnels (and the hub's bookkeeping) set.
struct SpokeRequest {
  Spoke spoke;
  std::vector<TunnelRequest> tunnels;
};

// The message for more tunnels than any spoke may hold (validation and JSON decoding share it).
inline constexpr std::string_view kTooManyTunnels =
    "must list at most four tunnels (two per hub: one VPN connection to each hub of the pair)";

std::expected<SpokeRequest, FieldError> validateSpoke(const SpokeDraft& draft,
                                                      const ValidationContext& context);

// Single rules, each returning what is wrong (nullopt when the value is fine).
// Names of spokes, segments and hubs: 1-32 characters of a-z, 0-9 and '-', starting with a
// letter, not ending with '-', without "--".
std::optional<std::string> checkName(std::string_view name);
// AWS: 8-64 characters of letters, digits, '.' and '_', not starting with '0'.
std::optional<std::string> checkPsk(std::string_view psk);
// AWS: a /30 inside 169.254.0.0/16, not one of the reserved blocks.
std::optional<std::string> checkInsideCidr(const Ipv4Prefix& cidr);
// A spoke's ASN as AWS allows it for the kind: a VGW's Amazon-side ASN (64512-65534,
// 4200000000-4294967294, or a legacy default), or a customer gateway's (1-2147483647). Besides
// AWS's ranges, 23456 (AS_TRANS) and 65535 are refused: no BGP speaker may use them as its own.
std::optional<std::string> checkSpokeAsn(SpokeKind kind, std::int64_t asn);
// The hub's own ASN: the hub is the customer gateway of its vpc spokes.
std::optional<std::string> checkHubAsn(std::int64_t asn);
// A tunnel endpoint or the hub's address: a unicast address outside special-purpose ranges.
std::optional<std::string> checkEndpointAddress(Ipv4Address address);
// A spoke's declared network: not in loopback, link-local, multicast or reserved space.
std::optional<std::string> checkSpokeCidr(const Ipv4Prefix& cidr);

// A fresh AWS-style PSK: 32 letters and digits from the system's CSPRNG, not starting with '0'.
std::string generatePsk();

}  // namespace transit::peers
