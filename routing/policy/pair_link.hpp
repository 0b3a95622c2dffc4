// PairLinkDriver: makes the link between the two hubs of a pair exist as specified.
//
// The hubs sit in two subnets of two AZs and the VPC's router knows no spoke prefix, so traffic
// one hub hands to the other, and the iBGP session between them, cross a link the hubs own: a
// VXLAN device between their instance addresses. VXLAN because it works on EC2's kernel and on
// the lab's (which has no GRE, and no ESP for an IPsec link), needs no key management, and its
// UDP packets stay between the two instances inside the hub VPC (the security groups open the
// port between the two hubs only). The link's /30 is never allocated to a tunnel.
//
// Called by the reconciler on its thread, every pass: observe(), and apply() only when what it
// observed differs. Implementations: VxlanPairLink (routing/link/pair_link.hpp); tests/fakes has
// an in-memory one.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

#include "routing/base/driver_error.hpp"
#include "routing/base/prefix.hpp"

namespace transit::routing {

inline constexpr std::string_view kPairLinkDevice = "th-pair";

struct PairLinkSpec {
  std::string device{kPairLinkDevice};
  std::uint32_t vni = 0;        // VXLAN network identifier, 1-16777215, the same on both hubs
  std::uint16_t port = 0;       // UDP destination port
  Ipv4Address local;            // this hub's instance address (the VXLAN source)
  Ipv4Address remote;           // the other hub's instance address
  std::string underlay_device;  // the device the link is bound to; empty: the one holding local
  Ipv4Prefix inside;            // the link's /30
  Ipv4Address address;          // this hub's address on it (in `inside`)
  std::uint32_t mtu = 1450;     // 50 bytes of VXLAN over IPv4 below the underlay's 1500
  bool operator==(const PairLinkSpec&) const = default;
};

struct ObservedPairLink {
  bool exists = false;   // a device with the spec's name is there
  bool matches = false;  // it is a VXLAN device with every parameter and the address as specified
  bool up = false;       // administratively up with its lower layer up
  std::string differs;   // when exists && !matches: what differs, for logs and the status
};

class PairLinkDriver {
 public:
  virtual ~PairLinkDriver() = default;
  // Makes the device exist as `spec` says; recreates it when its VXLAN parameters differ (the
  // kernel cannot change them in place). A device of that name that is not VXLAN is kInvalid
  // and left alone.
  virtual std::expected<void, DriverError> apply(const PairLinkSpec& spec) = 0;
  virtual std::expected<ObservedPairLink, DriverError> observe(const PairLinkSpec& spec) = 0;
  // Deletes `device` when it is a VXLAN device (absent counts as removed).
  virtual std::expected<void, DriverError> remove(const std::string& device) = 0;
};

}  // namespace transit::routing
