// The TCP MSS clamp table of the hub's forwarding plane: its nft script (golden text, the same as
// when XfrmLinks rendered it) and how NftForwardingFilter loads it beside the segment table
// (FakeCommandRunner).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "routing/nft/nft_filter.hpp"
#include "tests/fakes/fake_command_runner.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::routing {
namespace {

using peers::testing::FakeCommandRunner;
using peers::testing::reply;
using Kind = DriverError::Kind;
using Argv = std::vector<std::string>;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

MssClamp clamp(std::set<std::string> links, std::uint32_t mss = 1379) {
  return MssClamp{std::move(links), mss};
}

ForwardingPolicy withClamp(MssClamp mss_clamp) {
  ForwardingPolicy policy;
  policy.mss_clamp = std::move(mss_clamp);
  return policy;
}

// ---- renderMssClampTable ----

TEST(RenderMssClampTable, GoldenText) {
  const std::string expected =
      "# transit-hubd: TCP MSS clamp on the hub's XFRM tunnel links; do not edit\n"
      "table inet transit_hub_mss {}\n"
      "delete table inet transit_hub_mss\n"
      "table inet transit_hub_mss {\n"
      "\tchain forward {\n"
      "\t\ttype filter hook forward priority mangle; policy accept;\n"
      "\t\toifname { \"ipsec7\", \"ipsec8\" } tcp flags syn tcp option maxseg size > 1379 "
      "tcp option maxseg size set 1379\n"
      "\t\tiifname { \"ipsec7\", \"ipsec8\" } tcp flags syn tcp option maxseg size > 1379 "
      "tcp option maxseg size set 1379\n"
      "\t}\n"
      "\tchain output {\n"
      "\t\ttype filter hook output priority mangle; policy accept;\n"
      "\t\toifname { \"ipsec7\", \"ipsec8\" } tcp flags syn tcp option maxseg size > 1379 "
      "tcp option maxseg size set 1379\n"
      "\t}\n"
      "}\n";
  EXPECT_EQ(renderMssClampTable("transit_hub_mss", clamp({"ipsec8", "ipsec7"})), expected);
}

TEST(RenderMssClampTable, NoLinksOnlyDeletesTheTable) {
  EXPECT_EQ(renderMssClampTable("transit_hub_mss", clamp({})),
            "# transit-hubd: TCP MSS clamp on the hub's XFRM tunnel links; do not edit\n"
            "table inet transit_hub_mss {}\n"
            "delete table inet transit_hub_mss\n");
}

TEST(RenderMssClampTable, TheMssIsTheOneAsked) {
  const auto script = renderMssClampTable("transit_hub_mss", clamp({"ipsec1"}, 1300));
  EXPECT_NE(script.find("oifname { \"ipsec1\" } tcp flags syn tcp option maxseg size > 1300 "
                        "tcp option maxseg size set 1300\n"),
            std::string::npos);
  EXPECT_EQ(script.find("1379"), std::string::npos);
}

// ---- NftForwardingFilter::apply with a clamp ----

class NftMssClampTest : public ::testing::Test {
 protected:
  NftMssClampTest() {
    options_.nft = "/x/nft";
    options_.dir = (dir_ / "run").string();
  }

  std::string segmentsPath() const { return options_.dir + "/transit_hub_segments.nft"; }
  std::string mssPath() const { return options_.dir + "/transit_hub_mss.nft"; }
  Argv loadSegments() const { return {"/x/nft", "-f", segmentsPath()}; }
  Argv loadMss() const { return {"/x/nft", "-f", mssPath()}; }

  fakes::TempDir dir_;
  NftForwardingFilterOptions options_;
  FakeCommandRunner runner_;
};

TEST_F(NftMssClampTest, ClampIsLoadedIntoItsOwnTableWithMode0600) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7", "ipsec8"}))).has_value());
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{loadSegments(), loadMss()}));
  EXPECT_EQ(slurp(mssPath()), renderMssClampTable("transit_hub_mss", clamp({"ipsec7", "ipsec8"})));
  struct stat info {};
  ASSERT_EQ(::stat(mssPath().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777U, 0600U);
}

TEST_F(NftMssClampTest, TheSameClampIsNotLoadedAgain) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7"}))).has_value());
  runner_.calls.clear();
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7"}))).has_value());
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(NftMssClampTest, ANewLinkOrMssReloadsOnlyTheClamp) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7"}))).has_value());
  runner_.calls.clear();
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7", "ipsec8"}))).has_value());
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7", "ipsec8"}, 1300))).has_value());
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{loadMss(), loadMss()}));
  EXPECT_EQ(slurp(mssPath()),
            renderMssClampTable("transit_hub_mss", clamp({"ipsec7", "ipsec8"}, 1300)));
}

TEST_F(NftMssClampTest, TheLastLinkGoneDeletesTheTable) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7"}))).has_value());
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  const auto script = slurp(mssPath());
  EXPECT_NE(script.find("delete table inet transit_hub_mss\n"), std::string::npos);
  EXPECT_EQ(script.find("chain"), std::string::npos);
  EXPECT_EQ(runner_.count({"/x/nft", "-f", mssPath()}), 2);
}

TEST_F(NftMssClampTest, AHubWithoutXfrmLinksNeverTouchesTheMssTable) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  EXPECT_EQ(runner_.calls, std::vector<Argv>{loadSegments()});
  EXPECT_FALSE(std::filesystem::exists(mssPath()));
}

TEST_F(NftMssClampTest, AFailedClampLoadIsRetriedAndHoldsNoSegmentChangeBack) {
  runner_.on({"/x/nft", "-f", mssPath()}, reply("", 1, "Error: Could not process rule\n"), 1);
  NftForwardingFilter filter(options_, runner_);
  const auto failed = filter.apply(withClamp(clamp({"ipsec7"})));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, Kind::kTransient);
  EXPECT_EQ(failed.error().message,
            "/x/nft -f " + mssPath() + ": exit 1, signal 0: Error: Could not process rule");
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7"}))).has_value());
  // The segment table loaded the first time; only the clamp is tried again.
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{loadSegments(), loadMss(), loadMss()}));
}

TEST_F(NftMssClampTest, AFailedSegmentLoadStillLoadsTheClamp) {
  runner_.on({"/x/nft", "-f", segmentsPath()}, reply("", 1, "Error: bad\n"), 1);
  NftForwardingFilter filter(options_, runner_);
  const auto failed = filter.apply(withClamp(clamp({"ipsec7"})));
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message.find(segmentsPath()), std::string::npos);
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{loadSegments(), loadMss()}));
  runner_.calls.clear();
  ASSERT_TRUE(filter.apply(withClamp(clamp({"ipsec7"}))).has_value());
  EXPECT_EQ(runner_.calls, std::vector<Argv>{loadSegments()});
}

}  // namespace
}  // namespace transit::routing
