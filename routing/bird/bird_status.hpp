// Parsers for BIRD's `show status` and `show protocols [all]` replies.
//
// Owns: nothing; pure functions over BirdReply values, called by BirdDriver on the reconciler's
// thread and by tests with recorded transcripts (tests/data/bird).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "routing/bird/bird_reply.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::routing {

struct BirdStatus {
  std::string version;      // "BIRD 2.0.12"
  std::string router_id;    // "10.255.0.1"
  std::string last_reboot;  // "2026-11-26 04:37:45.227": identifies one daemon run
  std::string last_reconfiguration;
  std::string state;  // the final line: "Daemon is up and running", ...
};

// `show status`. Fails when the reply is an error or lacks the "Last reboot on" line.
std::expected<BirdStatus, std::string> parseShowStatus(const BirdReply& reply);

struct BirdProtocol {
  std::string name;
  std::string proto;  // "BGP", "Kernel", ...
  std::string state;  // up, start, stop, down, flush
  std::string info;   // the Info column, trimmed
};

// `show protocols` (with or without `all`): every protocol row. 8003 (no match) is an empty
// list; other error codes fail.
std::expected<std::vector<BirdProtocol>, std::string> parseShowProtocols(const BirdReply& reply);

// `show protocols all`: the BGP protocols whose name starts with `prefix`, with their details.
std::expected<std::vector<ObservedSession>, std::string> parseShowProtocolsAll(
    const BirdReply& reply, std::string_view prefix);

}  // namespace transit::routing
