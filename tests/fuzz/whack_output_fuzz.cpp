// Every parser of pluto's whack output: `ipsec status` connections, `ipsec showstates`, and
// `ipsec trafficstatus` (the same bytes through each).
#include "peers/libreswan/libreswan_status.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = transit::fuzz::text(data, size);
  for (const auto& [name, connection] : transit::peers::parseStatusConnections(text)) {
    FUZZ_CHECK(!name.empty());
  }
  for (const auto& [name, state] : transit::peers::parseShowStates(text)) FUZZ_CHECK(!name.empty());
  for (const auto& [name, traffic] : transit::peers::parseTrafficStatus(text)) {
    FUZZ_CHECK(!name.empty());
  }
  return 0;
}
