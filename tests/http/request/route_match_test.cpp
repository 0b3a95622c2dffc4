// Route matching: patterns with "{x}" segments and a trailing "*" prefix, and which route of a
// table answers (404 when no route has the path, 405 with Allow when another method has it).
#include "http/request/route_match.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace transit::http::request {
namespace {

using boost::beast::http::verb;

struct Row {
  verb method;
  std::string_view pattern;
};

constexpr Row kTable[] = {
    {verb::get, "/v1/spokes"},
    {verb::post, "/v1/spokes"},
    {verb::get, "/v1/spokes/{name}"},
    {verb::put, "/v1/spokes/{name}"},
    {verb::delete_, "/v1/spokes/{name}"},
    {verb::get, "/v1/spokes/{name}/exports"},
    {verb::post, "/v1/spokes/import/aws"},
    {verb::get, "/ui/*"},
};

TEST(MatchPath, LiteralPatternsMatchExactly) {
  EXPECT_TRUE(matchPath("/v1/spokes", "/v1/spokes"));
  EXPECT_FALSE(matchPath("/v1/spokes", "/v1/spokes/"));
  EXPECT_FALSE(matchPath("/v1/spokes", "/v1/spoke"));
  EXPECT_FALSE(matchPath("/v1/spokes", "/v1/spokesx"));
}

TEST(MatchPath, ABraceCapturesOneNonEmptySegment) {
  const auto one = matchPath("/v1/spokes/{name}", "/v1/spokes/prod-a");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, (PathCaptures{{"name", "prod-a"}}));
  const auto inner = matchPath("/v1/spokes/{name}/exports", "/v1/spokes/prod-a/exports");
  ASSERT_TRUE(inner);
  EXPECT_EQ(*inner, (PathCaptures{{"name", "prod-a"}}));
  EXPECT_FALSE(matchPath("/v1/spokes/{name}", "/v1/spokes/"));
  EXPECT_FALSE(matchPath("/v1/spokes/{name}", "/v1/spokes/a/b"));
  EXPECT_FALSE(matchPath("/v1/spokes/{name}/exports", "/v1/spokes//exports"));
  EXPECT_FALSE(matchPath("/v1/spokes/{name}/exports", "/v1/spokes/a/routes"));
}

TEST(MatchPath, SeveralBracesCaptureInOrder) {
  const auto both = matchPath("/a/{x}/b/{y}", "/a/1/b/2");
  ASSERT_TRUE(both);
  EXPECT_EQ(*both, (PathCaptures{{"x", "1"}, {"y", "2"}}));
}

TEST(MatchPath, AStarCapturesTheRestOfThePath) {
  EXPECT_EQ(*matchPath("/ui/*", "/ui/js/app.js"), (PathCaptures{{"*", "js/app.js"}}));
  EXPECT_EQ(*matchPath("/ui/*", "/ui/"), (PathCaptures{{"*", ""}}));
  EXPECT_FALSE(matchPath("/ui/*", "/ui"));
  EXPECT_FALSE(matchPath("/ui/*", "/uix/a"));
  EXPECT_EQ(*matchPath("/s/{name}/*", "/s/a/b/c"), (PathCaptures{{"name", "a"}, {"*", "b/c"}}));
}

TEST(MatchPath, AStarOnlyEndsAPattern) { EXPECT_FALSE(matchPath("/ui/*/x", "/ui/a/x")); }

TEST(SelectRoute, TheFirstRouteWithTheMethodAndPathAnswers) {
  const auto get = selectRoute(kTable, verb::get, "/v1/spokes/prod-a");
  ASSERT_TRUE(get.index);
  EXPECT_EQ(*get.index, 2u);
  EXPECT_EQ(get.captures, (PathCaptures{{"name", "prod-a"}}));
  const auto import = selectRoute(kTable, verb::post, "/v1/spokes/import/aws");
  ASSERT_TRUE(import.index);
  EXPECT_EQ(*import.index, 6u);
  const auto asset = selectRoute(kTable, verb::get, "/ui/index.html");
  ASSERT_TRUE(asset.index);
  EXPECT_EQ(asset.captures, (PathCaptures{{"*", "index.html"}}));
}

TEST(SelectRoute, AnUnknownPathIsNotKnown) {
  const auto none = selectRoute(kTable, verb::get, "/v1/nothing");
  EXPECT_FALSE(none.index);
  EXPECT_FALSE(none.path_known);
  EXPECT_EQ(none.allow, "");
}

TEST(SelectRoute, AKnownPathWithAnotherMethodListsTheAllowedOnes) {
  const auto wrong = selectRoute(kTable, verb::patch, "/v1/spokes/prod-a");
  EXPECT_FALSE(wrong.index);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.allow, "GET, HEAD, PUT, DELETE");
  // "import" is also a {name}: GET /v1/spokes/import/aws is known (POST), and PUT is not
  // matched by the {name}/import/aws pattern this table lacks.
  const auto import = selectRoute(kTable, verb::get, "/v1/spokes/import/aws");
  EXPECT_FALSE(import.index);
  EXPECT_EQ(import.allow, "POST");
}

TEST(SelectRoute, HeadIsAnsweredByTheGetRoute) {
  const auto head = selectRoute(kTable, verb::head, "/v1/spokes/prod-a/exports");
  ASSERT_TRUE(head.index);
  EXPECT_EQ(*head.index, 5u);
  EXPECT_EQ(head.captures, (PathCaptures{{"name", "prod-a"}}));
  // Only GET routes: a path with no GET has no HEAD.
  const auto import = selectRoute(kTable, verb::head, "/v1/spokes/import/aws");
  EXPECT_FALSE(import.index);
  EXPECT_EQ(import.allow, "POST");
}

TEST(DecodeParams, PercentEncodingIsDecodedAndInvalidIsRefused) {
  const auto decoded = decodeParams(PathCaptures{{"name", "prod%2Da"}, {"*", "a%20b"}});
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->get("name"), "prod-a");
  EXPECT_EQ(decoded->get("*"), "a b");
  EXPECT_EQ(decoded->get("absent"), "");
  const auto bad = decodeParams(PathCaptures{{"name", "prod%zz"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 400u);
}

}  // namespace
}  // namespace transit::http::request
