// IPv4 addresses and prefixes: parsing, formatting and the arithmetic the hub's routing policy
// and validation are built on.
//
// Owns: nothing; plain values. Called from any thread.
// Parsing is strict so that anything the hub later writes into a daemon's configuration has
// exactly one spelling: dotted quads without leading zeros or spaces, prefixes without host bits.
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace transit {

class Ipv4Address {
 public:
  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(std::uint32_t value) : value_(value) {}

  // Accepts "a.b.c.d" with each part 0..255 written without leading zeros.
  static std::expected<Ipv4Address, std::string> parse(std::string_view text);

  constexpr std::uint32_t value() const { return value_; }
  std::string toString() const;

  constexpr auto operator<=>(const Ipv4Address&) const = default;

 private:
  std::uint32_t value_ = 0;
};

class Ipv4Prefix {
 public:
  constexpr Ipv4Prefix() = default;

  // The prefix of `length` bits that contains `address` (host bits are cleared).
  static constexpr Ipv4Prefix containing(Ipv4Address address, int length) {
    return Ipv4Prefix(Ipv4Address(address.value() & maskFor(length)), length);
  }

  // Accepts canonical "a.b.c.d/n" only: an address with host bits set is an error whose
  // message names the canonical prefix the caller probably meant.
  static std::expected<Ipv4Prefix, std::string> parse(std::string_view text);

  constexpr Ipv4Address network() const { return network_; }
  constexpr int length() const { return length_; }
  constexpr std::uint32_t mask() const { return maskFor(length_); }
  // Last address of the prefix (the broadcast address for lengths below 31).
  constexpr Ipv4Address last() const { return Ipv4Address(network_.value() | ~mask()); }
  constexpr std::uint64_t size() const { return std::uint64_t{1} << (32 - length_); }
  // network + offset; offset must be below size().
  constexpr Ipv4Address host(std::uint32_t offset) const {
    return Ipv4Address(network_.value() + offset);
  }

  constexpr bool contains(Ipv4Address address) const {
    return (address.value() & mask()) == network_.value();
  }
  constexpr bool contains(const Ipv4Prefix& other) const {
    return other.length_ >= length_ && contains(other.network_);
  }
  constexpr bool overlaps(const Ipv4Prefix& other) const {
    return contains(other) || other.contains(*this);
  }

  std::string toString() const;

  constexpr auto operator<=>(const Ipv4Prefix&) const = default;

  static constexpr std::uint32_t maskFor(int length) {
    return length <= 0 ? 0U : ~std::uint32_t{0} << (32 - length);
  }

 private:
  constexpr Ipv4Prefix(Ipv4Address network, int length) : network_(network), length_(length) {}

  Ipv4Address network_;
  int length_ = 0;
};

// Compile-time construction for well-known constants: kPrefix(169, 254, 0, 0, 16).
constexpr Ipv4Prefix kPrefix(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                             int length) {
  return Ipv4Prefix::containing(Ipv4Address((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) |
                                            (std::uint32_t{c} << 8) | std::uint32_t{d}),
                                length);
}

}  // namespace transit
