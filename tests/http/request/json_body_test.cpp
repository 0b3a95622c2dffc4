#include "http/request/json_body.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace transit::http::request {
namespace {

std::string refusalMessage(std::string_view body) {
  const auto parsed = parseJsonBody(body);
  EXPECT_FALSE(parsed) << body;
  if (parsed) return {};
  EXPECT_EQ(parsed.error().status, 400u);
  const auto error = boost::json::parse(parsed.error().body).at("error");
  EXPECT_EQ(error.at("code"), "malformed_json");
  return std::string(error.at("message").as_string());
}

TEST(JsonBody, AValidBodyParsesAsBoostJsonWould) {
  const auto parsed = parseJsonBody(R"({"name": "prod-a", "cidrs": ["10.1.0.0/16"], "x": {}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at("name"), "prod-a");
  EXPECT_EQ(parsed->at("cidrs").as_array().size(), 1u);
}

TEST(JsonBody, TheSameKeyTwiceInOneObjectIsRefusedAndNamed) {
  EXPECT_NE(refusalMessage(R"({"name": "a", "name": "b"})").find("\"name\" appears twice"),
            std::string::npos);
  // Nested, and keys spelled differently but equal once unescaped.
  EXPECT_NE(refusalMessage(R"({"t": [{"psk": 1, "p\u0073k": 2}]})").find("\"psk\""),
            std::string::npos);
  EXPECT_NE(refusalMessage(R"({"": 1, "": 2})").find("\"\" appears twice"), std::string::npos);
}

TEST(JsonBody, TheSameKeyInDifferentObjectsIsFine) {
  EXPECT_TRUE(parseJsonBody(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})"));
}

TEST(JsonBody, AHugeDuplicateKeyIsQuotedShort) {
  const std::string key(10000, 'k');
  const auto message = refusalMessage("{\"" + key + "\": 1, \"" + key + "\": 2}");
  EXPECT_LT(message.size(), 200u);
}

TEST(JsonBody, DeepNestingInvalidUtf8AndGarbageAreRefused) {
  EXPECT_FALSE(refusalMessage(std::string(33, '[') + std::string(33, ']')).empty());
  EXPECT_TRUE(parseJsonBody(std::string(32, '[') + std::string(32, ']')));
  EXPECT_FALSE(refusalMessage("{\"name\": \"\xff\xfe\"}").empty());
  EXPECT_FALSE(refusalMessage("{\"name\": ").empty());
  EXPECT_FALSE(refusalMessage("").empty());
  EXPECT_FALSE(refusalMessage("{} {}").empty());
}

}  // namespace
}  // namespace transit::http::request
