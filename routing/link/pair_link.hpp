// VxlanPairLink: the link between the two hubs of a pair as a VXLAN device (routing/policy/
// pair_link.hpp says why VXLAN), made and observed with iproute2:
//   ip link add th-pair type vxlan id VNI local LOCAL remote PEER dstport PORT dev UNDERLAY
//   ip link set dev th-pair mtu MTU; ip addr add ADDRESS/30 dev th-pair; ip link set ... up
// and read back with `ip -j -d link show` and `ip -j addr show` (JSON). Owns the device of the
// spec's name when it is VXLAN; never touches one of another kind.
//
// Called by the reconciler on its thread; each call runs a few short `ip` commands (argv, no
// shell) through a CommandRunner (a RecordingCommandRunner in dry-run).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "routing/base/command_runner.hpp"
#include "routing/policy/pair_link.hpp"

namespace transit::routing {

struct VxlanPairLinkOptions {
  std::string ip = "ip";  // iproute2's ip (looked up in PATH without a slash)
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);
};

class VxlanPairLink final : public PairLinkDriver {
 public:
  VxlanPairLink(VxlanPairLinkOptions options, CommandRunner& runner)
      : options_(std::move(options)), runner_(runner) {}

  std::expected<void, DriverError> apply(const PairLinkSpec& spec) override;
  std::expected<ObservedPairLink, DriverError> observe(const PairLinkSpec& spec) override;
  std::expected<void, DriverError> remove(const std::string& device) override;

  // kInvalid with the reason when `spec` cannot be made (a bad name, VNI, port, MTU or address).
  static std::expected<void, DriverError> check(const PairLinkSpec& spec);

 private:
  struct Link {
    bool exists = false;
    std::string kind;  // linkinfo.info_kind
    std::optional<std::uint32_t> vni;
    std::optional<std::uint32_t> port;
    std::string local;
    std::string remote;
    std::string underlay;  // info_data.link: the device it is bound to
    std::uint32_t mtu = 0;
    bool admin_up = false;  // the UP flag
    bool lower_up = false;  // the LOWER_UP flag
  };
  struct Address {
    std::string local;
    int prefix_length = 0;
  };

  std::expected<std::string, DriverError> runOk(const std::vector<std::string>& argv);
  std::expected<Link, DriverError> readLink(const std::string& device);
  std::expected<std::vector<Address>, DriverError> readAddresses(const std::string& device);
  std::expected<std::string, DriverError> underlayFor(const PairLinkSpec& spec);
  // What differs between `link` and the VXLAN parameters of `spec` ("" when nothing).
  static std::string vxlanDiffers(const Link& link, const PairLinkSpec& spec,
                                  const std::string& underlay);

  VxlanPairLinkOptions options_;
  CommandRunner& runner_;
};

}  // namespace transit::routing
