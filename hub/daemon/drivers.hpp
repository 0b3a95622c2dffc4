// The driver factory: the live drivers (pluto through whack/addconn, BIRD over its control
// socket, nftables) or the same drivers in dry-run, over transports that record instead of act.
//
// Dry-run is not a second implementation: it is the live LibreswanDriver and NftForwardingFilter
// over a RecordingCommandRunner (answered by DryRunPluto and an empty nft ruleset) and the live
// BirdDriver over a DryRunBirdChannel. Every file goes under drivers.dry_run_dir (wiring.hpp:
// dryRunOptions; directories 0700), every command is logged ("dry-run: would run: ..." and
// "dry-run: would send to ...") and no daemon is touched.
//
// Owns the drivers and the transports under them. Built once by main.cpp on the main thread;
// the drivers are then used only by the reconciler's thread.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "hub/config/config.hpp"
#include "peers/libreswan/dry_run_pluto.hpp"
#include "peers/model/tunnel_driver.hpp"
#include "routing/base/command_runner.hpp"
#include "routing/bird/bird_channel.hpp"
#include "routing/link/dry_run_pair_link.hpp"
#include "routing/policy/forwarding_filter.hpp"
#include "routing/policy/pair_link.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::hub {

struct Drivers {
  // The transports first: the drivers below hold references into them and go before them.
  std::unique_ptr<CommandRunner> runner;      // PosixCommandRunner or recording
  std::unique_ptr<peers::DryRunPluto> pluto;  // dry-run: answers the runner
  // dry-run: answers the runner's `ip` commands for the pair's link (before DryRunPluto).
  std::unique_ptr<routing::DryRunPairLink> pair_link_kernel;
  std::unique_ptr<routing::BirdChannel> bird_channel;  // dry-run (live: BirdDriver's own client)
  std::unique_ptr<peers::TunnelDriver> tunnel;
  std::unique_ptr<routing::RoutingDriver> routing;
  std::unique_ptr<routing::ForwardingFilter> forwarding;
  // The link between the hubs (VxlanPairLink over the runner); always made, so a hub whose pair
  // left the configuration removes the link it made before.
  std::unique_ptr<routing::PairLinkDriver> pair_link;
};

// By drivers.mode. Fails (the message says what) when the libreswan driver cannot start or, in
// dry-run, the output directory cannot be made.
std::expected<Drivers, std::string> makeDrivers(const Config& config);

}  // namespace transit::hub
