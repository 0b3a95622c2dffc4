// Tool test (label `tool`): the real nft accepts both scripts of the hub's forwarding plane.
// `nft -c` parses and validates them in the kernel and commits nothing; it needs root and
// nftables (ami/dev.sh installs both and fails on a skip).
#include <gtest/gtest.h>
#include <unistd.h>

#include "routing/base/command_runner.hpp"
#include "routing/nft/nft_filter.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

namespace transit::routing {
namespace {

using routing::test::pfx;
using routing::test::pfxs;

class RealNft : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root";
    }
    const auto version = runner_.run({"nft", "--version"}, std::chrono::seconds(10));
    if (!version || !version->exitedWith(0)) {
      GTEST_SKIP() << "nft is not installed";
    }
  }

  // `nft -c -f` on `script`: "" when nft accepts it, else what it printed.
  std::string check(const std::string& script) {
    const auto path = dir_.write("check.nft", script);
    const auto checked = runner_.run({"nft", "-c", "-f", path.string()}, std::chrono::seconds(20));
    if (!checked) return checked.error();
    return checked->exitedWith(0)
               ? ""
               : checked->err + " (exit " + std::to_string(checked->exit_code) + ")";
  }

  PosixCommandRunner runner_;
  fakes::TempDir dir_;
};

TEST_F(RealNft, AcceptsTheSegmentScripts) {
  ForwardingPolicy policy;
  policy.segment_cidrs = {{"dev", {pfx("10.2.0.0/16"), pfx("10.3.0.0/16")}},
                          {"prod", {pfx("10.1.0.0/16"), pfx("10.11.0.0/16")}}};
  policy.isolated = {{"dev", "prod"}, {"prod", "dev"}};
  EXPECT_EQ(check(renderForwardingTable("transit_hub_segments_check", policy)), "");
  EXPECT_EQ(check(renderForwardingTable("transit_hub_segments_check", {})), "");
}

TEST_F(RealNft, AcceptsTheMssClampScripts) {
  for (const auto& links :
       std::vector<std::set<std::string>>{{"ipsec7", "ipsec8"}, {"ipsec1"}, {}}) {
    EXPECT_EQ(check(renderMssClampTable("transit_hub_mss_check", MssClamp{links, 1379})), "")
        << links.size() << " link(s)";
  }
}

}  // namespace
}  // namespace transit::routing
