// POST /v1/spokes/import/aws: AWS's CustomerGatewayConfiguration documents (tests/data/aws)
// become vpc spokes, every field checked against the document; hostile and wrong documents are
// refused with a 4xx that names the problem and change nothing. PUT /v1/spokes/{name}/import/aws
// brings a spoke up to date with a new document of its connection, merged into the spoke as it is
// when the registry's writer runs it (a PUT in flight is kept).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

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

constexpr std::string_view kImport = "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0/16";

class ImportHandlers : public ApiFixture {
 protected:
  http::Response import(std::string body, std::string target = std::string(kImport),
                        std::string type = "application/xml") {
    return call(verb::post, std::move(target), std::move(body), kAdminToken, true, "",
                std::move(type));
  }
  // The error of a refused import, after checking that nothing was created.
  json::object refused(const http::Response& response, unsigned status) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_TRUE(registry_->snapshot()->spokes.empty()) << "a refused import created a spoke";
    EXPECT_EQ(response.body.find("LabOnly"), std::string::npos) << "a PSK in the answer";
    return json(response).at("error").as_object();
  }
  const peers::Spoke& stored(std::string_view name) {
    snapshot_ = registry_->snapshot();
    return *snapshot_->spokes.at(std::string(name));
  }
  std::shared_ptr<const hub::DesiredState> snapshot_;
};

TEST_F(ImportHandlers, ABgpDocumentBecomesAVpcSpokeWithEveryFieldFromIt) {
  const auto response = import(fixture("aws-bgp.xml"),
                               "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0/16"
                               "&cidr=10.3.0.0/16&segment=prod&preferred_hub=hub-b");
  ASSERT_EQ(response.status, 201u) << response.body;
  EXPECT_EQ(header(response, "Location"), "/v1/spokes/prod-a");
  const auto body = json(response).as_object();
  EXPECT_EQ(body.at("kind"), "vpc");
  EXPECT_EQ(body.at("routing"), "bgp");
  EXPECT_EQ(body.at("asn"), 64512);  // vpn_gateway/bgp/asn
  EXPECT_EQ(body.at("cidrs"), (json::array{"10.1.0.0/16", "10.3.0.0/16"}));
  EXPECT_EQ(body.at("segment"), "prod");
  EXPECT_EQ(body.at("preferred_hub"), "hub-b");
  EXPECT_EQ(body.at("bgp_hold_time_seconds"), nullptr);                // 30: AWS's, the default
  EXPECT_EQ(body.at("tunnel_options").at("dpd_timeout_seconds"), 30);  // 10 s x 3
  // AWS's minimum example (AES128, SHA1, group 2) is not taken as the tunnel's proposals.
  EXPECT_EQ(body.at("tunnel_options").at("phase1_integrity"), (json::array{"SHA2-256"}));
  EXPECT_EQ(body.at("tunnel_options").at("phase1_dh_groups"), (json::array{20, 19, 14}));
  const auto& tunnels = body.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 2u);
  EXPECT_EQ(tunnels[0].at("outside_ip"), "198.51.100.11");  // vpn_gateway outside address
  EXPECT_EQ(tunnels[0].at("inside_cidr"), "169.254.80.144/30");
  EXPECT_EQ(tunnels[0].at("hub_inside_ip"), "169.254.80.146");   // customer_gateway inside
  EXPECT_EQ(tunnels[0].at("peer_inside_ip"), "169.254.80.145");  // vpn_gateway inside
  EXPECT_EQ(tunnels[1].at("outside_ip"), "198.51.100.22");
  EXPECT_EQ(tunnels[1].at("inside_cidr"), "169.254.172.84/30");
  EXPECT_EQ(tunnels[1].at("hub_inside_ip"), "169.254.172.86");
  // The PSKs are the document's, each with its own tunnel (never returned by the API).
  const auto& spoke = stored("prod-a");
  EXPECT_EQ(spoke.tunnels[0].psk, "LabOnly.tunnel_one.k3yA");
  EXPECT_EQ(spoke.tunnels[1].psk, "LabOnly.tunnel_two.k3yB");
  EXPECT_EQ(response.body.find("LabOnly"), std::string::npos);
}

TEST_F(ImportHandlers, TunnelsInReverseOrderGiveTheSameSpoke) {
  ASSERT_EQ(import(fixture("aws-bgp-reversed.xml")).status, 201u);
  const auto reversed = stored("prod-a");
  ASSERT_EQ(call(verb::delete_, "/v1/spokes/prod-a").status, 204u);
  ASSERT_EQ(import(fixture("aws-bgp.xml")).status, 201u);
  const auto& straight = stored("prod-a");
  EXPECT_EQ(reversed.tunnels, straight.tunnels);
  EXPECT_EQ(reversed.tunnels[0].outside_ip.toString(), "198.51.100.11");
  EXPECT_EQ(reversed.tunnels[0].psk, "LabOnly.tunnel_one.k3yA");
  EXPECT_EQ(reversed.tunnels[1].inside_cidr.toString(), "169.254.172.84/30");
}

TEST_F(ImportHandlers, AStaticDocumentBecomesAStaticSpoke) {
  const auto response =
      import(fixture("aws-static.xml"), "/v1/spokes/import/aws?name=legacy-a&cidr=10.4.0.0/16");
  ASSERT_EQ(response.status, 201u) << response.body;
  const auto body = json(response).as_object();
  EXPECT_EQ(body.at("routing"), "static");
  EXPECT_EQ(body.at("asn"), nullptr);
  const auto& tunnels = body.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 2u);
  EXPECT_EQ(tunnels[0].at("outside_ip"), "198.51.100.33");
  EXPECT_EQ(tunnels[1].at("outside_ip"), "198.51.100.44");
  // No inside addresses in the document: the hub allocated /30s from its pool.
  EXPECT_TRUE(tunnels[0].at("inside_cidr").as_string().starts_with("169.254."));
  const auto& spoke = stored("legacy-a");
  EXPECT_EQ(spoke.tunnels[0].psk, "LabOnly.static_one.k3yC");
  EXPECT_EQ(spoke.tunnels[1].psk, "LabOnly.static_two.k3yD");
}

TEST_F(ImportHandlers, HostileDocumentsAreRefusedAndNameTheProblem) {
  struct Case {
    const char* file;
    unsigned status;
    const char* code;
    const char* field;  // "" for a document-level problem
  };
  for (const auto& c : {
           Case{"aws-bad-billion-laughs.xml", 400, "malformed_xml", ""},
           Case{"aws-bad-external-entity.xml", 400, "malformed_xml", ""},
           Case{"aws-bad-not-well-formed.xml", 400, "malformed_xml", ""},
           Case{"aws-bad-wrong-root.xml", 400, "malformed_xml", ""},
           Case{"aws-bad-missing-psk.xml", 422, "invalid_field",
                "xml:ipsec_tunnel[2]/ike/pre_shared_key"},
           Case{"aws-bad-psk.xml", 422, "invalid_field", "xml:ipsec_tunnel[1]/ike/pre_shared_key"},
           Case{"aws-bad-asn.xml", 422, "invalid_field", "xml:ipsec_tunnel[2]/vpn_gateway/bgp/asn"},
           Case{"aws-bad-three-tunnels.xml", 422, "invalid_field", "xml:ipsec_tunnel[3]"},
       }) {
    SCOPED_TRACE(c.file);
    const auto error = refused(import(fixture(c.file)), c.status);
    EXPECT_EQ(error.at("code"), c.code);
    EXPECT_FALSE(error.at("message").as_string().empty());
    if (*c.field != '\0') {
      EXPECT_EQ(error.at("field"), c.field);
    }
  }
}

TEST_F(ImportHandlers, AnOversizeDocumentIs413) {
  std::string body = fixture("aws-bgp.xml");
  body.insert(body.find("<ipsec_tunnel>"), std::string(300 * 1024, ' '));
  const auto error = refused(import(std::move(body)), 413);
  EXPECT_EQ(error.at("code"), "payload_too_large");
}

TEST_F(ImportHandlers, ADocumentForAnotherCustomerGatewayIsRefused) {
  std::string body = fixture("aws-bgp.xml");
  for (auto at = body.find("203.0.113.10"); at != std::string::npos;
       at = body.find("203.0.113.10")) {
    body.replace(at, 12, "203.0.113.99");
  }
  const auto error = refused(import(std::move(body)), 422);
  EXPECT_EQ(error.at("field"),
            "xml:ipsec_tunnel[1]/customer_gateway/tunnel_outside_address/ip_address");
  EXPECT_NE(error.at("message").as_string().find("this hub's public address is 203.0.113.10"),
            std::string::npos)
      << error;
}

TEST_F(ImportHandlers, ADocumentForAnotherAsnIsRefused) {
  std::string body = fixture("aws-bgp.xml");
  for (auto at = body.find("<asn>65000</asn>"); at != std::string::npos;
       at = body.find("<asn>65000</asn>")) {
    body.replace(at, 16, "<asn>65001</asn>");
  }
  const auto error = refused(import(std::move(body)), 422);
  EXPECT_EQ(error.at("field"), "xml:ipsec_tunnel[1]/customer_gateway/bgp/asn");
}

TEST_F(ImportHandlers, TheQueryNeedsANameAndACidrAndNothingElse) {
  EXPECT_EQ(refused(import(fixture("aws-bgp.xml"), "/v1/spokes/import/aws?cidr=10.1.0.0/16"), 422)
                .at("field"),
            "name");
  EXPECT_EQ(
      refused(import(fixture("aws-bgp.xml"), "/v1/spokes/import/aws?name=a"), 422).at("field"),
      "cidr");
  EXPECT_EQ(
      refused(import(fixture("aws-bgp.xml"), std::string(kImport) + "&asn=1"), 422).at("field"),
      "asn");
  EXPECT_EQ(
      refused(import(fixture("aws-bgp.xml"), std::string(kImport) + "&name=b"), 422).at("field"),
      "name");
  EXPECT_EQ(
      refused(import(fixture("aws-bgp.xml"), "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0/33"),
              422)
          .at("field"),
      "cidrs[0]");
}

TEST_F(ImportHandlers, OnlyXmlIsAccepted) {
  const auto error =
      refused(import(fixture("aws-bgp.xml"), std::string(kImport), "application/json"), 415);
  EXPECT_EQ(error.at("code"), "unsupported_media_type");
  EXPECT_EQ(import(fixture("aws-bgp.xml"), std::string(kImport), "text/xml; charset=utf-8").status,
            201u);
}

TEST_F(ImportHandlers, AReadTokenMayNotImport) {
  const auto response = call(verb::post, std::string(kImport), fixture("aws-bgp.xml"), kReadToken,
                             true, "", "application/xml");
  EXPECT_EQ(response.status, 403u);
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
}

TEST_F(ImportHandlers, ImportingTheSameConnectionTwiceIsAConflict) {
  ASSERT_EQ(import(fixture("aws-bgp.xml")).status, 201u);
  const auto again = import(fixture("aws-bgp.xml"),
                            "/v1/spokes/import/aws?name=prod-b"
                            "&cidr=10.9.0.0/16");
  EXPECT_EQ(again.status, 409u) << again.body;  // the outside addresses are prod-a's
  EXPECT_EQ(registry_->snapshot()->spokes.size(), 1u);
}

// ---- re-import: PUT /v1/spokes/{name}/import/aws ----

constexpr std::string_view kReimport = "/v1/spokes/prod-a/import/aws";

class ReimportHandlers : public ImportHandlers {
 protected:
  void SetUp() override {
    ImportHandlers::SetUp();
    ASSERT_EQ(import(fixture("aws-bgp.xml"),
                     "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0/16&segment=prod"
                     "&preferred_hub=hub-b")
                  .status,
              201u);
    // The operator's own settings, which no AWS document carries.
    auto body = json(call(verb::get, "/v1/spokes/prod-a")).as_object();
    body["export_limit"] = 50;
    body["tunnel_options"].as_object()["phase1_encryption"] = json::array{"AES128"};
    ASSERT_EQ(call(verb::put, "/v1/spokes/prod-a", json::serialize(body)).status, 200u);
    before_ = stored("prod-a");
  }
  http::Response reimport(std::string body, std::string target = std::string(kReimport),
                          std::string_view token = kAdminToken, std::string if_match = "") {
    return call(verb::put, std::move(target), std::move(body), token, true, std::move(if_match),
                "application/xml");
  }
  // The error of a refused re-import, after checking that the spoke did not change.
  json::object unchanged(const http::Response& response, unsigned status) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(stored("prod-a"), before_) << "a refused re-import changed the spoke";
    EXPECT_EQ(response.body.find("LabOnly"), std::string::npos) << "a PSK in the answer";
    return json(response).at("error").as_object();
  }
  peers::Spoke before_;
};

TEST_F(ReimportHandlers, ANewDocumentUpdatesTheTunnelsAndKeepsTheSpokesOwnSettings) {
  const auto response = reimport(fixture("aws-bgp-modified.xml"));
  ASSERT_EQ(response.status, 200u) << response.body;
  const auto body = json(response).as_object();
  EXPECT_EQ(body.at("generation"), before_.generation + 1);
  // From the new document: tunnel 2's inside /30, both PSKs, the DPD timeout (10 s x 5).
  const auto& tunnels = body.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 2u);
  EXPECT_EQ(tunnels[0].at("inside_cidr"), "169.254.80.144/30");
  EXPECT_EQ(tunnels[1].at("inside_cidr"), "169.254.200.8/30");
  EXPECT_EQ(tunnels[1].at("hub_inside_ip"), "169.254.200.10");
  EXPECT_EQ(body.at("tunnel_options").at("dpd_timeout_seconds"), 50);
  const auto& spoke = stored("prod-a");
  EXPECT_EQ(spoke.tunnels[0].psk, "LabOnly.tunnel_one.r0tated");
  EXPECT_EQ(spoke.tunnels[1].psk, "LabOnly.tunnel_two.r0tated");
  EXPECT_EQ(response.body.find("LabOnly"), std::string::npos);
  // Kept: what the operator set and no document says.
  EXPECT_EQ(body.at("cidrs"), (json::array{"10.1.0.0/16"}));
  EXPECT_EQ(body.at("segment"), "prod");
  EXPECT_EQ(body.at("preferred_hub"), "hub-b");
  EXPECT_EQ(body.at("export_limit"), 50);
  EXPECT_EQ(body.at("tunnel_options").at("phase1_encryption"), (json::array{"AES128"}));
  EXPECT_EQ(body.at("asn"), 64512);
}

TEST_F(ReimportHandlers, TheQueryReplacesCidrsSegmentAndPreferredHub) {
  const auto response =
      reimport(fixture("aws-bgp.xml"), std::string(kReimport) +
                                           "?cidr=10.1.0.0/16&cidr=10.5.0.0/16&segment=dev"
                                           "&preferred_hub=hub-a");
  ASSERT_EQ(response.status, 200u) << response.body;
  const auto body = json(response).as_object();
  EXPECT_EQ(body.at("cidrs"), (json::array{"10.1.0.0/16", "10.5.0.0/16"}));
  EXPECT_EQ(body.at("segment"), "dev");
  EXPECT_EQ(body.at("preferred_hub"), "hub-a");
}

TEST_F(ReimportHandlers, TheSameDocumentAgainChangesNoTunnel) {
  const auto response = reimport(fixture("aws-bgp-reversed.xml"));
  ASSERT_EQ(response.status, 200u) << response.body;
  EXPECT_EQ(stored("prod-a").tunnels, before_.tunnels);
}

TEST_F(ReimportHandlers, RefusalsChangeNothing) {
  EXPECT_EQ(
      unchanged(reimport(fixture("aws-bgp.xml"), "/v1/spokes/nope/import/aws"), 404).at("code"),
      "not_found");
  EXPECT_EQ(
      unchanged(reimport(fixture("aws-bgp.xml"), std::string(kReimport) + "?name=prod-a"), 422)
          .at("field"),
      "name");
  EXPECT_EQ(unchanged(reimport(fixture("aws-bad-billion-laughs.xml")), 400).at("code"),
            "malformed_xml");
  EXPECT_EQ(unchanged(reimport(fixture("aws-bad-missing-psk.xml")), 422).at("code"),
            "invalid_field");
  EXPECT_EQ(unchanged(reimport(fixture("aws-bgp-modified.xml"), std::string(kReimport), kAdminToken,
                               "\"1\""),
                      412)
                .at("code"),
            "precondition_failed");
  EXPECT_EQ(reimport(fixture("aws-bgp-modified.xml"), std::string(kReimport), kReadToken).status,
            403u);
  EXPECT_EQ(stored("prod-a"), before_);
}

TEST_F(ReimportHandlers, AMatchingIfMatchIsHonoured) {
  const auto response = reimport(fixture("aws-bgp-modified.xml"), std::string(kReimport),
                                 kAdminToken, "\"" + std::to_string(before_.generation) + "\"");
  EXPECT_EQ(response.status, 200u) << response.body;
}

TEST_F(ReimportHandlers, ASiteHasNoAwsDocument) {
  const std::string site =
      R"({"name":"site-1","kind":"site","cidrs":["172.16.1.0/24"],"asn":65010,)"
      R"("tunnels":[{"outside_ip":"198.51.100.30"},{"outside_ip":"198.51.100.31"}]})";
  ASSERT_EQ(call(verb::post, "/v1/spokes", site).status, 201u);
  const auto response = reimport(fixture("aws-bgp.xml"), "/v1/spokes/site-1/import/aws");
  EXPECT_EQ(response.status, 409u) << response.body;
  EXPECT_NE(json(response).at("error").at("message").as_string().find("is a site"),
            std::string::npos);
}

// The lost-update race: a PUT is held in the store's write while a re-import of the same spoke
// comes in. The re-import merges into the spoke as the PUT left it, so both changes stand. (When
// the handler merged into the snapshot it had read before the PUT was written, its write put
// the old limits back.)
TEST_F(ReimportHandlers, AReimportKeepsAPutThatWasBeingWritten) {
  auto body = json(call(verb::get, "/v1/spokes/prod-a")).as_object();
  body["export_limit"] = 75;
  body["import_limit"] = 300;
  const std::string put_body = json::serialize(body);
  const std::string document = fixture("aws-bgp-modified.xml");

  store_.holdWrites();
  auto put = std::async(std::launch::async,
                        [&] { return call(verb::put, "/v1/spokes/prod-a", put_body); });
  store_.waitUntilHeld(1);
  auto reimported = std::async(std::launch::async, [&] { return reimport(document); });
  // Bounded wait until the re-import is queued behind the PUT's write.
  for (int i = 0; i < 5000 && registry_->queuedCommands() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(registry_->queuedCommands(), 1u);
  store_.releaseWrites();

  const auto put_response = put.get();
  const auto reimport_response = reimported.get();
  ASSERT_EQ(put_response.status, 200u) << put_response.body;
  ASSERT_EQ(reimport_response.status, 200u) << reimport_response.body;

  const auto& spoke = stored("prod-a");
  EXPECT_EQ(spoke.generation, before_.generation + 2);
  // The PUT's limits.
  EXPECT_EQ(spoke.export_limit, 75u);
  EXPECT_EQ(spoke.import_limit, 300u);
  // The re-import's PSKs and inside /30.
  ASSERT_EQ(spoke.tunnels.size(), 2u);
  EXPECT_EQ(spoke.tunnels[0].psk, "LabOnly.tunnel_one.r0tated");
  EXPECT_EQ(spoke.tunnels[1].psk, "LabOnly.tunnel_two.r0tated");
  EXPECT_EQ(spoke.tunnels[1].inside_cidr.toString(), "169.254.200.8/30");
  EXPECT_EQ(json(reimport_response).at("export_limit"), 75);
}

TEST_F(ReimportHandlers, AnotherSpokesConnectionIsRefused) {
  const auto other =
      import(fixture("aws-static.xml"), "/v1/spokes/import/aws?name=legacy-a&cidr=10.4.0.0/16");
  ASSERT_EQ(other.status, 201u) << other.body;
  // legacy-a's tunnels: their outside addresses belong to legacy-a.
  EXPECT_EQ(unchanged(reimport(fixture("aws-static.xml")), 409).at("code"), "conflict");
}

}  // namespace
}  // namespace transit::testing
