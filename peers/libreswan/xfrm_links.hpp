// XfrmLinks: the route-based inside links of kXfrm tunnels (one XFRM interface `ipsecN` per
// tunnel, XFRM if_id N).
//
// libreswan 4.10 has no `interface-ip=`, so the hub pre-creates `ipsecN` before the connection
// is loaded, gives it the inside address and MTU, and deletes it when the tunnel goes; pluto
// reuses an existing `ipsecN` with the right if_id and never deletes one it did not create.
// Owns those devices (never one with another if_id or kind). The TCP MSS clamp on them is the
// forwarding plane's (routing::ForwardingPolicy::mss_clamp, loaded by routing/nft). Called by
// LibreswanDriver on the reconciler's thread; each call runs a few short `ip` commands (argv, no
// shell) through a CommandRunner.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/tunnel_driver.hpp"
#include "routing/base/command_runner.hpp"

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
      : options_(std::move(options)), runner_(runner) {}

  // Makes ipsecN (N = spec.interface_id) an XFRM interface with if_id N, spec.mtu, the one IPv4
  // address hub_inside/len(inside_cidr), and up. Idempotent: a healthy link costs only read
  // commands. An ipsecN of another kind or if_id is kInvalid and
  // is left untouched.
  std::expected<void, DriverError> ensure(const TunnelSpec& spec);
  // Deletes ipsecN when it is an XFRM interface with if_id N (absent counts as removed; a device
  // that is not ours is left alone).
  std::expected<void, DriverError> remove(std::uint32_t interface_id);

 private:
  struct Link {
    bool exists = false;                 // the device is there at all
    std::string kind;                    // linkinfo.info_kind ("" when ip prints none)
    std::optional<std::uint32_t> if_id;  // linkinfo.info_data.if_id
    std::uint32_t mtu = 0;
    bool up = false;  // administratively up (the UP flag)
  };
  struct Address {
    std::string local;
    int prefix_length = 0;
  };

  // run: a failure to start is kNeedsDependency, a timeout kTransient. runOk (stdout) also
  // makes a signal or non-zero exit kTransient, with the command and stderr's first line.
  std::expected<CommandResult, DriverError> run(const std::vector<std::string>& argv);
  std::expected<std::string, DriverError> runOk(const std::vector<std::string>& argv);
  std::expected<Link, DriverError> readLink(const std::string& device);
  std::expected<std::vector<Address>, DriverError> readAddresses(const std::string& device);
  std::expected<std::string, DriverError> underlayFor(Ipv4Address local);

  XfrmLinkOptions options_;
  CommandRunner& runner_;
};

}  // namespace transit::peers
