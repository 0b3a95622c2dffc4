// A spoke's `bfd` (BFD on its BGP sessions): who may have it, and the JSON both ways.
#include <gtest/gtest.h>

#include "peers/model/spoke.hpp"
#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"

namespace transit::peers {
namespace {

SpokeDraft site(std::string kind = "site", std::optional<std::string> routing = {}) {
  SpokeDraft d;
  d.name = "dc-1";
  d.kind = std::move(kind);
  d.cidrs = std::vector<std::string>{"172.16.0.0/16"};
  d.routing = std::move(routing);
  if (d.routing != "static") d.asn = d.kind == "vpc" ? 64512 : 65010;
  d.tunnels = std::vector<TunnelDraft>{TunnelDraft{"198.51.100.10", std::nullopt, std::nullopt}};
  d.bfd = true;
  return d;
}

ValidationContext context() {
  ValidationContext c;
  c.hub_asn = 65000;
  c.hub_name = "hub-a";
  return c;
}

TEST(SpokeBfd, ASiteWithBgpMayAskForIt) {
  const auto request = validateSpoke(site(), context());
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_TRUE(request->spoke.bfd);
}

TEST(SpokeBfd, AVpcIsRefusedBecauseVgwsDoNotSpeakBfd) {
  const auto request = validateSpoke(site("vpc"), context());
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().field, "bfd");
  EXPECT_NE(request.error().message.find("do not speak BFD"), std::string::npos);
}

TEST(SpokeBfd, AStaticSpokeHasNoSessionToRunItOn) {
  const auto request = validateSpoke(site("site", "static"), context());
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().field, "bfd");
  EXPECT_EQ(request.error().message, "applies only to routing: bgp");
}

TEST(SpokeBfd, FalseOrAbsentIsTheDefaultForEveryKind) {
  auto draft = site("vpc");
  draft.bfd = false;
  EXPECT_FALSE(validateSpoke(draft, context())->spoke.bfd);
  draft.bfd.reset();
  EXPECT_FALSE(validateSpoke(draft, context())->spoke.bfd);
}

TEST(SpokeBfd, TheApiShowsItAndReadsItBack) {
  auto spoke = validateSpoke(site(), context())->spoke;
  const auto json = encodeSpokeForApi(spoke);
  EXPECT_EQ(json.at("bfd"), true);
  const auto draft = decodeSpokeDraft(json);
  ASSERT_TRUE(draft.has_value());
  EXPECT_EQ(draft->bfd, true);
}

TEST(SpokeBfd, ANonBooleanIsRefusedByName) {
  boost::json::object body{{"name", "dc-1"}, {"bfd", "yes"}};
  const auto draft = decodeSpokeDraft(body);
  ASSERT_FALSE(draft.has_value());
  EXPECT_EQ(draft.error().field, "bfd");
}

}  // namespace
}  // namespace transit::peers
