#include "routing/base/prefix.hpp"

#include <fmt/format.h>
#include <charconv>

namespace transit {
namespace {

// Parses a decimal number in [0, max] written without sign, spaces or leading zeros.
std::expected<std::uint32_t, std::string> parseDecimal(std::string_view part, std::uint32_t max,
                                                       std::string_view what) {
  if (part.empty()) {
    return std::unexpected(fmt::format("empty {}", what));
  }
  if (part.size() > 1 && part.front() == '0') {
    return std::unexpected(fmt::format("{} has a leading zero", what));
  }
  std::uint32_t value = 0;
  const auto* end = part.data() + part.size();
  auto [ptr, ec] = std::from_chars(part.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return std::unexpected(fmt::format("{} is not a decimal number", what));
  }
  if (value > max) {
    return std::unexpected(fmt::format("{} is above {}", what, max));
  }
  return value;
}

}  // namespace

std::expected<Ipv4Address, std::string> Ipv4Address::parse(std::string_view text) {
  std::uint32_t value = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const auto dot = rest.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) {
      return std::unexpected("not an IPv4 address (expected four dot-separated numbers)");
    }
    const auto part = i < 3 ? rest.substr(0, dot) : rest;
    auto octet = parseDecimal(part, 255, "address part");
    if (!octet) {
      return std::unexpected(fmt::format("not an IPv4 address ({})", octet.error()));
    }
    value = (value << 8) | *octet;
    if (i < 3) {
      rest.remove_prefix(dot + 1);
    }
  }
  return Ipv4Address(value);
}

std::string Ipv4Address::toString() const {
  return fmt::format("{}.{}.{}.{}", value_ >> 24, (value_ >> 16) & 0xff, (value_ >> 8) & 0xff,
                     value_ & 0xff);
}

std::expected<Ipv4Prefix, std::string> Ipv4Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::unexpected("not a CIDR prefix (expected address/length)");
  }
  auto address = Ipv4Address::parse(text.substr(0, slash));
  if (!address) {
    return std::unexpected(address.error());
  }
  auto length = parseDecimal(text.substr(slash + 1), 32, "prefix length");
  if (!length) {
    return std::unexpected(fmt::format("not a CIDR prefix ({})", length.error()));
  }
  const auto prefix = containing(*address, static_cast<int>(*length));
  if (prefix.network() != *address) {
    return std::unexpected(fmt::format("has host bits set (the prefix is {})", prefix.toString()));
  }
  return prefix;
}

std::string Ipv4Prefix::toString() const {
  return fmt::format("{}/{}", network_.toString(), length_);
}

}  // namespace transit
