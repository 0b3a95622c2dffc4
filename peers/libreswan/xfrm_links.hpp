// XfrmLinks: the route-based inside links of kXfrm tunnels (one XFRM interface `ipsecN` per
// tunnel, XFRM if_id N) and the TCP MSS clamp on them.
//
// libreswan 4.10 has no `interface-ip=`, so the hub pre-creates `ipsecN` before the connection
// is loaded, gives it the inside address, MTU and MSS clamp, and deletes it when the tunnel goes;
// pluto reuses an existing `ipsecN` with the right if_id and never deletes one it did not create.
// Owns those devices (never one with another if_id or kind) and the nftables table
// `inet <table>`, which it renders whole from the set of devices it manages and loads
// atomically with `nft -f`. Called by LibreswanDriver on the reconciler's thread; each call runs
// a few short `ip`/`nft` commands (argv, no shell) through a CommandRunner.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "routing/base/command_runner.hpp"
#include "peers/model/tunnel_driver.hpp"

namespace transit::peers {

struct XfrmLinkOptions {
  std::string ip = "ip";    // iproute2's ip (looked up in PATH without a slash)
  std::string nft = "nft";  // nftables' nft
  // The device the XFRM interfaces are bound to; empty: the device that holds the tunnel's
  // local_address (found with `ip -j -4 addr show`).
  std::string underlay_device;
  std::string nft_table = "transit_hub_mss";  // family inet; owned entirely by the hub
  std::string nft_dir = "/run/transit-hub";   // where <nft_table>.nft is written for `nft -f`
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);
};

// The nft script that replaces `table inet <table>` with the MSS clamp for `links` (device
// names), or deletes the table when `links` is empty. Idempotent and atomic under `nft -f`.
std::string renderMssClampTable(std::string_view table, const std::set<std::string>& links,
                                std::uint32_t mss);

// "ipsecN": the device libreswan's `ipsec-interface=N` uses (N >= 1).
std::string xfrmDeviceName(std::uint32_t interface_id);

class XfrmLinks {
 public:
  XfrmLinks(XfrmLinkOptions options, CommandRunner& runner)
      : options_(std::move(options)), runner_(runner) {}

  // Makes ipsecN (N = spec.interface_id) an XFRM interface with if_id N, spec.mtu, the one IPv4
  // address hub_inside/len(inside_cidr), up, and in the MSS clamp (spec.tcp_mss). Idempotent: a
  // healthy link costs only read commands. An ipsecN of another kind or if_id is kInvalid and
  // is left untouched.
  std::expected<void, DriverError> ensure(const TunnelSpec& spec);
  // Deletes ipsecN when it is an XFRM interface with if_id N (absent counts as removed; a device
  // that is not ours is left alone) and drops it from the MSS clamp.
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
  std::expected<void, DriverError> applyClamp();

  XfrmLinkOptions options_;
  CommandRunner& runner_;
  std::set<std::string> links_;  // devices in the MSS clamp
  std::uint32_t mss_ = 0;        // the MSS of the last ensured tunnel (one clamp for all links)
  // What nft was last loaded with successfully; empty until the first load by this object.
  std::optional<std::pair<std::set<std::string>, std::uint32_t>> applied_;
};

}  // namespace transit::peers
