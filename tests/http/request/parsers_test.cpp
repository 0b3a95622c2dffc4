// The request parsers: If-Match, the media type of a Content-Type, and the queries of
// GET /v1/routes, the AWS imports and GET /v1/spokes/{name}/config.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "http/request/if_match.hpp"
#include "http/request/media_type.hpp"
#include "http/request/query.hpp"

namespace transit::http::request {
namespace {

// The refusal's status and its error field ("" when it names none).
std::pair<unsigned, std::string> refusal(const Response& response) {
  const auto error = boost::json::parse(response.body).at("error").as_object();
  const auto* field = error.if_contains("field");
  return {response.status, field != nullptr ? std::string(field->as_string()) : std::string()};
}

// The condition an accepted If-Match sets (-1: none).
std::int64_t accepted(std::string_view value) {
  const auto parsed = parseIfMatch(value);
  EXPECT_TRUE(parsed) << value;
  if (!parsed || !parsed->has_value()) return -1;
  return static_cast<std::int64_t>(**parsed);
}

TEST(ParseIfMatch, AbsentOrStarIsNoCondition) {
  EXPECT_EQ(accepted(""), -1);
  EXPECT_EQ(accepted("  * "), -1);
}

TEST(ParseIfMatch, AStrongTagIsTheGenerationItNames) {
  EXPECT_EQ(accepted("\"3\""), 3);
  EXPECT_EQ(accepted(" \"17\"\t"), 17);
  // A list: weak tags never match (the strong comparison), the strong one decides.
  EXPECT_EQ(accepted("W/\"2\", \"3\""), 3);
  EXPECT_EQ(accepted("\"3\", \"3\""), 3);
}

TEST(ParseIfMatch, OnlyWeakTagsOrTagsNeverIssuedAre412) {
  for (const auto* value :
       {"W/\"3\"", "W/\"3\", W/\"4\"", "\"x\"", "\"-1\"", "\"\"", "\"99999999999999999999\""}) {
    const auto parsed = parseIfMatch(value);
    ASSERT_FALSE(parsed) << value;
    EXPECT_EQ(parsed.error().status, 412u) << value;
  }
}

TEST(ParseIfMatch, WhatIsNotAnEntityTagIs400) {
  // Bare numbers were once accepted: HTTP's entity tags are quoted.
  for (const auto* value :
       {"3", " 17 ", "\"3", "3a", "W/", "W/3", "\"a b\"", ",", "\"1\", \"2\""}) {
    const auto parsed = parseIfMatch(value);
    ASSERT_FALSE(parsed) << value;
    EXPECT_EQ(parsed.error().status, 400u) << value;
  }
}

TEST(MediaType, ParametersAndTrailingSpacesAreDropped) {
  EXPECT_EQ(mediaType("application/json"), "application/json");
  EXPECT_EQ(mediaType("application/json ; charset=utf-8"), "application/json");
  EXPECT_EQ(mediaType(""), "");
}

TEST(ParseRouteFilter, SpokeAndFiltered) {
  const auto none = parseRouteFilter("/v1/routes");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->spoke);
  EXPECT_FALSE(none->filtered);
  const auto both = parseRouteFilter("/v1/routes?spoke=prod-a&filtered=false");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->spoke, "prod-a");
  EXPECT_EQ(both->filtered, false);
}

TEST(ParseRouteFilter, RefusalsNameTheParameter) {
  EXPECT_EQ(refusal(parseRouteFilter("/v1/routes?x=1").error()),
            std::make_pair(422u, std::string("x")));
  EXPECT_EQ(refusal(parseRouteFilter("/v1/routes?spoke=a&spoke=b").error()),
            std::make_pair(422u, std::string("spoke")));
  EXPECT_EQ(refusal(parseRouteFilter("/v1/routes?spoke=Not_A_Name!").error()),
            std::make_pair(422u, std::string("spoke")));
  EXPECT_EQ(refusal(parseRouteFilter("/v1/routes?filtered=yes").error()),
            std::make_pair(422u, std::string("filtered")));
  EXPECT_EQ(refusal(parseRouteFilter("not a target").error()).first, 400u);
}

TEST(ParseImportQuery, NameCidrsSegmentAndPreferredHub) {
  const auto query = parseImportQuery(
      "/v1/spokes/import/aws?name=vpc-a&cidr=10.1.0.0/16&cidr=10.2.0.0/16&segment=prod"
      "&preferred_hub=hub-a",
      false);
  ASSERT_TRUE(query);
  EXPECT_EQ(query->name, "vpc-a");
  EXPECT_EQ(query->cidrs, (std::vector<std::string>{"10.1.0.0/16", "10.2.0.0/16"}));
  EXPECT_EQ(query->segment, "prod");
  EXPECT_EQ(query->preferred_hub, "hub-a");
}

TEST(ParseImportQuery, TheNameIsThePathsOnReimport) {
  EXPECT_EQ(refusal(parseImportQuery("/x?name=a", true).error()),
            std::make_pair(422u, std::string("name")));
  EXPECT_TRUE(parseImportQuery("/x?cidr=10.1.0.0/16", true));
  EXPECT_EQ(refusal(parseImportQuery("/x?segment=a&segment=b", false).error()),
            std::make_pair(422u, std::string("segment")));
  EXPECT_EQ(refusal(parseImportQuery("/x?name=a&name=b", false).error()),
            std::make_pair(422u, std::string("name")));
  EXPECT_EQ(refusal(parseImportQuery("/x?other=1", false).error()),
            std::make_pair(422u, std::string("other")));
}

TEST(ParseConfigFormat, OneKnownFormatIsRequired) {
  const auto format = parseConfigFormat("/c?format=libreswan");
  ASSERT_TRUE(format);
  EXPECT_EQ(*format, peers::SiteConfigFormat::kLibreswan);
  EXPECT_EQ(refusal(parseConfigFormat("/c").error()), std::make_pair(422u, std::string("format")));
  EXPECT_EQ(refusal(parseConfigFormat("/c?format=cisco").error()),
            std::make_pair(422u, std::string("format")));
  EXPECT_EQ(refusal(parseConfigFormat("/c?format=libreswan&format=libreswan").error()),
            std::make_pair(422u, std::string("format")));
  EXPECT_EQ(refusal(parseConfigFormat("/c?x=1").error()), std::make_pair(422u, std::string("x")));
}

}  // namespace
}  // namespace transit::http::request
