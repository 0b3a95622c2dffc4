// Tool test (label `tool`): libreswan's own parser (algparse) accepts every proposal the hub
// renders from tunnel options. Needs libreswan; ami/dev.sh installs it and fails on a skip.
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "peers/libreswan/libreswan_render.hpp"
#include "peers/model/tunnel_options.hpp"
#include "peers/model/tunnel_options_json.hpp"

namespace transit::peers {
namespace {
namespace json = boost::json;

std::expected<TunnelOptions, FieldError> decode(std::string_view text) {
  return decodeTunnelOptions(json::parse(text), "tunnel_options");
}

// libreswan's own parser agrees with what the hub renders.
constexpr const char* kAlgparse = "/usr/libexec/ipsec/algparse";

std::string algparse(const std::string& args) {
  std::string out;
  if (FILE* pipe = ::popen((std::string(kAlgparse) + " " + args + " 2>&1").c_str(), "r")) {
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
      out.append(buffer.data(), n);
    ::pclose(pipe);
  }
  return out;
}

TEST(TunnelOptions, LibreswanParsesEveryRenderedProposal) {
  if (!std::filesystem::exists(kAlgparse)) GTEST_SKIP() << kAlgparse << " is not installed";
  for (const auto* text :
       {"{}", R"({"phase1_integrity": ["SHA1", "SHA2-512"], "phase2_dh_groups": [5]})",
        R"({"phase1_encryption": ["AES128"], "phase2_encryption": ["AES128", "AES256-GCM-16"],
            "phase2_integrity": ["SHA1", "SHA2-384"], "phase1_dh_groups": [14, 15, 16, 17, 18, 21]})",
        R"({"ike_versions": ["ikev1"], "phase1_encryption": ["AES128"],
            "phase1_integrity": ["SHA1"], "phase1_dh_groups": [14, 19]})"}) {
    const auto options = decode(text).value();
    const std::string version = options.ikev2() ? "-v2" : "-v1";
    const auto ike = algparse(version + " 'ike=" + libreswanIke(options) + "'");
    const auto esp = algparse(version + " -pfs 'esp=" + libreswanEsp(options) + "'");
    EXPECT_EQ(ike.find("ERROR"), std::string::npos) << text << "\n" << ike;
    EXPECT_EQ(esp.find("ERROR"), std::string::npos) << text << "\n" << esp;
  }
}

}  // namespace
}  // namespace transit::peers
