// XfrmLinks: the route-based inside links of kXfrm tunnels (one XFRM interface `ipsecN` per
// tunnel, XFRM if_id N).
//
// libreswan 4.10 has no `interface-ip=`, so the hub pre-creates `ipsecN` before the connection
// is loaded, gives it the inside address and MTU, and deletes it when the tunnel goes; pluto
// reuses an existing `ipsecN` with the right if_id and never deletes one it did not create.
// Owns those devices (never one with another if_id or kind). The TCP MSS clamp on them is the
// forwarding plane's (routing::ForwardingPolicy::mss_clamp, loaded by routing/nft). Called by
// LibreswanDriver on the reconciler's thread; each call runs a few short `ip` commands (argv, no
// shell) through IpJson (routing/base/ip_json.hpp) over a CommandRunner.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>

#include "peers/model/tunnel_driver.hpp"
#include "routing/base/command_runner.hpp"
#include "routing/base/ip_json.hpp"

namespace transit::peers {

struct XfrmLinkOptions {
  std::string ip = "ip";  // iproute2's ip (looked up in PATH without a slash)
  // The device the XFRM interfaces are bound to; empty: the device that holds the tunnel's
  // local_address (found with `ip -j -4 addr show`).
  std::string underlay_device;
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);
};

class XfrmLinks {
 public:
  XfrmLinks(XfrmLinkOptions options, CommandRunner& runner)
      : options_(std::move(options)), ip_(options_.ip, options_.command_timeout, runner) {}

  // Makes ipsecN (N = spec.interface_id) an XFRM interface with if_id N, spec.mtu, the one IPv4
  // address hub_inside/len(inside_cidr), and up. Idempotent: a healthy link costs only read
  // commands. An ipsecN of another kind or if_id is kInvalid and
  // is left untouched.
  std::expected<void, DriverError> ensure(const TunnelSpec& spec);
  // Deletes ipsecN when it is an XFRM interface with if_id N (absent counts as removed; a device
  // that is not ours is left alone).
  std::expected<void, DriverError> remove(std::uint32_t interface_id);

 private:
  std::expected<std::string, DriverError> underlayFor(Ipv4Address local);

  XfrmLinkOptions options_;
  IpJson ip_;
};

}  // namespace transit::peers
