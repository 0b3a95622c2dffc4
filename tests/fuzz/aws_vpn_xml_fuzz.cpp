// AWS's customer-gateway configuration document (POST /v1/spokes/import/aws, spoke import-aws).
#include "peers/aws/aws_vpn_xml.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = transit::peers::parseAwsVpnConnection(transit::fuzz::text(data, size));
  if (parsed) FUZZ_CHECK(!parsed->tunnels.empty());
  return 0;
}
