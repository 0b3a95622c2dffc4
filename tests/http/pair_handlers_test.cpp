// The API of hub-a in a pair with hub-b: a spoke holds one VPN connection per hub, each tunnel
// names its hub (this hub's when a request names none), a hub outside the pair is refused, the
// other hub's tunnels show as remote, AWS's second document (hub-b's customer gateway) adds
// hub-b's tunnels to the spoke, and a site's configuration connects to both hubs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {
namespace json = boost::json;
using boost::beast::http::verb;

std::string fixture(std::string_view name) {
  std::ifstream in(std::string(TRANSIT_AWS_DATA_DIR) + "/" + std::string(name));
  EXPECT_TRUE(in) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// AWS's document of the spoke's second VPN connection: the same VGW, hub-b's customer gateway
// (203.0.113.11), its own tunnels, inside /30s and keys.
std::string hubBDocument() {
  std::string text = fixture("aws-bgp.xml");
  text = replaced(text, "<ip_address>203.0.113.10</ip_address>",
                  "<ip_address>203.0.113.11</ip_address>");
  text = replaced(text, "198.51.100.11", "198.51.100.33");
  text = replaced(text, "198.51.100.22", "198.51.100.44");
  text = replaced(text, "169.254.80.14", "169.254.90.14");
  text = replaced(text, "169.254.172.8", "169.254.182.8");
  text = replaced(text, "LabOnly.tunnel_one.k3yA", "LabOnly.hub_b_one.k3yC");
  text = replaced(text, "LabOnly.tunnel_two.k3yB", "LabOnly.hub_b_two.k3yD");
  return text;
}

class PairHandlers : public ApiFixture {
 protected:
  PairHandlers() { pair_ = true; }

  http::Response post(std::string body) { return call(verb::post, "/v1/spokes", std::move(body)); }
  http::Response xml(verb method, std::string target, std::string body) {
    return call(method, std::move(target), std::move(body), kAdminToken, true, "",
                "application/xml");
  }
};

TEST_F(PairHandlers, ATunnelThatNamesNoHubIsThisHubsAndEveryResponseSaysWhose) {
  const auto response = post(spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_EQ(response.status, 201u) << response.body;
  EXPECT_EQ(json(response).at("tunnels").at(0).at("hub"), "hub-a");
  const auto got = json(call(verb::get, "/v1/spokes/prod-a"));
  EXPECT_EQ(got.at("tunnels").at(0).at("hub"), "hub-a");
  EXPECT_EQ(got.at("status").at("tunnels").at(0).at("hub"), "hub-a");
  EXPECT_EQ(got.at("status").at("tunnels").at(0).at("local"), true);
}

TEST_F(PairHandlers, TwoTunnelsOnEachHubAndTheOtherHubsShowAsRemote) {
  const auto response =
      post(R"({"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": 64512,)"
           R"( "tunnels": [{"outside_ip": "198.51.100.10"}, {"outside_ip": "198.51.100.11"},)"
           R"( {"hub": "hub-b", "outside_ip": "198.51.100.10"},)"
           R"( {"hub": "hub-b", "outside_ip": "198.51.100.11"}]})");
  ASSERT_EQ(response.status, 201u) << response.body;
  const auto body = json(response).as_object();
  const auto& tunnels = body.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 4u);
  EXPECT_EQ(tunnels[2].at("hub"), "hub-b");
  EXPECT_EQ(tunnels[2].at("outside_ip"), "198.51.100.10");  // the same address, another hub
  EXPECT_EQ(tunnels[3].at("psk_set"), true);

  const auto& status = body.at("status").at("tunnels").as_array();
  ASSERT_EQ(status.size(), 4u);
  EXPECT_EQ(status[1].at("index"), 2);
  EXPECT_EQ(status[1].at("local"), true);
  EXPECT_EQ(status[2].at("hub"), "hub-b");
  EXPECT_EQ(status[2].at("index"), 1);  // its place among hub-b's tunnels
  EXPECT_EQ(status[2].at("local"), false);
  EXPECT_EQ(status[2].at("state"), "remote");
  EXPECT_EQ(status[2].at("ike_up"), nullptr);  // not known here: never invented
  EXPECT_EQ(status[2].at("bgp"), nullptr);
  EXPECT_EQ(status[3].at("index"), 2);

  // GET /v1/tunnels: this hub's from its status (none yet), then hub-b's, as remote.
  const auto list = json(call(verb::get, "/v1/tunnels")).at("tunnels").as_array();
  ASSERT_EQ(list.size(), 2u);
  for (const auto& item : list) {
    EXPECT_EQ(item.at("spoke"), "prod-a");
    EXPECT_EQ(item.at("hub"), "hub-b");
    EXPECT_EQ(item.at("local"), false);
    EXPECT_EQ(item.at("state"), "remote");
    EXPECT_EQ(item.at("in_bytes"), nullptr);
  }
}

TEST_F(PairHandlers, ASpokeOnTheOtherHubOnlyIsRemoteHere) {
  const auto response =
      post(R"({"name": "prod-b", "kind": "vpc", "cidrs": ["10.2.0.0/16"], "asn": 64512,)"
           R"( "tunnels": [{"hub": "hub-b", "outside_ip": "198.51.100.20"}]})");
  ASSERT_EQ(response.status, 201u) << response.body;
  EXPECT_EQ(json(response).at("status").at("state"), "remote");
}

TEST_F(PairHandlers, AHubOutsideThePairIsRefusedNamingTheFieldAndNothingChanges) {
  const auto response =
      post(R"({"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": 64512,)"
           R"( "tunnels": [{"outside_ip": "198.51.100.10"},)"
           R"( {"hub": "hub-c", "outside_ip": "198.51.100.11", "psk": "Secret.never_shown1"}]})");
  ASSERT_EQ(response.status, 422u) << response.body;
  const auto error = json(response).at("error");
  EXPECT_EQ(error.at("field"), "tunnels[1].hub");
  EXPECT_EQ(error.at("message"), "tunnels[1].hub unknown hub 'hub-c' (this pair: hub-a, hub-b)");
  EXPECT_EQ(response.body.find("Secret.never_shown1"), std::string::npos);
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
}

TEST_F(PairHandlers, AThirdTunnelOnOneHubIsRefused) {
  const auto response =
      post(R"({"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": 64512,)"
           R"( "tunnels": [{"outside_ip": "198.51.100.10"}, {"outside_ip": "198.51.100.11"},)"
           R"( {"hub": "hub-a", "outside_ip": "198.51.100.12"}]})");
  ASSERT_EQ(response.status, 422u) << response.body;
  EXPECT_EQ(json(response).at("error").at("field"), "tunnels[2]");
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
}

TEST_F(PairHandlers, TheOtherHubsAddressesAreNoSpokesOutsideAddress) {
  const auto response = post(spokeJson("prod-a", "10.1.0.0/16", "203.0.113.11"));
  ASSERT_EQ(response.status, 422u) << response.body;
  EXPECT_EQ(json(response).at("error").at("field"), "tunnels[0].outside_ip");
}

// ---- AWS: one document per hub --------------------------------------------------------------

TEST_F(PairHandlers, TheSecondHubsDocumentAddsItsTunnelsToTheSpoke) {
  ASSERT_EQ(
      xml(verb::post, "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0/16", fixture("aws-bgp.xml"))
          .status,
      201u);
  const auto before = registry_->snapshot()->spokes.at("prod-a")->tunnels;
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[0].hub, "hub-a");

  const auto response = xml(verb::put, "/v1/spokes/prod-a/import/aws", hubBDocument());
  ASSERT_EQ(response.status, 200u) << response.body;
  EXPECT_EQ(response.body.find("LabOnly"), std::string::npos) << "a PSK in the answer";
  const auto spoke = registry_->snapshot()->spokes.at("prod-a");
  ASSERT_EQ(spoke->tunnels.size(), 4u);
  EXPECT_EQ(spoke->tunnels[0], before[0]);  // hub-a's, exactly as they were
  EXPECT_EQ(spoke->tunnels[1], before[1]);
  EXPECT_EQ(spoke->tunnels[2].hub, "hub-b");
  EXPECT_EQ(spoke->tunnels[2].outside_ip.toString(), "198.51.100.33");
  EXPECT_EQ(spoke->tunnels[2].inside_cidr.toString(), "169.254.90.144/30");
  EXPECT_EQ(spoke->tunnels[2].psk, "LabOnly.hub_b_one.k3yC");
  EXPECT_EQ(spoke->tunnels[3].psk, "LabOnly.hub_b_two.k3yD");

  // Importing hub-b's document again (keys rotated) replaces hub-b's tunnels only.
  auto rotated = replaced(hubBDocument(), "LabOnly.hub_b_one.k3yC", "LabOnly.hub_b_one.k3yE");
  ASSERT_EQ(xml(verb::put, "/v1/spokes/prod-a/import/aws", rotated).status, 200u);
  const auto again = registry_->snapshot()->spokes.at("prod-a");
  ASSERT_EQ(again->tunnels.size(), 4u);
  EXPECT_EQ(again->tunnels[0], before[0]);
  EXPECT_EQ(again->tunnels[2].psk, "LabOnly.hub_b_one.k3yE");
}

TEST_F(PairHandlers, ADocumentForAnotherCustomerGatewayIsRefusedNamingBothHubs) {
  const auto document = replaced(fixture("aws-bgp.xml"), "<ip_address>203.0.113.10</ip_address>",
                                 "<ip_address>203.0.113.99</ip_address>");
  const auto response =
      xml(verb::post, "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0/16", document);
  ASSERT_EQ(response.status, 422u) << response.body;
  const auto error = json(response).at("error");
  EXPECT_EQ(error.at("field"),
            "xml:ipsec_tunnel[1]/customer_gateway/tunnel_outside_address/ip_address");
  EXPECT_EQ(error.at("message"),
            "xml:ipsec_tunnel[1]/customer_gateway/tunnel_outside_address/ip_address "
            "is 203.0.113.99, but this hub's public address is 203.0.113.10 (hub-a) and the "
            "other hub's 203.0.113.11 (hub-b): the VPN connection was made for another customer "
            "gateway");
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
}

// ---- a site connects to both hubs -----------------------------------------------------------

TEST_F(PairHandlers, ASitesConfigurationConnectsToBothHubs) {
  ASSERT_EQ(post(R"({"name": "site-1", "kind": "site", "cidrs": ["10.20.0.0/16"], "asn": 65010,)"
                 R"( "tunnels": [{"outside_ip": "198.51.100.20"}, {"outside_ip": "198.51.100.21"},)"
                 R"( {"hub": "hub-b", "outside_ip": "198.51.100.20"},)"
                 R"( {"hub": "hub-b", "outside_ip": "198.51.100.21"}]})")
                .status,
            201u);
  const auto response = call(verb::get, "/v1/spokes/site-1/config?format=strongswan");
  ASSERT_EQ(response.status, 200u) << response.body;
  const auto files = json(response).at("files").as_array();
  const auto swanctl = std::string(files.at(0).at("content").as_string());
  for (const auto* needle :
       {"hub-a-t1 {", "hub-a-t2 {", "hub-b-t1 {", "hub-b-t2 {", "remote_addrs = 203.0.113.10",
        "remote_addrs = 203.0.113.11", "if_id_in = 4"}) {
    EXPECT_NE(swanctl.find(needle), std::string::npos) << needle;
  }
  // One AWS-style document per hub.
  const auto aws = call(verb::get, "/v1/spokes/site-1/config?format=aws-xml");
  ASSERT_EQ(aws.status, 200u) << aws.body;
  const auto documents = json(aws).at("files").as_array();
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].at("path"), "transit-hub-site-1-hub-a.xml");
  EXPECT_EQ(documents[1].at("path"), "transit-hub-site-1-hub-b.xml");
  EXPECT_NE(documents[1].at("content").as_string().find("203.0.113.11"), std::string::npos);
}

}  // namespace
}  // namespace transit::testing
