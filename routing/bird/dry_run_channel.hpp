// DryRunBirdChannel: the BirdChannel of dry-run. BirdDriver runs its live apply and observe logic
// over it; it sends nothing and answers as an idle BIRD 2.0.12 would.
//
// Owns a model of the protocols BIRD would run, first those of the include file an earlier run
// left (BIRD boots with it), then: `configure "MAIN" timeout N` reads the hub's
// include file (options.include_path, where BirdDriver has just written it) and runs the
// `protocol bgp|static NAME` blocks it finds; `configure undo` goes back to the ones before.
// Answers (codes from daemon-protocols.md and tests/data/bird): configure check 0020
// "Configuration OK", configure 0003 "Reconfigured" (after 0022 "Undo scheduled"), configure
// confirm 0018, configure undo 0004; show status 0013 with a boot time fixed at construction;
// show protocols [all] the modelled protocols, BGP sessions in state `start`, "Active" (no
// neighbour ever answers), or 8003 "No protocols match"; show route an empty 0000 reply.
// Each command is logged as "dry-run: would send to SOCKET: COMMAND": at info when it changes
// BIRD's configuration, at debug for the `show` queries.
//
// Called only from the reconciler's thread, through BirdDriver; no locking.
#pragma once

#include <set>
#include <string>

#include "routing/bird/bird_channel.hpp"
#include "routing/bird/bird_render.hpp"

namespace transit::routing {

class DryRunBirdChannel final : public BirdChannel {
 public:
  // `options` as given to the driver: the socket named in the log, the include file to read.
  explicit DryRunBirdChannel(BirdOptions options);

  std::expected<BirdReply, DriverError> command(std::string_view line) override;

 private:
  struct Protocol {
    std::string name;
    std::string proto;  // "BGP" or "Static", as `show protocols` prints it
    auto operator<=>(const Protocol&) const = default;
  };

  BirdReply protocols(std::string_view pattern) const;
  void configure();

  BirdOptions options_;
  std::string booted_;           // "YYYY-MM-DD HH:MM:SS.mmm", the dry-run BIRD's boot time
  std::set<Protocol> running_;   // what the last configure loaded
  std::set<Protocol> previous_;  // what configure undo goes back to
};

}  // namespace transit::routing
