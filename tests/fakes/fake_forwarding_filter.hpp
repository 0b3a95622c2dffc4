// In-memory ForwardingFilter: records every policy it is given, fails while `fail` is set, and
// reports `dropped` as the packets its table dropped (nullopt: no table).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <vector>

#include "routing/policy/forwarding_filter.hpp"

namespace transit::fakes {

class FakeForwardingFilter final : public routing::ForwardingFilter {
 public:
  std::expected<void, DriverError> apply(const routing::ForwardingPolicy& policy) override {
    applied.push_back(policy);
    if (fail) return std::unexpected(DriverError{DriverError::Kind::kTransient, "nft: refused"});
    return {};
  }
  std::expected<std::optional<std::uint64_t>, DriverError> observe() override {
    ++observed;
    return dropped;
  }

  std::vector<routing::ForwardingPolicy> applied;
  int observed = 0;
  bool fail = false;
  std::optional<std::uint64_t> dropped;
};

}  // namespace transit::fakes
