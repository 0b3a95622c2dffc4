#include "hub/core/health.hpp"

#include <algorithm>

namespace transit::hub {

void Health::add(std::string name, std::function<Status()> check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

std::vector<Health::Check> Health::evaluate() const {
  std::vector<Check> out;
  out.reserve(checks_.size());
  for (const auto& [name, check] : checks_) {
    out.push_back(Check{name, check()});
  }
  return out;
}

bool Health::ready(const std::vector<Check>& checks) {
  return std::ranges::all_of(checks, [](const Check& c) { return c.status.ok; });
}

}  // namespace transit::hub
