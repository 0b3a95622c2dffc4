// transit-hubd's configuration file (YAML), as --config and `transit-hubd check` read it.
#include "hub/config/config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = transit::hub::parseConfig(transit::fuzz::text(data, size));
  if (!config) FUZZ_CHECK(!config.error().message.empty());
  return 0;
}
