// The spoke model: what the hub connects to, as validated and stored.
//
// Owns: plain values. Built by validation (spoke_validation.hpp) from a client's SpokeDraft,
// completed by the hub (inside /30s allocated, PSKs generated), stored by the hub's store and
// published in immutable snapshots that HTTP handlers read from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/tunnel_options.hpp"
#include "routing/base/prefix.hpp"

namespace transit::peers {

enum class SpokeKind {
  kVpc,   // an AWS VPC behind a virtual private gateway; the hub is its customer gateway
  kSite,  // an on-prem network; the hub plays the AWS side of the VPN
};

enum class RoutingMode {
  kBgp,     // routes exchanged with BGP over each tunnel's inside link
  kStatic,  // routes to the spoke's CIDRs installed by the hub
};

std::string_view toString(SpokeKind kind);
std::string_view toString(RoutingMode mode);
std::optional<SpokeKind> parseSpokeKind(std::string_view text);
std::optional<RoutingMode> parseRoutingMode(std::string_view text);

inline constexpr std::string_view kDefaultSegment = "default";
// A spoke holds one VPN connection per hub (AWS: one customer gateway per hub), two tunnels each:
// two tunnels on a single hub, four with the pair.
inline constexpr std::size_t kMaxTunnelsPerHub = 2;
inline constexpr std::size_t kMaxHubs = 2;
inline constexpr std::size_t kMaxTunnels = kMaxTunnelsPerHub * kMaxHubs;
inline constexpr std::size_t kMaxCidrs = 100;
// AWS: a VGW drops a BGP session above 100 received prefixes; a VPN connection holds at most 50
// static routes in practice (the operator enters them by hand).
inline constexpr std::uint32_t kDefaultExportLimitBgp = 100;
inline constexpr std::uint32_t kDefaultExportLimitStatic = 50;
inline constexpr std::uint32_t kMaxExportLimit = 10000;
inline constexpr std::uint32_t kDefaultImportLimit = 1000;
inline constexpr std::uint32_t kMaxImportLimit = 1000000;
// AWS's VGWs use a 30 s hold time (10 s keepalives).
inline constexpr std::uint32_t kDefaultHoldTime = 30;

struct Tunnel {
  Ipv4Address outside_ip;  // the spoke's tunnel endpoint
  Ipv4Prefix inside_cidr;  // the /30 inside link
  std::string psk;         // pre-shared key; never leaves the hub except in exports
  // The hub (its hub.name) that terminates the tunnel: each hub of the pair plans and applies
  // only its own. Validation always sets it (a request that names none means the hub that
  // receives it; a stored record older than the field, the hub that loads it).
  std::string hub{};

  bool operator==(const Tunnel&) const = default;
};

// One of a hub's tunnels of a spoke: `index` is its place among that hub's tunnels (1 or 2), the
// number in the names the hub gives it ("th-prod-a-1"), so a single hub's names never change.
struct HubTunnel {
  int index = 1;
  std::size_t position = 0;  // its place in Spoke::tunnels
  const Tunnel* tunnel = nullptr;
};

// The hub's and the spoke's addresses on a tunnel's inside /30. AWS gives the VGW the first
// usable address and the customer gateway (the hub, for a vpc spoke) the second; for a site
// the hub plays AWS's side and takes the first.
Ipv4Address hubInsideAddress(SpokeKind kind, const Ipv4Prefix& inside);
Ipv4Address peerInsideAddress(SpokeKind kind, const Ipv4Prefix& inside);

struct Spoke;
// The tunnels of `hub`, in the spoke's order, each with its index among them.
std::vector<HubTunnel> tunnelsOf(const Spoke& spoke, std::string_view hub);
// The index of spoke.tunnels[position] among the tunnels of its hub (1 or 2).
int indexOnHub(const Spoke& spoke, std::size_t position);

// The limits in force for a spoke: its own, or the defaults for its routing mode.
std::uint32_t effectiveExportLimit(const Spoke& spoke);
std::uint32_t effectiveImportLimit(const Spoke& spoke);

struct Spoke {
  std::string name;
  SpokeKind kind = SpokeKind::kVpc;
  std::vector<Ipv4Prefix> cidrs;
  RoutingMode routing = RoutingMode::kBgp;
  std::optional<std::uint32_t> asn;  // set exactly when routing is bgp
  std::optional<std::string> preferred_hub;
  std::string segment{kDefaultSegment};
  // At most this many prefixes are sent to the spoke (summarised when more must be reached).
  // Unset: kDefaultExportLimitBgp or kDefaultExportLimitStatic by routing mode.
  std::optional<std::uint32_t> export_limit;
  // More accepted routes than this from the spoke restart its BGP session. Unset: the default.
  std::optional<std::uint32_t> import_limit;
  // The BGP hold time of its sessions, 3-65535 s (keepalive a third of it). Unset: 30.
  std::optional<std::uint32_t> bgp_hold_time_seconds;
  // BFD on its BGP sessions (a site with routing: bgp only; AWS VGWs do not speak BFD): a dead
  // tunnel is seen within BFD's detection time instead of the hold time.
  bool bfd = false;
  // IKE/IPsec parameters of both tunnels (AWS's tunnel options; defaults when not given).
  TunnelOptions tunnel_options;
  std::vector<Tunnel> tunnels;

  // Set by the hub.
  std::uint64_t generation = 0;  // 1 when created, +1 on every replace
  // The spoke's number in the hub's BGP tags: every route accepted from it carries the large
  // community (hub AS, 2, route_tag) (routing/policy/routing_driver.hpp, kSpokeTagKind).
  // Allocated once, when the spoke is created (the lowest number no other spoke holds), kept for
  // its life, unique in the store: so every hub sharing the store tags its routes alike and a
  // route learned from the other hub names its spoke. 0: not yet allocated (a record written
  // before the field existed; the registry allocates one when it loads it).
  std::uint32_t route_tag = 0;
  std::chrono::sys_seconds created_at{};
  std::chrono::sys_seconds updated_at{};

  bool operator==(const Spoke&) const = default;
};

// A spoke's fields as a client sent them, before validation. Every field is optional so that
// validation, not decoding, decides what is required and names what is missing.
struct TunnelDraft {
  std::optional<std::string> outside_ip;
  std::optional<std::string> inside_cidr;
  std::optional<std::string> psk;
  std::optional<std::string> hub{};  // unset: the hub that receives the request
};

struct SpokeDraft {
  std::optional<std::string> name;
  std::optional<std::string> kind;
  std::optional<std::vector<std::string>> cidrs;
  std::optional<std::string> routing;
  std::optional<std::int64_t> asn;
  std::optional<std::string> preferred_hub;
  std::optional<std::string> segment;
  std::optional<std::int64_t> export_limit;
  std::optional<std::int64_t> import_limit;
  std::optional<std::int64_t> bgp_hold_time_seconds;
  std::optional<bool> bfd;
  // Decoded and validated with the JSON (peers/model/tunnel_options_json.hpp); unset: the defaults.
  std::optional<TunnelOptions> tunnel_options;
  std::optional<std::vector<TunnelDraft>> tunnels;
};

// A rejected field: `field` is a path into the request ("tunnels[1].psk"), `message` says what
// is wrong without echoing secrets.
struct FieldError {
  std::string field;
  std::string message;
};

}  // namespace transit::peers
