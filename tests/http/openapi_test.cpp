// The OpenAPI document (http/openapi.yaml, served at /v1/openapi.yaml) matches the server's
// route table in both directions, and documents the statuses every route can answer with.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/beast/http/verb.hpp>
#include <set>
#include <string>

#include "http/api.hpp"
#include "http/handlers/ops.hpp"

namespace transit::http {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const std::set<std::string> kMethods = {"get",   "put",  "post",    "delete",
                                        "patch", "head", "options", "trace"};

YAML::Node document() { return YAML::Load(std::string(openApiDocument())); }

TEST(OpenApi, IsOpenApi3) {
  const auto doc = document();
  EXPECT_EQ(doc["openapi"].as<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(doc["components"]["securitySchemes"]);
}

TEST(OpenApi, EveryRouteTheServerAnswersIsDocumented) {
  const auto paths = document()["paths"];
  for (const auto& route : routeTable()) {
    const std::string path(route.pattern);
    const std::string method = lower(boost::beast::http::to_string(route.method));
    ASSERT_TRUE(paths[path]) << path << " is not documented";
    EXPECT_TRUE(paths[path][method]) << method << " " << path << " is not documented";
  }
}

TEST(OpenApi, EveryDocumentedOperationIsServed) {
  const auto paths = document()["paths"];
  for (const auto& entry : paths) {
    const auto path = entry.first.as<std::string>();
    for (const auto& operation : entry.second) {
      const auto method = operation.first.as<std::string>();
      if (!kMethods.contains(method)) continue;  // "parameters" and the like
      bool served = false;
      for (const auto& route : routeTable()) {
        served |=
            route.pattern == path && lower(boost::beast::http::to_string(route.method)) == method;
      }
      EXPECT_TRUE(served) << method << " " << path << " is documented but not served";
    }
  }
}

TEST(OpenApi, DocumentsAuthFailuresAndServerErrorsForEveryRoute) {
  const auto paths = document()["paths"];
  for (const auto& route : routeTable()) {
    const std::string path(route.pattern);
    const auto operation = paths[path][lower(boost::beast::http::to_string(route.method))];
    ASSERT_TRUE(operation);
    const auto responses = operation["responses"];
    EXPECT_TRUE(responses["500"]) << path;
    if (route.access != Access::kOperational) {
      EXPECT_TRUE(responses["401"]) << path << " needs a token but does not document 401";
    }
    if (route.access == Access::kAdmin) {
      EXPECT_TRUE(responses["403"]) << path << " needs admin but does not document 403";
      EXPECT_TRUE(responses["422"] || route.method == boost::beast::http::verb::delete_) << path;
    }
  }
}

}  // namespace
}  // namespace transit::http
