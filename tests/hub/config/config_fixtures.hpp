// Shared by the configuration tests: the smallest valid configuration, built from blocks a test
// edits with replaced(), and errorOf() for the configurations that must be refused.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "hub/config/config.hpp"

namespace transit::hub {
namespace {

constexpr std::string_view kHashA =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr std::string_view kHashB =
    "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100";

constexpr std::string_view kListenLine = "  listen: [\"127.0.0.1:8080\"]\n";

const std::string kHashLine = "      sha256: \"" + std::string(kHashA) + "\"\n";
const std::string kTokensBlock = "  tokens:\n    - name: ops\n      role: admin\n" + kHashLine;
const std::string kHubBlock =
    "hub:\n  name: hub-a\n  asn: 65000\n  public_ip: 203.0.113.10\n  local_ip: 10.0.0.10\n";
const std::string kApiBlock = "api:\n" + std::string(kListenLine) + kTokensBlock;
const std::string kStoreBlock = "store:\n  sqlite: state.db\n";

// Only the required keys.
const std::string kMinimal = kHubBlock + kApiBlock + kStoreBlock;

[[maybe_unused]] std::array<std::uint8_t, 32> bytesOf(std::string_view hex) {
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

// `text` with its only occurrence of `from` replaced by `to`.
[[maybe_unused]] std::string replaced(std::string text, std::string_view from,
                                      std::string_view to) {
  const auto at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << "fragment not found exactly once: " << from;
    return text;
  }
  return text.replace(at, from.size(), to);
}

[[maybe_unused]] ConfigError errorOf(std::string_view yaml) {
  auto config = parseConfig(yaml);
  if (config) {
    ADD_FAILURE() << "the configuration was accepted:\n" << yaml;
    return {};
  }
  return config.error();
}

}  // namespace
}  // namespace transit::hub
