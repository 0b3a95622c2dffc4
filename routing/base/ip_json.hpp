// IpJson: reads links and addresses from iproute2's JSON output (`ip -j`) and runs the `ip`
// commands that change them, through a CommandRunner. The one reader for the drivers that own
// kernel devices: VxlanPairLink (routing/link, the pair's VXLAN link) and XfrmLinks
// (peers/libreswan, the tunnels' XFRM interfaces). Each keeps its kind's own fields (a VXLAN id,
// an XFRM if_id) and reads them from IpLink::info_data.
//
// Owns nothing but the `ip` path and the timeout. Called on the reconciler's thread; each call
// runs one short command (argv, no shell) and blocks while it runs. Errors are runCommand's
// (routing/base/run_command.hpp); output that is not a JSON array is kTransient,
// "<cmd>: unparsable output: <why>".
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "routing/base/command_runner.hpp"
#include "routing/base/driver_error.hpp"
#include "routing/base/prefix.hpp"

namespace transit {

// One device as `ip -j -d link show dev D` prints it.
struct IpLink {
  bool exists = false;            // the device is there at all (false: every other field empty)
  std::string name;               // ifname
  std::string kind;               // linkinfo.info_kind ("" when ip prints none)
  std::uint32_t mtu = 0;          // 0 when ip prints none
  bool admin_up = false;          // the UP flag
  bool lower_up = false;          // the LOWER_UP flag
  boost::json::object info_data;  // linkinfo.info_data: the kind's own fields (empty when none)
};

// One IPv4 address of a device as `ip -j addr show dev D` prints it.
struct IpAddress {
  std::string local;  // dotted quad
  int prefix_length = 0;
};

class IpJson {
 public:
  IpJson(std::string ip, std::chrono::milliseconds timeout, CommandRunner& runner)
      : ip_(std::move(ip)), timeout_(timeout), runner_(runner) {}

  // `ip -j -d link show dev DEVICE`. A device that does not exist (ip exits 1 with
  // `Device "D" does not exist.`) is an IpLink with exists false; any other non-zero exit is
  // exitError's.
  std::expected<IpLink, DriverError> link(const std::string& device);
  // `ip -j addr show dev DEVICE`: its IPv4 addresses in ip's order (IPv6 ones are left out).
  std::expected<std::vector<IpAddress>, DriverError> addresses(const std::string& device);
  // `ip -j -4 addr show`: the device that holds `address`, nullopt when none does.
  std::expected<std::optional<std::string>, DriverError> deviceHolding(Ipv4Address address);
  // `ip ARGS...` that must exit 0: its stdout (for the commands that change a device).
  std::expected<std::string, DriverError> run(const std::vector<std::string>& args);

 private:
  std::expected<std::string, DriverError> runOk(const std::vector<std::string>& argv);

  std::string ip_;  // iproute2's ip (looked up in PATH without a slash)
  std::chrono::milliseconds timeout_;
  CommandRunner& runner_;
};

// For the kind-specific fields of IpLink::info_data (`info_data.if_contains(key)`); neither
// throws. A non-negative number that fits in 32 bits, else nothing:
std::optional<std::uint32_t> jsonCount(const boost::json::value* value);
// A string's text, else "":
std::string jsonText(const boost::json::value* value);

}  // namespace transit
