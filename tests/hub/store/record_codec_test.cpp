// The stored record of a spoke (hub/store/record_codec.hpp): round-trips every field, keeps the
// PSKs, carries its version, and reports a damaged or newer record without echoing a PSK.
#include "hub/store/record_codec.hpp"
#include "hub/store/audit.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>
#include <string>
#include <string_view>

#include "tests/peers/model/spoke_fixtures.hpp"

namespace transit::hub {
namespace {

namespace json = boost::json;
using namespace peers::testing;
using peers::Spoke;
using peers::SpokeKind;

// ---- stored form ---------------------------------------------------------------------------

TEST(StoredSpoke, RoundTripsEveryFieldOfAFullSpoke) {
  const Spoke spoke = fullVpcSpoke();
  auto decoded = decodeSpokeRecord(encodeSpokeRecord(spoke), "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(*decoded, spoke);
}

TEST(StoredSpoke, RoundTripsAStaticSpokeWithoutOptionalFields) {
  const Spoke spoke = staticSiteSpoke();
  auto decoded = decodeSpokeRecord(encodeSpokeRecord(spoke), "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(*decoded, spoke);
}

TEST(StoredSpoke, RoundTripsThroughSerializedText) {
  for (const Spoke& spoke : {fullVpcSpoke(), staticSiteSpoke()}) {
    SCOPED_TRACE(spoke.name);
    const std::string text = json::serialize(encodeSpokeRecord(spoke));
    auto decoded = decodeSpokeRecord(json::parse(text), "hub-a");
    ASSERT_TRUE(decoded.has_value()) << decoded.error();
    EXPECT_EQ(*decoded, spoke);
  }
}

TEST(StoredSpoke, RoundTripsExtremeValues) {
  Spoke spoke = fullVpcSpoke();
  spoke.asn = 7224U;
  spoke.generation = std::numeric_limits<std::uint64_t>::max();
  spoke.route_tag = std::numeric_limits<std::uint32_t>::max();
  spoke.created_at = at(1999, 12, 31, 23, 59, 59);
  spoke.updated_at = at(2106, 2, 7, 6, 28, 16);  // past 32-bit unsigned time
  spoke.tunnels[0].psk = std::string(64, 'Z');
  spoke.tunnels[1].psk = "_.a1B2c3";
  for (int i = 0; i < 100 - 3; ++i) {
    spoke.cidrs.push_back(pfx("10.200." + std::to_string(i) + ".0/24"));
  }
  const std::string text = json::serialize(encodeSpokeRecord(spoke));
  auto decoded = decodeSpokeRecord(json::parse(text), "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(*decoded, spoke);
}

TEST(StoredSpoke, StoredFormKeepsThePsks) {
  const auto o = encodeSpokeRecord(fullVpcSpoke());
  EXPECT_EQ(json::value_to<std::string>(o.at("tunnels").as_array().at(0).at("psk")), kPskA);
  EXPECT_EQ(json::value_to<std::string>(o.at("tunnels").as_array().at(1).at("psk")), kPskB);
}

// A stored record of fullVpcSpoke() for the damage tests to break.
json::object storedRecord() { return encodeSpokeRecord(fullVpcSpoke()); }

json::object& storedTunnel(json::object& record, std::size_t i) {
  return record.at("tunnels").as_array().at(i).as_object();
}

void expectDamaged(const json::value& record, std::string_view what) {
  SCOPED_TRACE(what);
  auto decoded = decodeSpokeRecord(record, "hub-a");
  ASSERT_FALSE(decoded.has_value()) << "damaged record was loaded";
  EXPECT_FALSE(decoded.error().empty());
  EXPECT_EQ(decoded.error().find(kPskA), std::string::npos) << decoded.error();
  EXPECT_EQ(decoded.error().find(kPskB), std::string::npos) << decoded.error();
}

TEST(StoredSpoke, RecordThatIsNotAnObjectIsReported) {
  expectDamaged(json::array{}, "array");
  expectDamaged(json::value("prod-a"), "string");
  expectDamaged(json::value(nullptr), "null");
}

TEST(StoredSpoke, MissingOrMistypedBookkeepingIsReported) {
  for (const std::string_view key : {"generation", "created_at", "updated_at"}) {
    auto missing = storedRecord();
    missing.erase(key);
    expectDamaged(missing, std::string("missing ") + std::string(key));
    auto text = storedRecord();
    text[key] = "42";
    expectDamaged(text, std::string(key) + " as a string");
    auto fraction = storedRecord();
    fraction[key] = 1.5;
    expectDamaged(fraction, std::string(key) + " as a fraction");
    auto null = storedRecord();
    null[key] = nullptr;
    expectDamaged(null, std::string(key) + " as null");
    auto boolean = storedRecord();
    boolean[key] = true;
    expectDamaged(boolean, std::string(key) + " as a boolean");
  }
  auto negative = storedRecord();
  negative["generation"] = -1;
  expectDamaged(negative, "negative generation");
}

TEST(StoredSpoke, MissingPskOrInsideCidrIsReported) {
  auto no_psk = storedRecord();
  storedTunnel(no_psk, 1).erase("psk");
  expectDamaged(no_psk, "tunnel without psk");
  auto null_psk = storedRecord();
  storedTunnel(null_psk, 0)["psk"] = nullptr;
  expectDamaged(null_psk, "tunnel with null psk");
  auto no_inside = storedRecord();
  storedTunnel(no_inside, 0).erase("inside_cidr");
  expectDamaged(no_inside, "tunnel without inside_cidr");
}

TEST(StoredSpoke, InvalidValuesAreReportedWithoutEchoingAPsk) {
  auto bad_psk = storedRecord();
  storedTunnel(bad_psk, 0)["psk"] = "0Hub.Secret_Alpha1";
  expectDamaged(bad_psk, "psk starting with 0");
  auto decoded = decodeSpokeRecord(bad_psk, "hub-a");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().find("0Hub.Secret_Alpha1"), std::string::npos) << decoded.error();

  auto short_psk = storedRecord();
  storedTunnel(short_psk, 1)["psk"] = "Sh.0rt";
  expectDamaged(short_psk, "short psk");
  decoded = decodeSpokeRecord(short_psk, "hub-a");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().find("Sh.0rt"), std::string::npos) << decoded.error();

  auto host_bits = storedRecord();
  host_bits["cidrs"].as_array()[1] = "172.16.0.1/12";
  expectDamaged(host_bits, "cidr with host bits");

  auto bad_inside = storedRecord();
  storedTunnel(bad_inside, 0)["inside_cidr"] = "169.254.169.252/30";
  expectDamaged(bad_inside, "reserved inside cidr");

  auto bad_name = storedRecord();
  bad_name["name"] = "Prod_A";
  expectDamaged(bad_name, "bad name");

  auto bad_kind = storedRecord();
  bad_kind["kind"] = "tgw";
  expectDamaged(bad_kind, "bad kind");

  auto bad_asn = storedRecord();
  bad_asn["asn"] = "64512";
  expectDamaged(bad_asn, "asn as a string");

  auto no_tunnels = storedRecord();
  no_tunnels["tunnels"] = json::array{};
  expectDamaged(no_tunnels, "no tunnels");
}

TEST(StoredSpoke, UnknownFieldsAreReported) {
  auto top = storedRecord();
  top["future_field"] = 1;
  expectDamaged(top, "unknown top-level field");
  auto tunnel = storedRecord();
  storedTunnel(tunnel, 0)["future_field"] = "x";
  expectDamaged(tunnel, "unknown tunnel field");
}

TEST(StoredSpoke, ARecordSaysItsVersion) { EXPECT_EQ(storedRecord().at("v"), kRecordVersion); }

TEST(StoredSpoke, ARecordWrittenBeforeTheVersionFieldIsVersionOne) {
  auto record = storedRecord();
  record.erase("v");
  record.erase("route_tag");
  auto decoded = decodeSpokeRecord(record, "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  Spoke expected = fullVpcSpoke();
  expected.route_tag = 0;  // version 1 had none: the registry allocates one on load
  EXPECT_EQ(*decoded, expected);
}

TEST(StoredSpoke, AVersionOneRecordHasNoRouteTagYet) {
  auto record = storedRecord();
  record["v"] = 1;
  record.erase("route_tag");
  auto decoded = decodeSpokeRecord(record, "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->route_tag, 0U);
  EXPECT_EQ(decoded->name, "prod-a");
}

TEST(StoredSpoke, FromVersionTwoTheRouteTagIsStoredAndRequired) {
  EXPECT_EQ(storedRecord().at("route_tag"), 7);
  auto missing = storedRecord();
  missing.erase("route_tag");
  expectDamaged(missing, "v2 without route_tag");
  auto decoded = decodeSpokeRecord(missing, "hub-a");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().find("missing route_tag"), std::string::npos) << decoded.error();
  for (const json::value& bad : {json::value(-1), json::value("7"), json::value(7.5),
                                 json::value(nullptr), json::value(std::int64_t{1} << 32)}) {
    auto record = storedRecord();
    record["route_tag"] = bad;
    expectDamaged(record, "route_tag = " + json::serialize(bad));
  }
}

TEST(StoredSpoke, ANewerRecordIsRefusedNamingItsVersion) {
  auto record = storedRecord();
  record["v"] = kRecordVersion + 1;
  auto decoded = decodeSpokeRecord(record, "hub-a");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().find("record version 4 is newer"), std::string::npos)
      << decoded.error();
  for (const json::value& bad :
       {json::value(0), json::value("1"), json::value(1.5), json::value(nullptr)}) {
    record["v"] = bad;
    expectDamaged(record, "v = " + json::serialize(bad));
  }
}

// ---- tunnels per hub (record version 3) ---------------------------------------------------

// A single hub wrote every record older than version 3: its tunnels are the loading hub's, and
// the spoke loads exactly as it was.
TEST(StoredSpoke, AVersionTwoRecordWithoutHubsLoadsAsTheLocalHubs) {
  auto record = storedRecord();
  record["v"] = 2;
  for (std::size_t i = 0; i < 2; ++i) storedTunnel(record, i).erase("hub");
  auto decoded = decodeSpokeRecord(record, "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(*decoded, fullVpcSpoke());
  decoded = decodeSpokeRecord(record, "hub-b");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->tunnels.at(0).hub, "hub-b");
  EXPECT_EQ(decoded->tunnels.at(1).hub, "hub-b");
  // A store that knows no local hub cannot tell whose they are, and says so.
  decoded = decodeSpokeRecord(record, "");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().find("tunnels[0].hub"), std::string::npos) << decoded.error();
}

TEST(StoredSpoke, FromVersionThreeEveryTunnelNamesItsHub) {
  EXPECT_EQ(storedRecord().at("v"), 3);
  auto missing = storedRecord();
  storedTunnel(missing, 1).erase("hub");
  expectDamaged(missing, "v3 tunnel without hub");
  auto bad = storedRecord();
  storedTunnel(bad, 0)["hub"] = "Hub_A";
  expectDamaged(bad, "v3 tunnel with a malformed hub");
}

// Four tunnels, two on each hub, whatever this hub's pair configuration says now.
TEST(StoredSpoke, RoundTripsTunnelsOnBothHubs) {
  Spoke spoke = fullVpcSpoke();
  spoke.tunnels.push_back(
      {addr("198.51.100.10"), pfx("169.254.21.0/30"), "TheThirdKey_3", "hub-b"});
  spoke.tunnels.push_back(
      {addr("198.51.100.12"), pfx("169.254.21.4/30"), "TheFourthKey_4", "hub-b"});
  auto decoded = decodeSpokeRecord(encodeSpokeRecord(spoke), "hub-c");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(*decoded, spoke);
}

TEST(StoredSpoke, TunnelOptionsAreKept) {
  Spoke spoke = fullVpcSpoke();
  spoke.tunnel_options.phase1.dh_groups = {21};
  spoke.tunnel_options.dpd_timeout_seconds = 60;
  auto decoded = decodeSpokeRecord(encodeSpokeRecord(spoke), "hub-a");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->tunnel_options, spoke.tunnel_options);
}

}  // namespace
}  // namespace transit::hub

namespace transit::hub {
namespace {

constexpr std::string_view kAuditRecord =
    R"({"at":1795000000123,"hub":"hub-a","actor":"ops","request_id":"r-1","action":"replace",)"
    R"("spoke":"prod-a","generation":2,"changes":[{"field":"cidrs[0]","before":"10.1.0.0/16",)"
    R"("after":"10.2.0.0/16"},{"field":"tunnels[1]","before":null,"after":{"hub":"hub-b"},)"
    R"("added":true},{"field":"tunnels[0].psk","secret":true}]})";

TEST(StoredAuditRecord, RoundTripsThroughItsText) {
  auto record = decodeAuditRecord(kAuditRecord);
  ASSERT_TRUE(record.has_value()) << record.error();
  EXPECT_EQ(record->changes.size(), 3U);
  EXPECT_FALSE(record->changes[1].before.has_value());  // added: absent, not null
  EXPECT_TRUE(record->changes[2].secret);
  auto again = decodeAuditRecord(encodeAuditRecord(*record));
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(*again, *record);
}

// Found by fuzzing the stored record: 1e999 reads as infinity, which Boost.JSON writes as
// `Infinity` (not JSON), so GET /v1/audit would have answered a body no client can parse.
TEST(StoredAuditRecord, ANumberThatIsNotFiniteMakesTheRecordUnreadable) {
  std::string text(kAuditRecord);
  text.replace(text.find(R"("hub-b")"), 7, "1e999");
  const auto record = decodeAuditRecord(text);
  ASSERT_FALSE(record.has_value());
  EXPECT_EQ(record.error(), "changes: a value is not a finite number");
}

}  // namespace
}  // namespace transit::hub
