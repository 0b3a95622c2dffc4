#include "peers/export/site_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <span>
#include <sstream>

#include <pugixml.hpp>

namespace transit::peers {
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;

// AWS's values for a tunnel's inside link (the hub uses the same: peers/model/tunnel_driver.hpp).
constexpr std::uint32_t kInsideMtu = 1399;
constexpr std::uint32_t kTcpMss = 1379;
constexpr std::uint32_t kDpdDelaySeconds = 10;
constexpr std::uint32_t kMinDpdRetries = 3;

bool isGcm(Encryption e) { return e == Encryption::kAes128Gcm16 || e == Encryption::kAes256Gcm16; }

// ---- strongSwan algorithm names ----

std::string_view swanCipher(Encryption e) {
  switch (e) {
    case Encryption::kAes128:
      return "aes128";
    case Encryption::kAes256:
      return "aes256";
    case Encryption::kAes128Gcm16:
      return "aes128gcm16";
    case Encryption::kAes256Gcm16:
      return "aes256gcm16";
  }
  return "aes256";
}

std::string_view swanHash(Integrity i) {
  switch (i) {
    case Integrity::kSha1:
      return "sha1";
    case Integrity::kSha2_256:
      return "sha256";
    case Integrity::kSha2_384:
      return "sha384";
    case Integrity::kSha2_512:
      return "sha512";
  }
  return "sha256";
}

// Validation admits 5 and 14-21; the rest of the IANA groups strongSwan names are here so that
// a group can never silently become another. An unknown one renders as a keyword swanctl refuses.
std::string swanGroup(int group) {
  switch (group) {
    case 2:
      return "modp1024";
    case 5:
      return "modp1536";
    case 14:
      return "modp2048";
    case 15:
      return "modp3072";
    case 16:
      return "modp4096";
    case 17:
      return "modp6144";
    case 18:
      return "modp8192";
    case 19:
      return "ecp256";
    case 20:
      return "ecp384";
    case 21:
      return "ecp521";
    case 22:
      return "modp1024s160";
    case 23:
      return "modp2048s224";
    case 24:
      return "modp2048s256";
    default:
      return fmt::format("unknown-dh-group-{}", group);
  }
}

std::string joinComma(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

// ---- AWS's value names (CustomerGatewayConfiguration) ----

std::string_view awsCipher(Encryption e) {
  switch (e) {
    case Encryption::kAes128:
      return "aes-128-cbc";
    case Encryption::kAes256:
      return "aes-256-cbc";
    case Encryption::kAes128Gcm16:
      return "aes-128-gcm-16";
    case Encryption::kAes256Gcm16:
      return "aes-256-gcm-16";
  }
  return "aes-256-cbc";
}

std::string_view awsIkeHash(Integrity i) {
  switch (i) {
    case Integrity::kSha1:
      return "sha1";
    case Integrity::kSha2_256:
      return "sha2-256";
    case Integrity::kSha2_384:
      return "sha2-384";
    case Integrity::kSha2_512:
      return "sha2-512";
  }
  return "sha2-256";
}

// ESP integrity with its truncation, like AWS's "hmac-sha1-96" (RFC 4868 lengths for SHA-2).
std::string_view awsEspHash(Integrity i) {
  switch (i) {
    case Integrity::kSha1:
      return "hmac-sha1-96";
    case Integrity::kSha2_256:
      return "hmac-sha2-256-128";
    case Integrity::kSha2_384:
      return "hmac-sha2-384-192";
    case Integrity::kSha2_512:
      return "hmac-sha2-512-256";
  }
  return "hmac-sha2-256-128";
}

// ---- What every format shares ----

using Hubs = std::span<const SiteConfigHub>;

// One tunnel from the site's side.
struct SiteTunnel {
  int index = 1;      // 1-4, the site's number for it
  int if_id = 1;      // its XFRM interface's if_id: index, or 10 + index for libreswan (below)
  int hub_index = 1;  // 1 or 2: its place among its hub's tunnels (the hub's names use it)
  const SiteConfigHub* hub = nullptr;  // the hub at the other end
  const Tunnel* tunnel = nullptr;
  Ipv4Address site_inside;
  Ipv4Address hub_inside;
  std::string conn;    // "<hub>-t1": the IPsec connection (and child) name
  std::string device;  // the XFRM interface
};

enum class LinkNaming {
  kXfrmHub,  // xfrm-hubN: any name works for strongSwan
  // ipsecN, N = 10 + index: the device libreswan's ipsec-interface=N uses (and reuses when it
  // exists). Never ipsec1: pluto 4.10 probes for XFRM interfaces by making ipsec1 at its first
  // such connection, and when ipsec1 already exists it refuses XFRM interfaces until restarted.
  kIpsec,
};

// The spoke's tunnels, hub by hub in the order of `hubs`, each hub's in the spoke's order.
std::vector<SiteTunnel> siteTunnels(const Spoke& spoke, Hubs hubs, LinkNaming naming) {
  std::vector<SiteTunnel> out;
  int index = 0;
  for (const auto& hub : hubs) {
    for (const auto& own : tunnelsOf(spoke, hub.name)) {
      ++index;
      SiteTunnel view;
      view.index = index;
      view.hub_index = own.index;
      view.hub = &hub;
      view.tunnel = own.tunnel;
      view.site_inside = peerInsideAddress(SpokeKind::kSite, own.tunnel->inside_cidr);
      view.hub_inside = hubInsideAddress(SpokeKind::kSite, own.tunnel->inside_cidr);
      view.conn = fmt::format("{}-t{}", hub.name, own.index);
      view.if_id = naming == LinkNaming::kIpsec ? 10 + index : index;
      view.device =
          fmt::format("{}{}", naming == LinkNaming::kIpsec ? "ipsec" : "xfrm-hub", view.if_id);
      out.push_back(std::move(view));
    }
  }
  return out;
}

// BIRD symbols and FRR names: letters, digits and '_' (hub and spoke names use '-').
std::string identifier(std::string_view name) {
  std::string out(name);
  std::ranges::replace(out, '-', '_');
  return out;
}

std::string cidrList(const Spoke& spoke) {
  std::string out;
  for (const auto& cidr : spoke.cidrs) out += (out.empty() ? "" : ", ") + cidr.toString();
  return out;
}

std::uint32_t holdTime(const Spoke& spoke) {
  return spoke.bgp_hold_time_seconds.value_or(kDefaultHoldTime);
}

std::uint32_t keepalive(const Spoke& spoke) {
  return std::max<std::uint32_t>(1, holdTime(spoke) / 3);
}

// 'transit hub "hub-a" (203.0.113.5)', or both hubs of the pair.
std::string hubsText(Hubs hubs) {
  if (hubs.size() == 1) {
    return fmt::format("transit hub \"{}\" ({})", hubs.front().name,
                       hubs.front().public_ip.toString());
  }
  std::string out = "transit hubs";
  for (std::size_t i = 0; i < hubs.size(); ++i) {
    out += fmt::format("{} \"{}\" ({})", i == 0 ? "" : (i + 1 == hubs.size() ? " and" : ","),
                       hubs[i].name, hubs[i].public_ip.toString());
  }
  return out;
}

// "<what> of site "<spoke>" ... transit hub "<hub>" (<ip>); generated by transit-hubd"
std::string banner(std::string_view comment, std::string_view what, const Spoke& spoke, Hubs hubs) {
  return fmt::format("{} {} of site \"{}\" to {}; generated by transit-hubd\n", comment, what,
                     spoke.name, hubsText(hubs));
}

// "the hub" or "both hubs", for the files' one-line descriptions.
std::string_view theHubs(Hubs hubs) { return hubs.size() == 1 ? "the hub" : "both hubs"; }

std::string filePrefix(const Spoke& spoke) { return fmt::format("transit-hub-{}", spoke.name); }

std::uint32_t rekeyAt(std::uint32_t lifetime, std::uint32_t margin) {
  return lifetime > margin ? lifetime - margin : lifetime;
}

std::uint32_t randomRange(const TunnelOptions& options) {
  return options.rekey_margin_seconds * options.rekey_fuzz_percent / 100;
}

// ---- The links script ----

SiteConfigFile renderLinks(const Spoke& spoke, Hubs hubs, const std::vector<SiteTunnel>& tunnels,
                           std::string_view ipsec_files) {
  std::string out = "#!/bin/sh\n";
  out += banner("#", "XFRM interfaces of the tunnels", spoke, hubs);
  out += fmt::format(
      "# Run as root before {} is loaded, and at every boot. Idempotent:\n"
      "# creates what is missing, sets address, MTU and state of what exists. UNDERLAY is the\n"
      "# device that carries the tunnels' outside addresses (default eth0).\n"
      "# Route-based tunnels: each tunnel's 0.0.0.0/0 policy is bound to its interface's if_id,\n"
      "# so only traffic routed into the interface is encrypted. The if_ids must not be in use\n"
      "# by another XFRM interface here; change them here and in {} together.\n"
      "# MTU {} as AWS recommends; the hub clamps the TCP MSS to {} in both directions.\n",
      ipsec_files, ipsec_files, kInsideMtu, kTcpMss);
  if (spoke.routing == RoutingMode::kStatic) {
    out += "#\n# Routing is static (no BGP). Route the networks behind the hub into the tunnels,\n";
    out += "# tunnel 1 preferred, e.g. for each PREFIX:\n";
    for (const auto& t : tunnels) {
      out += fmt::format("#   ip route replace PREFIX dev {} metric {}\n", t.device, t.index * 100);
    }
    out += fmt::format(
        "# The hub lists those prefixes: GET /v1/spokes/{}/static-routes. It routes this site's\n"
        "# networks ({}) into the tunnels itself.\n",
        spoke.name, cidrList(spoke));
  }
  out += "\nset -eu\nunderlay=\"${UNDERLAY:-eth0}\"\n\n";
  out += "# link NAME IF_ID ADDRESS/LENGTH\n";
  out += "link() {\n";
  out += "\tif ! ip link show dev \"$1\" >/dev/null 2>&1; then\n";
  out += "\t\tip link add \"$1\" type xfrm dev \"$underlay\" if_id \"$2\"\n";
  out += "\tfi\n";
  out += "\tip addr replace \"$3\" dev \"$1\"\n";
  out += fmt::format("\tip link set dev \"$1\" mtu {} up\n", kInsideMtu);
  out += "}\n\n";
  for (const auto& t : tunnels) {
    if (hubs.size() == 1) {
      out += fmt::format("# tunnel {}: {} <-> {}; the hub is {} on the inside\n", t.index,
                         t.tunnel->outside_ip.toString(), t.hub->public_ip.toString(),
                         t.hub_inside.toString());
    } else {
      out += fmt::format("# tunnel {}: {} <-> {} ({} tunnel {}); the hub is {} on the inside\n",
                         t.index, t.tunnel->outside_ip.toString(), t.hub->public_ip.toString(),
                         t.hub->name, t.hub_index, t.hub_inside.toString());
    }
    out += fmt::format("link {} {} {}/{}\n", t.device, t.if_id, t.site_inside.toString(),
                       t.tunnel->inside_cidr.length());
  }
  std::string devices;
  for (const auto& t : tunnels) devices += (devices.empty() ? "" : ", ") + t.device;
  return SiteConfigFile{
      fmt::format("{}-links.sh", filePrefix(spoke)), std::move(out),
      fmt::format("POSIX sh script creating the tunnels' XFRM interfaces ({}) with their inside "
                  "addresses; run it as root before loading the IPsec configuration",
                  devices),
      false};
}

// ---- BIRD 2 ----

SiteConfigFile renderBird(const Spoke& spoke, Hubs hubs, const std::vector<SiteTunnel>& tunnels) {
  const std::string path = fmt::format("bird/{}.conf", filePrefix(spoke));
  std::string out = banner("#", "BIRD 2 BGP sessions", spoke, hubs);
  out += fmt::format(
      "# Include it from bird.conf: include \"/etc/{}\";\n"
      "# bird.conf needs `protocol device` and a `protocol kernel` exporting to the kernel\n"
      "# for the learned routes to be used. The sessions run over the XFRM interfaces that\n"
      "# {}-links.sh creates.\n\n",
      path, filePrefix(spoke));
  out +=
      "# This site's networks as blackhole routes, so that the aggregates exist to be announced.\n"
      "# Real routes win: they are more specific, or have a higher preference (these have 1).\n";
  out += fmt::format("protocol static transit_hub_{}_networks {{\n", identifier(spoke.name));
  out += "\tipv4 { preference 1; };\n";
  for (const auto& cidr : spoke.cidrs) {
    out += fmt::format("\troute {} blackhole;\n", cidr.toString());
  }
  out += "}\n";
  const std::string exported = spoke.cidrs.empty()
                                   ? std::string("export none;")
                                   : fmt::format("export where net ~ [ {} ];", cidrList(spoke));
  for (const auto& t : tunnels) {
    out += fmt::format("\nprotocol bgp {}_t{} {{\n", identifier(t.hub->name), t.hub_index);
    out += fmt::format("\tdescription \"transit hub {} tunnel {}\";\n", t.hub->name, t.hub_index);
    out += fmt::format("\tlocal {} as {};\n", t.site_inside.toString(), spoke.asn.value_or(0));
    out += fmt::format("\tneighbor {} as {};\n", t.hub_inside.toString(), t.hub->asn);
    out += fmt::format("\thold time {};\n", holdTime(spoke));
    out += fmt::format("\tkeepalive time {};\n", keepalive(spoke));
    out += "\tipv4 {\n";
    out += "\t\timport all;\n";
    out += "\t\t# only the networks the hub accepts from this site\n";
    out += fmt::format("\t\t{}\n", exported);
    out += "\t};\n";
    out += "}\n";
  }
  return SiteConfigFile{path, std::move(out),
                        fmt::format("BIRD 2 BGP sessions with {} over {} tunnels; include "
                                    "it from /etc/bird/bird.conf (as /etc/{})",
                                    theHubs(hubs), hubs.size() == 1 ? "both" : "their", path),
                        false};
}

// ---- FRR ----

SiteConfigFile renderFrr(const Spoke& spoke, Hubs hubs, const std::vector<SiteTunnel>& tunnels) {
  const std::string path = fmt::format("frr/{}.conf", filePrefix(spoke));
  // One policy for every session (both hubs of a pair announce alike), named after the first.
  const std::string out_list = fmt::format("transit-hub-{}-out", hubs.front().name);
  const std::string in_map = fmt::format("transit-hub-{}-in", hubs.front().name);
  const std::uint32_t asn = spoke.asn.value_or(0);
  std::string out = banner("!", "FRR BGP sessions", spoke, hubs);
  out += fmt::format(
      "! Merge into /etc/frr/frr.conf (bgpd and staticd enabled in /etc/frr/daemons) or apply it\n"
      "! to the running daemons with `vtysh -f {}.conf`. An existing `router bgp` must\n"
      "! be AS {}. The sessions run over the XFRM interfaces that {}-links.sh creates.\n!\n",
      filePrefix(spoke), asn, filePrefix(spoke));
  out +=
      "! This site's networks as blackhole routes (distance 254: any real route wins), so\n"
      "! that the `network` statements have a route to announce.\n";
  for (const auto& cidr : spoke.cidrs) {
    out += fmt::format("ip route {} blackhole 254\n", cidr.toString());
  }
  out += "!\n! Announce only the networks the hub accepts from this site; accept what the hub\n";
  out += "! sends (eBGP needs a policy both ways, RFC 8212).\n";
  int seq = 0;
  for (const auto& cidr : spoke.cidrs) {
    seq += 5;
    out += fmt::format("ip prefix-list {} seq {} permit {}\n", out_list, seq, cidr.toString());
  }
  if (spoke.cidrs.empty()) out += fmt::format("ip prefix-list {} seq 5 deny any\n", out_list);
  out += fmt::format("!\nroute-map {} permit 10\nexit\n!\n", in_map);
  out += fmt::format("router bgp {}\n", asn);
  for (const auto& t : tunnels) {
    const std::string peer = t.hub_inside.toString();
    out += fmt::format(" neighbor {} remote-as {}\n", peer, t.hub->asn);
    out += fmt::format(" neighbor {} description transit hub {} tunnel {}\n", peer, t.hub->name,
                       t.hub_index);
    out += fmt::format(" neighbor {} timers {} {}\n", peer, keepalive(spoke), holdTime(spoke));
  }
  out += " !\n address-family ipv4 unicast\n";
  for (const auto& cidr : spoke.cidrs) out += fmt::format("  network {}\n", cidr.toString());
  for (const auto& t : tunnels) {
    const std::string peer = t.hub_inside.toString();
    out += fmt::format("  neighbor {} activate\n", peer);
    out += fmt::format("  neighbor {} prefix-list {} out\n", peer, out_list);
    out += fmt::format("  neighbor {} route-map {} in\n", peer, in_map);
  }
  out += " exit-address-family\nexit\n";
  return SiteConfigFile{path, std::move(out),
                        fmt::format("FRR BGP sessions with {} over {} tunnels; merge into "
                                    "/etc/frr/frr.conf or apply with vtysh -f",
                                    theHubs(hubs), hubs.size() == 1 ? "both" : "their"),
                        false};
}

void addRouting(SiteConfig& config, const Spoke& spoke, Hubs hubs,
                const std::vector<SiteTunnel>& tunnels) {
  if (spoke.routing != RoutingMode::kBgp) return;
  config.files.push_back(renderBird(spoke, hubs, tunnels));
  config.files.push_back(renderFrr(spoke, hubs, tunnels));
}

// ---- strongSwan ----

std::string renderSwanctlConnection(const Spoke& spoke, const SiteTunnel& t) {
  const SiteConfigHub& hub = *t.hub;
  const TunnelOptions& options = spoke.tunnel_options;
  const std::uint32_t margin = options.rekey_margin_seconds;
  std::string out;
  out += fmt::format("  {} {{\n", t.conn);
  out += fmt::format("    version = {}\n", options.ikev2() ? 2 : 1);
  out += fmt::format("    local_addrs = {}\n", t.tunnel->outside_ip.toString());
  out += fmt::format("    remote_addrs = {}\n", hub.public_ip.toString());
  out += fmt::format("    proposals = {}\n", strongswanIkeProposals(options));
  out += fmt::format("    # rekey {}-{} s before the {} s lifetime, like the hub\n", margin,
                     margin + randomRange(options), options.phase1.lifetime_seconds);
  out += fmt::format("    rekey_time = {}s\n", rekeyAt(options.phase1.lifetime_seconds, margin));
  out += fmt::format("    rand_time = {}s\n", randomRange(options));
  out += fmt::format("    over_time = {}s\n", margin);
  out += "    keyingtries = 0\n";
  out += fmt::format("    dpd_delay = {}s\n", kDpdDelaySeconds);
  if (!options.ikev2()) {
    out += fmt::format("    dpd_timeout = {}s\n", options.dpd_timeout_seconds);
  }
  out += "    local {\n      auth = psk\n";
  out += fmt::format("      id = {}\n    }}\n", t.tunnel->outside_ip.toString());
  out += "    remote {\n      auth = psk\n";
  out += fmt::format("      id = {}\n    }}\n", hub.public_ip.toString());
  out += "    children {\n";
  out += fmt::format("      {} {{\n", t.conn);
  out += "        local_ts = 0.0.0.0/0\n";
  out += "        remote_ts = 0.0.0.0/0\n";
  out += "        mode = tunnel\n";
  out += fmt::format("        esp_proposals = {}\n", strongswanEspProposals(options));
  out += fmt::format("        life_time = {}s\n", options.phase2.lifetime_seconds);
  out +=
      fmt::format("        rekey_time = {}s\n", rekeyAt(options.phase2.lifetime_seconds, margin));
  out += fmt::format("        rand_time = {}s\n", randomRange(options));
  out += fmt::format("        replay_window = {}\n", options.replay_window);
  out += fmt::format("        # XFRM interface {} (no routes are installed for if_id children)\n",
                     t.device);
  out += fmt::format("        if_id_in = {}\n", t.if_id);
  out += fmt::format("        if_id_out = {}\n", t.if_id);
  out += "        dpd_action = restart\n";
  out += "        start_action = start\n";
  if (startupAction(options, true) == StartupAction::kAdd) {
    out += "        # the hub waits for this site: bring the tunnel back when the hub closes it\n";
    out += "        close_action = start\n";
  }
  out += "      }\n    }\n  }\n";
  return out;
}

SiteConfigFile renderSwanctl(const Spoke& spoke, Hubs hubs,
                             const std::vector<SiteTunnel>& tunnels) {
  const std::string path = fmt::format("swanctl/conf.d/{}.conf", filePrefix(spoke));
  std::string out = banner("#", "strongSwan (swanctl) connections", spoke, hubs);
  out += fmt::format(
      "# Install as /etc/{}, mode 0600 (it holds the pre-shared keys);\n"
      "# run {}-links.sh first, then `swanctl --load-all`.\n"
      "# The site initiates (start_action = start) whatever the hub does: when both sides\n"
      "# initiate at once, the hub deletes the extra IKE SA. DPD probes an idle hub every\n"
      "# {} s and restarts a dead tunnel (IKEv2: dead after charon's retransmission timeout,\n"
      "# IKEv1: after dpd_timeout). No updown script: routes come from BGP or static routes\n"
      "# over the XFRM interfaces. Behind NAT, set local_addrs to this device's private\n"
      "# address; keep the ids.\n",
      path, filePrefix(spoke), kDpdDelaySeconds);
  out += "connections {\n";
  for (const auto& t : tunnels) out += renderSwanctlConnection(spoke, t);
  out += "}\n\nsecrets {\n";
  for (const auto& t : tunnels) {
    out += fmt::format("  ike-{} {{\n", t.conn);
    out += fmt::format("    id-1 = {}\n", t.tunnel->outside_ip.toString());
    out += fmt::format("    id-2 = {}\n", t.hub->public_ip.toString());
    out += fmt::format("    secret = \"{}\"\n", t.tunnel->psk);
    out += "  }\n";
  }
  out += "}\n";
  return SiteConfigFile{
      path, std::move(out),
      fmt::format("swanctl connections and pre-shared keys of the tunnels; goes in /etc/{} "
                  "(load with swanctl --load-all)",
                  path),
      true};
}

SiteConfig renderStrongswan(const Spoke& spoke, Hubs hubs) {
  const auto tunnels = siteTunnels(spoke, hubs, LinkNaming::kXfrmHub);
  SiteConfig config;
  config.files.push_back(renderSwanctl(spoke, hubs, tunnels));
  config.files.push_back(renderLinks(spoke, hubs, tunnels, "the swanctl configuration"));
  addRouting(config, spoke, hubs, tunnels);
  return config;
}

// ---- libreswan ----

SiteConfigFile renderLibreswanConf(const Spoke& spoke, Hubs hubs,
                                   const std::vector<SiteTunnel>& tunnels) {
  const TunnelOptions& options = spoke.tunnel_options;
  const std::string path = fmt::format("ipsec.d/{}.conf", filePrefix(spoke));
  std::string out = banner("#", "libreswan connections", spoke, hubs);
  out += fmt::format(
      "# Install as /etc/{} (Debian's ipsec.conf includes\n"
      "# /etc/ipsec.d/*.conf) with /etc/ipsec.d/{}.secrets; run\n"
      "# {}-links.sh first (pluto reuses the ipsecN interfaces it creates),\n"
      "# then `ipsec restart`.\n"
      "# The site initiates (auto=start) whatever the hub does; DPD restarts a dead tunnel.\n"
      "# Behind NAT, set left= to this device's private address; keep leftid=.\n",
      path, filePrefix(spoke), filePrefix(spoke));
  for (const auto& t : tunnels) {
    const std::string site = t.tunnel->outside_ip.toString();
    const std::string remote = t.hub->public_ip.toString();
    out += fmt::format("\nconn {}\n", t.conn);
    out += "\tauto=start\n";
    out += "\ttype=tunnel\n";
    out += "\tauthby=secret\n";
    out += fmt::format("\tikev2={}\n", options.ikev2() ? "yes" : "no");
    out += fmt::format("\tleft={}\n\tleftid={}\n", site, site);
    out += fmt::format("\tright={}\n\trightid={}\n", remote, remote);
    out += "\tleftsubnet=0.0.0.0/0\n";
    out += "\trightsubnet=0.0.0.0/0\n";
    // The hub's own strings: it accepts exactly these.
    out += fmt::format("\tike={}\n", libreswanIke(options));
    out += fmt::format("\tesp={}\n", libreswanEsp(options));
    out += "\tpfs=yes\n";
    out += fmt::format("\tikelifetime={}s\n", options.phase1.lifetime_seconds);
    out += fmt::format("\tsalifetime={}s\n", options.phase2.lifetime_seconds);
    out += fmt::format("\trekeymargin={}s\n", options.rekey_margin_seconds);
    out += fmt::format("\trekeyfuzz={}%\n", options.rekey_fuzz_percent);
    out += "\tkeyingtries=%forever\n";
    out += fmt::format("\tdpddelay={}\n", kDpdDelaySeconds);
    out += fmt::format("\t{}={}s\n", options.ikev2() ? "retransmit-timeout" : "dpdtimeout",
                       options.dpd_timeout_seconds);
    out += "\tdpdaction=restart\n";
    out += fmt::format("\treplay-window={}\n", options.replay_window);
    out += "\tencapsulation=auto\n";
    out += fmt::format("\t# XFRM interface {} (if_id {})\n", t.device, t.if_id);
    out += fmt::format("\tipsec-interface={}\n", t.if_id);
    // Every tunnel is 0/0 <-> 0/0: pluto 4.10 installs the second one only when both agree on
    // the next hop (the gateway of the route to the hub) and allow overlapping policies.
    out += "\tleftnexthop=%defaultroute\n";
    out += "\toverlapip=yes\n";
  }
  return SiteConfigFile{path, std::move(out),
                        fmt::format("libreswan connections of the tunnels; goes in /etc/{}", path),
                        false};
}

SiteConfigFile renderLibreswanSecrets(const Spoke& spoke, Hubs hubs,
                                      const std::vector<SiteTunnel>& tunnels) {
  const std::string path = fmt::format("ipsec.d/{}.secrets", filePrefix(spoke));
  std::string out = banner("#", "libreswan pre-shared keys", spoke, hubs);
  out += fmt::format(
      "# Install as /etc/{}, mode 0600 (Debian's ipsec.secrets\n"
      "# includes /etc/ipsec.d/*.secrets).\n",
      path);
  for (const auto& t : tunnels) {
    out += fmt::format("# conn {}\n{} {} : PSK \"{}\"\n", t.conn, t.tunnel->outside_ip.toString(),
                       t.hub->public_ip.toString(), t.tunnel->psk);
  }
  return SiteConfigFile{
      path, std::move(out),
      fmt::format("libreswan pre-shared keys of the tunnels; goes in /etc/{} (mode 0600)", path),
      true};
}

SiteConfig renderLibreswan(const Spoke& spoke, Hubs hubs) {
  const auto tunnels = siteTunnels(spoke, hubs, LinkNaming::kIpsec);
  SiteConfig config;
  config.files.push_back(renderLibreswanConf(spoke, hubs, tunnels));
  config.files.push_back(renderLibreswanSecrets(spoke, hubs, tunnels));
  config.files.push_back(renderLinks(spoke, hubs, tunnels, "the libreswan configuration"));
  addRouting(config, spoke, hubs, tunnels);
  return config;
}

// ---- AWS CustomerGatewayConfiguration XML ----

// An AWS-style id the project's parser accepts: prefix, then the name's letters and digits.
std::string awsId(std::string_view prefix, std::string_view name) {
  std::string suffix;
  for (const char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) suffix.push_back(c);
    if (c >= 'A' && c <= 'Z') suffix.push_back(static_cast<char>(c - 'A' + 'a'));
  }
  if (suffix.size() > 32) suffix.resize(32);
  if (suffix.empty()) suffix = "0";
  return fmt::format("{}{}", prefix, suffix);
}

void addText(pugi::xml_node parent, const char* name, const std::string& text) {
  parent.append_child(name).text().set(text.c_str());
}

void addEnd(pugi::xml_node parent, const char* name, Ipv4Address outside, Ipv4Address inside,
            const Ipv4Prefix& inside_cidr, bool bgp, std::uint32_t asn, std::uint32_t hold_time) {
  auto end = parent.append_child(name);
  addText(end.append_child("tunnel_outside_address"), "ip_address", outside.toString());
  auto in = end.append_child("tunnel_inside_address");
  addText(in, "ip_address", inside.toString());
  addText(in, "network_mask", Ipv4Address(inside_cidr.mask()).toString());
  addText(in, "network_cidr", std::to_string(inside_cidr.length()));
  if (bgp) {  // static (NoBGP) documents have no <bgp>
    auto session = end.append_child("bgp");
    addText(session, "asn", std::to_string(asn));
    addText(session, "hold_time", std::to_string(hold_time));
  }
}

// XML comments may not contain "--" (names never do; a hub name is not validated here).
std::string commentSafe(std::string text) {
  for (auto at = text.find("--"); at != std::string::npos; at = text.find("--", at)) {
    text.replace(at, 2, "- ");
  }
  return text;
}

// One hub's VPN connection: AWS makes one per customer gateway, and so does the pair, one per
// hub (the site is the customer gateway of both).
SiteConfigFile renderAwsXml(const Spoke& spoke, const SiteConfigHub& hub,
                            const std::vector<SiteTunnel>& tunnels, std::string path, bool pair) {
  const TunnelOptions& options = spoke.tunnel_options;
  const bool bgp = spoke.routing == RoutingMode::kBgp;
  pugi::xml_document document;
  auto declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  document.append_child(pugi::node_comment)
      .set_value(commentSafe(
                     fmt::format(
                         " AWS-style VPN connection of site \"{}\" to transit hub \"{}\" ({}); "
                         "generated by transit-hubd. customer_gateway is the site, vpn_gateway the "
                         "hub. ike/ipsec hold the hub's first proposal. ",
                         spoke.name, hub.name, hub.public_ip.toString()))
                     .c_str());
  auto root = document.append_child("vpn_connection");
  root.append_attribute("id") = awsId("vpn-", spoke.name).c_str();
  addText(root, "customer_gateway_id", awsId("cgw-", spoke.name));
  addText(root, "vpn_gateway_id", awsId("vgw-", hub.name));
  addText(root, "vpn_connection_type", "ipsec.1");
  if (!bgp) addText(root, "vpn_connection_attributes", "NoBGPVPNConnection");

  const std::uint32_t hold = holdTime(spoke);
  const auto& p1 = options.phase1;
  const auto& p2 = options.phase2;
  for (const auto& t : tunnels) {
    if (t.hub != &hub) continue;
    auto tunnel = root.append_child("ipsec_tunnel");
    addEnd(tunnel, "customer_gateway", t.tunnel->outside_ip, t.site_inside, t.tunnel->inside_cidr,
           bgp, spoke.asn.value_or(0), hold);
    addEnd(tunnel, "vpn_gateway", hub.public_ip, t.hub_inside, t.tunnel->inside_cidr, bgp, hub.asn,
           hold);

    auto ike = tunnel.append_child("ike");
    // For AEAD the IKE "authentication" is the PRF.
    if (!p1.integrity.empty()) {
      addText(ike, "authentication_protocol", std::string(awsIkeHash(p1.integrity.front())));
    }
    if (!p1.encryption.empty()) {
      addText(ike, "encryption_protocol", std::string(awsCipher(p1.encryption.front())));
    }
    addText(ike, "lifetime", std::to_string(p1.lifetime_seconds));
    if (!p1.dh_groups.empty()) {
      addText(ike, "perfect_forward_secrecy", fmt::format("group{}", p1.dh_groups.front()));
    }
    addText(ike, "mode", "main");
    addText(ike, "pre_shared_key", t.tunnel->psk);

    auto ipsec = tunnel.append_child("ipsec");
    addText(ipsec, "protocol", "esp");
    const bool gcm = !p2.encryption.empty() && isGcm(p2.encryption.front());
    if (!gcm && !p2.integrity.empty()) {  // AEAD has no separate integrity
      addText(ipsec, "authentication_protocol", std::string(awsEspHash(p2.integrity.front())));
    }
    if (!p2.encryption.empty()) {
      addText(ipsec, "encryption_protocol", std::string(awsCipher(p2.encryption.front())));
    }
    addText(ipsec, "lifetime", std::to_string(p2.lifetime_seconds));
    addText(ipsec, "perfect_forward_secrecy", fmt::format("group{}", pfsGroup(options)));
    addText(ipsec, "mode", "tunnel");
    addText(ipsec, "clear_df_bit", "false");
    addText(ipsec, "fragmentation_before_encryption", "true");
    addText(ipsec, "tcp_mss_adjustment", std::to_string(kTcpMss));
    auto dpd = ipsec.append_child("dead_peer_detection");
    addText(dpd, "interval", std::to_string(kDpdDelaySeconds));
    addText(
        dpd, "retries",
        std::to_string(std::max(kMinDpdRetries, options.dpd_timeout_seconds / kDpdDelaySeconds)));
  }

  std::ostringstream out;
  document.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
  return SiteConfigFile{
      std::move(path), out.str(),
      fmt::format("AWS CustomerGatewayConfiguration-style XML of the VPN connection{} (the site "
                  "is the customer gateway), with the pre-shared keys; for tools that read "
                  "AWS's generic download",
                  pair ? fmt::format(" to transit hub \"{}\"", hub.name) : std::string()),
      true};
}

// A document per hub: "transit-hub-<spoke>.xml" for a single hub, "...-<hub>.xml" for each hub
// of a pair.
SiteConfig renderAwsXml(const Spoke& spoke, Hubs hubs) {
  const auto tunnels = siteTunnels(spoke, hubs, LinkNaming::kXfrmHub);
  SiteConfig config;
  for (const auto& hub : hubs) {
    if (std::ranges::none_of(tunnels, [&](const SiteTunnel& t) { return t.hub == &hub; })) {
      continue;
    }
    std::string path = hubs.size() == 1 ? fmt::format("{}.xml", filePrefix(spoke))
                                        : fmt::format("{}-{}.xml", filePrefix(spoke), hub.name);
    config.files.push_back(renderAwsXml(spoke, hub, tunnels, std::move(path), hubs.size() > 1));
  }
  return config;
}

}  // namespace

std::optional<SiteConfigFormat> parseSiteConfigFormat(std::string_view text) {
  if (text == "strongswan") return SiteConfigFormat::kStrongswan;
  if (text == "libreswan") return SiteConfigFormat::kLibreswan;
  if (text == "aws-xml") return SiteConfigFormat::kAwsXml;
  return std::nullopt;
}

std::string_view toString(SiteConfigFormat format) {
  switch (format) {
    case SiteConfigFormat::kStrongswan:
      return "strongswan";
    case SiteConfigFormat::kLibreswan:
      return "libreswan";
    case SiteConfigFormat::kAwsXml:
      return "aws-xml";
  }
  return "strongswan";
}

std::string strongswanIkeProposals(const TunnelOptions& options) {
  const auto& phase = options.phase1;
  std::vector<std::string> proposals;
  if (options.ikev2()) {
    std::string groups;
    for (const int g : phase.dh_groups) groups += "-" + swanGroup(g);
    for (const auto e : phase.encryption) {
      // AEAD: the integrity list names the PRFs; otherwise "sha256" is integrity and PRF.
      std::string hashes;
      for (const auto i : phase.integrity) {
        hashes += fmt::format("-{}{}", isGcm(e) ? "prf" : "", swanHash(i));
      }
      proposals.push_back(fmt::format("{}{}{}", swanCipher(e), hashes, groups));
    }
  } else {
    for (const auto e : phase.encryption) {
      for (const auto i : phase.integrity) {
        for (const int g : phase.dh_groups) {
          proposals.push_back(fmt::format("{}-{}-{}", swanCipher(e), swanHash(i), swanGroup(g)));
        }
      }
    }
  }
  return joinComma(proposals);
}

std::string strongswanEspProposals(const TunnelOptions& options) {
  const auto& phase = options.phase2;
  const std::string pfs = swanGroup(pfsGroup(options));
  std::vector<std::string> proposals;
  for (const auto e : phase.encryption) {
    if (isGcm(e)) {
      proposals.push_back(fmt::format("{}-{}", swanCipher(e), pfs));
    } else if (options.ikev2()) {
      std::string hashes;
      for (const auto i : phase.integrity) hashes += fmt::format("-{}", swanHash(i));
      proposals.push_back(fmt::format("{}{}-{}", swanCipher(e), hashes, pfs));
    } else {
      for (const auto i : phase.integrity) {
        proposals.push_back(fmt::format("{}-{}-{}", swanCipher(e), swanHash(i), pfs));
      }
    }
  }
  return joinComma(proposals);
}

SiteConfig renderSiteConfig(const Spoke& spoke, std::span<const SiteConfigHub> hubs,
                            SiteConfigFormat format) {
  assert(spoke.kind == SpokeKind::kSite);
  assert(!spoke.tunnels.empty() && spoke.tunnels.size() <= kMaxTunnels);
  assert(!hubs.empty());
  assert(std::ranges::all_of(spoke.tunnels, [&](const Tunnel& t) {
    return std::ranges::find(hubs, t.hub, &SiteConfigHub::name) != hubs.end();
  }));
  switch (format) {
    case SiteConfigFormat::kStrongswan:
      return renderStrongswan(spoke, hubs);
    case SiteConfigFormat::kLibreswan:
      return renderLibreswan(spoke, hubs);
    case SiteConfigFormat::kAwsXml:
      return renderAwsXml(spoke, hubs);
  }
  return renderStrongswan(spoke, hubs);
}

SiteConfig renderSiteConfig(const Spoke& spoke, const SiteConfigHub& hub, SiteConfigFormat format) {
  return renderSiteConfig(spoke, std::span<const SiteConfigHub>(&hub, 1), format);
}

}  // namespace transit::peers
