// Tunnel options: AWS's allowed set minus what libreswan cannot do, strong defaults, the JSON
// form (a spoke read and PUT back stays equal), and the libreswan proposals and connection lines
// they become. libreswan's own parser (algparse) checks the rendered proposals in
// tunnel_options_tool_test.cpp.
#include "peers/model/tunnel_options.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "peers/libreswan/libreswan_render.hpp"
#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"
#include "peers/model/tunnel_options_json.hpp"

namespace transit::peers {
namespace {
namespace json = boost::json;

std::expected<TunnelOptions, FieldError> decode(std::string_view text) {
  return decodeTunnelOptions(json::parse(text), "tunnel_options");
}

// The field and message of a refusal ("" when it was accepted).
std::pair<std::string, std::string> refusal(std::string_view text) {
  const auto result = decode(text);
  if (result) return {"", ""};
  return {result.error().field, result.error().message};
}

TEST(TunnelOptions, DefaultsAreStrongAndIkev2Only) {
  const TunnelOptions options;
  EXPECT_EQ(options.ike_versions, std::vector<IkeVersion>{IkeVersion::kIkev2});
  EXPECT_EQ(options.phase1.encryption,
            (std::vector<Encryption>{Encryption::kAes256Gcm16, Encryption::kAes256}));
  EXPECT_EQ(options.phase1.integrity, std::vector<Integrity>{Integrity::kSha2_256});
  EXPECT_EQ(options.phase1.dh_groups, (std::vector<int>{20, 19, 14}));
  EXPECT_EQ(options.phase2.dh_groups, (std::vector<int>{20, 19, 14}));
  EXPECT_EQ(libreswanIke(options),
            "aes_gcm256-sha2_256;dh20+dh19+dh14,aes256-sha2_256;dh20+dh19+dh14");
  EXPECT_EQ(libreswanEsp(options), "aes_gcm256;dh20,aes256-sha2_256;dh20");
}

TEST(TunnelOptions, NullAndEmptyObjectMeanEveryDefault) {
  EXPECT_EQ(decode("null").value(), TunnelOptions{});
  EXPECT_EQ(decode("{}").value(), TunnelOptions{});
  EXPECT_EQ(decode(R"({"replay_window": null})").value(), TunnelOptions{});
}

TEST(TunnelOptions, AGivenKeyChangesOnlyItself) {
  const auto options = decode(R"({"phase1_dh_groups": [21], "replay_window": 2048})").value();
  TunnelOptions expected;
  expected.phase1.dh_groups = {21};
  expected.replay_window = 2048;
  EXPECT_EQ(options, expected);
}

TEST(TunnelOptions, AwsNamesAreAccepted) {
  const auto options = decode(R"({"ike_versions": ["ikev1", "ikev2"],
                 "phase1_encryption": ["AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"],
                 "phase1_integrity": ["SHA1", "SHA2-256", "SHA2-384", "SHA2-512"],
                 "phase2_dh_groups": [5, 14, 15, 16, 17, 18, 19, 20, 21],
                 "dpd_timeout_action": "none", "startup_action": "start"})")
                           .value();
  EXPECT_TRUE(options.ikev2());
  EXPECT_EQ(options.phase1.encryption.size(), 4u);
  EXPECT_EQ(options.dpd_timeout_action, DpdAction::kNone);
  EXPECT_EQ(options.startup_action, StartupAction::kStart);
}

TEST(TunnelOptions, DhGroupsLibreswanDroppedAreRefusedWithTheReason) {
  const auto [field, message] = refusal(R"({"phase1_dh_groups": [14, 2]})");
  EXPECT_EQ(field, "tunnel_options.phase1_dh_groups[1]");
  EXPECT_EQ(message,
            "DH group 2 is allowed by AWS but not by the hub's IKE daemon (libreswan dropped it "
            "as too weak); use 14-21");
  EXPECT_EQ(refusal(R"({"phase2_dh_groups": [24]})").first, "tunnel_options.phase2_dh_groups[0]");
}

TEST(TunnelOptions, DhGroupsOutsideAwsSetAreRefused) {
  EXPECT_EQ(refusal(R"({"phase1_dh_groups": [5]})").second,
            "must be a phase 1 DH group AWS allows: 2, 14-24");
  EXPECT_EQ(refusal(R"({"phase2_dh_groups": [13]})").second,
            "must be a phase 2 DH group AWS allows: 2, 5, 14-24");
  EXPECT_EQ(refusal(R"({"phase2_dh_groups": [14, 14]})").second, "is listed twice");
  EXPECT_EQ(refusal(R"({"phase2_dh_groups": []})").second, "must list at least one group");
  EXPECT_EQ(refusal(R"({"phase2_dh_groups": ["14"]})").second, "must be an integer");
}

TEST(TunnelOptions, UnknownNamesAndKeysAreRefused) {
  EXPECT_EQ(refusal(R"({"phase1_encryption": ["3DES"]})"),
            (std::pair<std::string, std::string>{
                "tunnel_options.phase1_encryption[0]",
                "must be one of AES128, AES256, AES128-GCM-16, AES256-GCM-16"}));
  EXPECT_EQ(refusal(R"({"phase2_integrity": ["MD5"]})").first,
            "tunnel_options.phase2_integrity[0]");
  EXPECT_EQ(refusal(R"({"ike_versions": ["ikev3"]})").second, "must be one of ikev1, ikev2");
  EXPECT_EQ(refusal(R"({"ike_versions": []})").second, "must list at least one value");
  EXPECT_EQ(refusal(R"({"phase1_encryption": "AES256"})").second, "must be an array of strings");
  EXPECT_EQ(
      refusal(R"({"pfs": true})"),
      (std::pair<std::string, std::string>{"tunnel_options.pfs", "is not a known tunnel option"}));
  EXPECT_EQ(refusal(R"({"dpd_timeout_action": "hold"})").second,
            "must be one of clear, none, restart");
  EXPECT_EQ(refusal(R"({"startup_action": 1})").second, "must be a string");
  EXPECT_EQ(refusal(R"([])").second, "must be an object");
}

TEST(TunnelOptions, NumbersFollowAwsRanges) {
  EXPECT_EQ(refusal(R"({"phase1_lifetime_seconds": 899})").second,
            "must be between 900 and 28800 seconds");
  EXPECT_EQ(refusal(R"({"phase2_lifetime_seconds": 3601})").second,
            "must be between 900 and 3600 seconds");
  EXPECT_EQ(refusal(R"({"replay_window": 63})").second, "must be between 64 and 2048 packets");
  EXPECT_EQ(refusal(R"({"dpd_timeout_seconds": 29})").second,
            "must be between 30 and 3600 seconds");
  EXPECT_EQ(refusal(R"({"rekey_fuzz_percent": 101})").second, "must be between 0 and 100 percent");
  EXPECT_EQ(refusal(R"({"replay_window": 1024.5})").second, "must be an integer");
  EXPECT_EQ(decode(R"({"replay_window": 1024.0})").value().replay_window, 1024u);
  // Beyond int64's range (undefined to convert; found by fuzzing): an integer of no meaning here.
  EXPECT_EQ(refusal(R"({"dpd_timeout_seconds": 1.0e98})").second, "must be an integer");
  EXPECT_EQ(refusal(R"({"dpd_timeout_seconds": -1.0e30})").second, "must be an integer");
}

TEST(TunnelOptions, RulesAcrossOptions) {
  EXPECT_EQ(refusal(R"({"phase1_lifetime_seconds": 3600})"),
            (std::pair<std::string, std::string>{"tunnel_options.phase2_lifetime_seconds",
                                                 "must be less than phase1_lifetime_seconds"}));
  EXPECT_EQ(refusal(R"({"phase2_lifetime_seconds": 1000, "rekey_margin_seconds": 501})").second,
            "must be at most half of phase2_lifetime_seconds (500 seconds)");
  EXPECT_EQ(refusal(R"({"ike_versions": ["ikev1"], "phase1_encryption": ["AES256"],
                        "startup_action": "start"})")
                .second,
            "start needs IKEv2 in ike_versions");
  EXPECT_EQ(refusal(R"({"ike_versions": ["ikev1"], "phase1_encryption": ["AES256"],
                        "phase2_dh_groups": [20, 19]})"),
            (std::pair<std::string, std::string>{
                "tunnel_options.phase2_dh_groups",
                "IKEv1 needs a MODP group (5, 14-18) for PFS: libreswan has no elliptic-curve "
                "groups for IKEv1 phase 2"}));
  EXPECT_EQ(refusal(R"({"ike_versions": ["ikev1"]})"),
            (std::pair<std::string, std::string>{
                "tunnel_options.phase1_encryption",
                "IKEv1 has no GCM in phase 1: list AES128 or AES256, or allow ikev2"}));
}

TEST(TunnelOptions, Ikev1ProposalsAreOneCombinationEach) {
  auto options = decode(R"({"ike_versions": ["ikev1"], "phase1_encryption": ["AES256", "AES128"],
                            "phase1_integrity": ["SHA2-256", "SHA1"], "phase1_dh_groups": [14],
                            "phase2_encryption": ["AES128"], "phase2_integrity": ["SHA1", "SHA2-256"],
                            "phase2_dh_groups": [14, 19]})")
                     .value();
  EXPECT_EQ(libreswanIke(options),
            "aes256-sha2_256;dh14,aes256-sha1;dh14,aes128-sha2_256;dh14,aes128-sha1;dh14");
  EXPECT_EQ(libreswanEsp(options), "aes128-sha1;dh14,aes128-sha2_256;dh14");
}

TEST(TunnelOptions, Ikev1PfsIsTheFirstModpGroup) {
  auto options = decode(R"({"ike_versions": ["ikev1"], "phase1_encryption": ["AES256"],
                            "phase2_encryption": ["AES256"], "phase2_dh_groups": [20, 16, 14]})")
                     .value();
  EXPECT_EQ(pfsGroup(options), 16);
  EXPECT_EQ(libreswanEsp(options), "aes256-sha2_256;dh16");
}

TEST(TunnelOptions, Ikev2JoinsAlgorithmsAndPfsUsesTheFirstPhase2Group) {
  auto options = decode(R"({"phase1_integrity": ["SHA2-384", "SHA2-512"],
                            "phase2_encryption": ["AES128-GCM-16", "AES128"],
                            "phase2_integrity": ["SHA2-256", "SHA1"],
                            "phase2_dh_groups": [19, 14]})")
                     .value();
  EXPECT_EQ(libreswanIke(options),
            "aes_gcm256-sha2_384+sha2_512;dh20+dh19+dh14,aes256-sha2_384+sha2_512;dh20+dh19+dh14");
  EXPECT_EQ(libreswanEsp(options), "aes_gcm128;dh19,aes128-sha2_256+sha1;dh19");
}

// ---- In a spoke ----

json::value spokeJson(std::string_view kind, std::string_view options) {
  auto value = json::parse(fmt::format(
      R"({{"name": "s-1", "kind": "{}", "cidrs": ["10.9.0.0/16"], "routing": "bgp",
          "asn": 65010, "tunnels": [{{"outside_ip": "198.51.100.9",
          "inside_cidr": "169.254.90.0/30", "psk": "abcdefgh.1"}}]}})",
      kind));
  if (!options.empty()) value.as_object()["tunnel_options"] = json::parse(options);
  return value;
}

Spoke validSpoke(std::string_view kind, std::string_view options = "") {
  auto draft = decodeSpokeDraft(spokeJson(kind, options));
  EXPECT_TRUE(draft.has_value()) << draft.error().field << ": " << draft.error().message;
  auto request = validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"});
  EXPECT_TRUE(request.has_value()) << request.error().field << ": " << request.error().message;
  Spoke spoke = request->spoke;
  for (const auto& tunnel : request->tunnels) {
    spoke.tunnels.push_back(
        Tunnel{tunnel.outside_ip, *tunnel.inside_cidr, *tunnel.psk, tunnel.hub});
  }
  return spoke;
}

TEST(SpokeTunnelOptions, TheApiShowsEveryOptionWithTheKindsDefaults) {
  const auto vpc = encodeSpokeForApi(validSpoke("vpc")).at("tunnel_options").as_object();
  EXPECT_EQ(vpc.at("startup_action"), "add");
  EXPECT_EQ(vpc.at("dpd_timeout_action"), "clear");
  EXPECT_EQ(vpc.at("phase1_encryption"), (json::array{"AES256-GCM-16", "AES256"}));
  EXPECT_EQ(vpc.at("phase2_lifetime_seconds"), 3600);
  EXPECT_EQ(vpc.size(), 15u);
  const auto site = encodeSpokeForApi(validSpoke("site")).at("tunnel_options").as_object();
  EXPECT_EQ(site.at("startup_action"), "start");
  EXPECT_EQ(site.at("dpd_timeout_action"), "restart");
}

TEST(SpokeTunnelOptions, ASpokePutBackAsReadIsEqual) {
  for (const auto* kind : {"vpc", "site"}) {
    const auto spoke = validSpoke(kind, R"({"replay_window": 512, "startup_action": "start"})");
    auto form = encodeSpokeForApi(spoke);
    for (auto& tunnel : form.at("tunnels").as_array()) tunnel.as_object()["psk"] = "abcdefgh.1";
    auto draft = decodeSpokeDraft(form);
    ASSERT_TRUE(draft.has_value()) << draft.error().field;
    auto again = validateSpoke(*draft, ValidationContext{65000, {}, "hub-a"});
    ASSERT_TRUE(again.has_value()) << again.error().field;
    EXPECT_EQ(again->spoke.tunnel_options, spoke.tunnel_options) << kind;
  }
}

TEST(SpokeTunnelOptions, TheDefaultSaidOrNotIsOneValue) {
  EXPECT_EQ(validSpoke("site", R"({"startup_action": "start", "dpd_timeout_action": "restart"})")
                .tunnel_options,
            validSpoke("site").tunnel_options);
  EXPECT_NE(validSpoke("site", R"({"startup_action": "add"})").tunnel_options,
            validSpoke("site").tunnel_options);
}

TEST(SpokeTunnelOptions, ARefusalNamesTheOptionsField) {
  const auto draft = decodeSpokeDraft(spokeJson("vpc", R"({"phase1_dh_groups": [2]})"));
  ASSERT_FALSE(draft.has_value());
  EXPECT_EQ(draft.error().field, "tunnel_options.phase1_dh_groups[0]");
}

// ---- In the libreswan connection ----

TunnelSpec spec(std::string_view options, bool aws_side) {
  TunnelSpec out;
  out.name = "th-s-1-1";
  out.spoke = "s-1";
  out.local_address = *Ipv4Address::parse("10.0.0.10");
  out.local_id = *Ipv4Address::parse("203.0.113.10");
  out.remote_address = *Ipv4Address::parse("198.51.100.9");
  out.inside_cidr = *Ipv4Prefix::parse("169.254.90.0/30");
  out.hub_inside = *Ipv4Address::parse("169.254.90.2");
  out.psk = "abcdefgh.1";
  out.options = decode(options).value();
  out.aws_side = aws_side;
  return out;
}

bool has(const std::string& text, std::string_view line) {
  return text.find("\t" + std::string(line) + "\n") != std::string::npos;
}

TEST(LibreswanTunnelOptions, LifetimesRekeyAndReplayWindowAreRendered) {
  const auto conn =
      renderConnection(spec(R"({"phase1_lifetime_seconds": 14400, "phase2_lifetime_seconds": 1800,
              "rekey_margin_seconds": 120, "rekey_fuzz_percent": 50, "replay_window": 64})",
                            false),
                       LibreswanOptions{});
  EXPECT_TRUE(has(conn, "ikelifetime=14400s")) << conn;
  EXPECT_TRUE(has(conn, "salifetime=1800s"));
  EXPECT_TRUE(has(conn, "rekeymargin=120s"));
  EXPECT_TRUE(has(conn, "rekeyfuzz=50%"));
  EXPECT_TRUE(has(conn, "replay-window=64"));
}

TEST(LibreswanTunnelOptions, AsCustomerGatewayTheHubAlwaysRestartsADeadTunnel) {
  const auto conn =
      renderConnection(spec(R"({"dpd_timeout_action": "none", "dpd_timeout_seconds": 45})", false),
                       LibreswanOptions{});
  EXPECT_TRUE(has(conn, "dpdaction=restart")) << conn;
  EXPECT_TRUE(has(conn, "retransmit-timeout=45s"));
  EXPECT_TRUE(has(conn, "dpddelay=10"));
}

TEST(LibreswanTunnelOptions, AsTheAwsSideTheHubTakesTheDpdAction) {
  const auto clear = renderConnection(spec(R"({"dpd_timeout_action": "clear"})", true), {});
  EXPECT_TRUE(has(clear, "dpdaction=clear")) << clear;
  const auto none = renderConnection(spec(R"({"dpd_timeout_action": "none"})", true), {});
  EXPECT_EQ(none.find("dpddelay"), std::string::npos) << none;
  EXPECT_EQ(none.find("dpdaction"), std::string::npos);
  const auto fallback = renderConnection(spec("{}", true), {});
  EXPECT_TRUE(has(fallback, "dpdaction=restart")) << fallback;  // a site's default
}

TEST(LibreswanTunnelOptions, Ikev1OnlyIsIkev2NoWithADpdTimeout) {
  const auto conn = renderConnection(
      spec(R"({"ike_versions": ["ikev1"], "phase1_encryption": ["AES256"]})", false), {});
  EXPECT_TRUE(has(conn, "ikev2=no")) << conn;
  EXPECT_TRUE(has(conn, "dpdtimeout=30s"));
  EXPECT_TRUE(has(conn, "ike=aes256-sha2_256;dh20,aes256-sha2_256;dh19,aes256-sha2_256;dh14"));
}

}  // namespace
}  // namespace transit::peers
