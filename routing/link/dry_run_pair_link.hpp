// DryRunPairLink: answers the `ip` commands of VxlanPairLink in dry-run as the kernel would, from
// what the earlier commands "made", so the live driver's logic runs unchanged and a link that is
// in place costs only read commands (logged at debug), as in live mode.
//
// Owns the state of the one link device it answers for (every other command is not its own).
// Added to the dry-run RecordingCommandRunner before any other `ip` answerer; called on the
// reconciler's thread through the runner; no locking.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "routing/base/recording_command_runner.hpp"
#include "routing/link/pair_link.hpp"

namespace transit::routing {

class DryRunPairLink {
 public:
  explicit DryRunPairLink(VxlanPairLinkOptions options,
                          std::string device = std::string(kPairLinkDevice))
      : options_(std::move(options)), device_(std::move(device)) {}

  RecordingCommandRunner::Answerer answerer() {
    return [this](const std::vector<std::string>& argv) { return answer(argv); };
  }
  std::optional<RecordingCommandRunner::Answer> answer(const std::vector<std::string>& argv);

 private:
  struct Link {
    std::string vni, port, local, remote, underlay;
    unsigned mtu = 1500;
    bool up = false;
    std::vector<std::string> addresses;  // "A/L"
  };

  VxlanPairLinkOptions options_;
  std::string device_;
  std::optional<Link> link_;
};

}  // namespace transit::routing
