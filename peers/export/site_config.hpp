// Site configuration: everything an on-prem router needs to connect to the hub as a site spoke,
// rendered for strongSwan (swanctl), libreswan, or as AWS's CustomerGatewayConfiguration XML.
//
// Owns nothing; pure functions, callable from any thread (the HTTP handler and the CLI call them
// on a spoke read from a snapshot). The site plays AWS's customer gateway: on each inside /30 it
// takes the second usable address and the hub the first (peers::peerInsideAddress). Proposals,
// lifetimes and DPD come from the spoke's tunnel options, so the site proposes exactly what the
// hub's libreswan accepts (peers/model/tunnel_options.hpp, peers/libreswan/libreswan_render.cpp).
//
// Besides the IPsec files, every Linux format carries a POSIX sh script that creates the
// route-based XFRM interfaces with the inside addresses and, for BGP spokes, BIRD 2 and FRR
// files for the sessions over them. PSKs appear only in files marked `secret`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/spoke.hpp"
#include "peers/model/tunnel_options.hpp"
#include "routing/base/prefix.hpp"

namespace transit::peers {

enum class SiteConfigFormat {
  kStrongswan,  // swanctl.conf + links script + BIRD + FRR
  kLibreswan,   // ipsec.d conf and secrets + links script + BIRD + FRR
  kAwsXml,      // AWS's CustomerGatewayConfiguration document (the site is the customer gateway)
};

// "strongswan", "libreswan", "aws-xml".
std::optional<SiteConfigFormat> parseSiteConfigFormat(std::string_view text);
std::string_view toString(SiteConfigFormat format);

// The hub as a site sees it.
struct SiteConfigHub {
  std::string name;
  Ipv4Address public_ip;  // the hub's IKE identity and tunnel endpoint (its Elastic IP)
  std::uint32_t asn = 0;
};

struct SiteConfigFile {
  std::string path;  // relative, e.g. "swanctl/conf.d/transit-hub-site-1.conf"
  std::string content;
  std::string description;  // one line: what it is and where it goes
  bool secret = false;      // holds a PSK (write it 0600)
};

struct SiteConfig {
  std::vector<SiteConfigFile> files;
};

// A complete configuration for a site spoke's device: a site connects to every hub it has tunnels
// on (both hubs of a pair), each tunnel to its hub's public address. Tunnels are numbered for
// the site hub by hub in the order of `hubs` (1-4: the XFRM interfaces and if_ids); each hub's
// connections and BGP protocols are named after it and its own tunnel index ("hub-a-t1",
// "hub_b_t2"), so a single hub's configuration is what it always was. aws-xml gives one
// document per hub (AWS: one VPN connection per customer gateway). Precondition: spoke.kind ==
// kSite, the spoke is valid (peers/model/spoke_validation.hpp) and every tunnel's hub is one of
// `hubs`; the HTTP handler refuses other kinds and unknown hubs.
SiteConfig renderSiteConfig(const Spoke& spoke, std::span<const SiteConfigHub> hubs,
                            SiteConfigFormat format);
// A single hub's: renderSiteConfig(spoke, {hub}, format).
SiteConfig renderSiteConfig(const Spoke& spoke, const SiteConfigHub& hub, SiteConfigFormat format);

// strongSwan (swanctl.conf) proposal strings for the same algorithms libreswanIke/libreswanEsp
// give the hub. IKEv2: one proposal per encryption algorithm with every integrity (or, for AEAD,
// PRF) algorithm and DH group in it; IKEv1 (one algorithm per kind per proposal): one proposal
// per combination. ESP: every proposal carries pfsGroup, the one group the hub negotiates.
std::string strongswanIkeProposals(const TunnelOptions& options);
std::string strongswanEspProposals(const TunnelOptions& options);

}  // namespace transit::peers
