// NftForwardingFilter: segment isolation in the hub's forwarding plane, with nftables.
//
// BIRD's export filters already keep segments apart in routing; this makes the kernel drop
// forwarded packets between segments that may not reach each other, so a spoke that adds a route
// by hand still cannot reach a segment it is not allowed to.
//
// Two parts (the policy comes from the hub's planner): renderForwardingTable
// (pure: policy -> an nft script that replaces the table `inet <table>` whole, atomically under
// `nft -f`, or deletes it when nothing is isolated), and NftForwardingFilter (the transport: writes
// the script and runs `nft -f` through a CommandRunner). NftForwardingFilter owns that table and
// nothing else.
//
// Threads: apply() and observe() are called by the reconciler's thread. apply() skips the load
// when the policy equals the last one loaded successfully, so a pass every two seconds costs
// nothing; observe() notices a table removed behind the hub's back, and the next apply() loads
// it again. The drop counters restart at 0 whenever the table is reloaded (a policy change, a
// restart); the metric that exposes them adds the deltas.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "routing/base/command_runner.hpp"
#include "routing/base/driver_error.hpp"
#include "routing/policy/forwarding_filter.hpp"

namespace transit::routing {

// The nft script (family inet) that replaces `table` with: one interval set `seg_<i>` per segment
// of policy.segment_cidrs (i = its position in name order; the name is in the set's comment),
// and a chain `forward` (hook forward, priority filter - 10, policy accept) with one
// `ip saddr @seg_i ip daddr @seg_j counter drop` rule per isolated pair. With no rule to render
// the script only deletes the table. Either script works whether or not the table exists.
std::string renderForwardingTable(std::string_view table, const ForwardingPolicy& policy);

struct NftForwardingFilterOptions {
  std::string nft = "nft";                     // nftables' nft (looked up in PATH without a slash)
  std::string table = "transit_hub_segments";  // family inet; owned entirely by the hub
  std::string dir = "/run/transit-hub";        // where <table>.nft is written for `nft -f`
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // per nft command
};

class NftForwardingFilter final : public ForwardingFilter {
 public:
  NftForwardingFilter(NftForwardingFilterOptions options, CommandRunner& runner)
      : options_(std::move(options)), runner_(runner) {}

  // Writes <dir>/<table>.nft (0644) and runs `nft -f` on it, unless `policy` is the one last
  // loaded successfully. Errors: nft cannot be started: kNeedsDependency; a timeout, a non-zero
  // exit (with the command and the first line nft printed on stderr) or a file that cannot be
  // written: kTransient. A failed load is tried again by the next apply.
  std::expected<void, DriverError> apply(const ForwardingPolicy& policy) override;

  // `nft -j list table inet <table>`: the sum of the drop rules' packet counters; nullopt when
  // the table does not exist. Same error classes as apply; unparsable output: kTransient.
  std::expected<std::optional<std::uint64_t>, DriverError> observe() override;

  const NftForwardingFilterOptions& options() const { return options_; }

 private:
  NftForwardingFilterOptions options_;
  CommandRunner& runner_;
  std::optional<ForwardingPolicy> applied_;  // last loaded successfully by this object
};

// The sum of the packet counters of the drop rules in `nft -j list table` output; nullopt when
// the output is not nft's JSON. Pure; exposed for tests and fuzzing.
std::optional<std::uint64_t> parseDroppedPackets(std::string_view nft_json);

}  // namespace transit::routing
