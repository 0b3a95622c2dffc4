// Shared by site_config_test.cpp (unit) and site_config_tool_test.cpp (tool): the site spokes
// the tests render, and small readers of the rendered text.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "peers/export/site_config.hpp"
#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"

namespace transit::peers::site_fixtures {

inline Ipv4Address ip(std::string_view text) { return Ipv4Address::parse(text).value(); }

inline constexpr std::string_view kPsk1 = "Site1.psk_tunnel_one";
inline constexpr std::string_view kPsk2 = "Site1.psk_tunnel_two";

// A site spoke as the hub stores it: decoded and validated like a client's POST.
inline Spoke site(std::string_view extra, bool two_tunnels = true) {
  std::string tunnels = fmt::format(
      R"([{{"outside_ip": "198.51.100.20", "inside_cidr": "169.254.30.0/30", "psk": "{}"}})",
      kPsk1);
  if (two_tunnels) {
    tunnels += fmt::format(
        R"(, {{"outside_ip": "198.51.100.21", "inside_cidr": "169.254.30.4/30", "psk": "{}"}})",
        kPsk2);
  }
  const auto text = fmt::format(
      R"({{"name": "site-1", "kind": "site", "cidrs": ["10.20.0.0/16", "10.21.0.0/24"],
          "tunnels": {}]{}}})",
      tunnels, extra);
  auto draft = decodeSpokeDraft(boost::json::parse(text));
  EXPECT_TRUE(draft.has_value()) << draft.error().field << ": " << draft.error().message;
  if (!draft) return Spoke{};
  auto request = validateSpoke(*draft, ValidationContext{65000, {ip("203.0.113.5")}, "hub-a"});
  EXPECT_TRUE(request.has_value()) << request.error().field << ": " << request.error().message;
  if (!request) return Spoke{};
  Spoke spoke = request->spoke;
  for (const auto& tunnel : request->tunnels) {
    spoke.tunnels.push_back(
        Tunnel{tunnel.outside_ip, *tunnel.inside_cidr, *tunnel.psk, tunnel.hub});
  }
  return spoke;
}

inline Spoke bgpSite() { return site(R"(, "routing": "bgp", "asn": 65010)"); }

// Non-default options: IKEv1 only, SHA2-512, DH 16, shorter lifetimes; the hub waits.
inline Spoke customSite() {
  return site(R"(, "routing": "bgp", "asn": 65123, "bgp_hold_time_seconds": 90,
      "tunnel_options": {"ike_versions": ["ikev1"], "phase1_encryption": ["AES256", "AES128"],
        "phase1_integrity": ["SHA2-512"], "phase1_dh_groups": [16],
        "phase1_lifetime_seconds": 14400, "phase2_encryption": ["AES256-GCM-16", "AES256"],
        "phase2_integrity": ["SHA2-512", "SHA1"], "phase2_dh_groups": [16],
        "phase2_lifetime_seconds": 1800, "rekey_margin_seconds": 180, "rekey_fuzz_percent": 50,
        "replay_window": 512, "dpd_timeout_seconds": 60, "startup_action": "add"})");
}

inline Spoke staticSite() { return site(R"(, "routing": "static")"); }

inline SiteConfigHub hub() { return SiteConfigHub{"hub-a", ip("203.0.113.5"), 65000}; }

// The pair: hub-a and hub-b, in name order.
inline constexpr std::string_view kPskB1 = "Site1.psk_hub_b_one";
inline constexpr std::string_view kPskB2 = "Site1.psk_hub_b_two";
inline std::vector<SiteConfigHub> pairHubs() {
  return {hub(), SiteConfigHub{"hub-b", ip("203.0.113.6"), 65000}};
}

// bgpSite() connected to both hubs: two more tunnels, hub-b's, from the same two addresses.
inline Spoke pairSite(Spoke spoke = bgpSite()) {
  spoke.tunnels.push_back(Tunnel{ip("198.51.100.20"), Ipv4Prefix::parse("169.254.31.0/30").value(),
                                 std::string(kPskB1), "hub-b"});
  spoke.tunnels.push_back(Tunnel{ip("198.51.100.21"), Ipv4Prefix::parse("169.254.31.4/30").value(),
                                 std::string(kPskB2), "hub-b"});
  return spoke;
}

inline const SiteConfigFile* find(const SiteConfig& config, std::string_view suffix) {
  for (const auto& file : config.files) {
    if (file.path.ends_with(suffix)) return &file;
  }
  return nullptr;
}

// The value of the first `key = value` (or `key=value`) line after `from`.
inline std::string valueOf(const std::string& text, std::string_view key, std::size_t from = 0) {
  std::istringstream in(text.substr(from));
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(start);
    if (!rest.starts_with(key)) continue;
    rest.remove_prefix(key.size());
    if (rest.empty() || (rest.front() != ' ' && rest.front() != '=')) continue;
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '=')) rest.remove_prefix(1);
    return std::string(rest);
  }
  return "";
}

struct Run {
  int status = -1;
  std::string output;
};

inline Run run(const std::string& command) {
  Run result;
  if (FILE* pipe = ::popen((command + " 2>&1").c_str(), "r")) {
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
      result.output.append(buffer.data(), n);
    }
    result.status = ::pclose(pipe);
  }
  return result;
}

}  // namespace transit::peers::site_fixtures
