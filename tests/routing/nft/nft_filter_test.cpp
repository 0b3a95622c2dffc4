// Segment isolation in the forwarding plane with nftables: the nft table that drops a policy's
// pairs, and how it is loaded (FakeCommandRunner) and read back for the metric.
#include "routing/nft/nft_filter.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "tests/fakes/fake_command_runner.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

namespace transit::routing {
namespace {

using peers::testing::FakeCommandRunner;
using peers::testing::reply;
using transit::Ipv4Prefix;
using Kind = DriverError::Kind;
using Argv = std::vector<std::string>;
using Pair = std::pair<std::string, std::string>;

using routing::test::pfx;
using routing::test::pfxs;

// The example configuration's policy (prod and dev both reach shared, not each other): only the
// isolated segments, prod and dev, have sets.
ForwardingPolicy examplePolicy() {
  ForwardingPolicy policy;
  policy.segment_cidrs = {{"dev", pfxs({"10.2.0.0/16", "10.3.0.0/16"})},
                          {"prod", pfxs({"10.1.0.0/16", "10.11.0.0/16"})}};
  policy.isolated = {{"dev", "prod"}, {"prod", "dev"}};
  return policy;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// ---- renderForwardingTable ----

TEST(RenderForwardingTable, GoldenText) {
  const std::string expected =
      "# transit-hubd: segment isolation of forwarded traffic; do not edit\n"
      "table inet transit_hub_segments {}\n"
      "delete table inet transit_hub_segments\n"
      "table inet transit_hub_segments {\n"
      "\tset seg_0 {\n"
      "\t\ttype ipv4_addr\n"
      "\t\tflags interval\n"
      "\t\tcomment \"segment dev\"\n"
      "\t\telements = { 10.2.0.0/16, 10.3.0.0/16 }\n"
      "\t}\n"
      "\tset seg_1 {\n"
      "\t\ttype ipv4_addr\n"
      "\t\tflags interval\n"
      "\t\tcomment \"segment prod\"\n"
      "\t\telements = { 10.1.0.0/16, 10.11.0.0/16 }\n"
      "\t}\n"
      "\tchain forward {\n"
      "\t\ttype filter hook forward priority filter - 10; policy accept;\n"
      "\t\tip saddr @seg_0 ip daddr @seg_1 counter drop comment \"segment dev may not reach "
      "prod\"\n"
      "\t\tip saddr @seg_1 ip daddr @seg_0 counter drop comment \"segment prod may not reach "
      "dev\"\n"
      "\t}\n"
      "}\n";
  EXPECT_EQ(renderForwardingTable("transit_hub_segments", examplePolicy()), expected);
}

TEST(RenderForwardingTable, EmptyPolicyOnlyDeletesTheTable) {
  EXPECT_EQ(renderForwardingTable("transit_hub_segments", ForwardingPolicy{}),
            "# transit-hubd: segment isolation of forwarded traffic; do not edit\n"
            "table inet transit_hub_segments {}\n"
            "delete table inet transit_hub_segments\n");
}

TEST(RenderForwardingTable, OneRulePerIsolatedPairAndOneSetPerSegment) {
  // The example with a segment "lab" that reaches no other.
  auto policy = examplePolicy();
  policy.segment_cidrs.emplace("lab", pfxs({"10.50.0.0/16"}));
  policy.segment_cidrs.emplace("shared", pfxs({"10.100.0.0/16"}));
  for (const char* other : {"dev", "prod", "shared"}) {
    policy.isolated.emplace("lab", other);
    policy.isolated.emplace(other, "lab");
  }
  const auto script = renderForwardingTable("transit_hub_segments", policy);
  std::size_t rules = 0;
  for (std::size_t pos = 0; (pos = script.find("counter drop", pos)) != std::string::npos; ++pos) {
    ++rules;
  }
  EXPECT_EQ(rules, 8U);
  // Sets in segment-name order: dev, lab, prod, shared.
  EXPECT_NE(script.find("\tset seg_3 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                        "\t\tcomment \"segment shared\"\n\t\telements = { 10.100.0.0/16 }\n"),
            std::string::npos);
  EXPECT_NE(script.find("ip saddr @seg_1 ip daddr @seg_3 counter drop comment "
                        "\"segment lab may not reach shared\"\n"),
            std::string::npos);
  EXPECT_EQ(script.find("seg_4"), std::string::npos);
}

TEST(RenderForwardingTable, SetNamesAndCommentsDoNotDependOnTheSegmentsCharacters) {
  ForwardingPolicy policy;
  policy.segment_cidrs = {{"a\"b; flush ruleset", pfxs({"10.1.0.0/16"})},
                          {"c", pfxs({"10.2.0.0/16"})}};
  policy.isolated = {{"a\"b; flush ruleset", "c"}};
  const auto script = renderForwardingTable("transit_hub_segments", policy);
  EXPECT_NE(script.find("\tset seg_0 {\n"), std::string::npos);
  EXPECT_NE(script.find("comment \"segment a_b_ flush ruleset\"\n"), std::string::npos);
  EXPECT_NE(script.find("comment \"segment a_b_ flush ruleset may not reach c\"\n"),
            std::string::npos);
  EXPECT_EQ(script.find("a\"b"), std::string::npos);
}

TEST(RenderForwardingTable, CoveredPrefixesAreLeftOutOfTheIntervalSet) {
  ForwardingPolicy policy;
  policy.segment_cidrs = {{"blue", pfxs({"10.0.0.0/8", "10.1.0.0/16", "172.16.0.0/12"})},
                          {"green", pfxs({"192.168.0.0/16"})}};
  policy.isolated = {{"blue", "green"}, {"green", "blue"}};
  const auto script = renderForwardingTable("transit_hub_segments", policy);
  EXPECT_NE(script.find("elements = { 10.0.0.0/8, 172.16.0.0/12 }\n"), std::string::npos);
}

// ---- NftForwardingFilter::apply ----

class NftForwardingFilterTest : public ::testing::Test {
 protected:
  NftForwardingFilterTest() {
    options_.nft = "/x/nft";
    options_.dir = (dir_ / "run").string();
  }

  std::string scriptPath() const { return options_.dir + "/transit_hub_segments.nft"; }
  Argv load() const { return {"/x/nft", "-f", scriptPath()}; }
  Argv list() const { return {"/x/nft", "-j", "list", "table", "inet", "transit_hub_segments"}; }

  fakes::TempDir dir_;
  NftForwardingFilterOptions options_;
  FakeCommandRunner runner_;
};

TEST_F(NftForwardingFilterTest, ApplyWritesTheScriptAndLoadsItOnce) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  EXPECT_EQ(runner_.calls, std::vector<Argv>{load()});
  EXPECT_EQ(slurp(scriptPath()), renderForwardingTable("transit_hub_segments", examplePolicy()));
  struct stat info {};
  ASSERT_EQ(::stat(scriptPath().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777U, 0600U);  // root loads it; like the MSS script, root-only
}

TEST_F(NftForwardingFilterTest, SamePolicyIsNotLoadedAgain) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  std::filesystem::remove(scriptPath());
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  EXPECT_EQ(runner_.calls.size(), 1U);
  EXPECT_FALSE(std::filesystem::exists(scriptPath()));  // not even written
}

TEST_F(NftForwardingFilterTest, ChangedPolicyIsLoadedAgain) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  auto changed = examplePolicy();
  changed.segment_cidrs.at("dev") = pfxs({"10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"});
  ASSERT_TRUE(filter.apply(changed).has_value());
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{load(), load()}));
  EXPECT_EQ(slurp(scriptPath()), renderForwardingTable("transit_hub_segments", changed));
}

TEST_F(NftForwardingFilterTest, EmptyPolicyDeletesTheTableOnceThenCostsNothing) {
  // After a restart the hub does not know whether an earlier run left a table: the first apply
  // removes it (the script works whether or not it exists); later passes run nothing.
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  EXPECT_EQ(runner_.calls, std::vector<Argv>{load()});
  EXPECT_EQ(slurp(scriptPath()), renderForwardingTable("transit_hub_segments", {}));
}

TEST_F(NftForwardingFilterTest, IsolationRemovedDeletesTheTable) {
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  EXPECT_EQ(runner_.calls.size(), 2U);
  const auto script = slurp(scriptPath());
  EXPECT_NE(script.find("delete table inet transit_hub_segments\n"), std::string::npos);
  EXPECT_EQ(script.find("chain"), std::string::npos);
}

TEST_F(NftForwardingFilterTest, FailedLoadIsRetriedByTheNextApply) {
  runner_.on({"/x/nft", "-f"},
             reply("", 1, "Error: Could not process rule: Operation not permitted\nline 2\n"), 1);
  NftForwardingFilter filter(options_, runner_);
  const auto failed = filter.apply(examplePolicy());
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, Kind::kTransient);
  EXPECT_EQ(failed.error().message,
            "/x/nft -f " + scriptPath() +
                ": exit 1, signal 0: Error: Could not process rule: Operation not permitted");
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{load(), load()}));
}

TEST_F(NftForwardingFilterTest, MissingNftNeedsDependency) {
  runner_.failToStart({"/x/nft"}, "cannot start /x/nft: No such file or directory");
  NftForwardingFilter filter(options_, runner_);
  const auto failed = filter.apply(examplePolicy());
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, Kind::kNeedsDependency);
  EXPECT_NE(failed.error().message.find("cannot start /x/nft"), std::string::npos);
}

TEST_F(NftForwardingFilterTest, TimeoutIsTransientAndRetried) {
  CommandResult slow;
  slow.timed_out = true;
  runner_.on({"/x/nft"}, slow, 1);
  NftForwardingFilter filter(options_, runner_);
  const auto failed = filter.apply(examplePolicy());
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, Kind::kTransient);
  EXPECT_NE(failed.error().message.find("timed out"), std::string::npos);
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  EXPECT_EQ(runner_.calls.size(), 2U);
}

TEST_F(NftForwardingFilterTest, UnwritableScriptIsTransientAndRunsNothing) {
  const auto blocker = dir_.write("blocker", "a file, not a directory");
  options_.dir = (blocker / "run").string();
  NftForwardingFilter filter(options_, runner_);
  const auto failed = filter.apply(examplePolicy());
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, Kind::kTransient);
  EXPECT_TRUE(runner_.calls.empty());
}

// ---- observe ----

// `nft -j list table inet transit_hub_segments` in the shape nftables 1.0.6 prints (checked
// against a listing of the example table in a scratch network namespace), with traffic counted.
constexpr const char* kListing =
    R"({"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", )"
    R"("json_schema_version": 1}}, {"table": {"family": "inet", "name": "transit_hub_segments", )"
    R"("handle": 3}}, {"set": {"family": "inet", "name": "seg_0", "table": )"
    R"("transit_hub_segments", "type": "ipv4_addr", "handle": 2, "comment": "segment dev", )"
    R"("flags": ["interval"], "elem": [{"prefix": {"addr": "10.2.0.0", "len": 16}}, )"
    R"({"prefix": {"addr": "10.3.0.0", "len": 16}}]}}, {"set": {"family": "inet", "name": )"
    R"("seg_1", "table": "transit_hub_segments", "type": "ipv4_addr", "handle": 3, "comment": )"
    R"("segment prod", "flags": ["interval"], "elem": [{"prefix": {"addr": "10.1.0.0", )"
    R"("len": 16}}]}}, {"chain": {"family": "inet", "table": "transit_hub_segments", "name": )"
    R"("forward", "handle": 1, "type": "filter", "hook": "forward", "prio": -10, "policy": )"
    R"("accept"}}, {"rule": {"family": "inet", "table": "transit_hub_segments", "chain": )"
    R"("forward", "handle": 4, "comment": "segment dev may not reach prod", "expr": )"
    R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, )"
    R"("right": "@seg_0"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", )"
    R"("field": "daddr"}}, "right": "@seg_1"}}, {"counter": {"packets": 12, "bytes": 1008}}, )"
    R"({"drop": null}]}}, {"rule": {"family": "inet", "table": "transit_hub_segments", )"
    R"("chain": "forward", "handle": 5, "comment": "segment prod may not reach dev", "expr": )"
    R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, )"
    R"("right": "@seg_1"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", )"
    R"("field": "daddr"}}, "right": "@seg_0"}}, {"counter": {"packets": 30, "bytes": 2520}}, )"
    R"({"drop": null}]}}]})"
    "\n";

TEST_F(NftForwardingFilterTest, ObserveSumsTheRulesCounters) {
  runner_.on({"/x/nft", "-j", "list"}, reply(kListing));
  NftForwardingFilter filter(options_, runner_);
  const auto dropped = filter.observe();
  ASSERT_TRUE(dropped.has_value()) << dropped.error().message;
  EXPECT_EQ(*dropped, 42U);  // 12 + 30
  EXPECT_EQ(runner_.calls, std::vector<Argv>{list()});
}

TEST_F(NftForwardingFilterTest, ObserveOfAnAbsentTableIsNothing) {
  // nft 1.0.6 on a table that does not exist (captured): exit 1.
  runner_.on({"/x/nft", "-j", "list"}, reply("", 1,
                                             "Error: No such file or directory\n"
                                             "list table inet transit_hub_segments\n"
                                             "                ^^^^^^^^^^^^^^^^^^^^\n"));
  NftForwardingFilter filter(options_, runner_);
  const auto dropped = filter.observe();
  ASSERT_TRUE(dropped.has_value()) << dropped.error().message;
  EXPECT_FALSE(dropped->has_value());
}

TEST_F(NftForwardingFilterTest, ATableRemovedByHandIsLoadedAgain) {
  runner_.on({"/x/nft", "-j", "list"}, reply("", 1, "Error: No such file or directory\n"));
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());  // unchanged: nothing run
  ASSERT_TRUE(filter.observe().has_value());               // someone ran `nft delete table`
  ASSERT_TRUE(filter.apply(examplePolicy()).has_value());
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{load(), list(), load()}));
}

TEST_F(NftForwardingFilterTest, NoTableIsExpectedWhenNothingIsIsolated) {
  runner_.on({"/x/nft", "-j", "list"}, reply("", 1, "Error: No such file or directory\n"));
  NftForwardingFilter filter(options_, runner_);
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  ASSERT_TRUE(filter.observe().has_value());
  ASSERT_TRUE(filter.apply(ForwardingPolicy{}).has_value());
  EXPECT_EQ(runner_.calls, (std::vector<Argv>{load(), list()}));
}

TEST_F(NftForwardingFilterTest, ObserveWithoutNftNeedsDependency) {
  runner_.failToStart({"/x/nft"}, "cannot start /x/nft: No such file or directory");
  NftForwardingFilter filter(options_, runner_);
  const auto dropped = filter.observe();
  ASSERT_FALSE(dropped.has_value());
  EXPECT_EQ(dropped.error().kind, Kind::kNeedsDependency);
}

TEST_F(NftForwardingFilterTest, ObserveOtherNftFailureIsTransient) {
  runner_.on({"/x/nft", "-j", "list"},
             reply("", 1, "Error: Could not process rule: Operation not permitted\n"));
  NftForwardingFilter filter(options_, runner_);
  const auto dropped = filter.observe();
  ASSERT_FALSE(dropped.has_value());
  EXPECT_EQ(dropped.error().kind, Kind::kTransient);
  EXPECT_NE(dropped.error().message.find("Operation not permitted"), std::string::npos);
}

TEST_F(NftForwardingFilterTest, ObserveUnparsableOutputIsTransient) {
  runner_.on({"/x/nft", "-j", "list"}, reply("table inet transit_hub_segments {\n"));
  NftForwardingFilter filter(options_, runner_);
  const auto dropped = filter.observe();
  ASSERT_FALSE(dropped.has_value());
  EXPECT_EQ(dropped.error().kind, Kind::kTransient);
  EXPECT_NE(dropped.error().message.find("unparsable"), std::string::npos);
}

TEST(ParseDroppedPackets, RulesWithoutACounterOrADropAreNotCounted) {
  const std::string json =
      R"({"nftables": [{"metainfo": {"version": "1.0.6"}}, )"
      R"({"rule": {"family": "inet", "expr": [{"drop": null}]}}, )"
      R"({"rule": {"family": "inet", "expr": [{"counter": {"packets": 5, "bytes": 300}}, )"
      R"({"accept": null}]}}, )"
      R"({"rule": {"family": "inet", "expr": [{"counter": {"packets": 7, "bytes": 420}}, )"
      R"({"drop": null}]}}]})";
  EXPECT_EQ(parseDroppedPackets(json), 7U);
}

TEST(ParseDroppedPackets, EmptyTableCountsZero) {
  EXPECT_EQ(parseDroppedPackets(R"({"nftables": [{"metainfo": {"version": "1.0.6"}}, )"
                                R"({"table": {"family": "inet", "name": "t", "handle": 3}}]})"),
            0U);
}

TEST(ParseDroppedPackets, WrongShapesAreRefused) {
  EXPECT_FALSE(parseDroppedPackets("").has_value());
  EXPECT_FALSE(parseDroppedPackets("[]").has_value());
  EXPECT_FALSE(parseDroppedPackets(R"({"nftables": {}})").has_value());
  EXPECT_FALSE(parseDroppedPackets(R"({"nftables": [{"rule": {"expr": [{"counter": )"
                                   R"({"packets": -1}}, {"drop": null}]}}]})")
                   .has_value());
}

}  // namespace
}  // namespace transit::routing
