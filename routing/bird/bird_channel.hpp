// BirdChannel: how BirdDriver talks to BIRD: one command line out, BIRD's complete reply back.
//
// The transport part of the BIRD driver (STYLE: renderer, transport, parser). Implementations:
// BirdClient (bird_client.hpp; the live control socket) and DryRunBirdChannel
// (dry_run_channel.hpp; logs each command and answers as an idle BIRD would). Called only from
// the reconciler's thread, through BirdDriver; a call blocks for at most its timeout.
#pragma once

#include <expected>
#include <string_view>

#include "routing/base/driver_error.hpp"
#include "routing/bird/bird_reply.hpp"

namespace transit::routing {

class BirdChannel {
 public:
  virtual ~BirdChannel() = default;
  // Sends one command line and returns BIRD's complete reply, whatever its final code (the
  // caller decides what a code means). Errors: kInvalid for a command that must not be sent,
  // kNeedsDependency when BIRD cannot be reached, kTransient for timeouts, dropped connections
  // and protocol errors.
  virtual std::expected<BirdReply, DriverError> command(std::string_view line) = 0;
};

}  // namespace transit::routing
