// VxlanPairLink: the link between the two hubs of a pair as a VXLAN device (routing/policy/
// pair_link.hpp says why VXLAN), made and observed with iproute2:
//   ip link add th-pair type vxlan id VNI local LOCAL remote PEER dstport PORT dev UNDERLAY
//   ip link set dev th-pair mtu MTU; ip addr add ADDRESS/30 dev th-pair; ip link set ... up
// and read back with `ip -j -d link show` and `ip -j addr show` (JSON). Owns the device of the
// spec's name when it is VXLAN; never touches one of another kind.
//
// Called by the reconciler on its thread; each call runs a few short `ip` commands (argv, no
// shell) through IpJson (routing/base/ip_json.hpp) over a CommandRunner (a
// RecordingCommandRunner in dry-run).
#pragma once

#include <chrono>
#include <expected>
#include <string>

#include "routing/base/command_runner.hpp"
#include "routing/base/ip_json.hpp"
#include "routing/policy/pair_link.hpp"

namespace transit::routing {

struct VxlanPairLinkOptions {
  std::string ip = "ip";  // iproute2's ip (looked up in PATH without a slash)
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);
};

class VxlanPairLink final : public PairLinkDriver {
 public:
  VxlanPairLink(VxlanPairLinkOptions options, CommandRunner& runner)
      : options_(std::move(options)), ip_(options_.ip, options_.command_timeout, runner) {}

  std::expected<void, DriverError> apply(const PairLinkSpec& spec) override;
  std::expected<ObservedPairLink, DriverError> observe(const PairLinkSpec& spec) override;
  std::expected<void, DriverError> remove(const std::string& device) override;

  // kInvalid with the reason when `spec` cannot be made (a bad name, VNI, port, MTU or address).
  static std::expected<void, DriverError> check(const PairLinkSpec& spec);

 private:
  std::expected<std::string, DriverError> underlayFor(const PairLinkSpec& spec);
  // What differs between `link` and the VXLAN parameters of `spec` ("" when nothing).
  static std::string vxlanDiffers(const IpLink& link, const PairLinkSpec& spec,
                                  const std::string& underlay);

  VxlanPairLinkOptions options_;
  IpJson ip_;
};

}  // namespace transit::routing
