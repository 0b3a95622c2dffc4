// NftForwardingFilter: the hub's forwarding plane with nftables: segment isolation and the TCP
// MSS clamp on the XFRM tunnel links, each in its own table.
//
// BIRD's export filters already keep segments apart in routing; the segment table makes the
// kernel drop forwarded packets between segments that may not reach each other, so a spoke that
// adds a route by hand still cannot reach a segment it is not allowed to. The MSS table clamps
// TCP SYNs through the hub's ipsecN links, whose MTU is below the underlay's.
//
// Three parts (the policy comes from the hub's planner): renderForwardingTable and
// renderMssClampTable (pure: policy -> an nft script that replaces the table `inet <table>`
// whole, atomically under `nft -f`, or deletes it when it has nothing to do),
// parseDroppedPackets (pure: `nft -j list table` -> the drop counters), and NftForwardingFilter
// (the transport: writes each script, mode 0600, and runs `nft -f` through a CommandRunner).
// NftForwardingFilter owns those two tables and nothing else.
//
// Threads: apply() and observe() are called by the reconciler's thread. apply() loads a table
// only when its part of the policy differs from the one last loaded successfully, so a pass
// every two seconds costs nothing; observe() notices a segment table removed behind the hub's
// back, and the next apply() loads it again. The drop counters restart at 0 whenever the table is
// reloaded (a policy change, a restart); the metric that exposes them adds the deltas. The MSS
// table is first loaded when a clamp is planned (a hub without XFRM links never touches it).
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

// The nft script (family inet) that replaces `table` with the TCP MSS clamp `clamp`: chain
// `forward` (hook forward, priority mangle) clamps SYNs leaving or entering the links, chain
// `output` (hook output) those the hub sends out of them. With no link the script only deletes
// the table. Either script works whether or not the table exists.
std::string renderMssClampTable(std::string_view table, const MssClamp& clamp);

struct NftForwardingFilterOptions {
  std::string nft = "nft";                     // nftables' nft (looked up in PATH without a slash)
  std::string table = "transit_hub_segments";  // family inet; owned entirely by the hub
  std::string mss_table = "transit_hub_mss";   // family inet; owned entirely by the hub
  std::string dir = "/run/transit-hub";        // where <table>.nft and <mss_table>.nft are written
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // per nft command
};

class NftForwardingFilter final : public ForwardingFilter {
 public:
  NftForwardingFilter(NftForwardingFilterOptions options, CommandRunner& runner)
      : options_(std::move(options)), runner_(runner) {}

  // Writes <dir>/<table>.nft (0600) and runs `nft -f` on it, unless the policy's segments are
  // the ones last loaded successfully; then the same for <dir>/<mss_table>.nft and the policy's
  // MSS clamp. Errors: nft cannot be started: kNeedsDependency; a timeout, a non-zero exit (with
  // the command and the first line nft printed on stderr) or a file that cannot be written:
  // kTransient. A failed load is tried again by the next apply.
  std::expected<void, DriverError> apply(const ForwardingPolicy& policy) override;

  // `nft -j list table inet <table>`: the sum of the drop rules' packet counters; nullopt when
  // the table does not exist. Same error classes as apply; unparsable output: kTransient.
  std::expected<std::optional<std::uint64_t>, DriverError> observe() override;

  const NftForwardingFilterOptions& options() const { return options_; }

 private:
  NftForwardingFilterOptions options_;
  CommandRunner& runner_;
  // Writes `script` to <dir>/<table>.nft and loads it.
  std::expected<void, DriverError> load(std::string_view table, std::string_view script);

  // The segments last loaded successfully by this object (isolated and segment_cidrs only).
  std::optional<ForwardingPolicy> applied_segments_;
  // The clamp last loaded successfully; starts as "no clamp", which needs no table.
  MssClamp applied_clamp_;
};

// The sum of the packet counters of the drop rules in `nft -j list table` output; nullopt when
// the output is not nft's JSON. Pure; exposed for tests and fuzzing.
std::optional<std::uint64_t> parseDroppedPackets(std::string_view nft_json);

}  // namespace transit::routing
