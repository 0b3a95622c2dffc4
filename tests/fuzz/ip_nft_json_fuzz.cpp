// The JSON the kernel tools print, as the drivers read it: `ip -j -d link show`, `ip -j addr
// show` and `ip -j -4 addr show` (through IpJson, the one reader of the drivers that own devices),
// and `nft -j list table` (the forwarding filter's drop counters).
#include "routing/base/ip_json.hpp"
#include "routing/nft/nft_filter.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

// Answers every command with the fuzzer's bytes on stdout, exit 0.
class CannedRunner final : public transit::CommandRunner {
 public:
  explicit CannedRunner(std::string_view out) : out_(out) {}
  std::expected<transit::CommandResult, std::string> run(const std::vector<std::string>&,
                                                         std::chrono::milliseconds) override {
    transit::CommandResult result;
    result.exit_code = 0;
    result.out = std::string(out_);
    return result;
  }

 private:
  std::string_view out_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = transit::fuzz::text(data, size);
  CannedRunner runner(text);
  transit::IpJson ip("ip", std::chrono::seconds(1), runner);
  if (auto link = ip.link("th-x")) {
    (void)transit::jsonCount(link->info_data.if_contains("id"));
    (void)transit::jsonText(link->info_data.if_contains("local"));
  }
  if (auto addresses = ip.addresses("th-x")) {
    for (const auto& address : *addresses) {
      FUZZ_CHECK(address.prefix_length >= 0 && address.prefix_length <= 32);
    }
  }
  (void)ip.deviceHolding(*transit::Ipv4Address::parse("169.254.10.1"));
  (void)transit::routing::parseDroppedPackets(text);
  return 0;
}
