// TunnelDriver: makes the IPsec daemon's tunnels match TunnelSpec values.
//
// Implementations are idempotent and touch only connections whose names carry the hub's prefix;
// everything else loaded in the daemon is left alone. Called only from the reconciler's thread;
// calls may block for a bounded time (a command run, a socket round trip) but never wait for a
// tunnel to come up: apply() starts negotiation and returns, observe() reports progress.
//
// Implementations: LibreswanDriver (peers/libreswan/libreswan_driver.hpp); tests/fakes has an
// in-memory one.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/tunnel_options.hpp"
#include "routing/base/driver_error.hpp"
#include "routing/base/prefix.hpp"

namespace transit::peers {

// How a tunnel's inside link (the /30 BGP runs over) comes to exist.
enum class TunnelLinks {
  kXfrm,      // route-based: an XFRM interface per tunnel; the hub sets address, MTU, MSS clamp
  kExternal,  // the links already exist (the lab, on kernels without ESP); the hub leaves them
};

// "ipsecN": the device of a kXfrm tunnel with interface_id N (libreswan's `ipsec-interface=N`,
// N >= 1). The hub's planner names the MSS clamp's links with it; XfrmLinks makes them.
inline std::string xfrmDeviceName(std::uint32_t interface_id) {
  return "ipsec" + std::to_string(interface_id);
}

// One tunnel as the hub wants it. Rendered into one libreswan connection.
struct TunnelSpec {
  std::string name;                // connection name: hub prefix + spoke + "-" + index
  std::string spoke;               // the spoke it belongs to
  int index = 1;                   // 1 or 2
  Ipv4Address local_address;       // left: the hub's own (private) address
  Ipv4Address local_id;            // leftid: the address peers see (the Elastic IP)
  Ipv4Address remote_address;      // right and rightid: the spoke's outside address
  Ipv4Prefix inside_cidr;          // the tunnel's /30
  Ipv4Address hub_inside;          // the hub's address on the /30
  std::string psk;                 // never logged
  bool initiate = true;            // start negotiation (the hub initiates to VGWs and sites)
  std::uint32_t interface_id = 0;  // XFRM if_id and ipsecN device number (kXfrm only)
  std::uint32_t mtu = 1399;        // inside MTU (kXfrm only); AWS's recommendation
  std::uint32_t tcp_mss = 1379;    // TCP MSS clamp on the inside link (kXfrm only)
  // The spoke's tunnel options. `aws_side` says which side of them the hub plays: false for a
  // vpc (the hub is the customer gateway: it initiates, and restarts a dead tunnel), true for a
  // site (the hub is the AWS endpoint: it follows startup and DPD actions as given).
  TunnelOptions options;
  bool aws_side = false;

  bool operator==(const TunnelSpec&) const = default;
};

// A tunnel as the daemon reports it.
struct ObservedTunnel {
  std::string name;
  bool loaded = false;          // the connection is known to the daemon
  bool ike_up = false;          // an established IKE SA
  bool ipsec_up = false;        // an established and installed Child SA (traffic can flow)
  std::string state;            // the most advanced state name, e.g. STATE_V2_ESTABLISHED_IKE_SA
  std::uint64_t in_bytes = 0;   // bytes decrypted (AWS's TunnelDataIn)
  std::uint64_t out_bytes = 0;  // bytes encrypted (TunnelDataOut)
  // Established IKE SAs beyond the one the connection uses (both ends initiated at once): the
  // reconciler deletes them with deleteIkeSa, so each tunnel keeps one pair of SAs.
  std::vector<std::uint64_t> duplicate_ike_sas;
};

struct TunnelObservation {
  // Changes whenever the daemon restarts (its pid and start time): the reconciler re-syncs then.
  std::string daemon_instance;
  std::vector<ObservedTunnel> tunnels;  // only connections with the hub's prefix
};

class TunnelDriver {
 public:
  virtual ~TunnelDriver() = default;
  // Loads or updates the connection and its secret, and starts negotiation when asked. A spec
  // identical to what is loaded changes nothing (a working tunnel is never torn down for it).
  virtual std::expected<void, DriverError> apply(const TunnelSpec& spec) = 0;
  // Unloads the connection and its secret; a connection that is not there counts as removed.
  virtual std::expected<void, DriverError> remove(std::string_view name) = 0;
  virtual std::expected<TunnelObservation, DriverError> observe() = 0;
  // Deletes one IKE SA (with its Child SAs) of the connection `name`, telling the peer, when it
  // is still an established IKE SA of that connection; one already gone counts as deleted.
  virtual std::expected<void, DriverError> deleteIkeSa(std::string_view name,
                                                       std::uint64_t serial) = 0;
};

}  // namespace transit::peers
