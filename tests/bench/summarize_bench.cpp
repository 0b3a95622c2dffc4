// Benchmark of routing/policy/summarize.hpp: the optimal summariser against the greedy baseline, on
// inputs the size of a large hub's export set, capped at AWS's 100 prefixes per session.
//
// Owns: nothing; a single-threaded program run by tests/bench/summarize (never by CTest).
// Scenarios (fixed seeds, so every run measures the same inputs):
//   1. 100,000 random prefixes, /20 to /28, inside 10.0.0.0/8, outside three forbidden /16s
//      (the receiving spoke's CIDRs). Many nest, so normalisation keeps far fewer.
//   2. 300 scattered /26s inside 172.16.0.0/16.
//   3. 100,000 random /28s inside 10.0.0.0/8 outside the same /16s: few nest, so this is the
//      dynamic programme at full size.
// Prints, per algorithm: input size, normalised size, limit, median and max time over the runs,
// output size, wasted addresses and the waste as a multiple of the addresses P covers. Prints
// figures only; it never fails on a timing.
//
// Usage: bench_summarize [--runs N] [--limit K]   (defaults: 7 runs, limit 100)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "routing/base/prefix.hpp"
#include "routing/policy/summarize.hpp"

namespace {

using transit::Ipv4Address;
using transit::Ipv4Prefix;
using transit::kPrefix;
using transit::routing::Summary;

struct Scenario {
  std::string name;
  std::vector<Ipv4Prefix> must_reach;
  std::vector<Ipv4Prefix> forbidden;
};

const std::vector<Ipv4Prefix> kForbidden16s = {kPrefix(10, 20, 0, 0, 16), kPrefix(10, 99, 0, 0, 16),
                                               kPrefix(10, 200, 0, 0, 16)};

// `count` random prefixes with lengths in [min_length, max_length] inside `within`, none
// overlapping `forbidden`.
std::vector<Ipv4Prefix> randomPrefixes(std::uint32_t seed, std::size_t count, Ipv4Prefix within,
                                       int min_length, int max_length,
                                       const std::vector<Ipv4Prefix>& forbidden) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> length(min_length, max_length);
  std::uniform_int_distribution<std::uint32_t> offset(
      0, static_cast<std::uint32_t>(within.size() - 1));
  std::vector<Ipv4Prefix> out;
  out.reserve(count);
  while (out.size() < count) {
    const auto prefix = Ipv4Prefix::containing(within.host(offset(rng)), length(rng));
    if (std::none_of(forbidden.begin(), forbidden.end(),
                     [&](const Ipv4Prefix& f) { return f.overlaps(prefix); })) {
      out.push_back(prefix);
    }
  }
  return out;
}

// Addresses covered by the union of `prefixes`.
std::uint64_t unionSize(std::vector<Ipv4Prefix> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  std::uint64_t total = 0;
  std::uint64_t covered_to = 0;  // one past the last address counted
  for (const auto& prefix : prefixes) {
    const std::uint64_t first = prefix.network().value();
    const std::uint64_t end = std::uint64_t{prefix.last().value()} + 1;
    if (end > covered_to) {
      total += end - std::max(first, covered_to);
      covered_to = end;
    }
  }
  return total;
}

std::size_t normalisedSize(const Scenario& scenario) {
  // As summarize() normalises: distinct prefixes not inside another input prefix.
  std::vector<Ipv4Prefix> sorted = scenario.must_reach;
  std::sort(sorted.begin(), sorted.end());
  std::size_t kept = 0;
  Ipv4Prefix last;
  for (const auto& prefix : sorted) {
    if (kept == 0 || !last.contains(prefix)) {
      last = prefix;
      ++kept;
    }
  }
  return kept;
}

using Algorithm =
    std::function<Summary(std::span<const Ipv4Prefix>, std::span<const Ipv4Prefix>, std::size_t)>;

void run(const Scenario& scenario, std::string_view name, const Algorithm& algorithm,
         std::size_t limit, int runs) {
  std::vector<double> ms;
  Summary summary;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    summary = algorithm(scenario.must_reach, scenario.forbidden, limit);
    const auto stop = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(ms.begin(), ms.end());
  const double p_space = static_cast<double>(unionSize(scenario.must_reach));
  fmt::print("{:<10} {:<8} {:>8} {:>10} {:>6} {:>10.2f} {:>10.2f} {:>7}{} {:>12} {:>10.4f}\n",
             scenario.name, name, scenario.must_reach.size(), normalisedSize(scenario), limit,
             ms[ms.size() / 2], ms.back(), summary.prefixes.size(),
             summary.within_limit ? " " : "!", summary.wasted_addresses,
             static_cast<double>(summary.wasted_addresses) / p_space);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  std::size_t limit = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--limit" && i + 1 < argc) {
      limit = static_cast<std::size_t>(std::max(0, std::atoi(argv[++i])));
    } else {
      fmt::print(stderr, "usage: bench_summarize [--runs N] [--limit K]\n");
      return 2;
    }
  }

  std::vector<Scenario> scenarios;
  scenarios.push_back({"mixed",
                       randomPrefixes(1, 100'000, kPrefix(10, 0, 0, 0, 8), 20, 28, kForbidden16s),
                       kForbidden16s});
  scenarios.push_back(
      {"scattered", randomPrefixes(2, 300, kPrefix(172, 16, 0, 0, 16), 26, 26, {}), {}});
  scenarios.push_back({"slash28",
                       randomPrefixes(3, 100'000, kPrefix(10, 0, 0, 0, 8), 28, 28, kForbidden16s),
                       kForbidden16s});

  fmt::print("summarize benchmark: {} runs each, single thread\n", runs);
  fmt::print("  mixed:     100,000 random /20-/28 in 10.0.0.0/8, 3 forbidden /16s\n");
  fmt::print("  scattered: 300 random /26s in 172.16.0.0/16, nothing forbidden\n");
  fmt::print("  slash28:   100,000 random /28s in 10.0.0.0/8, 3 forbidden /16s\n");
  fmt::print(
      "  normalised = distinct prefixes not inside another input prefix; '!' after the\n"
      "  output size = over the limit; waste/P = wasted addresses / addresses of P\n\n");
  fmt::print("{:<10} {:<8} {:>8} {:>10} {:>6} {:>10} {:>10} {:>8} {:>12} {:>10}\n", "scenario",
             "algo", "input", "normalised", "limit", "median_ms", "max_ms", "output", "wasted",
             "waste/P");
  for (const auto& scenario : scenarios) {
    run(scenario, "optimal", transit::routing::summarize, limit, runs);
    run(scenario, "greedy", transit::routing::summarizeGreedy, limit, runs);
  }
  return 0;
}
