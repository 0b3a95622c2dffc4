#include "peers/libreswan/libreswan_render.hpp"

#include <fmt/format.h>

#include <cassert>
#include <sstream>

namespace transit::peers {

bool pskRenderable(std::string_view psk) {
  if (psk.empty() || psk.size() > 64) {
    return false;
  }
  for (const char c : psk) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::uint32_t externalMark(const TunnelSpec& spec) {
  if (spec.interface_id != 0) {
    return spec.interface_id;
  }
  // FNV-1a of the name, kept within 0x10000..0x7fffffff: stable across restarts, and clear of
  // the small marks an operator or VTI set-up is likely to use by hand.
  std::uint32_t hash = 2166136261U;
  for (const char c : spec.name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619U;
  }
  return 0x10000U + hash % (0x7fffffffU - 0x10000U);
}

std::string renderConnection(const TunnelSpec& spec, const LibreswanOptions& options) {
  std::string out;
  out += fmt::format("# {} tunnel {} of spoke {}; written by transit-hubd, do not edit\n",
                     spec.name, spec.index, spec.spoke);
  out += fmt::format("conn {}\n", spec.name);
  // addconn NAME ignores auto=; the driver initiates with whack --initiate --asynchronous.
  out += "\tauto=add\n";
  out += "\ttype=tunnel\n";
  out += "\tauthby=secret\n";
  const TunnelOptions& tunnel = spec.options;
  out += fmt::format("\tikev2={}\n", tunnel.ikev2() ? "yes" : "no");
  out += fmt::format("\tleft={}\n", spec.local_address.toString());
  out += fmt::format("\tleftid={}\n", spec.local_id.toString());
  out += fmt::format("\tright={}\n", spec.remote_address.toString());
  out += fmt::format("\trightid={}\n", spec.remote_address.toString());
  // Route-based: the policy covers everything; the XFRM if_id (or mark) confines it to the
  // traffic routed into the tunnel, and BGP over the inside /30 decides what that is.
  out += "\tleftsubnet=0.0.0.0/0\n";
  out += "\trightsubnet=0.0.0.0/0\n";
  // Proposals from the spoke's tunnel options, in its order of preference. ESP names one DH
  // group (pluto 4.10 cannot do INVALID_KE for Child SAs): phase 2's first.
  out += fmt::format("\tike={}\n", libreswanIke(tunnel));
  out += fmt::format("\tesp={}\n", libreswanEsp(tunnel));
  out += "\tpfs=yes\n";
  // Integer seconds only: pluto 4.10 silently ignores fractional values such as 4.5m.
  out += fmt::format("\tikelifetime={}s\n", tunnel.phase1.lifetime_seconds);
  out += fmt::format("\tsalifetime={}s\n", tunnel.phase2.lifetime_seconds);
  out += fmt::format("\trekeymargin={}s\n", tunnel.rekey_margin_seconds);
  out += fmt::format("\trekeyfuzz={}%\n", tunnel.rekey_fuzz_percent);
  out += "\tkeyingtries=%forever\n";
  // Liveness: AWS drops a tunnel after ~10 s without traffic. While a Child SA exists pluto
  // sends a liveness probe every dpddelay seconds (and BGP keepalives cross the tunnel every
  // 10 s), so it never idles; a peer silent for the DPD timeout is declared dead. As AWS's
  // customer gateway (vpc) the hub always restarts a dead tunnel; as the AWS side (site) it
  // takes the spoke's DPD timeout action. IKEv2 times out with retransmit-timeout (dpdtimeout=
  // is ignored), IKEv1 with dpdtimeout.
  const DpdAction action = spec.aws_side ? dpdAction(tunnel, true) : DpdAction::kRestart;
  if (action == DpdAction::kNone) {
    out += "\t# DPD timeout action none: no liveness probes\n";
  } else {
    out += "\t# liveness probe every 10 s while a Child SA exists; AWS idles out after ~10 s\n";
    out += "\tdpddelay=10\n";
    out += fmt::format("\t{}={}s\n", tunnel.ikev2() ? "retransmit-timeout" : "dpdtimeout",
                       tunnel.dpd_timeout_seconds);
    out += fmt::format("\tdpdaction={}\n", action == DpdAction::kClear ? "clear" : "restart");
  }
  out += fmt::format("\treplay-window={}\n", tunnel.replay_window);
  out += "\tencapsulation=auto\n";
  if (options.links == TunnelLinks::kXfrm) {
    // pluto creates (or reuses) ipsecN with XFRM if_id N; the hub sets address, MTU and MSS.
    out += fmt::format("\tipsec-interface={}\n", spec.interface_id);
    // Every tunnel's policy is 0/0 <-> 0/0, told apart in the kernel by its XFRM if_id. pluto
    // 4.10 installs a second connection with the same selectors only when both agree on the next
    // hop, which defaults to each one's peer ("cannot route -- route already in use"), and both
    // allow overlapping policies ("cannot install eroute -- it is in use"). The gateway of the
    // route to the peer (on EC2 the VPC router, for every peer) is the same for all.
    out += "\tleftnexthop=%defaultroute\n";
    out += "\toverlapip=yes\n";
  } else {
    // The inside links exist already (veths in the lab). Without an interface the 0/0 <-> 0/0
    // policy would, on a kernel with ESP, capture all of the host's traffic. A per-tunnel mark
    // confines it to packets carrying that mark, which nothing sets here: safe by default.
    const std::uint32_t mark = externalMark(spec);
    out += "\t# links are external: the mark confines the 0/0 policy to marked packets\n";
    out += fmt::format("\tmark={}/0xffffffff\n", mark);
  }
  return out;
}

std::string renderSecrets(std::span<const TunnelSpec> tunnels) {
  std::string out = "# transit-hubd: pre-shared keys of the hub's tunnels; do not edit\n";
  for (const auto& spec : tunnels) {
    assert(pskRenderable(spec.psk));
    out += fmt::format("# conn {}\n{} {} : PSK \"{}\"\n", spec.name, spec.local_id.toString(),
                       spec.remote_address.toString(), spec.psk);
  }
  return out;
}

std::vector<RenderedSecret> parseSecrets(std::string_view text) {
  std::vector<RenderedSecret> out;
  std::istringstream in{std::string(text)};
  std::string line;
  std::string pending;
  while (std::getline(in, line)) {
    if (line.starts_with("# conn ")) {
      pending = line.substr(7);
      continue;
    }
    if (pending.empty() || line.empty() || line.front() == '#') continue;
    std::istringstream words(line);
    std::string local;
    std::string remote;
    std::string colon;
    std::string kind;
    std::string quoted;
    words >> local >> remote >> colon >> kind >> quoted;
    const auto local_id = Ipv4Address::parse(local);
    const auto remote_ip = Ipv4Address::parse(remote);
    if (local_id && remote_ip && colon == ":" && kind == "PSK" && quoted.size() >= 2 &&
        quoted.front() == '"' && quoted.back() == '"') {
      std::string psk = quoted.substr(1, quoted.size() - 2);
      if (pskRenderable(psk)) {
        out.push_back(RenderedSecret{pending, *local_id, *remote_ip, std::move(psk)});
      }
    }
    pending.clear();
  }
  return out;
}

bool validConnectionName(std::string_view name) {
  if (name.empty() || name.size() > 100 || name == "." || name == "..") {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool ownedConnectionName(std::string_view name, std::string_view prefix) {
  return validConnectionName(name) && name.starts_with(prefix);
}

}  // namespace transit::peers
