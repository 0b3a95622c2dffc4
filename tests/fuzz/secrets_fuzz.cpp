// The secrets file the libreswan driver reads back (its own rendering, or whatever is on disk
// after a crash or an operator's edit).
#include "peers/libreswan/libreswan_render.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto secrets = transit::peers::parseSecrets(transit::fuzz::text(data, size));
  for (const auto& secret : secrets) FUZZ_CHECK(!secret.psk.empty());
  return 0;
}
