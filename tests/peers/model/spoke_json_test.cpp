// Tests for peers/model/spoke_json.hpp: strict decoding of API requests, the API form that never
// carries a PSK. (The stored form: tests/hub/store/record_codec_test.cpp.)
#include "peers/model/spoke_json.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <expected>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/spoke.hpp"
#include "peers/model/spoke_validation.hpp"
#include "routing/base/prefix.hpp"
#include "tests/peers/model/spoke_fixtures.hpp"

namespace transit::peers {
namespace {

namespace json = boost::json;
using transit::Ipv4Address;
using transit::Ipv4Prefix;
using namespace testing;

std::expected<SpokeDraft, FieldError> decodeText(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  EXPECT_FALSE(ec) << "test JSON does not parse: " << text;
  return decodeSpokeDraft(value);
}

// Asserts decoding `text` fails at exactly `field`.
void expectDecodeError(std::string_view text, std::string_view field) {
  auto draft = decodeText(text);
  ASSERT_FALSE(draft.has_value()) << "decoded; expected an error at " << field;
  EXPECT_EQ(draft.error().field, field) << draft.error().message;
  EXPECT_FALSE(draft.error().message.empty());
}

constexpr std::string_view kRequest = R"({
  "name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16", "172.16.0.0/12"],
  "routing": "bgp", "asn": 64512, "preferred_hub": "hub-a", "segment": "default",
  "tunnels": [{"outside_ip": "198.51.100.10", "inside_cidr": "169.254.20.0/30",
               "psk": "Hub.Secret_Alpha1"},
              {"outside_ip": "198.51.100.11"}]})";

void expectSameTunnel(const TunnelDraft& a, const TunnelDraft& b) {
  EXPECT_EQ(a.outside_ip, b.outside_ip);
  EXPECT_EQ(a.inside_cidr, b.inside_cidr);
  EXPECT_EQ(a.psk, b.psk);
}

void expectSameDraft(const SpokeDraft& a, const SpokeDraft& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.cidrs, b.cidrs);
  EXPECT_EQ(a.routing, b.routing);
  EXPECT_EQ(a.asn, b.asn);
  EXPECT_EQ(a.preferred_hub, b.preferred_hub);
  EXPECT_EQ(a.segment, b.segment);
  ASSERT_EQ(a.tunnels.has_value(), b.tunnels.has_value());
  if (a.tunnels) {
    ASSERT_EQ(a.tunnels->size(), b.tunnels->size());
    for (std::size_t i = 0; i < a.tunnels->size(); ++i) {
      expectSameTunnel((*a.tunnels)[i], (*b.tunnels)[i]);
    }
  }
}

// ---- decodeSpokeDraft ----------------------------------------------------------------------

TEST(DecodeSpokeDraft, DecodesEveryFieldOfARequest) {
  auto draft = decodeText(kRequest);
  ASSERT_TRUE(draft.has_value()) << draft.error().field << ": " << draft.error().message;
  EXPECT_EQ(draft->name, "prod-a");
  EXPECT_EQ(draft->kind, "vpc");
  EXPECT_EQ(draft->cidrs, (std::vector<std::string>{"10.1.0.0/16", "172.16.0.0/12"}));
  EXPECT_EQ(draft->routing, "bgp");
  EXPECT_EQ(draft->asn, 64512);
  EXPECT_EQ(draft->preferred_hub, "hub-a");
  EXPECT_EQ(draft->segment, "default");
  ASSERT_TRUE(draft->tunnels.has_value());
  ASSERT_EQ(draft->tunnels->size(), 2U);
  EXPECT_EQ((*draft->tunnels)[0].outside_ip, "198.51.100.10");
  EXPECT_EQ((*draft->tunnels)[0].inside_cidr, "169.254.20.0/30");
  EXPECT_EQ((*draft->tunnels)[0].psk, std::string(kPskA));
  EXPECT_EQ((*draft->tunnels)[1].outside_ip, "198.51.100.11");
  EXPECT_FALSE((*draft->tunnels)[1].inside_cidr.has_value());
  EXPECT_FALSE((*draft->tunnels)[1].psk.has_value());
}

TEST(DecodeSpokeDraft, MissingFieldsStayAbsentForValidationToName) {
  auto draft = decodeText("{}");
  ASSERT_TRUE(draft.has_value());
  EXPECT_FALSE(draft->name || draft->kind || draft->cidrs || draft->routing || draft->asn ||
               draft->preferred_hub || draft->segment || draft->tunnels);
  auto result = validateSpoke(*draft, ValidationContext{0, {}, "hub-a"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "name");
}

TEST(DecodeSpokeDraft, BodyMustBeAnObject) {
  for (const std::string_view text : {"[]", "\"prod-a\"", "42", "null", "true"}) {
    SCOPED_TRACE(text);
    auto draft = decodeText(text);
    ASSERT_FALSE(draft.has_value());
    EXPECT_FALSE(draft.error().message.empty());
  }
}

TEST(DecodeSpokeDraft, WrongTypesNameTheField) {
  expectDecodeError(R"({"name": 5})", "name");
  expectDecodeError(R"({"name": ["prod-a"]})", "name");
  expectDecodeError(R"({"kind": true})", "kind");
  expectDecodeError(R"({"routing": 1})", "routing");
  expectDecodeError(R"({"segment": {}})", "segment");
  expectDecodeError(R"({"preferred_hub": 7})", "preferred_hub");
  expectDecodeError(R"({"cidrs": "10.1.0.0/16"})", "cidrs");
  expectDecodeError(R"({"cidrs": {"a": "10.1.0.0/16"}})", "cidrs");
  expectDecodeError(R"({"cidrs": ["10.1.0.0/16", 10]})", "cidrs[1]");
  expectDecodeError(R"({"cidrs": [null]})", "cidrs[0]");
  expectDecodeError(R"({"tunnels": {"outside_ip": "198.51.100.10"}})", "tunnels");
  expectDecodeError(R"({"tunnels": ["198.51.100.10"]})", "tunnels[0]");
  expectDecodeError(R"({"tunnels": [{"outside_ip": "198.51.100.10"}, null]})", "tunnels[1]");
  expectDecodeError(R"({"tunnels": [{"outside_ip": 3325256714}]})", "tunnels[0].outside_ip");
  expectDecodeError(R"({"tunnels": [{"outside_ip": "198.51.100.10", "inside_cidr": 30}]})",
                    "tunnels[0].inside_cidr");
  expectDecodeError(
      R"({"tunnels": [{"outside_ip": "198.51.100.10"}, {"outside_ip": "198.51.100.11",
                       "psk": 12345678}]})",
      "tunnels[1].psk");
}

TEST(DecodeSpokeDraft, AsnMustBeAnInteger) {
  expectDecodeError(R"({"asn": "64512"})", "asn");
  expectDecodeError(R"({"asn": 64512.5})", "asn");
  expectDecodeError(R"({"asn": true})", "asn");
  expectDecodeError(R"({"asn": [64512]})", "asn");
  expectDecodeError(R"({"asn": 1e20})", "asn");
  auto whole = decodeText(R"({"asn": 64512.0})");
  ASSERT_TRUE(whole.has_value()) << whole.error().message;
  EXPECT_EQ(whole->asn, 64512);
  auto big = decodeText(R"({"asn": 4294967294})");
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->asn, 4294967294LL);
}

TEST(DecodeSpokeDraft, OutOfRangeAsnIsDecodedAndThenRefusedByValidation) {
  auto draft = decodeText(
      R"({"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": -1,
          "tunnels": [{"outside_ip": "198.51.100.10"}]})");
  ASSERT_TRUE(draft.has_value());
  auto result = validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "asn");
}

TEST(DecodeSpokeDraft, UnknownFieldsAreRefusedByName) {
  expectDecodeError(R"({"name": "prod-a", "colour": "blue"})", "colour");
  expectDecodeError(R"({"psk": "Hub.Secret_Alpha1"})", "psk");
  expectDecodeError(R"({"Name": "prod-a"})", "Name");
  expectDecodeError(R"({"tunnels": [{"outside_ip": "198.51.100.10", "ike_version": 2}]})",
                    "tunnels[0].ike_version");
  expectDecodeError(R"({"tunnels": [{"outside_ip": "198.51.100.10"},
                                    {"outside_ip": "198.51.100.11", "name": "x"}]})",
                    "tunnels[1].name");
}

// Two per hub, four in all: more than four cannot be a spoke (validation counts per hub).
TEST(DecodeSpokeDraft, MoreThanFourTunnelsAreRefused) {
  expectDecodeError(R"({"tunnels": [{"outside_ip": "198.51.100.10"},
                                    {"outside_ip": "198.51.100.11"},
                                    {"outside_ip": "198.51.100.12", "hub": "hub-b"},
                                    {"outside_ip": "198.51.100.13", "hub": "hub-b"},
                                    {"outside_ip": "198.51.100.14", "hub": "hub-b"}]})",
                    "tunnels");
}

TEST(DecodeSpokeDraft, ATunnelNamesItsHubOrNone) {
  auto draft = decodeText(R"({"tunnels": [{"outside_ip": "198.51.100.10"},
                                           {"outside_ip": "198.51.100.11", "hub": null},
                                           {"outside_ip": "198.51.100.12", "hub": "hub-b"}]})");
  ASSERT_TRUE(draft.has_value()) << draft.error().field << ": " << draft.error().message;
  EXPECT_FALSE((*draft->tunnels)[0].hub);
  EXPECT_FALSE((*draft->tunnels)[1].hub);
  EXPECT_EQ((*draft->tunnels)[2].hub, "hub-b");
  expectDecodeError(R"({"tunnels": [{"outside_ip": "198.51.100.10", "hub": 2}]})",
                    "tunnels[0].hub");
}

TEST(EncodeSpokeForApi, EveryTunnelSaysItsHub) {
  Spoke spoke = fullVpcSpoke();
  spoke.tunnels[1].hub = "hub-b";
  const auto o = encodeSpokeForApi(spoke);
  EXPECT_EQ(o.at("tunnels").at(0).at("hub"), "hub-a");
  EXPECT_EQ(o.at("tunnels").at(1).at("hub"), "hub-b");
}

TEST(DecodeSpokeDraft, ComputedFieldsAreAcceptedAndIgnored) {
  auto plain = decodeText(kRequest);
  ASSERT_TRUE(plain.has_value());
  auto with_computed = decodeText(R"({
    "name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16", "172.16.0.0/12"],
    "routing": "bgp", "asn": 64512, "preferred_hub": "hub-a", "segment": "default",
    "generation": 7, "created_at": "2026-11-26T06:30:00Z", "updated_at": "garbage",
    "status": {"state": "applied"},
    "tunnels": [{"outside_ip": "198.51.100.10", "inside_cidr": "169.254.20.0/30",
                 "psk": "Hub.Secret_Alpha1", "hub_inside_ip": "169.254.20.2",
                 "peer_inside_ip": "169.254.20.1", "psk_set": true},
                {"outside_ip": "198.51.100.11", "psk_set": false, "hub_inside_ip": null}]})");
  ASSERT_TRUE(with_computed.has_value())
      << with_computed.error().field << ": " << with_computed.error().message;
  expectSameDraft(*with_computed, *plain);
}

TEST(DecodeSpokeDraft, NullMeansNotGivenForOptionalFields) {
  auto draft = decodeText(R"({
    "name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "asn": 64512,
    "routing": null, "preferred_hub": null, "segment": null,
    "tunnels": [{"outside_ip": "198.51.100.10", "inside_cidr": null, "psk": null}]})");
  ASSERT_TRUE(draft.has_value()) << draft.error().field << ": " << draft.error().message;
  EXPECT_FALSE(draft->routing.has_value());
  EXPECT_FALSE(draft->preferred_hub.has_value());
  EXPECT_FALSE(draft->segment.has_value());
  EXPECT_FALSE((*draft->tunnels)[0].inside_cidr.has_value());
  EXPECT_FALSE((*draft->tunnels)[0].psk.has_value());
  auto result = validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"});
  ASSERT_TRUE(result.has_value()) << result.error().field;
  EXPECT_EQ(result->spoke.routing, RoutingMode::kBgp);
  EXPECT_EQ(result->spoke.segment, "default");
  EXPECT_FALSE(result->spoke.preferred_hub.has_value());
}

TEST(DecodeSpokeDraft, NullAsnOnAStaticSpokeIsNotGiven) {
  auto draft = decodeText(R"({"name": "branch-1", "kind": "site", "cidrs": ["10.50.0.0/16"],
                              "routing": "static", "asn": null,
                              "tunnels": [{"outside_ip": "192.0.2.44"}]})");
  ASSERT_TRUE(draft.has_value());
  EXPECT_FALSE(draft->asn.has_value());
  EXPECT_TRUE(validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"}).has_value());
}

// The field a request is refused at, by decoding or by validation; "" when it is accepted.
std::string refusedField(const json::value& body) {
  auto draft = decodeSpokeDraft(body);
  if (!draft) {
    return draft.error().field;
  }
  auto request = validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"});
  return request ? std::string() : request.error().field;
}

TEST(DecodeSpokeDraft, NullForARequiredFieldIsRefusedAtThatField) {
  ASSERT_EQ(refusedField(json::parse(kRequest)), "");
  for (const std::string_view field : {"name", "kind", "cidrs", "tunnels"}) {
    SCOPED_TRACE(field);
    auto body = json::parse(kRequest).as_object();
    body[field] = nullptr;
    EXPECT_EQ(refusedField(body), field);
  }
  auto body = json::parse(kRequest).as_object();
  body["tunnels"].as_array()[0].as_object()["outside_ip"] = nullptr;
  EXPECT_EQ(refusedField(body), "tunnels[0].outside_ip");
}

TEST(DecodeSpokeDraft, TypeErrorOnAPskDoesNotEchoIt) {
  auto draft = decodeText(R"({"tunnels": [{"outside_ip": "198.51.100.10",
                                           "psk": ["Hub.Secret_Alpha1"]}]})");
  ASSERT_FALSE(draft.has_value());
  EXPECT_EQ(draft.error().field, "tunnels[0].psk");
  EXPECT_EQ(draft.error().message.find(kPskA), std::string::npos);
}

// ---- encodeSpokeForApi ---------------------------------------------------------------------

TEST(EncodeSpokeForApi, NeverContainsAPsk) {
  for (const Spoke& spoke : {fullVpcSpoke(), staticSiteSpoke()}) {
    SCOPED_TRACE(spoke.name);
    const std::string text = json::serialize(encodeSpokeForApi(spoke));
    EXPECT_EQ(text.find(kPskA), std::string::npos) << text;
    EXPECT_EQ(text.find(kPskB), std::string::npos) << text;
    EXPECT_EQ(text.find("\"psk\""), std::string::npos) << text;
  }
}

TEST(EncodeSpokeForApi, TunnelsSayPskSetAndCarryTheInsideAddresses) {
  const auto o = encodeSpokeForApi(fullVpcSpoke());
  const auto& tunnels = o.at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 2U);
  const auto& t0 = tunnels[0].as_object();
  EXPECT_EQ(t0.at("outside_ip"), "198.51.100.10");
  EXPECT_EQ(t0.at("inside_cidr"), "169.254.20.0/30");
  EXPECT_EQ(t0.at("hub_inside_ip"), "169.254.20.2");  // vpc: the hub is the customer gateway
  EXPECT_EQ(t0.at("peer_inside_ip"), "169.254.20.1");
  EXPECT_EQ(t0.at("psk_set"), true);
  const auto& t1 = tunnels[1].as_object();
  EXPECT_EQ(t1.at("hub_inside_ip"), "169.254.20.6");
  EXPECT_EQ(t1.at("peer_inside_ip"), "169.254.20.5");
  EXPECT_EQ(t1.at("psk_set"), true);
}

TEST(EncodeSpokeForApi, SiteTunnelsGiveTheHubTheFirstAddress) {
  const auto o = encodeSpokeForApi(staticSiteSpoke());
  const auto& t0 = o.at("tunnels").as_array().at(0).as_object();
  EXPECT_EQ(t0.at("inside_cidr"), "169.254.200.8/30");
  EXPECT_EQ(t0.at("hub_inside_ip"), "169.254.200.9");
  EXPECT_EQ(t0.at("peer_inside_ip"), "169.254.200.10");
}

TEST(EncodeSpokeForApi, PskSetIsFalseWithoutAKey) {
  auto spoke = fullVpcSpoke();
  spoke.tunnels[1].psk.clear();
  const auto o = encodeSpokeForApi(spoke);
  EXPECT_EQ(o.at("tunnels").as_array().at(0).at("psk_set"), true);
  EXPECT_EQ(o.at("tunnels").as_array().at(1).at("psk_set"), false);
}

TEST(EncodeSpokeForApi, CarriesTheContractFields) {
  const auto o = encodeSpokeForApi(fullVpcSpoke());
  EXPECT_EQ(o.at("name"), "prod-a");
  EXPECT_EQ(o.at("kind"), "vpc");
  EXPECT_EQ(o.at("cidrs"), (json::array{"10.1.0.0/16", "172.16.0.0/12", "192.168.7.0/24"}));
  EXPECT_EQ(o.at("routing"), "bgp");
  EXPECT_EQ(o.at("asn").to_number<std::uint64_t>(), 4294967294U);
  EXPECT_EQ(o.at("preferred_hub"), "hub-b");
  EXPECT_EQ(o.at("segment"), "prod");
  EXPECT_EQ(o.at("generation").to_number<std::uint64_t>(), 42U);
  EXPECT_EQ(o.at("created_at"), "2026-11-26T06:30:00Z");
  EXPECT_EQ(o.at("updated_at"), "2026-11-27T23:59:59Z");
}

TEST(EncodeSpokeForApi, AbsentOptionalFieldsAreNull) {
  const auto o = encodeSpokeForApi(staticSiteSpoke());
  EXPECT_EQ(o.at("kind"), "site");
  EXPECT_EQ(o.at("routing"), "static");
  EXPECT_TRUE(o.at("asn").is_null());
  EXPECT_TRUE(o.at("preferred_hub").is_null());
  EXPECT_EQ(o.at("segment"), "default");
}

TEST(EncodeSpokeForApi, WhatGetReturnsCanBePutBack) {
  for (const Spoke& spoke : {fullVpcSpoke(), staticSiteSpoke()}) {
    SCOPED_TRACE(spoke.name);
    auto draft = decodeSpokeDraft(json::parse(json::serialize(encodeSpokeForApi(spoke))));
    ASSERT_TRUE(draft.has_value()) << draft.error().field << ": " << draft.error().message;
    auto request = validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"});
    ASSERT_TRUE(request.has_value()) << request.error().field << ": " << request.error().message;
    EXPECT_EQ(request->spoke.name, spoke.name);
    EXPECT_EQ(request->spoke.kind, spoke.kind);
    EXPECT_EQ(request->spoke.cidrs, spoke.cidrs);
    EXPECT_EQ(request->spoke.routing, spoke.routing);
    EXPECT_EQ(request->spoke.asn, spoke.asn);
    EXPECT_EQ(request->spoke.preferred_hub, spoke.preferred_hub);
    EXPECT_EQ(request->spoke.segment, spoke.segment);
    ASSERT_EQ(request->tunnels.size(), spoke.tunnels.size());
    for (std::size_t i = 0; i < spoke.tunnels.size(); ++i) {
      EXPECT_EQ(request->tunnels[i].outside_ip, spoke.tunnels[i].outside_ip);
      EXPECT_EQ(request->tunnels[i].inside_cidr, spoke.tunnels[i].inside_cidr);
      EXPECT_FALSE(request->tunnels[i].psk.has_value());  // kept by the hub on PUT
    }
  }
}

// ---- formatTimestamp -----------------------------------------------------------------------

TEST(FormatTimestamp, IsRfc3339UtcWithSecondPrecision) {
  EXPECT_EQ(formatTimestamp(at(2026, 11, 26, 6, 30, 0)), "2026-11-26T06:30:00Z");
  EXPECT_EQ(formatTimestamp(std::chrono::sys_seconds{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatTimestamp(at(2024, 2, 29, 23, 59, 59)), "2024-02-29T23:59:59Z");
}

// Sets TZ for the life of the object and restores it afterwards.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) {
      old_ = old;
    }
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST(FormatTimestamp, IsUtcWhateverTheHostsTimeZone) {
  // A hub whose host runs in another zone must still publish UTC ("Z") times.
  const ScopedTimeZone zone("EST5");  // POSIX spelling: UTC-5, no tz database needed
  EXPECT_EQ(formatTimestamp(at(2026, 11, 26, 6, 30, 0)), "2026-11-26T06:30:00Z");
  EXPECT_EQ(encodeSpokeForApi(fullVpcSpoke()).at("created_at"), "2026-11-26T06:30:00Z");
}

}  // namespace
}  // namespace transit::peers

namespace transit::peers {
namespace {

// Computed fields are ignored only where GET puts them: a tunnel field at the spoke's level (or
// the reverse) is a client mistake and is named.
TEST(SpokeDraftDecoding, ComputedFieldsAreIgnoredOnlyAtTheirOwnLevel) {
  auto top = decodeSpokeDraft(boost::json::parse(R"({"name": "a", "psk_set": true})"));
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().field, "psk_set");
  auto tunnel = decodeSpokeDraft(
      boost::json::parse(R"({"tunnels": [{"outside_ip": "198.51.100.1", "generation": 3}]})"));
  ASSERT_FALSE(tunnel.has_value());
  EXPECT_EQ(tunnel.error().field, "tunnels[0].generation");
  auto ok = decodeSpokeDraft(boost::json::parse(
      R"({"generation": 3, "tunnels": [{"outside_ip": "198.51.100.1", "psk_set": true}]})"));
  EXPECT_TRUE(ok.has_value());
}

}  // namespace
}  // namespace transit::peers
