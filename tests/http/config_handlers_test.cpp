// GET /v1/spokes/{name}/config: a site's device configuration, PSKs included, for admins only.
#include <gtest/gtest.h>

#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {
namespace json = boost::json;
using boost::beast::http::verb;

constexpr std::string_view kSite =
    R"({"name": "site-1", "kind": "site", "cidrs": ["172.16.1.0/24"], "routing": "bgp",
        "asn": 65010, "tunnels": [{"outside_ip": "198.51.100.30", "psk": "Site.Psk_one1"},
        {"outside_ip": "198.51.100.31", "psk": "Site.Psk_two2"}]})";

class ConfigHandlers : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    ASSERT_EQ(call(verb::post, "/v1/spokes", std::string(kSite)).status, 201u);
    ASSERT_EQ(
        call(verb::post, "/v1/spokes", spokeJson("vpc-a", "10.1.0.0/16", "198.51.100.10")).status,
        201u);
  }
};

TEST_F(ConfigHandlers, StrongswanIsAListOfFilesWithThePsksInTheSecretOne) {
  const auto response = call(verb::get, "/v1/spokes/site-1/config?format=strongswan");
  ASSERT_EQ(response.status, 200u) << response.body;
  EXPECT_EQ(header(response, "Cache-Control"), "no-store");
  const auto body = json(response).as_object();
  EXPECT_EQ(body.at("spoke"), "site-1");
  EXPECT_EQ(body.at("format"), "strongswan");
  int secrets = 0;
  for (const auto& file : body.at("files").as_array()) {
    const auto& content = file.at("content").as_string();
    const bool has_psk = content.find("Site.Psk_one1") != json::string::npos;
    EXPECT_EQ(has_psk, file.at("secret").as_bool()) << file.at("path");
    secrets += has_psk ? 1 : 0;
  }
  EXPECT_EQ(secrets, 1);
}

TEST_F(ConfigHandlers, AwsXmlIsTheXmlDocumentItself) {
  const auto response = call(verb::get, "/v1/spokes/site-1/config?format=aws-xml");
  ASSERT_EQ(response.status, 200u) << response.body;
  EXPECT_EQ(response.content_type, "application/xml");
  EXPECT_NE(response.body.find("<vpn_connection"), std::string::npos);
  EXPECT_NE(response.body.find("Site.Psk_two2"), std::string::npos);
}

TEST_F(ConfigHandlers, AVpcHasNoSiteConfiguration) {
  const auto response = call(verb::get, "/v1/spokes/vpc-a/config?format=strongswan");
  EXPECT_EQ(response.status, 409u);
  EXPECT_NE(json(response).at("error").at("message").as_string().find("AWS VGW"),
            json::string::npos);
}

TEST_F(ConfigHandlers, TheFormatIsRequiredAndChecked) {
  EXPECT_EQ(call(verb::get, "/v1/spokes/site-1/config").status, 422u);
  const auto bad = call(verb::get, "/v1/spokes/site-1/config?format=cisco");
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(json(bad).at("error").at("field"), "format");
  EXPECT_EQ(call(verb::get, "/v1/spokes/site-1/config?format=libreswan&x=1").status, 422u);
  EXPECT_EQ(call(verb::get, "/v1/spokes/site-z/config?format=libreswan").status, 404u);
}

TEST_F(ConfigHandlers, OnlyAnAdminGetsPsks) {
  const auto response =
      call(verb::get, "/v1/spokes/site-1/config?format=libreswan", "", kReadToken);
  EXPECT_EQ(response.status, 403u);
  EXPECT_EQ(response.body.find("Site.Psk"), std::string::npos);
}

}  // namespace
}  // namespace transit::testing
