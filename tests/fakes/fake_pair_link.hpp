// In-memory PairLinkDriver: a kernel with at most one link. Records every spec applied and every
// device removed; fails while `fail` is set; `observe` reports the link as applied (or as a test
// set `link` to differ).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "routing/policy/pair_link.hpp"

namespace transit::fakes {

class FakePairLink final : public routing::PairLinkDriver {
 public:
  std::expected<void, DriverError> apply(const routing::PairLinkSpec& spec) override {
    applied.push_back(spec);
    if (fail) {
      return std::unexpected(
          DriverError{DriverError::Kind::kNeedsDependency, "no device holds 10.0.0.10"});
    }
    link = spec;
    return {};
  }
  std::expected<routing::ObservedPairLink, DriverError> observe(
      const routing::PairLinkSpec& spec) override {
    ++observed;
    routing::ObservedPairLink seen;
    seen.exists = link.has_value();
    seen.matches = link && *link == spec;
    seen.up = seen.exists && up;
    if (seen.exists && !seen.matches) seen.differs = "vni differs";
    return seen;
  }
  std::expected<void, DriverError> remove(const std::string& device) override {
    removed.push_back(device);
    link.reset();
    return {};
  }

  std::optional<routing::PairLinkSpec> link;  // what the "kernel" has
  bool up = true;
  bool fail = false;
  int observed = 0;
  std::vector<routing::PairLinkSpec> applied;
  std::vector<std::string> removed;
};

}  // namespace transit::fakes
