// Tests for peers/model/spoke_validation.hpp (and the inside-address rule of
// peers/model/spoke.hpp): every rule a spoke request must follow, with at least one accepted and
// one refused value each. A refusal must name the exact field path and must never echo a PSK.
#include "peers/model/spoke_validation.hpp"
#include "tests/routing/base/prefix_helpers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/spoke.hpp"
#include "routing/base/prefix.hpp"

namespace transit::peers {
namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;

constexpr std::string_view kPskA = "Hub.Secret_Alpha1";
constexpr std::string_view kPskB = "Hub.Secret_Bravo2";
constexpr std::uint32_t kHubAsn = 65000;

using routing::test::addr;
using routing::test::pfx;

ValidationContext hubContext() {
  return ValidationContext{kHubAsn, {addr("203.0.113.1"), addr("10.0.0.5")}, "hub-a"};
}

TunnelDraft tunnelDraft(std::string outside, std::optional<std::string> inside,
                        std::optional<std::string> psk) {
  return TunnelDraft{std::move(outside), std::move(inside), std::move(psk)};
}

// A draft every rule accepts: a vpc spoke with two tunnels, inside CIDRs and PSKs given.
SpokeDraft validVpcDraft() {
  SpokeDraft d;
  d.name = "prod-a";
  d.kind = "vpc";
  d.cidrs = std::vector<std::string>{"10.1.0.0/16"};
  d.asn = 64512;
  d.tunnels =
      std::vector<TunnelDraft>{tunnelDraft("198.51.100.10", "169.254.20.0/30", std::string(kPskA)),
                               tunnelDraft("198.51.100.11", "169.254.20.4/30", std::string(kPskB))};
  return d;
}

SpokeDraft validSiteDraft() {
  SpokeDraft d = validVpcDraft();
  d.name = "branch-1";
  d.kind = "site";
  d.asn = 65010;
  return d;
}

void expectAccepted(const SpokeDraft& draft) {
  auto result = validateSpoke(draft, hubContext());
  EXPECT_TRUE(result.has_value()) << result.error().field << ": " << result.error().message;
}

// Asserts that validation refuses `draft` at exactly `field`, with a message that names no PSK.
void expectRejected(const SpokeDraft& draft, std::string_view field, std::string_view secret = "") {
  auto result = validateSpoke(draft, hubContext());
  ASSERT_FALSE(result.has_value()) << "accepted; expected a refusal at " << field;
  EXPECT_EQ(result.error().field, field) << result.error().message;
  EXPECT_FALSE(result.error().message.empty());
  EXPECT_EQ(result.error().message.find(kPskA), std::string::npos) << result.error().message;
  EXPECT_EQ(result.error().message.find(kPskB), std::string::npos) << result.error().message;
  if (!secret.empty()) {
    EXPECT_EQ(result.error().message.find(secret), std::string::npos) << result.error().message;
    EXPECT_EQ(result.error().field.find(secret), std::string::npos);
  }
}

// ---- the whole request ---------------------------------------------------------------------

TEST(ValidateSpoke, AcceptsAValidVpcSpokeAndKeepsEveryField) {
  auto draft = validVpcDraft();
  draft.preferred_hub = "hub-a";
  draft.segment = "prod";
  draft.cidrs = std::vector<std::string>{"10.1.0.0/16", "172.16.0.0/12"};
  auto result = validateSpoke(draft, hubContext());
  ASSERT_TRUE(result.has_value()) << result.error().field << ": " << result.error().message;
  const Spoke& s = result->spoke;
  EXPECT_EQ(s.name, "prod-a");
  EXPECT_EQ(s.kind, SpokeKind::kVpc);
  EXPECT_EQ(s.cidrs, (std::vector<Ipv4Prefix>{pfx("10.1.0.0/16"), pfx("172.16.0.0/12")}));
  EXPECT_EQ(s.routing, RoutingMode::kBgp);
  EXPECT_EQ(s.asn, std::optional<std::uint32_t>(64512));
  EXPECT_EQ(s.preferred_hub, std::optional<std::string>("hub-a"));
  EXPECT_EQ(s.segment, "prod");
  EXPECT_TRUE(s.tunnels.empty());
  ASSERT_EQ(result->tunnels.size(), 2U);
  EXPECT_EQ(result->tunnels[0].outside_ip, addr("198.51.100.10"));
  EXPECT_EQ(result->tunnels[0].inside_cidr, std::optional<Ipv4Prefix>(pfx("169.254.20.0/30")));
  EXPECT_EQ(result->tunnels[0].psk, std::optional<std::string>(kPskA));
  EXPECT_EQ(result->tunnels[1].outside_ip, addr("198.51.100.11"));
  EXPECT_EQ(result->tunnels[1].inside_cidr, std::optional<Ipv4Prefix>(pfx("169.254.20.4/30")));
  EXPECT_EQ(result->tunnels[1].psk, std::optional<std::string>(kPskB));
}

TEST(ValidateSpoke, DefaultsRoutingToBgpAndSegmentToDefault) {
  auto draft = validVpcDraft();
  draft.routing.reset();
  draft.segment.reset();
  auto result = validateSpoke(draft, hubContext());
  ASSERT_TRUE(result.has_value()) << result.error().field;
  EXPECT_EQ(result->spoke.routing, RoutingMode::kBgp);
  EXPECT_EQ(result->spoke.segment, "default");
  EXPECT_FALSE(result->spoke.preferred_hub.has_value());
}

TEST(ValidateSpoke, LeavesMissingInsideCidrAndPskForTheHubToFill) {
  auto draft = validVpcDraft();
  draft.tunnels =
      std::vector<TunnelDraft>{tunnelDraft("198.51.100.10", std::nullopt, std::nullopt)};
  auto result = validateSpoke(draft, hubContext());
  ASSERT_TRUE(result.has_value()) << result.error().field;
  ASSERT_EQ(result->tunnels.size(), 1U);
  EXPECT_FALSE(result->tunnels[0].inside_cidr.has_value());
  EXPECT_FALSE(result->tunnels[0].psk.has_value());
}

// ---- name ----------------------------------------------------------------------------------

TEST(ValidateSpoke, NameIsRequired) {
  auto draft = validVpcDraft();
  draft.name.reset();
  expectRejected(draft, "name");
}

TEST(CheckName, AcceptsShortLowercaseIdentifiers) {
  const std::string_view good[] = {"a",
                                   "prod-a",
                                   "a1-b2",
                                   "x9",
                                   "hub-b",
                                   "default",
                                   "abcdefghijklmnopqrstuvwxyz012345"};  // 32 characters
  for (const auto name : good) {
    SCOPED_TRACE(name);
    EXPECT_EQ(checkName(name), std::nullopt);
    auto draft = validVpcDraft();
    draft.name = std::string(name);
    expectAccepted(draft);
  }
}

TEST(CheckName, RefusesAnythingElseAtFieldName) {
  const std::string_view bad[] = {
      "",                                   // empty
      "abcdefghijklmnopqrstuvwxyz0123456",  // 33 characters
      "Prod-a",                             // uppercase
      "prod-A",                             //
      "1prod",                              // starts with a digit
      "-prod",                              // starts with '-'
      "prod-",                              // ends with '-'
      "prod--a",                            // "--"
      "prod_a",                             // other characters
      "prod.a",                             //
      "prod a",                             //
      " prod",                              //
      "prod/a",                             //
      "pr\u00f6d",                          // non-ASCII
  };
  for (const auto name : bad) {
    SCOPED_TRACE(std::string("\"") + std::string(name) + "\"");
    EXPECT_NE(checkName(name), std::nullopt);
    auto draft = validVpcDraft();
    draft.name = std::string(name);
    expectRejected(draft, "name");
  }
}

// ---- kind ----------------------------------------------------------------------------------

TEST(ValidateSpoke, KindIsRequired) {
  auto draft = validVpcDraft();
  draft.kind.reset();
  expectRejected(draft, "kind");
}

TEST(ValidateSpoke, KindIsVpcOrSite) {
  auto vpc = validVpcDraft();
  auto result = validateSpoke(vpc, hubContext());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->spoke.kind, SpokeKind::kVpc);
  auto site = validSiteDraft();
  result = validateSpoke(site, hubContext());
  ASSERT_TRUE(result.has_value()) << result.error().field;
  EXPECT_EQ(result->spoke.kind, SpokeKind::kSite);

  for (const std::string_view kind : {"VPC", "Site", "tgw", "", " vpc"}) {
    SCOPED_TRACE(kind);
    auto draft = validVpcDraft();
    draft.kind = std::string(kind);
    expectRejected(draft, "kind");
  }
}

// ---- cidrs ---------------------------------------------------------------------------------

TEST(ValidateSpoke, CidrsAreRequiredAndNotEmpty) {
  auto draft = validVpcDraft();
  draft.cidrs.reset();
  expectRejected(draft, "cidrs");
  draft.cidrs = std::vector<std::string>{};
  expectRejected(draft, "cidrs");
}

TEST(ValidateSpoke, AcceptsUpToOneHundredCidrsButNotMore) {
  auto draft = validVpcDraft();
  std::vector<std::string> cidrs;
  for (int i = 0; i < 100; ++i) {
    cidrs.push_back("10.200." + std::to_string(i) + ".0/24");
  }
  draft.cidrs = cidrs;
  expectAccepted(draft);
  cidrs.push_back("10.200.100.0/24");
  draft.cidrs = cidrs;
  expectRejected(draft, "cidrs");
}

TEST(ValidateSpoke, MalformedCidrIsRefusedAtItsIndex) {
  for (const std::string_view bad :
       {"10.2.0.0", "10.2.0.0/33", "10.02.0.0/16", "10.2.0.0/ 16", "banana", ""}) {
    SCOPED_TRACE(bad);
    auto draft = validVpcDraft();
    draft.cidrs = std::vector<std::string>{"10.1.0.0/16", std::string(bad)};
    expectRejected(draft, "cidrs[1]");
  }
}

TEST(ValidateSpoke, CidrWithHostBitsIsRefusedNamingTheCanonicalPrefix) {
  auto draft = validVpcDraft();
  draft.cidrs = std::vector<std::string>{"10.1.2.0/16"};
  auto result = validateSpoke(draft, hubContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "cidrs[0]");
  EXPECT_NE(result.error().message.find("10.1.0.0/16"), std::string::npos)
      << result.error().message;
}

TEST(ValidateSpoke, CidrsInSpecialPurposeSpaceAreRefused) {
  for (const std::string_view bad :
       {"0.0.0.0/8", "127.0.0.0/8", "127.1.0.0/16", "169.254.0.0/16", "169.254.20.0/30",
        "224.0.0.0/4", "239.1.0.0/16", "240.0.0.0/4", "255.255.255.255/32"}) {
    SCOPED_TRACE(bad);
    auto draft = validVpcDraft();
    draft.cidrs = std::vector<std::string>{std::string(bad)};
    expectRejected(draft, "cidrs[0]");
  }
}

TEST(ValidateSpoke, CidrsBroaderThanSlashEightAreRefused) {
  for (const std::string_view bad : {"0.0.0.0/0", "10.0.0.0/7", "64.0.0.0/2"}) {
    SCOPED_TRACE(bad);
    auto draft = validVpcDraft();
    draft.cidrs = std::vector<std::string>{std::string(bad)};
    expectRejected(draft, "cidrs[0]");
  }
  auto draft = validVpcDraft();
  draft.cidrs =
      std::vector<std::string>{"10.0.0.0/8", "192.168.1.0/24", "100.64.0.0/10", "198.51.100.7/32"};
  expectAccepted(draft);
}

TEST(ValidateSpoke, OverlappingCidrsOfOneSpokeAreRefusedAtTheLaterOne) {
  auto draft = validVpcDraft();
  draft.cidrs = std::vector<std::string>{"10.1.0.0/16", "192.168.0.0/16", "10.1.128.0/17"};
  expectRejected(draft, "cidrs[2]");
  draft.cidrs = std::vector<std::string>{"10.1.0.0/16", "10.0.0.0/8"};
  expectRejected(draft, "cidrs[1]");
  draft.cidrs = std::vector<std::string>{"10.1.0.0/16", "10.1.0.0/16"};
  expectRejected(draft, "cidrs[1]");
  draft.cidrs = std::vector<std::string>{"10.0.0.0/16", "10.1.0.0/16"};  // adjacent is fine
  expectAccepted(draft);
}

// ---- routing and asn -----------------------------------------------------------------------

TEST(ValidateSpoke, RoutingIsBgpOrStatic) {
  auto draft = validVpcDraft();
  draft.routing = "bgp";
  expectAccepted(draft);
  draft.routing = "static";
  draft.asn.reset();
  auto result = validateSpoke(draft, hubContext());
  ASSERT_TRUE(result.has_value()) << result.error().field;
  EXPECT_EQ(result->spoke.routing, RoutingMode::kStatic);
  EXPECT_FALSE(result->spoke.asn.has_value());
  for (const std::string_view bad : {"ospf", "BGP", "Static", ""}) {
    SCOPED_TRACE(bad);
    draft.routing = std::string(bad);
    expectRejected(draft, "routing");
  }
}

TEST(ValidateSpoke, AsnIsRequiredForBgp) {
  auto draft = validVpcDraft();
  draft.asn.reset();
  expectRejected(draft, "asn");
  draft.routing = "bgp";
  expectRejected(draft, "asn");
}

TEST(ValidateSpoke, LimitsDefaultByRoutingModeAndCanBeSet) {
  auto draft = validVpcDraft();
  auto bgp = validateSpoke(draft, ValidationContext{0, {}, "hub-a"});
  ASSERT_TRUE(bgp);
  EXPECT_FALSE(bgp->spoke.export_limit);
  EXPECT_EQ(effectiveExportLimit(bgp->spoke), 100u);  // AWS drops a VGW session above 100
  EXPECT_EQ(effectiveImportLimit(bgp->spoke), kDefaultImportLimit);

  draft.routing = "static";
  draft.asn.reset();
  auto fixed = validateSpoke(draft, ValidationContext{0, {}, "hub-a"});
  ASSERT_TRUE(fixed);
  EXPECT_EQ(effectiveExportLimit(fixed->spoke), 50u);

  draft.export_limit = 20;
  auto set = validateSpoke(draft, ValidationContext{0, {}, "hub-a"});
  ASSERT_TRUE(set);
  EXPECT_EQ(effectiveExportLimit(set->spoke), 20u);
}

TEST(ValidateSpoke, LimitsOutOfRangeAreRefused) {
  for (const std::int64_t bad : {0LL, -1LL, 10001LL}) {
    auto draft = validVpcDraft();
    draft.export_limit = bad;
    expectRejected(draft, "export_limit");
  }
  for (const std::int64_t bad : {0LL, 1000001LL}) {
    auto draft = validVpcDraft();
    draft.import_limit = bad;
    expectRejected(draft, "import_limit");
  }
  auto fixed = validVpcDraft();
  fixed.routing = "static";
  fixed.asn.reset();
  fixed.import_limit = 500;  // nothing is imported from a static spoke
  expectRejected(fixed, "import_limit");
}

TEST(ValidateSpoke, AsnIsRefusedForStaticRouting) {
  auto draft = validVpcDraft();
  draft.routing = "static";
  draft.asn = 64512;
  expectRejected(draft, "asn");
  auto site = validSiteDraft();
  site.routing = "static";
  expectRejected(site, "asn");
}

TEST(ValidateSpoke, VpcAsnMustBeAVgwAsn) {
  const std::int64_t good[] = {64512,        64513, 65001, 65534, 4200000000LL,
                               4294967294LL, 7224,  9059,  10124, 17493};
  for (const auto asn : good) {
    SCOPED_TRACE(asn);
    EXPECT_EQ(checkSpokeAsn(SpokeKind::kVpc, asn), std::nullopt);
    auto draft = validVpcDraft();
    draft.asn = asn;
    expectAccepted(draft);
  }
  const std::int64_t bad[] = {
      0,    -1,  1,     64511,        65535, 4199999999LL, 4294967295LL, 4294967296LL,
      7225, 100, 23456, 2147483647LL, -64512};
  for (const auto asn : bad) {
    SCOPED_TRACE(asn);
    EXPECT_NE(checkSpokeAsn(SpokeKind::kVpc, asn), std::nullopt);
    auto draft = validVpcDraft();
    draft.asn = asn;
    expectRejected(draft, "asn");
  }
}

TEST(ValidateSpoke, SiteAsnMustBeACustomerGatewayAsn) {
  const std::int64_t good[] = {1, 100, 7224, 64512, 65001, 65534, 65536, 2147483647LL};
  for (const auto asn : good) {
    SCOPED_TRACE(asn);
    EXPECT_EQ(checkSpokeAsn(SpokeKind::kSite, asn), std::nullopt);
    auto draft = validSiteDraft();
    draft.asn = asn;
    expectAccepted(draft);
  }
  const std::int64_t bad[] = {0, -1, 2147483648LL, 4200000000LL, 4294967294LL, 4294967296LL};
  for (const auto asn : bad) {
    SCOPED_TRACE(asn);
    EXPECT_NE(checkSpokeAsn(SpokeKind::kSite, asn), std::nullopt);
    auto draft = validSiteDraft();
    draft.asn = asn;
    expectRejected(draft, "asn");
  }
}

TEST(ValidateSpoke, AsnEqualToTheHubsIsRefused) {
  auto site = validSiteDraft();
  site.asn = kHubAsn;
  expectRejected(site, "asn");
  site.asn = kHubAsn + 1;
  expectAccepted(site);

  ValidationContext context = hubContext();
  context.hub_asn = 64512;
  auto vpc = validVpcDraft();
  vpc.asn = 64512;
  auto result = validateSpoke(vpc, context);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "asn");
}

TEST(CheckHubAsn, FollowsTheCustomerGatewayRange) {
  for (const std::int64_t asn : {1LL, 65000LL, 64512LL, 2147483647LL}) {
    SCOPED_TRACE(asn);
    EXPECT_EQ(checkHubAsn(asn), std::nullopt);
  }
  for (const std::int64_t asn : {0LL, -1LL, 2147483648LL, 4200000000LL, 4294967294LL}) {
    SCOPED_TRACE(asn);
    EXPECT_NE(checkHubAsn(asn), std::nullopt);
  }
}

// ---- preferred_hub and segment -------------------------------------------------------------

TEST(ValidateSpoke, PreferredHubIsOptionalAndMustBeAName) {
  auto draft = validVpcDraft();
  draft.preferred_hub = "hub-b";
  expectAccepted(draft);
  for (const std::string_view bad : {"", "Hub-A", "hub_a", "hub-", "-hub"}) {
    SCOPED_TRACE(bad);
    draft.preferred_hub = std::string(bad);
    expectRejected(draft, "preferred_hub");
  }
}

TEST(ValidateSpoke, SegmentMustBeAName) {
  auto draft = validVpcDraft();
  draft.segment = "shared-services";
  auto result = validateSpoke(draft, hubContext());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->spoke.segment, "shared-services");
  for (const std::string_view bad : {"", "Prod", "prod_1", "9prod", "a--b"}) {
    SCOPED_TRACE(bad);
    draft.segment = std::string(bad);
    expectRejected(draft, "segment");
  }
}

// ---- tunnels -------------------------------------------------------------------------------

TEST(ValidateSpoke, OneOrTwoTunnelsOnASingleHub) {
  auto draft = validVpcDraft();
  draft.tunnels->pop_back();
  expectAccepted(draft);

  draft.tunnels.reset();
  expectRejected(draft, "tunnels");
  draft.tunnels = std::vector<TunnelDraft>{};
  expectRejected(draft, "tunnels");
  draft = validVpcDraft();
  draft.tunnels->push_back(tunnelDraft("198.51.100.12", "169.254.20.8/30", "Hub.Secret_Third3"));
  expectRejected(draft, "tunnels[2]", "Hub.Secret_Third3");
}

// ---- tunnels per hub (the pair) -------------------------------------------------------------

ValidationContext pairContext() {
  ValidationContext context = hubContext();
  context.peer_hub = "hub-b";
  context.hub_addresses.push_back(addr("203.0.113.2"));  // hub-b's public address
  context.hub_addresses.push_back(addr("10.0.1.5"));     // and its local one
  return context;
}

TunnelDraft onHub(TunnelDraft draft, std::string hub) {
  draft.hub = std::move(hub);
  return draft;
}

// Two tunnels on each hub: what AWS gives a VPC connected to both hubs.
SpokeDraft fourTunnelDraft() {
  SpokeDraft d = validVpcDraft();
  d.tunnels->push_back(
      onHub(tunnelDraft("198.51.100.12", "169.254.20.8/30", "Hub.Secret_Third3"), "hub-b"));
  d.tunnels->push_back(
      onHub(tunnelDraft("198.51.100.13", "169.254.20.12/30", "Hub.Secret_Forth4"), "hub-b"));
  return d;
}

TEST(ValidateSpokePair, ATunnelThatNamesNoHubIsThisHubs) {
  auto result = validateSpoke(validVpcDraft(), pairContext());
  ASSERT_TRUE(result.has_value()) << result.error().field << ": " << result.error().message;
  EXPECT_EQ(result->tunnels.at(0).hub, "hub-a");
  EXPECT_EQ(result->tunnels.at(1).hub, "hub-a");
}

TEST(ValidateSpokePair, TwoTunnelsOnEachHubAreAccepted) {
  auto result = validateSpoke(fourTunnelDraft(), pairContext());
  ASSERT_TRUE(result.has_value()) << result.error().field << ": " << result.error().message;
  ASSERT_EQ(result->tunnels.size(), 4u);
  EXPECT_EQ(result->tunnels[2].hub, "hub-b");
  EXPECT_EQ(result->tunnels[3].hub, "hub-b");
  // Only the other hub's connection: fine too (this hub then runs nothing for the spoke).
  auto only_b = fourTunnelDraft();
  only_b.tunnels->erase(only_b.tunnels->begin(), only_b.tunnels->begin() + 2);
  EXPECT_TRUE(validateSpoke(only_b, pairContext()).has_value());
}

TEST(ValidateSpokePair, ATunnelOnAHubOutsideThePairIsRefusedNamingThePair) {
  auto draft = fourTunnelDraft();
  (*draft.tunnels)[2].hub = "hub-c";
  auto result = validateSpoke(draft, pairContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[2].hub");
  EXPECT_EQ(result.error().message, "unknown hub 'hub-c' (this pair: hub-a, hub-b)");
  // A single hub knows no other.
  result = validateSpoke(draft, hubContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[2].hub");
  EXPECT_EQ(result.error().message, "unknown hub 'hub-c' (this hub: hub-a)");
  (*draft.tunnels)[2].hub = "Hub_B";
  result = validateSpoke(draft, pairContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[2].hub");
}

TEST(ValidateSpokePair, AtMostTwoTunnelsPerHubAndFourInAll) {
  auto draft = fourTunnelDraft();
  (*draft.tunnels)[2].hub = "hub-a";  // a third on hub-a
  auto result = validateSpoke(draft, pairContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[2]");
  EXPECT_EQ(result.error().message, "hub-a holds 2 tunnels already (at most 2 per hub)");

  draft = fourTunnelDraft();
  draft.tunnels->push_back(
      onHub(tunnelDraft("198.51.100.14", "169.254.20.16/30", "Hub.Secret_Fifth5"), "hub-b"));
  result = validateSpoke(draft, pairContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels");
  EXPECT_EQ(result.error().message.find("Hub.Secret"), std::string::npos);
}

// A site with one public address connects to both hubs from it; on one hub it is one tunnel.
TEST(ValidateSpokePair, OutsideAddressesAreUniquePerHub) {
  auto draft = fourTunnelDraft();
  (*draft.tunnels)[2].outside_ip = (*draft.tunnels)[0].outside_ip;
  EXPECT_TRUE(validateSpoke(draft, pairContext()).has_value());
  (*draft.tunnels)[3].outside_ip = (*draft.tunnels)[0].outside_ip;
  auto result = validateSpoke(draft, pairContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[3].outside_ip");
  EXPECT_EQ(result.error().message, "duplicates tunnels[2]");
}

TEST(ValidateSpokePair, InsideCidrsAreUniqueAcrossBothHubs) {
  auto draft = fourTunnelDraft();
  (*draft.tunnels)[3].inside_cidr = (*draft.tunnels)[0].inside_cidr;
  auto result = validateSpoke(draft, pairContext());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "tunnels[3].inside_cidr");
}

TEST(ValidateSpokePair, OutsideAddressMayBeNoAddressOfEitherHub) {
  for (const std::string_view hub_address :
       {"203.0.113.1", "10.0.0.5", "203.0.113.2", "10.0.1.5"}) {
    SCOPED_TRACE(hub_address);
    auto draft = fourTunnelDraft();
    (*draft.tunnels)[3].outside_ip = std::string(hub_address);
    auto result = validateSpoke(draft, pairContext());
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().field, "tunnels[3].outside_ip");
  }
}

TEST(ValidateSpoke, OutsideIpIsRequired) {
  auto draft = validVpcDraft();
  (*draft.tunnels)[1].outside_ip.reset();
  expectRejected(draft, "tunnels[1].outside_ip");
}

TEST(ValidateSpoke, OutsideIpMustBeAnAddress) {
  for (const std::string_view bad : {"198.51.100", "198.51.100.010", "198.51.100.256",
                                     "198.51.100.1/32", " 198.51.100.1", "vpn.example.com", ""}) {
    SCOPED_TRACE(bad);
    auto draft = validVpcDraft();
    (*draft.tunnels)[0].outside_ip = std::string(bad);
    expectRejected(draft, "tunnels[0].outside_ip");
  }
}

TEST(ValidateSpoke, OutsideIpInSpecialPurposeSpaceIsRefused) {
  for (const std::string_view bad : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "169.254.1.1", "224.0.0.5",
                                     "239.255.255.255", "240.0.0.1", "255.255.255.255"}) {
    SCOPED_TRACE(bad);
    EXPECT_NE(checkEndpointAddress(addr(bad)), std::nullopt);
    auto draft = validVpcDraft();
    (*draft.tunnels)[1].outside_ip = std::string(bad);
    expectRejected(draft, "tunnels[1].outside_ip");
  }
  for (const std::string_view good :
       {"198.51.100.10", "52.1.2.3", "10.9.8.7", "223.255.255.254", "1.0.0.1"}) {
    SCOPED_TRACE(good);
    EXPECT_EQ(checkEndpointAddress(addr(good)), std::nullopt);
  }
}

TEST(ValidateSpoke, OutsideIpMayNotBeOneOfTheHubsAddresses) {
  auto draft = validVpcDraft();
  (*draft.tunnels)[0].outside_ip = "203.0.113.1";
  expectRejected(draft, "tunnels[0].outside_ip");
  (*draft.tunnels)[0].outside_ip = "10.0.0.5";
  expectRejected(draft, "tunnels[0].outside_ip");
  (*draft.tunnels)[0].outside_ip = "203.0.113.2";
  expectAccepted(draft);
}

TEST(ValidateSpoke, TwoTunnelsMayNotShareAnOutsideIp) {
  auto draft = validVpcDraft();
  (*draft.tunnels)[1].outside_ip = (*draft.tunnels)[0].outside_ip;
  expectRejected(draft, "tunnels[1].outside_ip");
}

TEST(ValidateSpoke, InsideCidrMustBeAnAllowedSlash30) {
  const std::string_view good[] = {"169.254.6.0/30", "169.254.0.4/30", "169.254.5.4/30",
                                   "169.254.169.248/30", "169.254.255.252/30"};
  for (const auto cidr : good) {
    SCOPED_TRACE(cidr);
    EXPECT_EQ(checkInsideCidr(pfx(cidr)), std::nullopt);
    auto draft = validVpcDraft();
    (*draft.tunnels)[1].inside_cidr = std::string(cidr);
    expectAccepted(draft);
  }
  const std::string_view bad[] = {
      "169.254.20.0/29", "169.254.20.0/31", "169.254.20.0/32",  "169.254.0.0/16",  // not a /30
      "10.0.0.0/30",     "169.255.0.0/30",  "192.168.1.0/30",                      // not 169.254
      "169.254.20.1/30", "169.254.20.0",    "169.254.20.0/030",                    // malformed
  };
  for (const auto cidr : bad) {
    SCOPED_TRACE(cidr);
    auto draft = validVpcDraft();
    (*draft.tunnels)[1].inside_cidr = std::string(cidr);
    expectRejected(draft, "tunnels[1].inside_cidr");
  }
}

TEST(ValidateSpoke, InsideCidrReservedByAwsIsRefused) {
  const std::string_view reserved[] = {"169.254.0.0/30",    "169.254.1.0/30", "169.254.2.0/30",
                                       "169.254.3.0/30",    "169.254.4.0/30", "169.254.5.0/30",
                                       "169.254.169.252/30"};
  for (const auto cidr : reserved) {
    SCOPED_TRACE(cidr);
    EXPECT_NE(checkInsideCidr(pfx(cidr)), std::nullopt);
    auto draft = validVpcDraft();
    (*draft.tunnels)[0].inside_cidr = std::string(cidr);
    expectRejected(draft, "tunnels[0].inside_cidr");
  }
}

TEST(ValidateSpoke, TwoTunnelsMayNotShareAnInsideCidr) {
  auto draft = validVpcDraft();
  (*draft.tunnels)[1].inside_cidr = (*draft.tunnels)[0].inside_cidr;
  expectRejected(draft, "tunnels[1].inside_cidr");
  (*draft.tunnels)[0].inside_cidr.reset();  // one given, one to allocate: fine
  expectAccepted(draft);
}

// ---- psk -----------------------------------------------------------------------------------

TEST(CheckPsk, AcceptsAwsStyleKeys) {
  const std::string good[] = {
      "abcdefgh",             // 8 characters
      std::string(64, 'x'),   // 64 characters
      "Hub.Secret_Alpha1",    //
      "A1234567",             //
      "_leading.underscore",  //
      ".leading_dot",         //
      "10000000",             // a zero, but not first
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._",
  };
  for (const auto& psk : good) {
    SCOPED_TRACE(psk);
    EXPECT_EQ(checkPsk(psk), std::nullopt);
    auto draft = validVpcDraft();
    (*draft.tunnels)[1].psk = psk;
    expectAccepted(draft);
  }
}

TEST(CheckPsk, RefusesBadKeysAtTheTunnelsPskWithoutEchoingThem) {
  const std::string bad[] = {
      "Short.7",                        // 7 characters
      std::string(65, 'y'),             // 65 characters
      "",                               // empty
      "0StartsWithZero",                // leading zero
      "0000000000",                     //
      "Has-Hyphen123",                  // characters AWS refuses
      "Has Space123",                   //
      "Bang!Secret9",                   //
      "Quote\"Secret9",                 //
      "Slash/Secret9",                  //
      "Newline\nSecret9",               //
      "Umlaut\xc3\xa4Secret9",          //
      std::string("Nul\0Secret9", 11),  //
  };
  for (const auto& psk : bad) {
    SCOPED_TRACE(psk);
    auto problem = checkPsk(psk);
    ASSERT_NE(problem, std::nullopt);
    if (!psk.empty()) {
      EXPECT_EQ(problem->find(psk), std::string::npos) << *problem;
    }
    auto draft = validVpcDraft();
    (*draft.tunnels)[1].psk = psk;
    expectRejected(draft, "tunnels[1].psk", psk);
    draft = validVpcDraft();
    (*draft.tunnels)[0].psk = psk;
    expectRejected(draft, "tunnels[0].psk", psk);
  }
}

TEST(GeneratePsk, ThousandKeysAreValidAwsKeysOf32CharactersAndDiffer) {
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    const auto psk = generatePsk();
    ASSERT_EQ(psk.size(), 32U) << "key " << i;
    ASSERT_EQ(checkPsk(psk), std::nullopt) << "key " << i;
    ASSERT_NE(psk.front(), '0') << "key " << i;
    for (const char c : psk) {  // AWS's default keys are alphanumeric
      ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    }
    keys.insert(psk);
  }
  EXPECT_GT(keys.size(), 1U);
  EXPECT_EQ(keys.size(), 1000U);  // 62^32 keys: a repeat means the generator is broken
}

// ---- inside addresses ----------------------------------------------------------------------

TEST(InsideAddresses, OnAVpcTheHubIsTheCustomerGatewaySecondAddress) {
  const auto inside = pfx("169.254.20.0/30");
  EXPECT_EQ(hubInsideAddress(SpokeKind::kVpc, inside), addr("169.254.20.2"));
  EXPECT_EQ(peerInsideAddress(SpokeKind::kVpc, inside), addr("169.254.20.1"));
  const auto high = pfx("169.254.255.252/30");
  EXPECT_EQ(hubInsideAddress(SpokeKind::kVpc, high), addr("169.254.255.254"));
  EXPECT_EQ(peerInsideAddress(SpokeKind::kVpc, high), addr("169.254.255.253"));
}

TEST(InsideAddresses, OnASiteTheHubTakesTheFirstAddress) {
  const auto inside = pfx("169.254.20.4/30");
  EXPECT_EQ(hubInsideAddress(SpokeKind::kSite, inside), addr("169.254.20.5"));
  EXPECT_EQ(peerInsideAddress(SpokeKind::kSite, inside), addr("169.254.20.6"));
}

// ---- single-rule helpers not covered above -------------------------------------------------

TEST(CheckSpokeCidr, AcceptsOrdinaryNetworksAndRefusesSpecialOnes) {
  for (const std::string_view good : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                      "198.51.100.0/24", "1.1.1.1/32", "223.255.255.0/24"}) {
    SCOPED_TRACE(good);
    EXPECT_EQ(checkSpokeCidr(pfx(good)), std::nullopt);
  }
  for (const std::string_view bad : {"0.0.0.0/0", "8.0.0.0/7", "127.0.0.1/32", "169.254.1.0/24",
                                     "224.0.0.0/24", "240.0.0.0/8", "0.0.0.0/16"}) {
    SCOPED_TRACE(bad);
    EXPECT_NE(checkSpokeCidr(pfx(bad)), std::nullopt);
  }
}

TEST(ParseEnums, SpellingsRoundTrip) {
  EXPECT_EQ(parseSpokeKind(toString(SpokeKind::kVpc)), SpokeKind::kVpc);
  EXPECT_EQ(parseSpokeKind(toString(SpokeKind::kSite)), SpokeKind::kSite);
  EXPECT_EQ(parseRoutingMode(toString(RoutingMode::kBgp)), RoutingMode::kBgp);
  EXPECT_EQ(parseRoutingMode(toString(RoutingMode::kStatic)), RoutingMode::kStatic);
  EXPECT_EQ(parseSpokeKind("VPC"), std::nullopt);
  EXPECT_EQ(parseRoutingMode("Bgp"), std::nullopt);
}

}  // namespace
}  // namespace transit::peers
